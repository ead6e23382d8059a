/**
 * The Anthropic Messages seam: the official `@anthropic-ai/sdk` (1.x, which
 * sends the key as `Authorization: Bearer`).
 *
 * The SDK is imported the first time the provider streams (start-up time);
 * the client is built once per provider with the SDK's own retries disabled
 * (`maxRetries: 0`) and its own timeout pushed out of the way: retries and
 * the connect and idle timeouts are {@link Common.streamWithRetry}'s.
 *
 * @since 0.1.0
 */
import type { Anthropic as AnthropicClient } from "@anthropic-ai/sdk"
import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent
} from "@anthropic-ai/sdk/resources/messages"
import * as Redacted from "effect/Redacted"
import type * as Stream from "effect/Stream"
import type { ImagePart, Message } from "../../schemas/Message.ts"
import * as Provider from "../../schemas/Provider.ts"
import type { Usage } from "../../schemas/Usage.ts"
import * as Common from "./Common.ts"
import * as SafeFetch from "./SafeFetch.ts"

/**
 * Default base URL of the Anthropic API (the SDK appends `/v1/messages`).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BASE_URL = "https://api.anthropic.com"

const DATA_URL = /^data:([^;,]+)?(;[^,]*)?;base64,(.*)$/s

const imageBlock = (part: ImagePart): ImageBlockParam => {
  const match = DATA_URL.exec(part.url)
  if (match !== null) {
    const mediaType = (part.mimeType ?? match[1] ?? "image/png") as "image/png"
    return { type: "image", source: { type: "base64", media_type: mediaType, data: match[3] ?? "" } }
  }
  return { type: "image", source: { type: "url", url: part.url } }
}

const parseInput = (args: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(args)
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

/**
 * The Messages request parts of a transcript: the `system` text (every
 * `system` message, joined by a blank line) and the messages, where tool
 * calls are `tool_use` blocks (arguments parsed; unparsable arguments become
 * `{}`), tool results are `tool_result` blocks at the start of a user message,
 * images are base64 (`data:` URLs) or URL `image` blocks, file references a
 * text line. Empty text is dropped and consecutive messages of one role are
 * merged, as the API requires. `thinking` parts are not sent: the API only
 * accepts thinking blocks with their signature, which the transcript does not
 * keep.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toWireMessages = (
  messages: ReadonlyArray<Message>
): { readonly system: string | undefined; readonly messages: Array<MessageParam> } => {
  const system: Array<string> = []
  const out: Array<{ role: "user" | "assistant"; content: Array<ContentBlockParam> }> = []
  for (const message of messages) {
    if (message.role === "system") {
      const text = message.content.flatMap((p) => (p.type === "text" && p.text.length > 0 ? [p.text] : [])).join("\n")
      if (text.length > 0) system.push(text)
      continue
    }
    const role = message.role === "assistant" ? "assistant" : "user"
    const results: Array<ContentBlockParam> = []
    const blocks: Array<ContentBlockParam> = []
    for (const part of message.content) {
      switch (part.type) {
        case "text":
          if (part.text.length > 0) blocks.push({ type: "text", text: part.text })
          break
        case "image":
          blocks.push(imageBlock(part))
          break
        case "file":
          blocks.push({ type: "text", text: Common.fileReference(part) })
          break
        case "tool_call":
          blocks.push({ type: "tool_use", id: part.id, name: part.name, input: parseInput(part.arguments) })
          break
        case "tool_result":
          results.push({ type: "tool_result", tool_use_id: part.toolCallId, content: part.content })
          break
        case "thinking":
          break
      }
    }
    const content = [...results, ...blocks]
    if (content.length === 0) continue
    const last = out[out.length - 1]
    if (last !== undefined && last.role === role) {
      const merged = [...last.content, ...content]
      last.content = [
        ...merged.filter((b) => b.type === "tool_result"),
        ...merged.filter((b) => b.type !== "tool_result")
      ]
    } else {
      out.push({ role, content })
    }
  }
  return { system: system.length > 0 ? system.join("\n\n") : undefined, messages: out }
}

/**
 * The streaming Messages request body for a {@link Provider.CompletionRequest}.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toWireRequest = (request: Provider.CompletionRequest): MessageCreateParamsStreaming => {
  const { messages, system } = toWireMessages(request.messages)
  return {
    model: request.model,
    max_tokens: request.maxTokens,
    messages,
    stream: true,
    ...(system !== undefined ? { system } : {}),
    ...(request.tools.length > 0
      ? {
        tools: request.tools.map((tool) => ({
          name: tool.name,
          description: tool.description,
          input_schema: { type: "object" as const, ...tool.parameters }
        }))
      }
      : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.stop !== undefined && request.stop.length > 0 ? { stop_sequences: [...request.stop] } : {})
  }
}

const finishReason = (raw: string | null | undefined): Provider.FinishReason => {
  switch (raw) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length"
    case "tool_use":
      return "tool_calls"
    case "refusal":
      return "content_filter"
    default:
      return "stop"
  }
}

interface Block {
  readonly kind: "text" | "thinking" | "tool" | "other"
  readonly id: string
  readonly input: unknown
  args: boolean
}

/**
 * Per-attempt decoder of Messages stream events: text and thinking deltas,
 * `tool_use` blocks (start with id and name, `input_json_delta`s, end at
 * `content_block_stop`; a call without deltas gets its `input` as one delta),
 * usage from `message_start` and `message_delta` (prompt tokens = input +
 * cache read + cache creation tokens), the stop reason; `Usage` and `Finish`
 * are emitted at `message_stop`, which completes the stream.
 *
 * @since 0.1.0
 * @category mapping
 */
export const makeDecoder = (): Common.Decoder<RawMessageStreamEvent> => {
  const blocks = new Map<number, Block>()
  let input = 0
  let cacheRead: number | null = null
  let cacheWrite: number | null = null
  let output = 0
  let stop: string | null | undefined
  let done = false

  const readUsage = (raw: unknown) => {
    const u = (raw ?? {}) as Record<string, unknown>
    input = Common.tokenCount(u.input_tokens) ?? input
    output = Common.tokenCount(u.output_tokens) ?? output
    cacheRead = Common.tokenCount(u.cache_read_input_tokens) ?? cacheRead
    cacheWrite = Common.tokenCount(u.cache_creation_input_tokens) ?? cacheWrite
  }

  return {
    chunk: (event) => {
      switch (event.type) {
        case "message_start":
          readUsage(event.message.usage)
          return []
        case "content_block_start": {
          const block = event.content_block
          if (block.type === "tool_use") {
            blocks.set(event.index, { kind: "tool", id: block.id, input: block.input, args: false })
            return [Provider.toolCallStart(block.id, block.name)]
          }
          const kind = block.type === "text" ? "text" : block.type === "thinking" ? "thinking" : "other"
          blocks.set(event.index, { kind, id: "", input: undefined, args: false })
          if (block.type === "text" && block.text.length > 0) return [Provider.textDelta(block.text)]
          if (block.type === "thinking" && block.thinking.length > 0) return [Provider.thinkingDelta(block.thinking)]
          return []
        }
        case "content_block_delta": {
          const delta = event.delta
          if (delta.type === "text_delta") return delta.text.length > 0 ? [Provider.textDelta(delta.text)] : []
          if (delta.type === "thinking_delta") {
            return delta.thinking.length > 0 ? [Provider.thinkingDelta(delta.thinking)] : []
          }
          if (delta.type === "input_json_delta") {
            const block = blocks.get(event.index)
            if (block === undefined || block.kind !== "tool" || delta.partial_json.length === 0) return []
            block.args = true
            return [Provider.toolCallDelta(block.id, delta.partial_json)]
          }
          return []
        }
        case "content_block_stop": {
          const block = blocks.get(event.index)
          if (block === undefined || block.kind !== "tool") return []
          const events: Array<Provider.StreamEvent> = []
          if (!block.args) events.push(Provider.toolCallDelta(block.id, JSON.stringify(block.input ?? {})))
          events.push(Provider.toolCallEnd(block.id))
          return events
        }
        case "message_delta":
          stop = event.delta.stop_reason ?? stop
          readUsage(event.usage)
          return []
        case "message_stop": {
          done = true
          const promptTokens = input + (cacheRead ?? 0) + (cacheWrite ?? 0)
          const usage: Usage = {
            promptTokens,
            completionTokens: output,
            totalTokens: promptTokens + output,
            cacheReadTokens: cacheRead,
            cacheWriteTokens: cacheWrite
          }
          return [Provider.usage(usage), Provider.finish(finishReason(stop))]
        }
        default:
          return []
      }
    },
    end: () => (done ? [] : undefined)
  }
}

/**
 * Builds an Anthropic {@link Common.Provider}. The SDK client is created on
 * the first `stream` call and reused; without an API key the client sends no
 * credentials (local servers).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Common.ProviderConfig): Common.Provider => {
  const secret = config.apiKey === undefined ? undefined : Redacted.value(config.apiKey)
  const getClient = Common.lazyClient<AnthropicClient>(config.name, "@anthropic-ai/sdk", () =>
    // the rejection handler sits on the import itself: a bundler (esbuild)
    // then leaves an SDK the app did not install to run time
    import("@anthropic-ai/sdk").then(({ Anthropic }) =>
      new Anthropic({
        apiKey: secret ?? "unused",
        baseURL: config.baseUrl,
        fetch: SafeFetch.make(),
        maxRetries: 0,
        // the SDK's own console output (e.g. "Could not parse message into
        // JSON" twice per malformed event) would precede our one error line
        logLevel: "off",
        ...(secret === undefined ? { defaultHeaders: { Authorization: null, "X-Api-Key": null } } : {})
      }), Common.importFailed(config.name, "anthropic")))
  const stream = (request: Provider.CompletionRequest): Stream.Stream<Provider.StreamEvent, Common.ProviderError> =>
    Common.streamWithRetry({
      provider: config.name,
      baseUrl: config.baseUrl,
      secret,
      prepare: getClient,
      open: (signal) =>
        getClient().then((c) => c.messages.create(toWireRequest(request), { signal, maxRetries: 0, timeout: Common.SDK_TIMEOUT_MS })),
      decoder: makeDecoder
    })
  return {
    name: config.name,
    kind: "anthropic",
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
