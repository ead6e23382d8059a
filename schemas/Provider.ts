/**
 * Provider-neutral shapes of one model call (`CompletionRequest`, the
 * streamed `StreamEvent`s, `FinishReason`) and the pure provider/model
 * selection rules of codetether-agent 4.5.7 (BEHAVIOUR §6.2 steps 3-5, 8, 11,
 * 12 and §13 `resolve_model`).
 *
 * Nothing here performs I/O: the provider SDK seams live in
 * `services/providers/`, the registry in `services/ProviderRegistry.ts`.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { Message } from "./Message.ts"
import { ToolDefinition } from "./Tool.ts"
import { Usage } from "./Usage.ts"

// ---------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------

/**
 * One model call, independent of the provider's wire API (4.5.7
 * `CompletionRequest`). The system prompt is a leading `system` message.
 *
 * - `model`: the provider's model id (without the `provider/` prefix);
 * - `tools`: the tools offered to the model (may be empty);
 * - `temperature`, `topP`: omitted when absent (see {@link temperatureFor});
 * - `maxTokens`: the completion budget in tokens (`CodetetherConfig`: 4.5.7 §6.2 step 12);
 * - `stop`: stop sequences (omitted from the wire when empty or absent).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionRequest = Schema.Struct({
  model: Schema.String,
  messages: Schema.Array(Message),
  tools: Schema.Array(ToolDefinition),
  temperature: Schema.optionalKey(Schema.Number),
  maxTokens: Schema.Int,
  topP: Schema.optionalKey(Schema.Number),
  stop: Schema.optionalKey(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type CompletionRequest = typeof CompletionRequest.Type

// ---------------------------------------------------------------------------
// Stream events
// ---------------------------------------------------------------------------

/**
 * Why the model stopped (4.5.7 `FinishReason`, snake_case on the wire):
 * `stop` (a natural end or a stop sequence), `length` (the token budget ran
 * out), `tool_calls` (the model wants tools run), `content_filter` (the
 * provider refused or filtered the output), `error`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FinishReason = Schema.Literals(["stop", "length", "tool_calls", "content_filter", "error"])

/**
 * @since 0.1.0
 * @category models
 */
export type FinishReason = typeof FinishReason.Type

/**
 * A piece of assistant text (the delta, not the accumulated text).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextDelta = Schema.TaggedStruct("TextDelta", { text: Schema.String })

/**
 * A piece of reasoning text (Anthropic thinking blocks, `reasoning_content` /
 * `reasoning` deltas of OpenAI-compatible servers).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThinkingDelta = Schema.TaggedStruct("ThinkingDelta", { text: Schema.String })

/**
 * The model started a tool call with this id and tool name. Always precedes
 * the call's {@link ToolCallDelta}s.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCallStart = Schema.TaggedStruct("ToolCallStart", { id: Schema.String, name: Schema.String })

/**
 * A piece of a tool call's arguments (raw JSON text; the concatenation of all
 * deltas of one id is the arguments string).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCallDelta = Schema.TaggedStruct("ToolCallDelta", {
  id: Schema.String,
  argumentsDelta: Schema.String
})

/**
 * The tool call with this id is complete.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCallEnd = Schema.TaggedStruct("ToolCallEnd", { id: Schema.String })

/**
 * Token usage of the whole call (emitted at most once, before `Finish`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsageEvent = Schema.TaggedStruct("Usage", { usage: Usage })

/**
 * The call ended normally; always the last event of a successful stream.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Finish = Schema.TaggedStruct("Finish", { reason: FinishReason })

/**
 * What a provider streams for one {@link CompletionRequest}, tagged by
 * `_tag`: `TextDelta`, `ThinkingDelta`, `ToolCallStart`, `ToolCallDelta`,
 * `ToolCallEnd`, `Usage`, `Finish` (4.5.7 `StreamChunk`, plus thinking and a
 * finish reason). A successful stream ends with exactly one `Finish`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamEvent = Schema.Union([
  TextDelta,
  ThinkingDelta,
  ToolCallStart,
  ToolCallDelta,
  ToolCallEnd,
  UsageEvent,
  Finish
])

/**
 * @since 0.1.0
 * @category models
 */
export type StreamEvent = typeof StreamEvent.Type

/**
 * @since 0.1.0
 * @category constructors
 */
export const textDelta = (text: string): StreamEvent => ({ _tag: "TextDelta", text })
/**
 * @since 0.1.0
 * @category constructors
 */
export const thinkingDelta = (text: string): StreamEvent => ({ _tag: "ThinkingDelta", text })
/**
 * @since 0.1.0
 * @category constructors
 */
export const toolCallStart = (id: string, name: string): StreamEvent => ({ _tag: "ToolCallStart", id, name })
/**
 * @since 0.1.0
 * @category constructors
 */
export const toolCallDelta = (id: string, argumentsDelta: string): StreamEvent => ({
  _tag: "ToolCallDelta",
  id,
  argumentsDelta
})
/**
 * @since 0.1.0
 * @category constructors
 */
export const toolCallEnd = (id: string): StreamEvent => ({ _tag: "ToolCallEnd", id })
/**
 * @since 0.1.0
 * @category constructors
 */
export const usage = (value: Usage): StreamEvent => ({ _tag: "Usage", usage: value })
/**
 * @since 0.1.0
 * @category constructors
 */
export const finish = (reason: FinishReason): StreamEvent => ({ _tag: "Finish", reason })

// ---------------------------------------------------------------------------
// Selection rules (BEHAVIOUR §6.2)
// ---------------------------------------------------------------------------

/**
 * Providers tried, in this order, when the selector names none (4.5.7
 * §6.2 step 5). When none of them is registered, the first registered
 * provider is used (registration order; 4.5.7 used hash-map order).
 *
 * @since 0.1.0
 * @category constants
 */
export const PREFERENCE_ORDER: ReadonlyArray<string> = [
  "openai",
  "anthropic",
  "github-copilot",
  "openai-codex",
  "zai",
  "minimax",
  "openrouter",
  "novita",
  "moonshotai",
  "google"
]

/**
 * A model selector split at the first `/` (4.5.7 `parse_model_string`):
 * `"openrouter/openai/gpt-5"` → provider `"openrouter"`, model
 * `"openai/gpt-5"`; `"openai/"` → `"openai"`, `""`; `"/x"` → `""`, `"x"`;
 * `"gpt-4o"` → no provider, `"gpt-4o"`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParsedModel {
  readonly provider: string | undefined
  readonly model: string
}

/**
 * Splits `"provider/model"` at the first `/` (4.5.7 `parse_model_string`,
 * BEHAVIOUR §6.2 step 4). Without a `/`, there is no provider and the whole
 * string is the model id.
 *
 * @since 0.1.0
 * @category selection
 */
export const parseModelString = (selector: string): ParsedModel => {
  const slash = selector.indexOf("/")
  return slash === -1
    ? { provider: undefined, model: selector }
    : { provider: selector.slice(0, slash), model: selector.slice(slash + 1) }
}

/**
 * The main-loop provider aliases: `zhipuai` and `z-ai` → `zai`; any other
 * name is returned unchanged (BEHAVIOUR §6.2 step 4).
 *
 * @since 0.1.0
 * @category selection
 */
export const normalizeProvider = (name: string): string => (name === "zhipuai" || name === "z-ai" ? "zai" : name)

/**
 * Environment values consulted by {@link defaultModel} for `local_cuda`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DefaultModelEnv {
  readonly LOCAL_CUDA_MODEL?: string | undefined
  readonly CODETETHER_LOCAL_CUDA_MODEL?: string | undefined
}

/**
 * The model used when the selector names a provider but no model (4.5.7
 * §6.2 step 8): `moonshotai` → `kimi-k2.5`, `anthropic` →
 * `claude-sonnet-4-20250514`, `minimax` → `MiniMax-M2.5`, `openai` → `gpt-4o`,
 * `google` → `gemini-2.5-pro`, `local_cuda` → `LOCAL_CUDA_MODEL`, else
 * `CODETETHER_LOCAL_CUDA_MODEL`, else `qwen3.5-9b`; `zhipuai`/`zai`/`zai-api`
 * → `glm-5`; `openrouter` → `z-ai/glm-5`; `novita` → `Qwen/Qwen3.5-35B-A3B`;
 * `github-copilot`/`github-copilot-enterprise` → `gpt-5-mini`; anything else
 * → `gpt-4o`.
 *
 * @since 0.1.0
 * @category selection
 */
export const defaultModel = (provider: string, env: DefaultModelEnv = {}): string => {
  switch (provider) {
    case "moonshotai":
      return "kimi-k2.5"
    case "anthropic":
      return "claude-sonnet-4-20250514"
    case "minimax":
      return "MiniMax-M2.5"
    case "openai":
      return "gpt-4o"
    case "google":
      return "gemini-2.5-pro"
    case "local_cuda":
      return nonEmpty(env.LOCAL_CUDA_MODEL) ?? nonEmpty(env.CODETETHER_LOCAL_CUDA_MODEL) ?? "qwen3.5-9b"
    case "zhipuai":
    case "zai":
    case "zai-api":
      return "glm-5"
    case "openrouter":
      return "z-ai/glm-5"
    case "novita":
      return "Qwen/Qwen3.5-35B-A3B"
    case "github-copilot":
    case "github-copilot-enterprise":
      return "gpt-5-mini"
    default:
      return "gpt-4o"
  }
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value !== undefined && value.length > 0 ? value : undefined

const NO_TEMPERATURE = ["opus-4-7", "opus-4.7", "4.7-opus", "4-7-opus", "opus_4_7", "opus_47"]
const HIGH_TEMPERATURE = ["kimi-k2", "glm-", "minimax"]

/**
 * The sampling temperature for a model id (4.5.7 §6.2 step 11): `undefined`
 * (omitted) when the lower-cased id contains an Opus 4.7 marker (`opus-4-7`,
 * `opus-4.7`, `4.7-opus`, `4-7-opus`, `opus_4_7`, `opus_47`); `1.0` when it
 * contains `kimi-k2`, `glm-` or `minimax`; else `0.7`.
 *
 * @since 0.1.0
 * @category selection
 */
export const temperatureFor = (model: string): number | undefined => {
  const lower = model.toLowerCase()
  if (NO_TEMPERATURE.some((marker) => lower.includes(marker))) return undefined
  if (HIGH_TEMPERATURE.some((marker) => lower.includes(marker))) return 1.0
  return 0.7
}

/**
 * A chosen provider name and model id.
 *
 * @since 0.1.0
 * @category models
 */
export interface Selection {
  readonly provider: string
  readonly model: string
}

/**
 * Why a selection failed: `NoProviders` (nothing is registered) or
 * `Unavailable` (the named provider is not registered). `message` is 4.5.7's
 * text (see {@link noProvidersMessage}, {@link unavailableMessage}).
 *
 * @since 0.1.0
 * @category models
 */
export interface SelectionError {
  readonly reason: "NoProviders" | "Unavailable"
  readonly provider?: string
  readonly message: string
}

/**
 * 4.5.7's empty-registry error, with its HashiCorp Vault sentence replaced by
 * how codetether is configured, and without its `codetether auth codex` /
 * `codetether auth copilot` hints (commands codetether does not have).
 *
 * @since 0.1.0
 * @category constants
 */
export const noProvidersMessage =
  "No providers available. Configure provider credentials in environment variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY, ...) or in providers.json in the data directory."

/**
 * 4.5.7's text for an explicitly selected provider that is not registered:
 * `Provider '<name>' selected explicitly but is unavailable. Available providers: a, b`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unavailableMessage = (name: string, available: ReadonlyArray<string>): string =>
  `Provider '${name}' selected explicitly but is unavailable. Available providers: ${available.join(", ")}`

/**
 * 4.5.7 `resolve_model`'s text for an unknown provider part:
 * `Provider '<name>' not found. Available: ["a", "b"]` (Rust debug list).
 *
 * @since 0.1.0
 * @category constructors
 */
export const notFoundMessage = (name: string, available: ReadonlyArray<string>): string =>
  `Provider '${name}' not found. Available: [${available.map((n) => JSON.stringify(n)).join(", ")}]`

/**
 * 4.5.7 `resolve_model`'s text for an empty registry.
 *
 * @since 0.1.0
 * @category constants
 */
export const noProvidersInRegistryMessage = "No providers available in registry"

/**
 * The provider the main loop uses when the selector names none: the first of
 * {@link PREFERENCE_ORDER} that is registered, else the first registered name,
 * else `undefined`.
 *
 * @since 0.1.0
 * @category selection
 */
export const preferred = (registered: ReadonlyArray<string>): string | undefined =>
  PREFERENCE_ORDER.find((name) => registered.includes(name)) ?? registered[0]

/**
 * The main loop's provider and model choice (4.5.7 §6.2 steps 3-5 and 8) for
 * a selector (`metadata.model`, `--model`, `CODETETHER_MODEL`): `null`, a
 * `"provider/model"` string, a bare model id, or a bare provider name.
 *
 * 1. no registered provider → `NoProviders`;
 * 2. the selector is split with {@link parseModelString}; the provider part is
 *    aliased with {@link normalizeProvider}; a bare string that equals a
 *    registered name selects that provider with no model;
 * 3. an explicit provider must be registered, else `Unavailable` with 4.5.7's
 *    text listing the registered names; otherwise {@link preferred};
 * 4. an empty model id becomes `defaultModelOf(provider)` (default
 *    {@link defaultModel}).
 *
 * `registered` is in registration order.
 *
 * @since 0.1.0
 * @category selection
 */
export const select = (
  selector: string | null,
  registered: ReadonlyArray<string>,
  defaultModelOf: (provider: string) => string = (provider) => defaultModel(provider)
): Result.Result<Selection, SelectionError> => {
  if (registered.length === 0) return Result.fail({ reason: "NoProviders", message: noProvidersMessage })
  let explicit: string | undefined
  let model = ""
  if (selector !== null) {
    const parsed = parseModelString(selector)
    if (parsed.provider !== undefined) {
      explicit = normalizeProvider(parsed.provider)
      model = parsed.model
    } else if (registered.includes(parsed.model)) {
      explicit = parsed.model
    } else {
      model = parsed.model
    }
  }
  if (explicit !== undefined && !registered.includes(explicit)) {
    return Result.fail({ reason: "Unavailable", provider: explicit, message: unavailableMessage(explicit, registered) })
  }
  const provider = explicit ?? (preferred(registered) as string)
  return Result.succeed({ provider, model: model.length > 0 ? model : defaultModelOf(provider) })
}

/**
 * The provider aliases of 4.5.7 `ProviderRegistry::resolve_model`:
 * `local-cuda` / `localcuda` → `local_cuda`, `zhipuai` → `zai` (`z-ai` is not
 * aliased there).
 *
 * @since 0.1.0
 * @category selection
 */
export const normalizeResolveProvider = (name: string): string =>
  name === "local-cuda" || name === "localcuda" ? "local_cuda" : name === "zhipuai" ? "zai" : name

/**
 * 4.5.7 `ProviderRegistry::resolve_model` (§13), used for the RLM sub-call
 * model: with a provider part, that provider (aliased with
 * {@link normalizeResolveProvider}) or `Unavailable` with
 * `Provider '<p>' not found. Available: [...]`; without one, the first
 * registered provider with the whole string as model, or `NoProviders` with
 * `No providers available in registry`. An empty model id becomes
 * `defaultModelOf(provider)` (4.5.7 passed `""` on).
 *
 * @since 0.1.0
 * @category selection
 */
export const resolveModel = (
  model: string,
  registered: ReadonlyArray<string>,
  defaultModelOf: (provider: string) => string = (provider) => defaultModel(provider)
): Result.Result<Selection, SelectionError> => {
  const parsed = parseModelString(model)
  if (parsed.provider !== undefined) {
    const name = normalizeResolveProvider(parsed.provider)
    if (!registered.includes(name)) {
      return Result.fail({ reason: "Unavailable", provider: name, message: notFoundMessage(name, registered) })
    }
    return Result.succeed({ provider: name, model: parsed.model.length > 0 ? parsed.model : defaultModelOf(name) })
  }
  const first = registered[0]
  if (first === undefined) return Result.fail({ reason: "NoProviders", message: noProvidersInRegistryMessage })
  return Result.succeed({ provider: first, model: model.length > 0 ? model : defaultModelOf(first) })
}
