/**
 * Following a session live: `GET /api/session/{id}/events` read with fetch,
 * reconnected when it breaks or ends with `Last-Event-ID` = the last durable
 * event's seq, so no durable event is missed (the server replays those after
 * it first) and none is delivered twice.
 */
import { ApiError, readEvents, request, segment } from "./api.ts"
import type { LiveEvent } from "./wire.ts"

export type FollowState = "connecting" | "live" | "reconnecting" | "stopped"

export interface FollowOptions {
  readonly sessionId: string
  /** The seq of the last durable event already accounted for (`last_seq` of `/usage`). */
  readonly after: number
  readonly onEvent: (event: LiveEvent) => void
  readonly onState: (state: FollowState, detail?: string) => void
  /** Called when the stream is open: the first time, and after every reconnection. */
  readonly onOpen: (reconnected: boolean) => void
}

const FIRST_RETRY_MS = 250
const MAX_RETRY_MS = 5000

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener("abort", () => {
      clearTimeout(timer)
      resolve()
    }, { once: true })
  })

/** Follows until the returned function is called. */
export const follow = (options: FollowOptions): () => void => {
  const stop = new AbortController()
  let lastSeq = options.after
  let opened = false
  const run = async () => {
    let retry = FIRST_RETRY_MS
    while (!stop.signal.aborted) {
      options.onState(opened ? "reconnecting" : "connecting")
      try {
        const response = await request(`/api/session/${segment(options.sessionId)}/events`, {
          headers: { accept: "text/event-stream", "last-event-id": String(lastSeq) },
          signal: stop.signal
        })
        options.onState("live")
        options.onOpen(opened)
        opened = true
        retry = FIRST_RETRY_MS
        await readEvents(response, (event) => {
          if (event.seq !== undefined) {
            // a durable event: each once, in order
            if (event.seq <= lastSeq) return
            lastSeq = event.seq
          }
          options.onEvent(event)
        })
      } catch (e) {
        if (stop.signal.aborted) break
        if (e instanceof ApiError && (e.status === 401 || e.status === 404 || e.status === 400)) {
          options.onState("stopped", e.message)
          return
        }
      }
      if (stop.signal.aborted) break
      // the stream ended (the server stopped, or it found this follower too far behind) or broke
      options.onState("reconnecting")
      await sleep(retry, stop.signal)
      retry = Math.min(retry * 2, MAX_RETRY_MS)
    }
    options.onState("stopped")
  }
  void run()
  return () => stop.abort()
}
