/**
 * The Effect AI seam: a codetether {@link Common.Provider} backed by an
 * Effect `LanguageModel` (`effect/ai`), so that an app can drive a
 * codetether session with any Effect AI model (`@effect/ai-openai`,
 * `@effect/ai-anthropic`, a test model, an `ExecutionPlan`, ...).
 *
 * One request becomes one `LanguageModel.streamText` call:
 * - the transcript becomes an Effect AI prompt: `system` messages, user text
 *   (images as file parts, file references as a text line), assistant text,
 *   thinking (as reasoning) and tool calls (arguments parsed; unparsable
 *   arguments become `{}`), and one `tool` message per tool result, named
 *   after the call it answers;
 * - the offered tools become dynamic tools with their JSON Schema parameters;
 *   tool call resolution is disabled (codetether runs the tools itself, in
 *   the session's directory) and validation deferred, so every call the model
 *   makes reaches the session loop;
 * - stream parts map to stream events: text and reasoning deltas, tool
 *   parameter deltas (or a complete `tool-call` part), then the usage and
 *   finish reason of the `finish` part.
 *
 * The model id of the request is not sent: a `LanguageModel` is bound to its
 * model when it is built (e.g. `OpenAiLanguageModel.model("gpt-5.2")`);
 * sampling settings (`temperature`, `maxTokens`) are the `LanguageModel`'s
 * configuration too. Retries, timeouts and the HTTP transport are the
 * `LanguageModel`'s own. Its failures become {@link Common.ProviderError}s
 * (`RateLimitError` → `RateLimited`, `AuthenticationError` →
 * `Authentication`, `NetworkError` → `Connection`, ...).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as AiError from "effect/ai/AiError"
import type * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import type { Message } from "../../schemas/Message.ts"
import * as Provider from "../../schemas/Provider.ts"
import type { ToolDefinition } from "../../schemas/Tool.ts"
import type { Usage } from "../../schemas/Usage.ts"
import * as Common from "./Common.ts"

/**
 * Options of {@link make}: the registry name (default `effect-ai`) and the
 * model id the registry reports and sessions record (default
 * `language-model`; the `LanguageModel` decides which model answers).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly name?: string | undefined
  readonly defaultModel?: string | undefined
}

const parseArguments = (text: string): unknown => {
  if (text.trim().length === 0) return {}
  try {
    return JSON.parse(text)
  } catch {
    return {}
  }
}

/**
 * The Effect AI prompt of a transcript (see the module documentation).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toPrompt = (messages: ReadonlyArray<Message>): Array<Prompt.MessageEncoded> => {
  const out: Array<Prompt.MessageEncoded> = []
  const callNames = new Map<string, string>()
  const toolResults = (parts: Message["content"]): Array<Prompt.ToolResultPartEncoded> =>
    parts.flatMap((part) =>
      part.type === "tool_result"
        ? [{
          type: "tool-result" as const,
          id: part.toolCallId,
          name: callNames.get(part.toolCallId) ?? "tool",
          isFailure: false,
          result: part.content
        }]
        : []
    )
  for (const message of messages) {
    switch (message.role) {
      case "system": {
        const text = message.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n")
        out.push({ role: "system", content: text })
        break
      }
      case "user": {
        const results = toolResults(message.content)
        if (results.length > 0) out.push({ role: "tool", content: results })
        const parts: Array<Prompt.UserMessagePartEncoded> = []
        for (const part of message.content) {
          if (part.type === "text") parts.push({ type: "text", text: part.text })
          else if (part.type === "file") parts.push({ type: "text", text: Common.fileReference(part) })
          else if (part.type === "image" && URL.canParse(part.url)) {
            const mediaType = part.mimeType ?? /^data:([^;,]+)/.exec(part.url)?.[1] ?? "image/png"
            parts.push({ type: "file", mediaType, data: new URL(part.url) })
          }
        }
        if (parts.length > 0) out.push({ role: "user", content: parts })
        break
      }
      case "assistant": {
        const parts: Array<Prompt.AssistantMessagePartEncoded> = []
        for (const part of message.content) {
          switch (part.type) {
            case "text":
              if (part.text.length > 0) parts.push({ type: "text", text: part.text })
              break
            case "thinking":
              if (part.text.length > 0) parts.push({ type: "reasoning", text: part.text })
              break
            case "tool_call":
              callNames.set(part.id, part.name)
              parts.push({ type: "tool-call", id: part.id, name: part.name, params: parseArguments(part.arguments) })
              break
            default:
              break
          }
        }
        if (parts.length > 0) out.push({ role: "assistant", content: parts })
        break
      }
      case "tool": {
        const results = toolResults(message.content)
        if (results.length > 0) out.push({ role: "tool", content: results })
        break
      }
    }
  }
  return out
}

/**
 * The tools of a request as an Effect AI toolkit whose calls are never run
 * by Effect AI (resolution is disabled): dynamic tools with the definitions'
 * JSON Schemas.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toToolkit = (definitions: ReadonlyArray<ToolDefinition>): Toolkit.WithHandler<Record<string, Tool.Any>> => {
  const tools: Record<string, Tool.Any> = {}
  for (const definition of definitions) {
    tools[definition.name] = Tool.dynamic(definition.name, {
      description: definition.description,
      parameters: definition.parameters
    }) as unknown as Tool.Any
  }
  return {
    tools,
    handle: () => Effect.die(new Error("codetether runs tool calls itself; Effect AI never resolves them"))
  } as unknown as Toolkit.WithHandler<Record<string, Tool.Any>>
}

/**
 * Effect AI usage → {@link Usage}: input and output totals (the input total
 * falls back to uncached + cache reads), cache reads and writes when reported.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toUsage = (usage: Response.Usage): Usage => {
  const input = usage.inputTokens.total ?? (usage.inputTokens.uncached ?? 0) + (usage.inputTokens.cacheRead ?? 0)
  const output = usage.outputTokens.total ?? (usage.outputTokens.text ?? 0) + (usage.outputTokens.reasoning ?? 0)
  return {
    promptTokens: input,
    completionTokens: output,
    totalTokens: input + output,
    cacheReadTokens: usage.inputTokens.cacheRead ?? null,
    cacheWriteTokens: usage.inputTokens.cacheWrite ?? null
  }
}

/**
 * Effect AI finish reason → codetether's: `tool-calls` → `tool_calls`,
 * `content-filter` → `content_filter`, `length` and `error` as they are,
 * anything else (`stop`, `pause`, `other`, `unknown`) → `stop`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toFinishReason = (reason: Response.FinishReason): Provider.FinishReason => {
  switch (reason) {
    case "tool-calls":
      return "tool_calls"
    case "content-filter":
      return "content_filter"
    case "length":
    case "error":
      return reason
    default:
      return "stop"
  }
}

const reasonOf = (error: AiError.AiError): Common.ProviderError["reason"] => {
  switch (error.reason._tag) {
    case "RateLimitError":
    case "QuotaExhaustedError":
      return "RateLimited"
    case "AuthenticationError":
      return "Authentication"
    case "NetworkError":
      return "Connection"
    case "InternalProviderError":
      return "Server"
    case "InvalidResponseError":
    case "InvalidOutputError":
    case "UnknownError":
      return "Stream"
    default:
      return "BadRequest"
  }
}

/**
 * An Effect AI failure (or any other) as a {@link Common.ProviderError} of
 * provider `provider`: `AiError`s by their reason (see the module
 * documentation), with `retryAfterMs` from a rate limit's `retryAfter`;
 * anything else is a `Stream` error.
 *
 * @since 0.1.0
 * @category errors
 */
export const toProviderError = (provider: string, error: unknown): Common.ProviderError => {
  if (error instanceof Common.ProviderError) return error
  if (AiError.isAiError(error)) {
    const retryAfter = error.retryAfter
    return new Common.ProviderError({
      reason: reasonOf(error),
      provider,
      message: `${provider}: ${error.message}`,
      ...(retryAfter === undefined ? {} : { retryAfterMs: Duration.toMillis(retryAfter) }),
      cause: error
    })
  }
  const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  return new Common.ProviderError({ reason: "Stream", provider, message: `${provider}: ${message}`, cause: error })
}

/**
 * The stream events of Effect AI stream parts, for one call: text and
 * reasoning deltas; tool calls from `tool-params-*` parts, or from a complete
 * `tool-call` part when no parameter deltas came for its id; `finish` gives
 * the usage and the finish reason; an `error` part fails the call. `end`
 * closes tool calls left open and adds a `stop` finish when the model sent
 * none.
 *
 * @since 0.1.0
 * @category mapping
 */
export const makeDecoder = (provider: string) => {
  const started = new Set<string>()
  const ended = new Set<string>()
  let finished = false
  const part = (part: Response.StreamPart<any, any>): Effect.Effect<ReadonlyArray<Provider.StreamEvent>, Common.ProviderError> => {
    switch (part.type) {
      case "text-delta":
        return Effect.succeed(part.delta.length === 0 ? [] : [Provider.textDelta(part.delta)])
      case "reasoning-delta":
        return Effect.succeed(part.delta.length === 0 ? [] : [Provider.thinkingDelta(part.delta)])
      case "tool-params-start":
        if (part.providerExecuted) return Effect.succeed([])
        started.add(part.id)
        return Effect.succeed([Provider.toolCallStart(part.id, part.name)])
      case "tool-params-delta":
        return Effect.succeed(started.has(part.id) && part.delta.length > 0 ? [Provider.toolCallDelta(part.id, part.delta)] : [])
      case "tool-params-end":
        if (!started.has(part.id) || ended.has(part.id)) return Effect.succeed([])
        ended.add(part.id)
        return Effect.succeed([Provider.toolCallEnd(part.id)])
      case "tool-call": {
        if (part.providerExecuted === true || started.has(part.id)) return Effect.succeed([])
        started.add(part.id)
        ended.add(part.id)
        const args = typeof part.params === "string" ? part.params : JSON.stringify(part.params ?? {})
        return Effect.succeed([
          Provider.toolCallStart(part.id, part.name),
          ...(args.length > 0 ? [Provider.toolCallDelta(part.id, args)] : []),
          Provider.toolCallEnd(part.id)
        ])
      }
      case "finish":
        finished = true
        return Effect.succeed([
          ...[...started].filter((id) => !ended.has(id)).map((id) => {
            ended.add(id)
            return Provider.toolCallEnd(id)
          }),
          Provider.usage(toUsage(part.usage)),
          Provider.finish(toFinishReason(part.reason))
        ])
      case "error":
        return Effect.fail(toProviderError(provider, part.error))
      default:
        return Effect.succeed([])
    }
  }
  const end = (): ReadonlyArray<Provider.StreamEvent> =>
    finished
      ? []
      : [
        ...[...started].filter((id) => !ended.has(id)).map((id) => Provider.toolCallEnd(id)),
        Provider.finish("stop")
      ]
  return { part, end }
}

/**
 * A provider backed by `languageModel` (see the module documentation).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (languageModel: LanguageModel.LanguageModel, options: Options = {}): Common.Provider => {
  const name = options.name ?? "effect-ai"
  const stream = (request: Provider.CompletionRequest): Stream.Stream<Provider.StreamEvent, Common.ProviderError> =>
    Stream.suspend(() => {
      const decoder = makeDecoder(name)
      const parts = languageModel.streamText({
        prompt: toPrompt(request.messages),
        toolkit: toToolkit(request.tools),
        disableToolCallResolution: true,
        toolCallValidation: "deferred"
      }) as Stream.Stream<Response.StreamPart<any, any>, unknown>
      return parts.pipe(
        Stream.mapError((error) => toProviderError(name, error)),
        Stream.mapEffect(decoder.part),
        Stream.flattenIterable,
        Stream.concat(Stream.suspend(() => Stream.fromIterable(decoder.end())))
      )
    })
  return {
    name,
    kind: "embedded",
    baseUrl: "",
    defaultModel: options.defaultModel ?? "language-model",
    source: "embedded",
    stream
  }
}
