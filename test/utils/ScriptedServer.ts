/**
 * The machinery shared by the local wire-protocol servers of
 * `OpenAiServer.ts` and `AnthropicServer.ts`: an HTTP server on 127.0.0.1
 * (random port) that answers each model request with the next scripted
 * {@link Reply} (streamed as server-sent events, or as one JSON body when the
 * request does not ask for a stream) and records every request.
 *
 * Replies are provider-neutral (text, thinking, tool calls, usage, finish
 * reason, HTTP errors, a cut connection, a slow or hanging stream); each
 * protocol file renders them in its own wire format. With an empty queue the
 * server answers HTTP 500 `no scripted reply`, so a missing script fails
 * loudly.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/**
 * One request the server received. Header names are lower case; `body` is
 * the parsed JSON body (`undefined` when absent or not JSON); `receivedAt` is
 * `Date.now()` when the body was complete (ms).
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: any
  readonly receivedAt: number
}

/**
 * A piece of scripted model output, in order.
 *
 * @since 0.1.0
 * @category models
 */
export type ReplyPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "thinking"; readonly text: string }
  | { readonly type: "tool_call"; readonly id: string; readonly name: string; readonly arguments: string }

/**
 * Token counts of a scripted reply (tokens). `input` excludes cached tokens
 * (Anthropic counts them apart; OpenAI's `prompt_tokens` is rendered as
 * `input + cacheRead`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ReplyUsage {
  readonly input: number
  readonly output: number
  readonly cacheRead?: number
  readonly cacheWrite?: number
}

/**
 * A successful (HTTP 200) streamed reply.
 *
 * - `parts`: the output, in order; text, thinking and tool arguments are split
 *   into deltas of `chunkSize` characters (default 3);
 * - `usage`: reported at the end (default 10 in / 5 out);
 * - `finishReason`: the wire value (default `tool_calls` / `tool_use` when
 *   there is a tool call, else `stop` / `end_turn`);
 * - `cutAfter`: destroy the connection after this many SSE events, with no
 *   finish (a stream cut midway);
 * - `hang`: after the parts, keep the connection open without finishing until
 *   the client closes it (abort tests);
 * - `noFinish`: after the parts, end the response normally but without the
 *   finishing events (a stream that ends early);
 * - `delayMs`: pause before every SSE event (a slow stream);
 * - `errorEvent`: after the parts, send an SSE error event of this type and
 *   message instead of finishing;
 * - `keepAliveMs`: with `hang`, send an SSE comment (`: keepalive`) and the
 *   protocol's no-content event (an empty-delta chunk for OpenAI, a `ping` for
 *   Anthropic) every this many milliseconds, until the client closes (a
 *   server that looks alive but never answers);
 * - `headers`: extra response headers.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamReply {
  readonly type: "stream"
  readonly parts: ReadonlyArray<ReplyPart>
  readonly chunkSize?: number
  readonly usage?: ReplyUsage
  readonly finishReason?: string
  readonly cutAfter?: number
  readonly hang?: boolean
  readonly noFinish?: boolean
  readonly delayMs?: number
  readonly errorEvent?: { readonly type: string; readonly message: string }
  readonly keepAliveMs?: number
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * An HTTP error reply: `status`, a JSON error body in the protocol's shape
 * built from `message` and `errorType` (or `body` verbatim), extra `headers`
 * (e.g. `retry-after`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorReply {
  readonly type: "error"
  readonly status: number
  readonly message?: string
  readonly errorType?: string
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * No answer at all: the request is read and the connection stays open
 * without a status line or headers until the client closes it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SilentReply {
  readonly type: "silent"
}

/**
 * What the server answers to one model request.
 *
 * @since 0.1.0
 * @category models
 */
export type Reply = StreamReply | ErrorReply | SilentReply

/**
 * A reply that never comes (see {@link SilentReply}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const silent = (): SilentReply => ({ type: "silent" })

/**
 * Options of a stream reply built by {@link text}, {@link toolCalls} or
 * {@link reply}.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamOptions = Omit<StreamReply, "type" | "parts">

/**
 * A reply made of `parts`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const reply = (parts: ReadonlyArray<ReplyPart>, options: StreamOptions = {}): StreamReply => ({
  type: "stream",
  parts,
  ...options
})

/**
 * A text-only reply.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text = (value: string, options: StreamOptions = {}): StreamReply =>
  reply([{ type: "text", text: value }], options)

/**
 * A reply that asks for tool calls (`arguments` may be an object, serialised
 * to JSON, or raw JSON text).
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolCalls = (
  calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: unknown }>,
  options: StreamOptions = {}
): StreamReply =>
  reply(
    calls.map((c) => ({
      type: "tool_call" as const,
      id: c.id,
      name: c.name,
      arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments)
    })),
    options
  )

/**
 * An HTTP error reply.
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpError = (
  status: number,
  message: string,
  options: Omit<ErrorReply, "type" | "status" | "message"> = {}
): ErrorReply => ({ type: "error", status, message, ...options })

/**
 * HTTP 429 with a `retry-after` header (seconds or an HTTP date).
 *
 * @since 0.1.0
 * @category constructors
 */
export const rateLimited = (retryAfter: string, message = "Rate limit reached"): ErrorReply =>
  httpError(429, message, { headers: { "retry-after": retryAfter } })

/**
 * One server-sent event: an optional `event:` name and its `data:` payload
 * (an object is serialised as JSON).
 *
 * @since 0.1.0
 * @category models
 */
export interface SseEvent {
  readonly event?: string
  readonly data: unknown
}

/**
 * How a wire protocol renders replies.
 *
 * @since 0.1.0
 * @category models
 */
export interface Protocol {
  /** The base URL to give the SDK, from the server origin. */
  readonly baseUrl: (origin: string) => string
  /** Whether a request path is a model request. */
  readonly matches: (path: string) => boolean
  /** The SSE events of a stream reply (without cut / hang / error handling). */
  readonly events: (reply: StreamReply, request: RecordedRequest) => ReadonlyArray<SseEvent>
  /** The SSE error event sent instead of the finish. */
  readonly errorEvent: (error: { readonly type: string; readonly message: string }) => SseEvent
  /** The number of trailing events of `events` that finish the stream (dropped for `hang`, `noFinish`, `errorEvent`). */
  readonly finishEvents: number
  /** The JSON body of a non-streaming request. */
  readonly json: (reply: StreamReply, request: RecordedRequest) => unknown
  /** The JSON body of an HTTP error. */
  readonly errorBody: (reply: ErrorReply) => unknown
  /** An event that carries no content (sent with keep-alive comments). */
  readonly keepAliveEvent?: SseEvent
}

/**
 * A running scripted server.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptedServer {
  /** Base URL for the SDK (`baseURL` option / `*_BASE_URL` variable). */
  readonly url: string
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  /** Every request received so far, in order (a copy). */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** Appends replies to the queue; each model request takes the next one. */
  readonly enqueue: (...replies: ReadonlyArray<Reply>) => void
  /**
   * Answers model requests from `responder` when the queue is empty (e.g. a
   * model that reacts to the transcript it receives); `undefined` removes it.
   */
  readonly respond: (responder: ((request: RecordedRequest) => Reply) | undefined) => void
  /** Replies not yet served. */
  readonly pending: number
  /** How many responses the client closed before they ended. */
  readonly aborted: number
  /** Resolves once `aborted` reaches `count` (default 1). */
  readonly waitForAbort: (count?: number) => Promise<void>
  /** Stops the server and drops open connections. */
  readonly close: () => Promise<void>
}

const split = (value: string, size: number): Array<string> => {
  if (value.length === 0) return []
  const out: Array<string> = []
  for (let i = 0; i < value.length; i += size) out.push(value.slice(i, i + size))
  return out
}

/**
 * Splits a string into deltas of `size` characters (at least one delta).
 *
 * @since 0.1.0
 * @category utils
 */
export const deltas = (value: string, size = 3): Array<string> => split(value, Math.max(1, size))

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Starts a server for `protocol` on 127.0.0.1 with a random port.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (protocol: Protocol): Promise<ScriptedServer> => {
  const queue: Array<Reply> = []
  let responder: ((request: RecordedRequest) => Reply) | undefined
  const requests: Array<RecordedRequest> = []
  let aborted = 0
  const waiters: Array<{ readonly count: number; readonly resolve: () => void }> = []
  const noteAbort = () => {
    aborted++
    for (const w of waiters.filter((w) => aborted >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  }

  const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString("utf8")
    let body: unknown = undefined
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined
    } catch {
      body = undefined
    }
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v
    }
    const path = req.url ?? "/"
    const request: RecordedRequest = { method: req.method ?? "GET", path, headers, body, receivedAt: Date.now() }
    requests.push(request)
    let finished = false
    res.on("close", () => {
      if (!finished && !res.writableEnded) noteAbort()
    })
    if (!protocol.matches(path.split("?")[0] ?? path)) {
      finished = true
      res.writeHead(404, { "content-type": "application/json" })
      res.end(JSON.stringify(protocol.errorBody({ type: "error", status: 404, message: `no route ${path}` })))
      return
    }
    const next = queue.shift() ?? responder?.(request)
    if (next?.type === "silent") return
    if (next === undefined || next.type === "error") {
      const error: ErrorReply = next ?? { type: "error", status: 500, message: "no scripted reply" }
      finished = true
      res.writeHead(error.status, { "content-type": "application/json", ...error.headers })
      res.end(JSON.stringify(error.body ?? protocol.errorBody(error)))
      return
    }
    const wantsStream = typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true
    if (!wantsStream) {
      finished = true
      res.writeHead(200, { "content-type": "application/json", ...next.headers })
      res.end(JSON.stringify(protocol.json(next, request)))
      return
    }
    let events = [...protocol.events(next, request)]
    const stopEarly = next.hang === true || next.noFinish === true || next.errorEvent !== undefined
    if (stopEarly) events = events.slice(0, events.length - protocol.finishEvents)
    if (next.errorEvent !== undefined) events.push(protocol.errorEvent(next.errorEvent))
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...next.headers
    })
    res.flushHeaders()
    let sent = 0
    let flushed: Promise<void> = Promise.resolve()
    // Cut only after the events written so far left the process.
    const cut = async () => {
      finished = true
      await flushed
      res.socket?.destroy()
    }
    for (const event of events) {
      if (res.destroyed) return
      if (next.cutAfter !== undefined && sent >= next.cutAfter) return cut()
      if (next.delayMs !== undefined) await sleep(next.delayMs)
      if (res.destroyed) return
      const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data)
      flushed = new Promise<void>((resolve) => {
        res.write(`${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${data}\n\n`, () => resolve())
      })
      sent++
    }
    if (next.cutAfter !== undefined && sent >= next.cutAfter) return cut()
    if (next.hang === true) {
      if (next.keepAliveMs !== undefined) {
        const timer = setInterval(() => {
          if (res.destroyed) return
          const ping = protocol.keepAliveEvent
          res.write(": keepalive\n\n")
          if (ping !== undefined) {
            const data = typeof ping.data === "string" ? ping.data : JSON.stringify(ping.data)
            res.write(`${ping.event === undefined ? "" : `event: ${ping.event}\n`}data: ${data}\n\n`)
          }
        }, next.keepAliveMs)
        res.on("close", () => clearInterval(timer))
      }
      return
    }
    finished = true
    res.end()
  }

  const server = Http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { message: String(error) } }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    url: protocol.baseUrl(origin),
    origin,
    get requests() {
      return [...requests]
    },
    enqueue: (...replies) => {
      queue.push(...replies)
    },
    respond: (f) => {
      responder = f
    },
    get pending() {
      return queue.length
    },
    get aborted() {
      return aborted
    },
    waitForAbort: (count) =>
      new Promise<void>((resolve) => {
        const target = count ?? 1
        if (aborted >= target) resolve()
        else waiters.push({ count: target, resolve })
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * {@link start} as a scoped Effect: the server stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (protocol: Protocol): Effect.Effect<ScriptedServer, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => start(protocol)), (server) => Effect.promise(() => server.close()))
