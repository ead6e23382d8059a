/**
 * The page's side of the HTTP API: the bearer token (asked once, kept in
 * sessionStorage, never put in a URL), JSON requests, and server-sent
 * events read with fetch and a streaming parser (EventSource cannot send an
 * Authorization header).
 */
import { createParser } from "eventsource-parser"
import type { ErrorBody, LiveEvent } from "./wire.ts"

const TOKEN_KEY = "codetether.token"

/**
 * Takes a token from the address's fragment (`#token=...`, the link `serve`
 * prints on a terminal) into sessionStorage and removes it from the address
 * bar at once. Returns whether one was there.
 */
export const adoptFragmentToken = (): boolean => {
  const hash = window.location.hash
  if (!hash.startsWith("#token=")) return false
  const token = decodeURIComponent(hash.slice("#token=".length))
  // the address (and the history entry) lose the token before anything else runs
  window.history.replaceState(null, "", window.location.pathname + window.location.search)
  if (token.length > 0) sessionStorage.setItem(TOKEN_KEY, token)
  return token.length > 0
}

export const token = (): string | null => sessionStorage.getItem(TOKEN_KEY)

export const setToken = (value: string): void => sessionStorage.setItem(TOKEN_KEY, value)

export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY)

/** A failed request: the HTTP status and the server's `{error: {code, message}}`. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = "ApiError"
    this.status = status
    this.code = code
  }
}

const listeners = new Set<() => void>()

/** Calls `listener` whenever a request is refused with 401 (the token is wrong or gone). */
export const onUnauthorized = (listener: () => void): () => void => {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

const headersWith = (extra: Record<string, string> = {}): Headers => {
  const headers = new Headers(extra)
  const current = token()
  if (current !== null) headers.set("authorization", `Bearer ${current}`)
  return headers
}

const failure = async (response: Response): Promise<ApiError> => {
  let body: ErrorBody = { code: `Http${response.status}`, message: `HTTP ${response.status}` }
  try {
    const parsed = await response.json() as { error?: ErrorBody }
    if (parsed.error !== undefined) body = parsed.error
  } catch {
    // not JSON: keep the status
  }
  if (response.status === 401) for (const listener of listeners) listener()
  return new ApiError(response.status, body.code, body.message)
}

/** `fetch` with the token; a non-2xx answer becomes an {@link ApiError}. */
export const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
  let response: Response
  try {
    response = await fetch(path, {
      ...init,
      headers: headersWith(Object.fromEntries(new Headers(init.headers).entries()))
    })
  } catch (e) {
    if (init.signal?.aborted === true) throw e
    throw new ApiError(0, "Unreachable", "Cannot reach the server (is codetether serve still running?)")
  }
  if (!response.ok) throw await failure(response)
  return response
}

/** GET `path` as JSON. */
export const getJson = async <A>(path: string, signal?: AbortSignal): Promise<A> =>
  (await request(path, signal === undefined ? {} : { signal })).json() as Promise<A>

/** POST `body` as JSON. */
export const postJson = (path: string, body: unknown, init: RequestInit = {}): Promise<Response> =>
  request(path, {
    ...init,
    method: "POST",
    headers: { "content-type": "application/json", ...Object.fromEntries(new Headers(init.headers).entries()) },
    body: JSON.stringify(body)
  })

/** `encodeURIComponent` of a path segment. */
export const segment = (value: string): string => encodeURIComponent(value)

const toLiveEvent = (type: string | undefined, data: string, id: string | undefined): LiveEvent | undefined => {
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(data) as Record<string, unknown>
  } catch {
    return undefined
  }
  const seq = id === undefined || id === "" ? undefined : Number(id)
  return { type: type ?? String(parsed.type ?? "message"), data: parsed, seq: Number.isSafeInteger(seq) ? seq : undefined }
}

/**
 * Reads the server-sent events of `response` until the stream ends (resolves)
 * or breaks (rejects), calling `onEvent` for each.
 */
export const readEvents = async (response: Response, onEvent: (event: LiveEvent) => void): Promise<void> => {
  if (response.body === null) return
  const parser = createParser({
    onEvent: (message) => {
      const event = toLiveEvent(message.event, message.data, message.id)
      if (event !== undefined) onEvent(event)
    }
  })
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      parser.feed(value)
    }
  } finally {
    reader.releaseLock()
  }
}
