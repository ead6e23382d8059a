/**
 * The OpenAI Chat Completions seam: the official `openai` SDK, used for
 * `openai` itself and for every OpenAI-compatible provider (the presets and
 * custom providers of `providers.json`).
 *
 * The SDK is imported the first time the provider streams (start-up time);
 * the client is built once per provider with the SDK's own retries disabled
 * (`maxRetries: 0`) and its own timeout pushed out of the way: retries and
 * the connect and idle timeouts are {@link Common.streamWithRetry}'s.
 *
 * @since 0.1.0
 */
import type { OpenAI as OpenAIClient } from "openai"
import type {
  ChatCompletionChunk,
  ChatCompletionContentPart,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall
} from "openai/resources/chat/completions"
import * as Redacted from "effect/Redacted"
import type * as Stream from "effect/Stream"
import type { Message } from "../../schemas/Message.ts"
import * as Provider from "../../schemas/Provider.ts"
import type { Usage } from "../../schemas/Usage.ts"
import * as Common from "./Common.ts"
import * as SafeFetch from "./SafeFetch.ts"

/**
 * Wire options of an OpenAI-compatible provider:
 * - `maxTokensField`: `max_completion_tokens` (OpenAI itself; required by its
 *   reasoning models) or `max_tokens` (what compatible servers understand);
 * - `reasoningModelsOmitSampling`: drop `temperature`/`top_p` for OpenAI
 *   reasoning models (`o1`, `o3`, `o4-mini`, `gpt-5*`), which reject them;
 * - `reasoningContent`: send `thinking` parts back as the assistant message's
 *   `reasoning_content` (servers with preserved thinking, e.g. Moonshot,
 *   Z.ai); otherwise thinking parts are not sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface WireOptions {
  readonly maxTokensField: "max_tokens" | "max_completion_tokens"
  readonly reasoningModelsOmitSampling: boolean
  readonly reasoningContent: boolean
}

/**
 * Options of a compatible server: `max_tokens`, sampling always sent, no
 * `reasoning_content`.
 *
 * @since 0.1.0
 * @category constants
 */
export const compatibleWire: WireOptions = {
  maxTokensField: "max_tokens",
  reasoningModelsOmitSampling: false,
  reasoningContent: false
}

/**
 * Options of `api.openai.com`: `max_completion_tokens`, no sampling
 * parameters for reasoning models.
 *
 * @since 0.1.0
 * @category constants
 */
export const openAiWire: WireOptions = {
  maxTokensField: "max_completion_tokens",
  reasoningModelsOmitSampling: true,
  reasoningContent: false
}

/**
 * Default base URL of the OpenAI API.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://api.openai.com/v1"

const isReasoningModel = (model: string): boolean => /^(o\d|gpt-5)/i.test(model.replace(/^.*\//, ""))

const partText = (part: Message["content"][number]): string | undefined => {
  switch (part.type) {
    case "text":
      return part.text
    case "file":
      return Common.fileReference(part)
    default:
      return undefined
  }
}

const textOf = (message: Message): string =>
  message.content.flatMap((part) => {
    const text = partText(part)
    return text === undefined ? [] : [text]
  }).join("\n")

/**
 * Maps transcript messages to Chat Completions messages: `system` and `user`
 * text (user images as `image_url` parts, file references as a text line);
 * assistant text with `tool_calls`; one `role: "tool"` message per tool
 * result, in order. Thinking parts become `reasoning_content` only when
 * `options.reasoningContent`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toWireMessages = (
  messages: ReadonlyArray<Message>,
  options: Pick<WireOptions, "reasoningContent"> = compatibleWire
): Array<ChatCompletionMessageParam> => {
  const out: Array<ChatCompletionMessageParam> = []
  for (const message of messages) {
    switch (message.role) {
      case "system": {
        out.push({ role: "system", content: textOf(message) })
        break
      }
      case "user": {
        const results = message.content.filter((p) => p.type === "tool_result")
        for (const r of results) out.push({ role: "tool", tool_call_id: r.toolCallId, content: r.content })
        const parts: Array<ChatCompletionContentPart> = []
        for (const part of message.content) {
          if (part.type === "image") parts.push({ type: "image_url", image_url: { url: part.url } })
          else {
            const text = partText(part)
            if (text !== undefined) parts.push({ type: "text", text })
          }
        }
        if (parts.length === 0 && results.length > 0) break
        out.push({
          role: "user",
          content: parts.every((p) => p.type === "text") ? parts.map((p) => p.text).join("\n") : parts
        })
        break
      }
      case "assistant": {
        const text = textOf(message)
        const toolCalls: Array<ChatCompletionMessageToolCall> = message.content.flatMap((p) =>
          p.type === "tool_call"
            ? [{ id: p.id, type: "function" as const, function: { name: p.name, arguments: p.arguments } }]
            : []
        )
        const thinking = message.content.flatMap((p) => (p.type === "thinking" ? [p.text] : [])).join("")
        const wire: ChatCompletionMessageParam & { reasoning_content?: string } = {
          role: "assistant",
          content: text.length === 0 && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(options.reasoningContent && thinking.length > 0 ? { reasoning_content: thinking } : {})
        }
        out.push(wire)
        break
      }
      case "tool": {
        for (const part of message.content) {
          if (part.type === "tool_result") {
            out.push({ role: "tool", tool_call_id: part.toolCallId, content: part.content })
          }
        }
        break
      }
    }
  }
  return out
}

/**
 * The streaming Chat Completions request body for a {@link Provider.CompletionRequest}
 * (`stream: true`, `stream_options.include_usage`, tools as functions).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toWireRequest = (
  request: Provider.CompletionRequest,
  options: WireOptions = compatibleWire
): ChatCompletionCreateParamsStreaming => {
  const sampling = !(options.reasoningModelsOmitSampling && isReasoningModel(request.model))
  return {
    model: request.model,
    messages: toWireMessages(request.messages, options),
    stream: true,
    stream_options: { include_usage: true },
    ...(request.tools.length > 0
      ? {
        tools: request.tools.map((tool) => ({
          type: "function" as const,
          function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } }
        }))
      }
      : {}),
    ...(sampling && request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(sampling && request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.stop !== undefined && request.stop.length > 0 ? { stop: [...request.stop] } : {}),
    [options.maxTokensField]: request.maxTokens
  }
}

/**
 * Chat Completions usage → {@link Usage}: prompt/completion/total tokens;
 * cache reads from `prompt_tokens_details.cached_tokens` (or DeepSeek's
 * `prompt_cache_hit_tokens`), cache writes from
 * `prompt_tokens_details.cache_write_tokens` where a server reports them.
 * `prompt_tokens` already includes cached tokens.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toUsage = (raw: unknown): Usage => {
  const u = (raw ?? {}) as Record<string, unknown>
  const details = (u.prompt_tokens_details ?? {}) as Record<string, unknown>
  const promptTokens = Common.tokenCount(u.prompt_tokens) ?? 0
  const completionTokens = Common.tokenCount(u.completion_tokens) ?? 0
  return {
    promptTokens,
    completionTokens,
    totalTokens: Common.tokenCount(u.total_tokens) ?? promptTokens + completionTokens,
    cacheReadTokens: Common.tokenCount(details.cached_tokens) ?? Common.tokenCount(u.prompt_cache_hit_tokens) ?? null,
    cacheWriteTokens: Common.tokenCount(details.cache_write_tokens) ?? Common.tokenCount(u.cache_creation_input_tokens) ?? null
  }
}

const finishReason = (raw: string): Provider.FinishReason => {
  switch (raw) {
    case "stop":
    case "length":
    case "tool_calls":
    case "content_filter":
      return raw
    case "function_call":
      return "tool_calls"
    default:
      return "stop"
  }
}

interface CallState {
  readonly id: string
  name: string | undefined
  started: boolean
  pending: string
  ended: boolean
}

/**
 * Per-attempt decoder of `chat.completion.chunk`s: text (and `refusal`)
 * deltas, `reasoning_content` / `reasoning` deltas as thinking, tool calls
 * keyed by `index` (started once the name is known, argument deltas in order,
 * ended at `finish_reason`), the final usage chunk, and the finish reason. The
 * stream is complete when a `finish_reason` was seen.
 *
 * @since 0.1.0
 * @category mapping
 */
export const makeDecoder = (): Common.Decoder<ChatCompletionChunk> => {
  const byIndex = new Map<number, CallState>()
  const byId = new Map<string, CallState>()
  const calls: Array<CallState> = []
  let reason: Provider.FinishReason | undefined
  let usage: Usage | undefined

  const start = (call: CallState, events: Array<Provider.StreamEvent>) => {
    if (call.started || call.name === undefined) return
    call.started = true
    events.push(Provider.toolCallStart(call.id, call.name))
    if (call.pending.length > 0) events.push(Provider.toolCallDelta(call.id, call.pending))
    call.pending = ""
  }
  const closeAll = (events: Array<Provider.StreamEvent>) => {
    for (const call of calls) {
      if (call.ended) continue
      if (!call.started) {
        call.name ??= "tool"
        start(call, events)
      }
      call.ended = true
      events.push(Provider.toolCallEnd(call.id))
    }
  }

  return {
    chunk: (chunk) => {
      const events: Array<Provider.StreamEvent> = []
      if (chunk.usage !== undefined && chunk.usage !== null) usage = toUsage(chunk.usage)
      for (const choice of chunk.choices ?? []) {
        if ((choice.index ?? 0) !== 0) continue
        const delta = (choice.delta ?? {}) as ChatCompletionChunk.Choice.Delta & {
          reasoning_content?: string | null
          reasoning?: string | null
        }
        const reasoning = delta.reasoning_content ?? delta.reasoning
        if (typeof reasoning === "string" && reasoning.length > 0) events.push(Provider.thinkingDelta(reasoning))
        if (typeof delta.content === "string" && delta.content.length > 0) {
          events.push(Provider.textDelta(delta.content))
        }
        if (typeof delta.refusal === "string" && delta.refusal.length > 0) {
          events.push(Provider.textDelta(delta.refusal))
        }
        for (const [position, tc] of (delta.tool_calls ?? []).entries()) {
          const index = typeof tc.index === "number" ? tc.index : position
          let call = tc.id !== undefined && tc.id !== null && tc.id !== "" ? byId.get(tc.id) : byIndex.get(index)
          if (call === undefined) {
            const id = tc.id !== undefined && tc.id !== null && tc.id !== "" ? tc.id : `call_${calls.length}`
            call = { id, name: undefined, started: false, pending: "", ended: false }
            calls.push(call)
            byId.set(id, call)
            byIndex.set(index, call)
          }
          const name = tc.function?.name
          if (typeof name === "string" && name.length > 0 && call.name === undefined) call.name = name
          start(call, events)
          const args = tc.function?.arguments
          if (typeof args === "string" && args.length > 0) {
            if (call.started) events.push(Provider.toolCallDelta(call.id, args))
            else call.pending += args
          }
        }
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
          reason = finishReason(choice.finish_reason)
          closeAll(events)
        }
      }
      return events
    },
    end: () => {
      if (reason === undefined) return undefined
      const events: Array<Provider.StreamEvent> = []
      closeAll(events)
      if (usage !== undefined) events.push(Provider.usage(usage))
      events.push(Provider.finish(reason))
      return events
    }
  }
}

/**
 * Builds an OpenAI-compatible {@link Common.Provider}. The SDK client is
 * created on the first `stream` call and reused; without an API key the
 * client sends no `Authorization` header (local servers).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Common.ProviderConfig, wire: WireOptions = compatibleWire): Common.Provider => {
  const secret = config.apiKey === undefined ? undefined : Redacted.value(config.apiKey)
  const getClient = Common.lazyClient<OpenAIClient>(config.name, "openai", () =>
    // the rejection handler sits on the import itself: a bundler (esbuild)
    // then leaves an SDK the app did not install to run time
    import("openai/client").then(({ OpenAI }) =>
      new OpenAI({
        apiKey: secret ?? "unused",
        baseURL: config.baseUrl,
        fetch: SafeFetch.make(),
        maxRetries: 0,
        // the SDK's own console output (e.g. "Could not parse message into
        // JSON" twice per malformed event) would precede our one error line
        logLevel: "off",
        ...(config.source === "builtin" ? {} : { organization: null, project: null }),
        ...(secret === undefined ? { defaultHeaders: { Authorization: null } } : {})
      }), Common.importFailed(config.name, "openai")))
  const stream = (request: Provider.CompletionRequest): Stream.Stream<Provider.StreamEvent, Common.ProviderError> =>
    Common.streamWithRetry({
      provider: config.name,
      baseUrl: config.baseUrl,
      secret,
      prepare: getClient,
      open: (signal) =>
        getClient().then((c) =>
          c.chat.completions.create(toWireRequest(request, wire), { signal, maxRetries: 0, timeout: Common.SDK_TIMEOUT_MS })
        ),
      decoder: makeDecoder
    })
  return {
    name: config.name,
    kind: "openai",
    baseUrl: config.baseUrl,
    defaultModel: config.defaultModel,
    keyVariable: config.keyVariable,
    source: config.source,
    origin: config.origin,
    ...(config.nativeTools === undefined ? {} : { nativeTools: config.nativeTools }),
    ...(config.lastResort === undefined ? {} : { lastResort: config.lastResort }),
    stream
  }
}
