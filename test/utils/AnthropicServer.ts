/**
 * A local Anthropic Messages server for tests: `POST /v1/messages` on
 * 127.0.0.1 (random port), answering each request with the next scripted
 * reply as SSE Messages events (or one `message` JSON body when the request
 * does not set `stream: true`), recording every request.
 *
 * ```ts
 * import * as AnthropicServer from "../utils/AnthropicServer.ts"
 *
 * it.live("answers", () => Effect.gen(function*() {
 *   const server = yield* AnthropicServer.make       // scoped: closed after the test
 *   server.enqueue(AnthropicServer.text("Hello", { usage: { input: 20, output: 2, cacheRead: 5 } }))
 *   // point ANTHROPIC_BASE_URL (or the SDK's baseURL) at server.url
 *   // ... then assert on server.requests[0].body.system, .headers.authorization
 * }))
 *
 * // plain async code (e.g. a test that spawns the CLI):
 * const server = await AnthropicServer.start()
 * try { ... } finally { await server.close() }
 * ```
 *
 * Wire details: `message_start` (usage: `input_tokens`,
 * `cache_read_input_tokens`, `cache_creation_input_tokens`), a `ping`, then
 * per part a `content_block_start` / `content_block_delta`s /
 * `content_block_stop` (text: `text_delta`; thinking: `thinking_delta`s and a
 * `signature_delta`; tool calls: a `tool_use` block with `input: {}` and
 * `input_json_delta`s), `message_delta` (`stop_reason`, `output_tokens`),
 * `message_stop`. An error event is `event: error` with
 * `{"type":"error","error":{"type","message"}}`, the body of HTTP errors too.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type * as Scope from "effect/Scope"
import * as Scripted from "./ScriptedServer.ts"

export {
  /**
   * @since 0.1.0
   * @category constructors
   */
  httpError,
  /**
   * @since 0.1.0
   * @category constructors
   */
  rateLimited,
  /**
   * @since 0.1.0
   * @category constructors
   */
  reply,
  /**
   * @since 0.1.0
   * @category constructors
   */
  silent,
  /**
   * @since 0.1.0
   * @category constructors
   */
  text,
  /**
   * @since 0.1.0
   * @category constructors
   */
  toolCalls
} from "./ScriptedServer.ts"
export type {
  /**
   * @since 0.1.0
   * @category models
   */
  RecordedRequest,
  /**
   * @since 0.1.0
   * @category models
   */
  Reply,
  /**
   * @since 0.1.0
   * @category models
   */
  ScriptedServer
} from "./ScriptedServer.ts"

const errorType = (status: number): string => {
  switch (status) {
    case 400:
      return "invalid_request_error"
    case 401:
      return "authentication_error"
    case 403:
      return "permission_error"
    case 404:
      return "not_found_error"
    case 413:
      return "request_too_large"
    case 429:
      return "rate_limit_error"
    case 529:
      return "overloaded_error"
    default:
      return "api_error"
  }
}

const defaultStop = (reply: Scripted.StreamReply) =>
  reply.finishReason ?? (reply.parts.some((p) => p.type === "tool_call") ? "tool_use" : "end_turn")

const model = (request: Scripted.RecordedRequest): string =>
  typeof request.body?.model === "string" ? request.body.model : "scripted"

const startUsage = (reply: Scripted.StreamReply) => {
  const u = reply.usage ?? { input: 10, output: 5 }
  return {
    input_tokens: u.input,
    output_tokens: 1,
    cache_read_input_tokens: u.cacheRead ?? 0,
    cache_creation_input_tokens: u.cacheWrite ?? 0
  }
}

/**
 * The Messages protocol.
 *
 * @since 0.1.0
 * @category protocols
 */
export const protocol: Scripted.Protocol = {
  baseUrl: (origin) => origin,
  matches: (path) => path.endsWith("/v1/messages"),
  finishEvents: 2,
  events: (reply, request) => {
    const size = reply.chunkSize ?? 3
    const events: Array<Scripted.SseEvent> = [
      {
        event: "message_start",
        data: {
          type: "message_start",
          message: {
            id: "msg_scripted",
            type: "message",
            role: "assistant",
            model: model(request),
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: startUsage(reply)
          }
        }
      },
      { event: "ping", data: { type: "ping" } }
    ]
    reply.parts.forEach((part, index) => {
      const delta = (d: Record<string, unknown>) => ({
        event: "content_block_delta",
        data: { type: "content_block_delta", index, delta: d }
      })
      switch (part.type) {
        case "text":
          events.push({
            event: "content_block_start",
            data: { type: "content_block_start", index, content_block: { type: "text", text: "" } }
          })
          for (const d of Scripted.deltas(part.text, size)) events.push(delta({ type: "text_delta", text: d }))
          break
        case "thinking":
          events.push({
            event: "content_block_start",
            data: { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } }
          })
          for (const d of Scripted.deltas(part.text, size)) events.push(delta({ type: "thinking_delta", thinking: d }))
          events.push(delta({ type: "signature_delta", signature: "c2lnbmF0dXJl" }))
          break
        case "tool_call":
          events.push({
            event: "content_block_start",
            data: {
              type: "content_block_start",
              index,
              content_block: { type: "tool_use", id: part.id, name: part.name, input: {} }
            }
          })
          for (const d of Scripted.deltas(part.arguments, size)) {
            events.push(delta({ type: "input_json_delta", partial_json: d }))
          }
          break
      }
      events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } })
    })
    events.push({
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason: defaultStop(reply), stop_sequence: null },
        usage: { output_tokens: (reply.usage ?? { output: 5 }).output }
      }
    })
    events.push({ event: "message_stop", data: { type: "message_stop" } })
    return events
  },
  errorEvent: (error) => ({ event: "error", data: { type: "error", error: { type: error.type, message: error.message } } }),
  keepAliveEvent: { event: "ping", data: { type: "ping" } },
  json: (reply, request) => ({
    id: "msg_scripted",
    type: "message",
    role: "assistant",
    model: model(request),
    content: reply.parts.map((p) =>
      p.type === "text"
        ? { type: "text", text: p.text }
        : p.type === "thinking"
        ? { type: "thinking", thinking: p.text, signature: "c2lnbmF0dXJl" }
        : { type: "tool_use", id: p.id, name: p.name, input: JSON.parse(p.arguments.length > 0 ? p.arguments : "{}") }
    ),
    stop_reason: defaultStop(reply),
    stop_sequence: null,
    usage: { ...startUsage(reply), output_tokens: (reply.usage ?? { output: 5 }).output }
  }),
  errorBody: (reply) => ({
    type: "error",
    error: { type: reply.errorType ?? errorType(reply.status), message: reply.message ?? `HTTP ${reply.status}` }
  })
}

/**
 * Starts a server (plain async code); call `close()` when done.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (): Promise<Scripted.ScriptedServer> => Scripted.start(protocol)

/**
 * A server that stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Scripted.ScriptedServer, never, Scope.Scope> = Scripted.make(protocol)
