/**
 * OpenAI Codex CLI rollout files (`~/.codex/sessions/**\/rollout-*.jsonl`)
 * and `session_index.jsonl`, and the pure mapping from a rollout to a
 * codetether {@link Session} (codetether-agent 4.5.7 `session/codex_import`,
 * BEHAVIOUR §10).
 *
 * A rollout is JSON Lines. Two layouts exist:
 * - the current envelope `{"timestamp", "type", "payload"}` (`type` is the
 *   line kind: `session_meta`, `turn_context`, `response_item`, `event_msg`,
 *   and kinds newer Codex versions add such as `world_state`);
 * - the legacy flat layout (Codex before mid-2025): a first line
 *   `{"id", "timestamp", ...}`, `{"record_type": ...}` state lines, and
 *   response items written bare (`{"type": "message", ...}`).
 *
 * Decoding is lenient where Codex evolves: unknown line kinds, unknown
 * payload types and extra fields are skipped, never an error; a line that is
 * not JSON, or a known payload with the wrong shape, is reported as
 * {@link LineMalformed} so the caller can warn and go on. The mapping is a
 * fold ({@link makeBuilder}) so a rollout of any size is processed one line at
 * a time; nothing here does I/O.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { ContentPart, Message } from "./Message.ts"
import * as Provenance from "./Provenance.ts"
import { stableStringify } from "./RustJson.ts"
import type { Session } from "./Session.ts"
import * as SessionMetadata from "./SessionMetadata.ts"
import type { SessionSummary } from "./SessionSummary.ts"
import * as SessionSummary_ from "./SessionSummary.ts"
import * as Timestamp from "./Timestamp.ts"
import * as Usage from "./Usage.ts"

// ---------------------------------------------------------------------------
// Line shapes
// ---------------------------------------------------------------------------

/**
 * A line of the current rollout layout: `{"timestamp", "type", "payload"}`
 * (`type` is the line kind; extra keys such as `ordinal` are ignored). A line
 * is an envelope when it has all three keys; then `timestamp` must be RFC 3339
 * and `type` a string, or the line is malformed.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RolloutEnvelope = Schema.Struct({
  timestamp: Timestamp.Timestamp,
  type: Schema.String,
  payload: Schema.Unknown
})

/**
 * @since 0.1.0
 * @category models
 */
export type RolloutEnvelope = typeof RolloutEnvelope.Type

const EnvelopeKeys = Schema.Struct({ timestamp: Schema.Unknown, type: Schema.Unknown, payload: Schema.Unknown })

/**
 * The first line of a legacy rollout: an object without `type`,
 * `record_type` or `payload` keys, with a string `id` and a string
 * `timestamp` (other keys such as `instructions` and `git` are ignored). A
 * timestamp that is not RFC 3339 makes the line unusable (skipped).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LegacyMeta = Schema.Struct({
  id: Schema.String,
  timestamp: Schema.String
})

/**
 * The legacy item types read from bare (non-envelope) lines; every other
 * bare line is skipped.
 *
 * @since 0.1.0
 * @category constants
 */
export const legacyItemTypes = ["message", "reasoning", "function_call", "function_call_output"] as const

const LegacyItem = Schema.Struct({ type: Schema.Literals(legacyItemTypes) })

// ---------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------

/**
 * Payload of a `session_meta` line. `id`, `timestamp` (RFC 3339: the
 * session's creation time) and `cwd` are required; the many other keys Codex
 * writes (`originator`, `cli_version`, `base_instructions`, `git`, ...) are
 * ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionMetaPayload = Schema.Struct({
  id: Schema.String,
  timestamp: Timestamp.Timestamp,
  cwd: Schema.String
})

/**
 * Payload of a `turn_context` line: only `model` is read (a non-empty string
 * sets the session model; anything else is ignored).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TurnContextPayload = Schema.Struct({
  model: Schema.optionalKey(Schema.Unknown)
})

/**
 * Any payload: only its `type` tag is read, to pick the schema below.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TaggedPayload = Schema.Struct({ type: Schema.String })

/**
 * A `response_item` of type `message`. `content` items are decoded one by
 * one ({@link MessageText}, {@link MessageImage}); items of other types are
 * ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessagePayload = Schema.Struct({
  type: Schema.Literal("message"),
  role: Schema.String,
  content: Schema.Array(Schema.Unknown)
})

/**
 * @since 0.1.0
 * @category models
 */
export type MessagePayload = typeof MessagePayload.Type

/**
 * A text content item of a message: `input_text` (user, developer) or
 * `output_text` (assistant).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessageText = Schema.Struct({
  type: Schema.Literals(["input_text", "output_text"]),
  text: Schema.String
})

/**
 * An image content item of a message (`image_url` is usually a `data:` URL).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessageImage = Schema.Struct({
  type: Schema.Literal("input_image"),
  image_url: Schema.String
})

/**
 * A `response_item` of type `reasoning`. `content` may be a string, an array
 * of `{type: "reasoning_text", text}` items (newer Codex), `null` or absent;
 * `summary` is a list of strings or `{type: "summary_text", text}` objects.
 * `encrypted_content` is ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReasoningPayload = Schema.Struct({
  type: Schema.Literal("reasoning"),
  summary: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Unknown))),
  content: Schema.optionalKey(Schema.Unknown)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ReasoningPayload = typeof ReasoningPayload.Type

/**
 * One entry of a reasoning `summary` or `content` array that carries text: a
 * string or an object with a string `text`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReasoningText = Schema.Union([Schema.String, Schema.Struct({ text: Schema.String })])

/**
 * A `response_item` of type `function_call`. `name` and `arguments` are
 * required (`arguments` is usually JSON text; any JSON is accepted); the
 * call id is `call_id`, else `id`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FunctionCallPayload = Schema.Struct({
  type: Schema.Literal("function_call"),
  name: Schema.String,
  arguments: Schema.Unknown,
  call_id: Schema.optionalKey(Schema.NullOr(Schema.String)),
  id: Schema.optionalKey(Schema.NullOr(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type FunctionCallPayload = typeof FunctionCallPayload.Type

/**
 * A `response_item` of type `function_call_output`: the result of the call
 * `call_id`. `output` is usually a string; any JSON is accepted.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FunctionCallOutputPayload = Schema.Struct({
  type: Schema.Literal("function_call_output"),
  call_id: Schema.String,
  output: Schema.Unknown
})

/**
 * @since 0.1.0
 * @category models
 */
export type FunctionCallOutputPayload = typeof FunctionCallOutputPayload.Type

const TokenCount = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Cumulative token counts of a Codex thread (tokens). Absent counters read as
 * 0; `cached_input_tokens` may be `null`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenUsage = Schema.Struct({
  input_tokens: Schema.optionalKey(TokenCount),
  cached_input_tokens: Schema.optionalKey(Schema.NullOr(TokenCount)),
  output_tokens: Schema.optionalKey(TokenCount),
  total_tokens: Schema.optionalKey(TokenCount)
})

/**
 * An `event_msg` of type `token_count`. `info` is `null` before the first
 * model response; only `info.total_token_usage` is read.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenCountPayload = Schema.Struct({
  type: Schema.Literal("token_count"),
  info: Schema.optionalKey(Schema.NullOr(Schema.Struct({
    total_token_usage: Schema.optionalKey(Schema.NullOr(TokenUsage))
  })))
})

/**
 * One line of `<codex home>/session_index.jsonl`: a thread name given to a
 * session at `updated_at`. Several lines may name the same id; the latest
 * `updated_at` wins ({@link indexTitles}).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionIndexEntry = Schema.Struct({
  id: Schema.String,
  thread_name: Schema.NullOr(Schema.String),
  updated_at: Timestamp.Timestamp
})

/**
 * @since 0.1.0
 * @category models
 */
export type SessionIndexEntry = typeof SessionIndexEntry.Type

// ---------------------------------------------------------------------------
// Decoded records
// ---------------------------------------------------------------------------

/**
 * What a session meta line says: the session `id`, its creation time
 * `createdAt`, and the working directory `cwd` (empty for legacy rollouts,
 * which carry it in an `<environment_context>` message instead).
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionMeta {
  readonly id: string
  readonly createdAt: Timestamp.Timestamp
  readonly cwd: string
}

/**
 * A response item, decoded by its `type`; `other` stands for every type the
 * import does not read (`custom_tool_call`, `local_shell_call`,
 * `web_search_call`, `ghost_snapshot`, ...).
 *
 * @since 0.1.0
 * @category models
 */
export type ResponseItem =
  | MessagePayload
  | ReasoningPayload
  | FunctionCallPayload
  | FunctionCallOutputPayload
  | { readonly type: "other"; readonly payloadType: string }

/**
 * One decoded rollout line. `timestamp` is the line's time (for legacy items,
 * the session meta's time). `other` is a line kind the import ignores (its
 * timestamp still counts for `updatedAt`, as in 4.5.7).
 *
 * @since 0.1.0
 * @category models
 */
export type RolloutRecord =
  | { readonly kind: "session_meta"; readonly timestamp: Timestamp.Timestamp; readonly meta: SessionMeta }
  | { readonly kind: "turn_context"; readonly timestamp: Timestamp.Timestamp; readonly model: string | undefined }
  | { readonly kind: "response_item"; readonly timestamp: Timestamp.Timestamp; readonly item: ResponseItem }
  | { readonly kind: "token_count"; readonly timestamp: Timestamp.Timestamp; readonly usage: Usage.Usage | undefined }
  | { readonly kind: "other"; readonly timestamp: Timestamp.Timestamp; readonly type: string }

/**
 * A decoded line: a record.
 *
 * @since 0.1.0
 * @category models
 */
export interface LineRecord {
  readonly _tag: "Record"
  readonly record: RolloutRecord
}

/**
 * A line the import ignores on purpose: blank, a legacy `record_type` line, a
 * bare object of an unknown type, a JSON value that is not an object, a
 * legacy meta with an unparseable timestamp.
 *
 * @since 0.1.0
 * @category models
 */
export interface LineSkipped {
  readonly _tag: "Skipped"
}

/**
 * A line that should have been a record and is not: not JSON, or a known
 * kind whose payload has the wrong shape. `reason` says why (a readable
 * Schema message).
 *
 * @since 0.1.0
 * @category models
 */
export interface LineMalformed {
  readonly _tag: "Malformed"
  readonly reason: string
}

/**
 * The result of {@link decodeLine}.
 *
 * @since 0.1.0
 * @category models
 */
export type DecodedLine = LineRecord | LineSkipped | LineMalformed

const skipped: LineSkipped = { _tag: "Skipped" }
const malformed = (reason: string): LineMalformed => ({ _tag: "Malformed", reason })
const recordOf = (record: RolloutRecord): LineRecord => ({ _tag: "Record", record })

const decodeJson = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Unknown))
const decodeEnvelope = Schema.decodeUnknownResult(RolloutEnvelope)
const isEnvelopeShaped = Schema.is(EnvelopeKeys)
const decodeLegacyMeta = Schema.decodeUnknownOption(LegacyMeta)
const isLegacyItem = Schema.is(LegacyItem)
const decodeSessionMeta = Schema.decodeUnknownResult(SessionMetaPayload)
const decodeTurnContext = Schema.decodeUnknownResult(TurnContextPayload)
const decodeTagged = Schema.decodeUnknownOption(TaggedPayload)
const decodeMessage = Schema.decodeUnknownResult(MessagePayload)
const decodeReasoning = Schema.decodeUnknownResult(ReasoningPayload)
const decodeFunctionCall = Schema.decodeUnknownResult(FunctionCallPayload)
const decodeFunctionCallOutput = Schema.decodeUnknownResult(FunctionCallOutputPayload)
const decodeTokenCount = Schema.decodeUnknownResult(TokenCountPayload)
const isNonEmptyString = Schema.is(Schema.NonEmptyString)

const isBlank = (line: string): boolean => line.trim().length === 0

const tokenUsageToUsage = (usage: typeof TokenUsage.Type | null | undefined): Usage.Usage => ({
  promptTokens: usage?.input_tokens ?? 0,
  completionTokens: usage?.output_tokens ?? 0,
  totalTokens: usage?.total_tokens ?? 0,
  cacheReadTokens: usage?.cached_input_tokens ?? null,
  cacheWriteTokens: null
})

const decodeResponseItem = (payload: unknown): Result.Result<ResponseItem, string> => {
  const tagged = decodeTagged(payload)
  if (Option.isNone(tagged)) return Result.succeed({ type: "other", payloadType: "" })
  const fail = (e: Schema.SchemaError) => `${tagged.value.type} payload: ${e.message}`
  switch (tagged.value.type) {
    case "message":
      return Result.mapError(decodeMessage(payload), fail)
    case "reasoning":
      return Result.mapError(decodeReasoning(payload), fail)
    case "function_call":
      return Result.mapError(decodeFunctionCall(payload), fail)
    case "function_call_output":
      return Result.mapError(decodeFunctionCallOutput(payload), fail)
    default:
      return Result.succeed({ type: "other", payloadType: tagged.value.type })
  }
}

const decodeEnvelopeRecord = (envelope: RolloutEnvelope): DecodedLine => {
  const { payload, timestamp, type } = envelope
  switch (type) {
    case "session_meta": {
      const meta = decodeSessionMeta(payload)
      return Result.isFailure(meta)
        ? malformed(`session_meta payload: ${meta.failure.message}`)
        : recordOf({
          kind: "session_meta",
          timestamp,
          meta: { id: meta.success.id, createdAt: meta.success.timestamp, cwd: meta.success.cwd }
        })
    }
    case "turn_context": {
      const context = decodeTurnContext(payload)
      if (Result.isFailure(context)) return malformed(`turn_context payload: ${context.failure.message}`)
      const model = context.success.model
      return recordOf({ kind: "turn_context", timestamp, model: isNonEmptyString(model) ? model : undefined })
    }
    case "response_item": {
      const item = decodeResponseItem(payload)
      return Result.isFailure(item)
        ? malformed(item.failure)
        : recordOf({ kind: "response_item", timestamp, item: item.success })
    }
    case "event_msg": {
      const tagged = decodeTagged(payload)
      if (Option.isNone(tagged) || tagged.value.type !== "token_count") {
        return recordOf({ kind: "other", timestamp, type })
      }
      const count = decodeTokenCount(payload)
      if (Result.isFailure(count)) return malformed(`token_count payload: ${count.failure.message}`)
      const info = count.success.info
      return recordOf({
        kind: "token_count",
        timestamp,
        usage: info === null || info === undefined ? undefined : tokenUsageToUsage(info.total_token_usage)
      })
    }
    default:
      return recordOf({ kind: "other", timestamp, type })
  }
}

/**
 * Decodes one rollout line (without its line terminator), following 4.5.7's
 * normalisation (BEHAVIOUR §10.4):
 * - blank → skipped;
 * - an object with `timestamp`, `type` and `payload` keys → an envelope;
 *   `session_meta`, `turn_context`, `response_item` and `event_msg`
 *   `token_count` payloads are decoded, other kinds become `other` records;
 * - an object with `record_type` → skipped;
 * - an object without `type`/`record_type`/`payload` but with string `id`
 *   and `timestamp` → a legacy `session_meta` with an empty `cwd`;
 * - an object whose `type` is a legacy item type → a `response_item` stamped
 *   `legacyTimestamp` (the session meta's time);
 * - anything else → skipped.
 *
 * Unlike 4.5.7, a line that is not JSON, an envelope with a bad timestamp or
 * a known payload with the wrong shape does not fail the whole import: it
 * comes back as {@link LineMalformed}.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLine = (line: string, legacyTimestamp: Timestamp.Timestamp): DecodedLine => {
  if (isBlank(line)) return skipped
  const json = decodeJson(line)
  if (Result.isFailure(json)) return malformed("not valid JSON")
  const value = json.success
  if (!Predicate.isObject(value) || Array.isArray(value)) return skipped
  if (isEnvelopeShaped(value)) {
    const envelope = decodeEnvelope(value)
    return Result.isFailure(envelope)
      ? malformed(`envelope: ${envelope.failure.message}`)
      : decodeEnvelopeRecord(envelope.success)
  }
  if ("record_type" in value) return skipped
  if (!("type" in value) && !("payload" in value)) {
    const meta = decodeLegacyMeta(value)
    if (Option.isNone(meta)) return skipped
    const createdAt = Timestamp.fromString(meta.value.timestamp)
    if (createdAt === undefined) return skipped
    return recordOf({ kind: "session_meta", timestamp: createdAt, meta: { id: meta.value.id, createdAt, cwd: "" } })
  }
  if (!isLegacyItem(value)) return skipped
  const item = decodeResponseItem(value)
  return Result.isFailure(item)
    ? malformed(item.failure)
    : recordOf({ kind: "response_item", timestamp: legacyTimestamp, item: item.success })
}

/**
 * The session meta a rollout's first non-blank line declares, or why that
 * line is not one (then the file is not a Codex rollout, BEHAVIOUR §10.3):
 * `"not a session_meta line"` or the reason an envelope of kind
 * `session_meta` is malformed (e.g. its payload has no `cwd`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const metaOfFirstLine = (line: string): Result.Result<SessionMeta, string> => {
  const decoded = decodeLine(line, EPOCH)
  if (decoded._tag === "Record" && decoded.record.kind === "session_meta") return Result.succeed(decoded.record.meta)
  return Result.fail(
    decoded._tag === "Malformed" && decoded.reason.startsWith("session_meta") ? decoded.reason : NOT_A_META
  )
}

const NOT_A_META = "not a session_meta line"

const EPOCH = Timestamp.fromEpochNanos(0n)

const CWD_PATTERN = /<cwd>([\s\S]*?)<\/cwd>/

/**
 * The working directory named by `<cwd>…</cwd>` in a message's text items
 * (the environment context Codex injects; the only place legacy rollouts
 * record it), trimmed; `undefined` when no text item names a non-empty one.
 * Items without text are passed over (4.5.7 stopped at the first one: a
 * QUIRK not kept).
 *
 * @since 0.1.0
 * @category getters
 */
export const cwdOfMessage = (message: MessagePayload): string | undefined => {
  for (const item of message.content) {
    const text = decodeMessageText(item)
    if (Option.isNone(text)) continue
    const match = CWD_PATTERN.exec(text.value.text)
    const cwd = match?.[1]?.trim()
    if (cwd !== undefined && cwd.length > 0) return cwd
  }
  return undefined
}

const decodeMessageText = Schema.decodeUnknownOption(MessageText)
const decodeMessageImage = Schema.decodeUnknownOption(MessageImage)
const decodeReasoningText = Schema.decodeUnknownOption(ReasoningText)

// ---------------------------------------------------------------------------
// Mapping helpers
// ---------------------------------------------------------------------------

/**
 * Longest derived title, in Unicode code points; a longer first line is cut
 * to {@link TITLE_KEEP} code points plus `...`.
 *
 * @since 0.1.0
 * @category constants
 */
export const TITLE_MAX = 60

/**
 * Code points kept when a derived title is cut ({@link TITLE_MAX}).
 *
 * @since 0.1.0
 * @category constants
 */
export const TITLE_KEEP = 57

/**
 * Cuts `title` to its first 57 code points plus `...` when it is longer than
 * 60 code points; shorter titles are returned unchanged. Never splits a
 * character (a surrogate pair counts as one). 4.5.7 counted bytes and
 * panicked when byte 57 fell inside a multi-byte character (BEHAVIOUR §10.4
 * BUG).
 *
 * @since 0.1.0
 * @category combinators
 */
export const truncateTitle = (title: string): string => {
  let count = 0
  let cut = 0
  for (let i = 0; i < title.length;) {
    if (count === TITLE_KEEP) cut = i
    const code = title.charCodeAt(i)
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < title.length &&
      title.charCodeAt(i + 1) >= 0xdc00 && title.charCodeAt(i + 1) <= 0xdfff
    i += pair ? 2 : 1
    count++
    if (count > TITLE_MAX) return `${title.slice(0, cut)}...`
  }
  return title
}

/**
 * A title derived from a user text: its first non-blank line, trimmed, cut by
 * {@link truncateTitle}; `null` when every line is blank.
 *
 * @since 0.1.0
 * @category combinators
 */
export const titleFromText = (text: string): string | null => {
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf("\n", start)
    if (end === -1) end = text.length
    const line = text.slice(start, end).trim()
    if (line.length > 0) return truncateTitle(line)
    start = end + 1
  }
  return null
}

/**
 * Prefixes of the user messages Codex injects itself (environment context,
 * AGENTS.md / user instructions, shell command echoes). They are imported as
 * ordinary user messages but never give the session its title (4.5.7 titled
 * such sessions `<environment_context>`: a QUIRK not kept).
 *
 * @since 0.1.0
 * @category constants
 */
export const injectedUserPrefixes: ReadonlyArray<string> = [
  "<environment_context>",
  "<user_instructions>",
  "# AGENTS.md instructions for ",
  "<user_shell_command>",
  "<turn_aborted>"
]

const isInjected = (text: string): boolean => {
  const start = text.trimStart()
  return injectedUserPrefixes.some((prefix) => start.startsWith(prefix))
}

const reasoningTexts = (items: ReadonlyArray<unknown>): string => {
  const texts: Array<string> = []
  for (const item of items) {
    const entry = decodeReasoningText(item)
    if (Option.isNone(entry)) continue
    const text = (typeof entry.value === "string" ? entry.value : entry.value.text).trim()
    if (text.length > 0) texts.push(text)
  }
  return texts.join("\n")
}

/**
 * The text of a reasoning item: `content` when it is a non-empty string (or,
 * in newer Codex, an array of text items: read, where 4.5.7 failed the whole
 * import), else the non-empty `summary` entries joined by `\n`; `""` when
 * there is none.
 *
 * @since 0.1.0
 * @category getters
 */
export const reasoningText = (item: ReasoningPayload): string => {
  const content = item.content
  if (typeof content === "string" && content.trim().length > 0) return content.trim()
  if (Array.isArray(content)) {
    const text = reasoningTexts(content)
    if (text.length > 0) return text
  }
  return item.summary ? reasoningTexts(item.summary) : ""
}

const messageOf = (item: ResponseItem): { readonly message: Message; readonly userText?: string } | undefined => {
  switch (item.type) {
    case "message": {
      if (item.role !== "user" && item.role !== "assistant") return undefined
      const content: Array<ContentPart> = []
      let userText: string | undefined
      for (const entry of item.content) {
        const text = decodeMessageText(entry)
        if (Option.isSome(text)) {
          const trimmed = text.value.text.trim()
          if (trimmed.length === 0) continue
          content.push({ type: "text", text: trimmed })
          if (item.role === "user" && userText === undefined && !isInjected(trimmed)) userText = trimmed
          continue
        }
        const image = decodeMessageImage(entry)
        if (Option.isSome(image) && image.value.image_url.length > 0) {
          content.push({ type: "image", url: image.value.image_url, mimeType: null })
        }
      }
      if (content.length === 0) return undefined
      const message: Message = { role: item.role, content }
      return userText === undefined ? { message } : { message, userText }
    }
    case "reasoning": {
      const text = reasoningText(item)
      return text.length === 0 ? undefined : { message: { role: "assistant", content: [{ type: "thinking", text }] } }
    }
    case "function_call": {
      const id = item.call_id ?? item.id
      if (id === null || id === undefined || item.arguments === null) return undefined
      const args = typeof item.arguments === "string" ? item.arguments : stableStringify(item.arguments)
      return { message: { role: "assistant", content: [{ type: "tool_call", id, name: item.name, arguments: args }] } }
    }
    case "function_call_output": {
      const output = item.output
      const content = typeof output === "string" ? output : output === null ? "" : stableStringify(output)
      return { message: { role: "tool", content: [{ type: "tool_result", toolCallId: item.call_id, content }] } }
    }
    case "other":
      return undefined
  }
}

/**
 * The message a response item becomes (BEHAVIOUR §10.4), or `undefined` when
 * it is skipped:
 * - `message`: `user`/`assistant` only; trimmed non-empty `input_text`/
 *   `output_text` items → text parts, `input_image` with a non-empty URL →
 *   image parts (`mimeType` null); no parts → skipped;
 * - `reasoning` → an assistant message with one thinking part
 *   ({@link reasoningText}; empty → skipped);
 * - `function_call` → an assistant message with one tool call (id =
 *   `call_id` ?? `id`, neither → skipped; string arguments as-is, `null` →
 *   skipped, other JSON → {@link stableStringify});
 * - `function_call_output` → a `tool` message with one tool result (string
 *   as-is, `null` → `""`, other JSON → {@link stableStringify});
 * - other types → skipped.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toMessage = (item: ResponseItem): Message | undefined => messageOf(item)?.message

// ---------------------------------------------------------------------------
// The fold
// ---------------------------------------------------------------------------

/**
 * The agent name of imported sessions (4.5.7: `build`).
 *
 * @since 0.1.0
 * @category constants
 */
export const IMPORT_AGENT = "build"

/**
 * Accumulates the records of one rollout, in file order, into what a
 * session needs. Create one per rollout with {@link makeBuilder}; feed every
 * record to `add`; then call {@link build} or {@link summarize}. It holds the
 * mapped messages (or only their count, see `keepMessages`), never the lines.
 *
 * @since 0.1.0
 * @category models
 */
export interface Builder {
  /** Folds one record in (BEHAVIOUR §10.4 "mapping by record kind"). */
  readonly add: (record: RolloutRecord) => void
  /** The session meta (the first one; later metas with the same id update `createdAt`/`cwd`). */
  readonly meta: () => SessionMeta | undefined
  /** The working directory: the meta's, else the first `<cwd>` seen in a message; `""` when unknown. */
  readonly cwd: () => string
  /** The last non-empty `turn_context` model, or `null`. */
  readonly model: () => string | null
  /** The latest record timestamp, or `undefined` before the first record. */
  readonly updatedAt: () => Timestamp.Timestamp | undefined
  /** The usage of the last `token_count` event with `info`, or zero usage. */
  readonly usage: () => Usage.Usage
  /** The messages mapped so far (empty when `keepMessages` is false). */
  readonly messages: () => ReadonlyArray<Message>
  /** How many messages were mapped (counted even when not kept). */
  readonly messageCount: () => number
  /** The title derived from the first user text (not an injected context block), or `null`. */
  readonly derivedTitle: () => string | null
}

/**
 * Options of {@link makeBuilder}: `keepMessages` (default true) keeps the
 * mapped messages in the builder; `onMessage` receives each mapped message as
 * it is produced, in order (to stream them, with `keepMessages: false`).
 *
 * @since 0.1.0
 * @category models
 */
export interface BuilderOptions {
  readonly keepMessages?: boolean | undefined
  readonly onMessage?: ((message: Message) => void) | undefined
}

/**
 * A new {@link Builder}. With `keepMessages: false` messages are counted but
 * not kept (for listings: constant memory whatever the rollout size).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeBuilder = (options?: BuilderOptions): Builder => {
  const keep = options?.keepMessages ?? true
  const onMessage = options?.onMessage
  let meta: SessionMeta | undefined
  let cwd = ""
  let model: string | null = null
  let updatedAt: Timestamp.Timestamp | undefined
  let usage: Usage.Usage = Usage.empty
  let count = 0
  let firstUserText: string | undefined
  const messages: Array<Message> = []

  const add = (record: RolloutRecord): void => {
    updatedAt = updatedAt === undefined ? record.timestamp : Timestamp.max(updatedAt, record.timestamp)
    switch (record.kind) {
      case "session_meta": {
        if (meta === undefined) {
          meta = record.meta
          if (record.meta.cwd.length > 0) cwd = record.meta.cwd
        } else if (meta.id === record.meta.id) {
          meta = record.meta.cwd.length > 0 ? record.meta : { ...record.meta, cwd: meta.cwd }
          if (record.meta.cwd.length > 0) cwd = record.meta.cwd
        }
        return
      }
      case "turn_context": {
        if (record.model !== undefined) model = record.model
        return
      }
      case "token_count": {
        if (record.usage !== undefined) usage = record.usage
        return
      }
      case "response_item": {
        const item = record.item
        if (cwd.length === 0 && item.type === "message") {
          const found = cwdOfMessage(item)
          if (found !== undefined) cwd = found
        }
        const mapped = messageOf(item)
        if (mapped === undefined) return
        count++
        if (keep) messages.push(mapped.message)
        onMessage?.(mapped.message)
        if (firstUserText === undefined && mapped.userText !== undefined) firstUserText = mapped.userText
        return
      }
      case "other":
        return
    }
  }

  return {
    add,
    meta: () => meta,
    cwd: () => cwd,
    model: () => model,
    updatedAt: () => updatedAt,
    usage: () => usage,
    messages: () => messages,
    messageCount: () => count,
    derivedTitle: () => (firstUserText === undefined ? null : titleFromText(firstUserText))
  }
}

/**
 * Inputs of {@link build} besides the records: the `session_index.jsonl`
 * title (wins over the derived one), and the provenance's randomness, time
 * and environment, passed in so the mapping stays pure.
 *
 * @since 0.1.0
 * @category models
 */
export interface BuildOptions {
  readonly indexTitle?: string | null | undefined
  /** UUID v4 whose hex digits form `provenance_id`. */
  readonly provenanceUuid: string
  /** `provenance.issued_at` (the import time). */
  readonly now: Timestamp.Timestamp
  /** The `CODETETHER_*` values the provenance is seeded from. */
  readonly env?: Provenance.ProvenanceEnv | undefined
}

/**
 * The session a rollout maps to (BEHAVIOUR §10.4), or `undefined` when the
 * builder saw no session meta: id = meta id; title = index title, else the
 * derived one, else `null`; `createdAt` = meta time; `updatedAt` = latest
 * record time; agent `build`; no tool uses; usage = last token count;
 * metadata = in-memory defaults with `directory` = cwd (`null` if unknown),
 * `model`, and a fresh provenance for (id, `build`).
 *
 * @since 0.1.0
 * @category mapping
 */
export const build = (builder: Builder, options: BuildOptions): Session | undefined => {
  const meta = builder.meta()
  if (meta === undefined) return undefined
  const cwd = builder.cwd()
  return {
    id: meta.id,
    title: titleOf(builder, options.indexTitle),
    createdAt: meta.createdAt,
    updatedAt: builder.updatedAt() ?? meta.createdAt,
    metadata: {
      ...SessionMetadata.defaults(cwd.length > 0 ? cwd : null),
      model: builder.model(),
      provenance: Provenance.make({
        sessionId: meta.id,
        agentName: IMPORT_AGENT,
        issuedAt: options.now,
        uuid: options.provenanceUuid,
        env: options.env
      })
    },
    agent: IMPORT_AGENT,
    messages: builder.messages(),
    toolUses: [],
    usage: builder.usage()
  }
}

const titleOf = (builder: Builder, indexTitle: string | null | undefined): string | null =>
  indexTitle !== null && indexTitle !== undefined && indexTitle.trim().length > 0 ? indexTitle : builder.derivedTitle()

/**
 * The listing row of a rollout (same id, title, timestamps, agent and
 * directory as {@link build}; `messageCount` = mapped messages), or
 * `undefined` without a session meta. Works with `keepMessages: false`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const summarize = (builder: Builder, indexTitle?: string | null | undefined): SessionSummary | undefined => {
  const meta = builder.meta()
  if (meta === undefined) return undefined
  const cwd = builder.cwd()
  return {
    id: meta.id,
    title: titleOf(builder, indexTitle),
    createdAt: meta.createdAt,
    updatedAt: builder.updatedAt() ?? meta.createdAt,
    messageCount: builder.messageCount(),
    agent: IMPORT_AGENT,
    directory: cwd.length > 0 ? cwd : null
  }
}

/**
 * What {@link Reader} `push` reports for one line: folded in or ignored
 * (`Ok`), skipped because malformed (`Malformed`, with the reason), or the
 * file is not a rollout because its first non-blank line is not a session
 * meta (`NotARollout`, with the reason; stop reading).
 *
 * @since 0.1.0
 * @category models
 */
export type PushResult =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Malformed"; readonly reason: string }
  | { readonly _tag: "NotARollout"; readonly reason: string }

/**
 * A line-at-a-time rollout reader: `push` each line in file order (without
 * its terminator); the {@link Builder} accumulates the session. The first
 * non-blank line must be a session meta; legacy items are stamped with the
 * meta's time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reader {
  readonly push: (line: string) => PushResult
  readonly builder: Builder
  /** Whether the first non-blank line (a session meta) has been seen. */
  readonly started: () => boolean
}

const OK: PushResult = { _tag: "Ok" }

/**
 * A new {@link Reader} (see {@link makeBuilder} for `keepMessages`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeReader = (options?: BuilderOptions): Reader => {
  const builder = makeBuilder(options)
  let started = false
  const push = (line: string): PushResult => {
    if (!started) {
      if (isBlank(line)) return OK
      const meta = metaOfFirstLine(line)
      if (Result.isFailure(meta)) return { _tag: "NotARollout", reason: meta.failure }
      started = true
    }
    const meta = builder.meta()
    const decoded = decodeLine(line, meta === undefined ? EPOCH : meta.createdAt)
    if (decoded._tag === "Record") builder.add(decoded.record)
    return decoded._tag === "Malformed" ? decoded : OK
  }
  return { push, builder, started: () => started }
}

/**
 * Why in-memory lines do not make a session: the first non-blank line is
 * not a session meta (`NotARollout`), or there is no non-blank line at all
 * (`Empty`).
 *
 * @since 0.1.0
 * @category models
 */
export type RolloutProblem = "NotARollout" | "Empty"

/**
 * The whole pure pipeline over in-memory lines ({@link makeReader} then
 * {@link build}); malformed lines are skipped and their 1-based numbers and
 * reasons returned. The service does the same over a stream of lines read
 * from disk.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromLines = (
  lines: Iterable<string>,
  options: BuildOptions
): Result.Result<
  { readonly session: Session; readonly malformed: ReadonlyArray<{ readonly line: number; readonly reason: string }> },
  RolloutProblem
> => {
  const reader = makeReader()
  const bad: Array<{ line: number; reason: string }> = []
  let number = 0
  for (const line of lines) {
    number++
    const pushed = reader.push(line)
    if (pushed._tag === "NotARollout") return Result.fail("NotARollout")
    if (pushed._tag === "Malformed") bad.push({ line: number, reason: pushed.reason })
  }
  const session = build(reader.builder, options)
  return session === undefined ? Result.fail("Empty") : Result.succeed({ session, malformed: bad })
}

// ---------------------------------------------------------------------------
// Index titles and listings
// ---------------------------------------------------------------------------

/**
 * Folds `session_index.jsonl` entries into one title per session id: for
 * each id the entry with the latest `updated_at` wins (ties: the first seen),
 * as in 4.5.7. A winning entry whose `thread_name` is `null` or blank means
 * "no title" (the rollout's derived title is used).
 *
 * @since 0.1.0
 * @category combinators
 */
export const indexTitles = (
  entries: Iterable<SessionIndexEntry>
): ReadonlyMap<string, string | null> => {
  const latest = new Map<string, SessionIndexEntry>()
  for (const entry of entries) {
    const seen = latest.get(entry.id)
    if (seen === undefined || Timestamp.compare(entry.updated_at, seen.updated_at) > 0) latest.set(entry.id, entry)
  }
  const titles = new Map<string, string | null>()
  for (const [id, entry] of latest) {
    const name = entry.thread_name
    titles.set(id, name !== null && name.trim().length > 0 ? name : null)
  }
  return titles
}

const decodeIndexEntry = Schema.decodeUnknownOption(Schema.fromJsonString(SessionIndexEntry))

/**
 * Decodes one `session_index.jsonl` line; blank and malformed lines give
 * `undefined` (ignored, as in 4.5.7).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeIndexLine = (line: string): SessionIndexEntry | undefined =>
  isBlank(line) ? undefined : Option.getOrUndefined(decodeIndexEntry(line))

/**
 * The prefix 4.5.7 puts before the titles of Codex sessions in merged
 * listings.
 *
 * @since 0.1.0
 * @category constants
 */
export const LISTING_PREFIX = "[Codex] "

/**
 * A Codex summary as merged listings show it: title `[Codex] <title>`, or
 * `[Codex] <id>` when the session has no title.
 *
 * @since 0.1.0
 * @category combinators
 */
export const prefixTitle = (summary: SessionSummary): SessionSummary => ({
  ...summary,
  title: `${LISTING_PREFIX}${summary.title ?? summary.id}`
})

/**
 * 4.5.7 `list_all_sessions_for_directory`'s merge (BEHAVIOUR §5.3): native
 * summaries keyed by id; each Codex summary (titled by {@link prefixTitle})
 * replaces the native one with the same id only when its `updatedAt` is
 * strictly newer (else the native summary and its un-prefixed title win);
 * the result sorted newest `updatedAt` first (stable: ties keep native order,
 * then Codex order).
 *
 * @since 0.1.0
 * @category combinators
 */
export const mergeSummaries = (
  native: ReadonlyArray<SessionSummary>,
  codex: ReadonlyArray<SessionSummary>
): ReadonlyArray<SessionSummary> => {
  const byId = new Map<string, SessionSummary>()
  for (const summary of native) byId.set(summary.id, summary)
  for (const summary of codex) {
    const existing = byId.get(summary.id)
    if (existing === undefined || Timestamp.compare(summary.updatedAt, existing.updatedAt) > 0) {
      byId.set(summary.id, prefixTitle(summary))
    }
  }
  return [...byId.values()].sort(SessionSummary_.byUpdatedAtDesc)
}
