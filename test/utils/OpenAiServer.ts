/**
 * A local OpenAI Chat Completions server for tests: `POST /v1/chat/completions`
 * on 127.0.0.1 (random port), answering each request with the next scripted
 * reply as SSE `chat.completion.chunk`s (or one `chat.completion` JSON body
 * when the request does not set `stream: true`), recording every request.
 *
 * ```ts
 * import * as OpenAiServer from "../utils/OpenAiServer.ts"
 *
 * it.live("answers", () => Effect.gen(function*() {
 *   const server = yield* OpenAiServer.make          // scoped: closed after the test
 *   server.enqueue(
 *     OpenAiServer.toolCalls([{ id: "call_1", name: "bash", arguments: { command: "ls" } }]),
 *     OpenAiServer.text("Done.", { usage: { input: 12, output: 3 } })
 *   )
 *   // point OPENAI_BASE_URL (or an OpenAI client's baseURL) at server.url
 *   // ... then assert on server.requests[0].body.messages, .headers.authorization
 * }))
 *
 * // plain async code (e.g. a test that spawns the CLI):
 * const server = await OpenAiServer.start()
 * try { ... } finally { await server.close() }
 * ```
 *
 * Wire details: the first chunk carries `role: "assistant"`; thinking is sent
 * as `delta.reasoning_content`; each tool call starts with its `index`, `id`,
 * `type` and name, then argument deltas; the finish chunk carries
 * `finish_reason`; a usage chunk (`choices: []`, `prompt_tokens` including
 * cached tokens, `prompt_tokens_details.cached_tokens`) is sent only when the
 * request asks for `stream_options.include_usage`; then `data: [DONE]`. An
 * error event is `data: {"error": {...}}`. HTTP errors carry
 * `{"error": {"message", "type", "param", "code"}}`.
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

const errorType = (status: number): string =>
  status === 401
    ? "invalid_request_error"
    : status === 429
    ? "rate_limit_exceeded"
    : status >= 500
    ? "server_error"
    : "invalid_request_error"

const defaultFinish = (reply: Scripted.StreamReply) =>
  reply.finishReason ?? (reply.parts.some((p) => p.type === "tool_call") ? "tool_calls" : "stop")

const usageOf = (reply: Scripted.StreamReply) => {
  const u = reply.usage ?? { input: 10, output: 5 }
  const prompt = u.input + (u.cacheRead ?? 0)
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    ...(u.cacheRead !== undefined ? { prompt_tokens_details: { cached_tokens: u.cacheRead } } : {})
  }
}

const model = (request: Scripted.RecordedRequest): string =>
  typeof request.body?.model === "string" ? request.body.model : "scripted"

/**
 * The Chat Completions protocol.
 *
 * @since 0.1.0
 * @category protocols
 */
export const protocol: Scripted.Protocol = {
  baseUrl: (origin) => `${origin}/v1`,
  matches: (path) => path.endsWith("/chat/completions"),
  finishEvents: 3,
  events: (reply, request) => {
    const base = { id: "chatcmpl-scripted", object: "chat.completion.chunk", created: 1_700_000_000, model: model(request) }
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      data: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }
    })
    const size = reply.chunkSize ?? 3
    const events: Array<Scripted.SseEvent> = [chunk({ role: "assistant", content: "" })]
    let callIndex = 0
    for (const part of reply.parts) {
      switch (part.type) {
        case "text":
          for (const d of Scripted.deltas(part.text, size)) events.push(chunk({ content: d }))
          break
        case "thinking":
          for (const d of Scripted.deltas(part.text, size)) events.push(chunk({ reasoning_content: d }))
          break
        case "tool_call": {
          const index = callIndex++
          events.push(chunk({
            tool_calls: [{ index, id: part.id, type: "function", function: { name: part.name, arguments: "" } }]
          }))
          for (const d of Scripted.deltas(part.arguments, size)) {
            events.push(chunk({ tool_calls: [{ index, function: { arguments: d } }] }))
          }
          break
        }
      }
    }
    const includeUsage = request.body?.stream_options?.include_usage === true
    events.push(chunk({}, defaultFinish(reply)))
    events.push(includeUsage ? { data: { ...base, choices: [], usage: usageOf(reply) } } : { data: { ...base, choices: [] } })
    events.push({ data: "[DONE]" })
    return events
  },
  errorEvent: (error) => ({ data: { error: { message: error.message, type: error.type, param: null, code: null } } }),
  keepAliveEvent: {
    data: {
      id: "chatcmpl-scripted",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "scripted",
      choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: null }]
    }
  },
  json: (reply, request) => {
    const text = reply.parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("")
    const calls = reply.parts.flatMap((p) =>
      p.type === "tool_call" ? [{ id: p.id, type: "function", function: { name: p.name, arguments: p.arguments } }] : []
    )
    const thinking = reply.parts.flatMap((p) => (p.type === "thinking" ? [p.text] : [])).join("")
    return {
      id: "chatcmpl-scripted",
      object: "chat.completion",
      created: 1_700_000_000,
      model: model(request),
      choices: [{
        index: 0,
        message: {
          role: "assistant",
          content: text.length > 0 ? text : null,
          ...(thinking.length > 0 ? { reasoning_content: thinking } : {}),
          ...(calls.length > 0 ? { tool_calls: calls } : {})
        },
        finish_reason: defaultFinish(reply)
      }],
      usage: usageOf(reply)
    }
  },
  errorBody: (reply) => ({
    error: {
      message: reply.message ?? `HTTP ${reply.status}`,
      type: reply.errorType ?? errorType(reply.status),
      param: null,
      code: null
    }
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
