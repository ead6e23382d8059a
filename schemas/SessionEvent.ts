/**
 * Events a prompt emits for UIs and telemetry (`session::SessionEvent` in
 * codetether-agent 4.5.7), their payload structs, and `SessionResult`.
 *
 * In TypeScript an event is a union tagged by `_tag` with camelCase fields;
 * on the wire (`codetether run --json`, one event per line) the tag is `type`
 * and fields are snake_case: `{"type":"ToolCallComplete","name":"bash","output":"…","success":true,"duration_ms":12}`.
 * Payload structs (`TokenDelta`, `CompactionOutcome`, ...) have 4.5.7's serde
 * shapes.
 *
 * Events are **ephemeral** (lossy: a slow UI may miss some) or **durable**
 * (must reach the durable sink): see {@link isDurable}.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Redaction from "./Redaction.ts"
import { Session } from "./Session.ts"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

// ---------------------------------------------------------------------------
// Payload structs (4.5.7 event_token.rs, event_rlm.rs, event_compaction.rs)
// ---------------------------------------------------------------------------

/**
 * Who spent tokens: `root` (the session's own model call), `rlm_iteration`,
 * `rlm_subcall`, `tool_embedded`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const TokenSource = Schema.Literals(["root", "rlm_iteration", "rlm_subcall", "tool_embedded"])

/**
 * @since 0.1.0
 * @category payloads
 */
export type TokenSource = typeof TokenSource.Type

/**
 * True for the two RLM sources (4.5.7 `TokenSource::is_rlm`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const isRlmSource = (source: TokenSource): boolean => source === "rlm_iteration" || source === "rlm_subcall"

/**
 * Observed consumption of one LLM round trip. Wire:
 * `{source, model, prompt_tokens, completion_tokens, duration_ms}` (tokens, ms).
 *
 * codetether's loop adds, after 4.5.7's keys, `cache_read_tokens` and
 * `cache_write_tokens` (the step's prompt-cache counters, when the provider
 * reported them) and `message_index` (the index in `session.messages` the
 * step's assistant message got, or would have got when the step produced
 * nothing): what prices a step and ties it to the transcript (`sessions
 * show`, `sessions fork`). Each is omitted when absent, so 4.5.7's shape is
 * a valid `TokenDelta` and serde readers of 4.5.7's struct ignore them.
 *
 * @since 0.1.0
 * @category payloads
 */
export const TokenDelta = Schema.Struct({
  source: TokenSource,
  model: Schema.String,
  promptTokens: Count,
  completionTokens: Count,
  durationMs: Count,
  cacheReadTokens: Schema.optionalKey(Count),
  cacheWriteTokens: Schema.optionalKey(Count),
  messageIndex: Schema.optionalKey(Count)
}).pipe(Schema.encodeKeys({
  promptTokens: "prompt_tokens",
  completionTokens: "completion_tokens",
  durationMs: "duration_ms",
  cacheReadTokens: "cache_read_tokens",
  cacheWriteTokens: "cache_write_tokens",
  messageIndex: "message_index"
}))

/**
 * @since 0.1.0
 * @category payloads
 */
export type TokenDelta = typeof TokenDelta.Type

/**
 * Prompt + completion tokens (4.5.7 `TokenDelta::total`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const totalTokens = (delta: TokenDelta): number => delta.promptTokens + delta.completionTokens

/**
 * Pre-flight estimate of a request. Wire: `{model, request_tokens, budget}` (tokens).
 *
 * @since 0.1.0
 * @category payloads
 */
export const TokenEstimate = Schema.Struct({
  model: Schema.String,
  requestTokens: Count,
  budget: Count
}).pipe(Schema.encodeKeys({ requestTokens: "request_tokens" }))

/**
 * @since 0.1.0
 * @category payloads
 */
export type TokenEstimate = typeof TokenEstimate.Type

/**
 * `request / budget`, 0 when the budget is 0 (4.5.7 `TokenEstimate::fraction`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const estimateFraction = (estimate: TokenEstimate): number =>
  estimate.budget === 0 ? 0 : estimate.requestTokens / estimate.budget

/**
 * `request > budget`, strictly (4.5.7 `TokenEstimate::is_over_budget`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const isOverBudget = (estimate: TokenEstimate): boolean => estimate.requestTokens > estimate.budget

/**
 * One iteration of an RLM loop. Wire: `{trace_id, iteration, max_iterations, status}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const RlmProgressEvent = Schema.Struct({
  traceId: Schema.String,
  iteration: Count,
  maxIterations: Count,
  status: Schema.String
}).pipe(Schema.encodeKeys({ traceId: "trace_id", maxIterations: "max_iterations" }))

/**
 * @since 0.1.0
 * @category payloads
 */
export type RlmProgressEvent = typeof RlmProgressEvent.Type

/**
 * `iteration / max_iterations` clamped to [0, 1], 0 when the maximum is 0.
 *
 * @since 0.1.0
 * @category payloads
 */
export const progressFraction = (progress: RlmProgressEvent): number =>
  progress.maxIterations === 0 ? 0 : Math.min(1, Math.max(0, progress.iteration / progress.maxIterations))

/**
 * How an RLM run ended: `converged`, `exhausted`, `failed`, `aborted`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const RlmOutcome = Schema.Literals(["converged", "exhausted", "failed", "aborted"])

/**
 * @since 0.1.0
 * @category payloads
 */
export type RlmOutcome = typeof RlmOutcome.Type

/**
 * Only `converged` is a success (4.5.7 `RlmOutcome::is_success`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const isSuccess = (outcome: RlmOutcome): boolean => outcome === "converged"

/**
 * Terminal record of an RLM run. Wire: `{trace_id, outcome, iterations,
 * subcalls, input_tokens, output_tokens, elapsed_ms, reason, root_model,
 * subcall_model_used}`; `subcall_model_used` is omitted when absent.
 *
 * @since 0.1.0
 * @category payloads
 */
export const RlmCompletion = Schema.Struct({
  traceId: Schema.String,
  outcome: RlmOutcome,
  iterations: Count,
  subcalls: Count,
  inputTokens: Count,
  outputTokens: Count,
  elapsedMs: Count,
  reason: Schema.NullOr(Schema.String),
  rootModel: Schema.String,
  subcallModelUsed: Schema.optionalKey(Schema.String)
}).pipe(Schema.encodeKeys({
  traceId: "trace_id",
  inputTokens: "input_tokens",
  outputTokens: "output_tokens",
  elapsedMs: "elapsed_ms",
  rootModel: "root_model",
  subcallModelUsed: "subcall_model_used"
}))

/**
 * @since 0.1.0
 * @category payloads
 */
export type RlmCompletion = typeof RlmCompletion.Type

/**
 * `output / input`, 0 when the input is 0 (4.5.7 `RlmCompletion::compression_ratio`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const compressionRatio = (completion: RlmCompletion): number =>
  completion.inputTokens === 0 ? 0 : completion.outputTokens / completion.inputTokens

/**
 * A configured sub-call model could not be resolved; the router fell back.
 * Wire: `{trace_id, configured, using, reason}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const RlmSubcallFallback = Schema.Struct({
  traceId: Schema.String,
  configured: Schema.String,
  using: Schema.String,
  reason: Schema.String
}).pipe(Schema.encodeKeys({ traceId: "trace_id" }))

/**
 * @since 0.1.0
 * @category payloads
 */
export type RlmSubcallFallback = typeof RlmSubcallFallback.Type

/**
 * Compaction strategy: `rlm`, `chunk_compress`, `truncate`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const FallbackStrategy = Schema.Literals(["rlm", "chunk_compress", "truncate"])

/**
 * @since 0.1.0
 * @category payloads
 */
export type FallbackStrategy = typeof FallbackStrategy.Type

/**
 * Only `truncate` is terminal (4.5.7 `FallbackStrategy::is_terminal`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const isTerminal = (strategy: FallbackStrategy): boolean => strategy === "truncate"

/**
 * A compaction pass began. Wire: `{trace_id, reason, before_tokens, budget}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const CompactionStart = Schema.Struct({
  traceId: Schema.String,
  reason: Schema.String,
  beforeTokens: Count,
  budget: Count
}).pipe(Schema.encodeKeys({ traceId: "trace_id", beforeTokens: "before_tokens" }))

/**
 * @since 0.1.0
 * @category payloads
 */
export type CompactionStart = typeof CompactionStart.Type

/**
 * A compaction pass finished. Wire: `{trace_id, strategy, before_tokens,
 * after_tokens, kept_messages}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const CompactionOutcome = Schema.Struct({
  traceId: Schema.String,
  strategy: FallbackStrategy,
  beforeTokens: Count,
  afterTokens: Count,
  keptMessages: Count
}).pipe(Schema.encodeKeys({
  traceId: "trace_id",
  beforeTokens: "before_tokens",
  afterTokens: "after_tokens",
  keptMessages: "kept_messages"
}))

/**
 * @since 0.1.0
 * @category payloads
 */
export type CompactionOutcome = typeof CompactionOutcome.Type

/**
 * `clamp(1 − after/before, 0, 1)`, 0 when before is 0 (4.5.7 `CompactionOutcome::reduction`).
 *
 * @since 0.1.0
 * @category payloads
 */
export const reduction = (outcome: CompactionOutcome): number =>
  outcome.beforeTokens === 0 ? 0 : Math.min(1, Math.max(0, 1 - outcome.afterTokens / outcome.beforeTokens))

/**
 * Every strategy failed to fit under budget. Wire: `{trace_id, fell_back_to
 * (null written, not omitted), reason, after_tokens, budget}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const CompactionFailure = Schema.Struct({
  traceId: Schema.String,
  fellBackTo: Schema.NullOr(FallbackStrategy),
  reason: Schema.String,
  afterTokens: Count,
  budget: Count
}).pipe(Schema.encodeKeys({ traceId: "trace_id", fellBackTo: "fell_back_to", afterTokens: "after_tokens" }))

/**
 * @since 0.1.0
 * @category payloads
 */
export type CompactionFailure = typeof CompactionFailure.Type

/**
 * The terminal truncation dropped part of the transcript. Wire: `{trace_id,
 * dropped_tokens, kept_messages, archive_ref}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const ContextTruncation = Schema.Struct({
  traceId: Schema.String,
  droppedTokens: Count,
  keptMessages: Count,
  archiveRef: Schema.NullOr(Schema.String)
}).pipe(Schema.encodeKeys({
  traceId: "trace_id",
  droppedTokens: "dropped_tokens",
  keptMessages: "kept_messages",
  archiveRef: "archive_ref"
}))

/**
 * @since 0.1.0
 * @category payloads
 */
export type ContextTruncation = typeof ContextTruncation.Type

/**
 * Where a forked session came from (a codetether record; 4.5.7 has no
 * fork): the parent's id, the index of the last message copied
 * (`message_index`; the fork holds messages `0..message_index`), and how
 * many of the parent's `token_usage` records were copied into the fork's
 * durable log after this one. Wire: `{parent_id, message_index, copied_records}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const ForkOrigin = Schema.Struct({
  parentId: Schema.String,
  messageIndex: Schema.Int.check(Schema.isGreaterThanOrEqualTo(-1)),
  copiedRecords: Count
}).pipe(Schema.encodeKeys({ parentId: "parent_id", messageIndex: "message_index", copiedRecords: "copied_records" }))

/**
 * A model call answered by a fallback model (codetether, not 4.5.7): the
 * session's model (`configured`, `provider/model`) failed after its retries
 * with `reason`, and `using` (`provider/model`, from the `fallback_models`
 * configuration) answered instead. `metadata.model` is not changed. Wire:
 * `{configured, using, reason}`.
 *
 * @since 0.1.0
 * @category payloads
 */
export const ModelFallback = Schema.Struct({
  configured: Schema.String,
  using: Schema.String,
  reason: Schema.String
})

/**
 * @since 0.1.0
 * @category payloads
 */
export type ForkOrigin = typeof ForkOrigin.Type

/**
 * @since 0.1.0
 * @category payloads
 */
export type ModelFallback = typeof ModelFallback.Type

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

const event = <Tag extends string, Fields extends Schema.Struct.Fields>(
  tag: Tag,
  fields: Fields,
  keys: { readonly [K in keyof Fields]?: string } = {}
) => Schema.TaggedStruct(tag, fields).pipe(Schema.encodeKeys({ _tag: "type", ...keys } as never))

const payload = <Tag extends string, S extends Schema.Top>(tag: Tag, schema: S) =>
  event(tag, { payload: schema })

/**
 * The variants, in 4.5.7 order, then codetether's two additions:
 * `StepLimitReached` (`{steps, max_steps}`: the prompt stopped because it ran
 * `max_steps` model round trips while the model still called tools; not an
 * error, as in 4.5.7) and the durable `ModelFallback` (see
 * {@link ModelFallback}). `TextChunk.text` is the whole text of the current
 * step so far (a snapshot, not a delta, capped at 256 KiB);
 * `ToolCallStart.arguments` is the JSON of the (normalised) arguments with
 * keys sorted; durations are milliseconds.
 *
 * `Thinking` (no fields) says "the model is being asked": a prompt emits it
 * once at set-up, before anything else (before the lease, the provider
 * selection and the user message: 4.5.7 BEHAVIOUR §6.2 step 1), then once at
 * the start of every step. A prompt of N steps therefore starts with two
 * `Thinking` events and emits N + 1 in all; a prompt refused at set-up (a
 * busy session, no provider) emits the set-up `Thinking`, `Error`, `Done`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionEvent = Schema.Union([
  event("Thinking", {}),
  event("ToolCallStart", { name: Schema.String, arguments: Schema.String }),
  event("ToolCallComplete", { name: Schema.String, output: Schema.String, success: Schema.Boolean, durationMs: Count }, {
    durationMs: "duration_ms"
  }),
  event("TextChunk", { text: Schema.String }),
  event("TextComplete", { text: Schema.String }),
  event("ThinkingComplete", { text: Schema.String }),
  event("UsageReport", {
    promptTokens: Count,
    completionTokens: Count,
    durationMs: Count,
    model: Schema.String
  }, { promptTokens: "prompt_tokens", completionTokens: "completion_tokens", durationMs: "duration_ms" }),
  event("SessionSync", { session: Session }),
  event("Done", {}),
  event("Error", { message: Schema.String }),
  payload("TokenEstimate", TokenEstimate),
  payload("TokenUsage", TokenDelta),
  payload("RlmProgress", RlmProgressEvent),
  payload("RlmComplete", RlmCompletion),
  payload("CompactionStarted", CompactionStart),
  payload("CompactionCompleted", CompactionOutcome),
  payload("CompactionFailed", CompactionFailure),
  payload("ContextTruncated", ContextTruncation),
  payload("RlmSubcallFallback", RlmSubcallFallback),
  // codetether: secrets replaced in what a prompt appended (schemas/Redaction.ts)
  payload("SecretsRedacted", Redaction.Report),
  payload("SessionForked", ForkOrigin),
  event("StepLimitReached", { steps: Count, maxSteps: Count }, { maxSteps: "max_steps" }),
  payload("ModelFallback", ModelFallback)
])

/**
 * @since 0.1.0
 * @category models
 */
export type SessionEvent = typeof SessionEvent.Type

/**
 * The wire form of an event (what `JSON.parse` of a `--json` line gives).
 *
 * @since 0.1.0
 * @category models
 */
export type SessionEventEncoded = typeof SessionEvent.Encoded

/**
 * The tags of the durable variants: 4.5.7's seven (`is_durable`: token
 * usage, RLM completion and sub-call fallback, the four compaction events)
 * and codetether's `SecretsRedacted` (a redaction count, see
 * `Redaction.Report`), `SessionForked` (the first record of a fork's log,
 * written by `SessionFork.fork`, never by a prompt) and `ModelFallback`.
 * Their records exist only in codetether's durable log (4.5.7 has no durable
 * log and no reader of one; a consumer that knows only 4.5.7's kinds skips
 * them).
 *
 * @since 0.1.0
 * @category constants
 */
export const durableTags: ReadonlySet<SessionEvent["_tag"]> = new Set([
  "TokenUsage",
  "RlmComplete",
  "CompactionStarted",
  "CompactionCompleted",
  "CompactionFailed",
  "ContextTruncated",
  "RlmSubcallFallback",
  "SecretsRedacted",
  "SessionForked",
  "ModelFallback"
])

/**
 * Whether an event must reach the durable sink before it is broadcast
 * (4.5.7 `SessionEvent::is_durable`: its seven variants, plus codetether's
 * `SecretsRedacted`, `SessionForked` and `ModelFallback`).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isDurable = (event: SessionEvent): boolean => durableTags.has(event._tag)

const encodeEvent = Schema.encodeSync(SessionEvent)

/**
 * One line of `codetether run --json`: the event's compact wire JSON (no
 * newline). `SessionSync` carries the session in its on-disk shape.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJsonLine = (event: SessionEvent): string => JSON.stringify(encodeEvent(event))

/**
 * Decodes one wire event (e.g. a parsed `--json` line).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = Schema.decodeUnknownEffect(SessionEvent)

/**
 * The final answer of a prompt (4.5.7 `SessionResult`, the HTTP API's shape
 * `{"text","session_id"}`): the concatenated, trimmed text of the prompt's
 * steps, and the session's id.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionResult = Schema.Struct({
  text: Schema.String,
  sessionId: Schema.String
}).pipe(Schema.encodeKeys({ sessionId: "session_id" }))

/**
 * @since 0.1.0
 * @category models
 */
export type SessionResult = typeof SessionResult.Type

/**
 * Constructors for the events the session loop emits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = {
  thinking: (): SessionEvent => ({ _tag: "Thinking" }),
  toolCallStart: (name: string, args: string): SessionEvent => ({ _tag: "ToolCallStart", name, arguments: args }),
  toolCallComplete: (name: string, output: string, success: boolean, durationMs: number): SessionEvent => ({
    _tag: "ToolCallComplete",
    name,
    output,
    success,
    durationMs: Math.max(0, Math.round(durationMs))
  }),
  textChunk: (text: string): SessionEvent => ({ _tag: "TextChunk", text }),
  textComplete: (text: string): SessionEvent => ({ _tag: "TextComplete", text }),
  thinkingComplete: (text: string): SessionEvent => ({ _tag: "ThinkingComplete", text }),
  usageReport: (promptTokens: number, completionTokens: number, durationMs: number, model: string): SessionEvent => ({
    _tag: "UsageReport",
    promptTokens,
    completionTokens,
    durationMs: Math.max(0, Math.round(durationMs)),
    model
  }),
  tokenUsage: (delta: TokenDelta): SessionEvent => ({ _tag: "TokenUsage", payload: delta }),
  sessionSync: (session: Session): SessionEvent => ({ _tag: "SessionSync", session }),
  done: (): SessionEvent => ({ _tag: "Done" }),
  stepLimitReached: (steps: number, maxSteps: number): SessionEvent => ({ _tag: "StepLimitReached", steps, maxSteps }),
  modelFallback: (fallback: ModelFallback): SessionEvent => ({ _tag: "ModelFallback", payload: fallback }),
  error: (message: string): SessionEvent => ({ _tag: "Error", message })
} as const

