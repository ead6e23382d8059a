/**
 * Claude Code transcripts (`~/.claude/projects/<folder>/<session id>.jsonl`)
 * and the pure mapping from a transcript to a codetether {@link Session}.
 * Nothing here does I/O: `services/ClaudeImport.ts` reads the files.
 *
 * A transcript is JSON Lines, one record a line. Records that take part in
 * the conversation carry a `uuid` and a `parentUuid` (`null` at the start,
 * and at a compaction boundary, which names the record before it in
 * `logicalParentUuid`); `user` and `assistant` records hold an Anthropic
 * Messages API `message`; `attachment` and `system` records sit in the chain
 * without content. Other record kinds (`queue-operation`, `last-prompt`,
 * `api-request`, `cost-state`, `file-history-snapshot`, ... and any kind a
 * newer Claude Code adds) are skipped. `summary` (`{summary, leafUuid}`) and
 * `custom-title` (`{customTitle}`) records name the session when present.
 *
 * The mapping:
 * - the conversation is the chain of `parentUuid` links (through
 *   `logicalParentUuid` at a compaction boundary) up from the newest leaf's
 *   last message (the newest `user` or `assistant` record, by timestamp, then
 *   by position: records without content after it, such as progress or
 *   system notes, do not choose the branch); a message edited in Claude Code
 *   leaves its old branch behind, which is not imported; `isSidechain`
 *   records are sub-agents and are skipped; a chain whose parent is missing
 *   (a cut transcript) starts where the links stop;
 * - `user` records: text → text parts, `image` blocks → image parts (a
 *   `data:` URL for base64 sources), each `tool_result` block → a `tool`
 *   message with one tool result (the tool results first, in order, then the
 *   user's own text and images); images inside a tool result follow as a user
 *   message;
 * - `assistant` records: `text` → text, `thinking` → thinking, `tool_use` →
 *   a tool call (`arguments` = the JSON of `input`); Claude Code writes one
 *   record per content block, so consecutive records of one API message
 *   (same `message.id`) become one assistant message; API error messages
 *   (`isApiErrorMessage`) and blocks of other types are skipped;
 * - usage: the usage of every API message of the main agent (each
 *   `message.id` once, whatever branch), summed: prompt tokens = input +
 *   cache creation + cache read (as the Anthropic provider counts them);
 * - the model (`metadata.model`) is the last one on the chain, as
 *   `anthropic/<model>`; the directory is the first `cwd` the records carry;
 * - the title is the last `custom-title`, else a `summary` of a leaf on the
 *   chain, else the first user text (not a command echo, a meta message or a
 *   compaction summary), cut as Codex titles are.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { IMPORT_AGENT, titleFromText } from "./CodexRollout.ts"
import type { ContentPart, Message } from "./Message.ts"
import * as Provenance from "./Provenance.ts"
import type { Session } from "./Session.ts"
import * as SessionMetadata from "./SessionMetadata.ts"
import type { SessionSummary } from "./SessionSummary.ts"
import * as Timestamp from "./Timestamp.ts"
import * as Usage from "./Usage.ts"

// ---------------------------------------------------------------------------
// Record shapes
// ---------------------------------------------------------------------------

const OptionalString = Schema.optional(Schema.NullOr(Schema.String))
const OptionalBoolean = Schema.optional(Schema.NullOr(Schema.Boolean))

/**
 * The fields of a transcript record that the import reads (others are
 * ignored). A line that is JSON but does not have these types is malformed.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TranscriptRecord = Schema.Struct({
  type: Schema.String,
  uuid: OptionalString,
  parentUuid: OptionalString,
  logicalParentUuid: OptionalString,
  isSidechain: OptionalBoolean,
  timestamp: OptionalString,
  cwd: OptionalString,
  isMeta: OptionalBoolean,
  isCompactSummary: OptionalBoolean,
  isApiErrorMessage: OptionalBoolean,
  message: Schema.optional(Schema.Unknown),
  summary: OptionalString,
  leafUuid: OptionalString,
  customTitle: OptionalString
})

/**
 * @since 0.1.0
 * @category models
 */
export type TranscriptRecord = typeof TranscriptRecord.Type

/**
 * The `message` of a `user` or `assistant` record (Anthropic Messages API).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ApiMessage = Schema.Struct({
  id: OptionalString,
  model: OptionalString,
  content: Schema.Union([Schema.String, Schema.Array(Schema.Unknown)]),
  usage: Schema.optional(Schema.NullOr(Schema.Unknown))
})

const TextBlock = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const ThinkingBlock = Schema.Struct({ type: Schema.Literal("thinking"), thinking: Schema.String })
const ImageBlock = Schema.Struct({
  type: Schema.Literal("image"),
  source: Schema.Union([
    Schema.Struct({ type: Schema.Literal("base64"), media_type: Schema.String, data: Schema.String }),
    Schema.Struct({ type: Schema.Literal("url"), url: Schema.String })
  ])
})
const ToolUseBlock = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: Schema.optional(Schema.Unknown)
})
const ToolResultBlock = Schema.Struct({
  type: Schema.Literal("tool_result"),
  tool_use_id: Schema.String,
  content: Schema.optional(Schema.NullOr(Schema.Union([Schema.String, Schema.Array(Schema.Unknown)])))
})
const UsageFields = Schema.Struct({
  input_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  output_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  cache_creation_input_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  cache_read_input_tokens: Schema.optional(Schema.NullOr(Schema.Number))
})

const decodeRecord = Schema.decodeUnknownResult(TranscriptRecord)

// Transcripts run to hundreds of megabytes: the hot path checks the shapes
// above with plain guards (no copy), equivalent to `Schema.is` of each schema
// (a test holds them to it); the schema decoder only explains a failure.

type Obj = { readonly [key: string]: unknown }
const isObject = (u: unknown): u is Obj => typeof u === "object" && u !== null && !Array.isArray(u)
const optional = (o: Obj, key: string, type: "string" | "boolean" | "number"): boolean => {
  const v = o[key]
  return v === undefined || v === null || typeof v === type
}
const RECORD_STRINGS = ["uuid", "parentUuid", "logicalParentUuid", "timestamp", "cwd", "summary", "leafUuid", "customTitle"]
const RECORD_BOOLEANS = ["isSidechain", "isMeta", "isCompactSummary", "isApiErrorMessage"]

/**
 * `Schema.is(TranscriptRecord)`, fast (the import's hot path).
 *
 * @since 0.1.0
 * @category guards
 */
export const isTranscriptRecord = (u: unknown): u is TranscriptRecord =>
  isObject(u) && typeof u.type === "string" && RECORD_STRINGS.every((k) => optional(u, k, "string")) &&
  RECORD_BOOLEANS.every((k) => optional(u, k, "boolean"))

/**
 * `Schema.is(ApiMessage)`, fast.
 *
 * @since 0.1.0
 * @category guards
 */
export const isApiMessage = (u: unknown): u is typeof ApiMessage.Type =>
  isObject(u) && optional(u, "id", "string") && optional(u, "model", "string") &&
  (typeof u.content === "string" || Array.isArray(u.content))

const some = <A>(guard: (u: unknown) => u is A) => (u: unknown): Option.Option<A> => guard(u) ? Option.some(u) : Option.none()
const decodeApiMessage = some(isApiMessage)
const decodeText = some((u): u is typeof TextBlock.Type => isObject(u) && u.type === "text" && typeof u.text === "string")
const decodeThinking = some((u): u is typeof ThinkingBlock.Type =>
  isObject(u) && u.type === "thinking" && typeof u.thinking === "string"
)
const decodeImage = some((u): u is typeof ImageBlock.Type => {
  if (!isObject(u) || u.type !== "image" || !isObject(u.source)) return false
  const source = u.source
  return source.type === "base64"
    ? typeof source.media_type === "string" && typeof source.data === "string"
    : source.type === "url" && typeof source.url === "string"
})
const decodeToolUse = some((u): u is typeof ToolUseBlock.Type =>
  isObject(u) && u.type === "tool_use" && typeof u.id === "string" && typeof u.name === "string"
)
const decodeToolResult = some((u): u is typeof ToolResultBlock.Type =>
  isObject(u) && u.type === "tool_result" && typeof u.tool_use_id === "string" &&
  (u.content === undefined || u.content === null || typeof u.content === "string" || Array.isArray(u.content))
)
const decodeUsage = some((u): u is typeof UsageFields.Type =>
  isObject(u) && ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"].every((k) =>
    optional(u, k, "number")
  )
)

/**
 * The schemas of the content blocks the import reads (others are skipped):
 * `text`, `thinking`, `image`, `tool_use`, `tool_result`, and the usage
 * fields of an assistant message.
 *
 * @since 0.1.0
 * @category schemas
 */
export const blocks = { TextBlock, ThinkingBlock, ImageBlock, ToolUseBlock, ToolResultBlock, UsageFields } as const

/**
 * What one line is: a {@link TranscriptRecord}, nothing (a blank line), or malformed
 * (not JSON, not an object with a string `type`, or a known field of the
 * wrong type), with the reason.
 *
 * @since 0.1.0
 * @category models
 */
export type DecodedLine =
  | { readonly _tag: "Record"; readonly record: TranscriptRecord }
  | { readonly _tag: "Blank" }
  | { readonly _tag: "Malformed"; readonly reason: string }

/**
 * Decodes one line of a transcript (see {@link DecodedLine}).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLine = (line: string): DecodedLine => {
  if (line.trim().length === 0) return { _tag: "Blank" }
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (e) {
    return { _tag: "Malformed", reason: `not JSON (${(e as Error).message})` }
  }
  if (isTranscriptRecord(value)) return { _tag: "Record", record: value }
  const record = decodeRecord(value)
  return { _tag: "Malformed", reason: Result.isFailure(record) ? record.failure.message : "not a transcript record" }
}

// ---------------------------------------------------------------------------
// Records to messages
// ---------------------------------------------------------------------------

/**
 * What a record of the chain contributes: an assistant message part list
 * (merged with the next records of the same API message), or whole messages.
 *
 * @since 0.1.0
 * @category models
 */
export type Mapped =
  | { readonly _tag: "Assistant"; readonly messageId: string | undefined; readonly parts: ReadonlyArray<ContentPart> }
  | { readonly _tag: "Messages"; readonly messages: ReadonlyArray<Message> }
  | { readonly _tag: "Nothing" }

const NOTHING: Mapped = { _tag: "Nothing" }

const imagePart = (block: unknown): ContentPart | undefined => {
  const image = decodeImage(block)
  if (Option.isNone(image)) return undefined
  const source = image.value.source
  return source.type === "base64"
    ? { type: "image", url: `data:${source.media_type};base64,${source.data}`, mimeType: source.media_type }
    : { type: "image", url: source.url, mimeType: null }
}

/** A tool result's text (text blocks joined by newlines) and its images. */
const toolResultContent = (content: string | ReadonlyArray<unknown> | null | undefined) => {
  if (content === null || content === undefined) return { text: "", images: [] as Array<ContentPart> }
  if (typeof content === "string") return { text: content, images: [] as Array<ContentPart> }
  const texts: Array<string> = []
  const images: Array<ContentPart> = []
  for (const block of content) {
    const text = decodeText(block)
    if (Option.isSome(text)) {
      texts.push(text.value.text)
      continue
    }
    const image = imagePart(block)
    if (image !== undefined) images.push(image)
  }
  return { text: texts.join("\n"), images }
}

/**
 * The messages a `user` record maps to: its tool results (one `tool` message
 * each, in order, then a user message with the images they returned, if
 * any), then one user message with its text and images (none when empty).
 */
const userMessages = (content: string | ReadonlyArray<unknown>): ReadonlyArray<Message> => {
  if (typeof content === "string") {
    return content.trim().length === 0 ? [] : [{ role: "user", content: [{ type: "text", text: content }] }]
  }
  const tools: Array<Message> = []
  const toolImages: Array<ContentPart> = []
  const own: Array<ContentPart> = []
  for (const block of content) {
    const result = decodeToolResult(block)
    if (Option.isSome(result)) {
      const { images, text } = toolResultContent(result.value.content)
      tools.push({ role: "tool", content: [{ type: "tool_result", toolCallId: result.value.tool_use_id, content: text }] })
      toolImages.push(...images)
      continue
    }
    const text = decodeText(block)
    if (Option.isSome(text)) {
      if (text.value.text.trim().length > 0) own.push({ type: "text", text: text.value.text })
      continue
    }
    const image = imagePart(block)
    if (image !== undefined) own.push(image)
  }
  const messages: Array<Message> = [...tools]
  if (toolImages.length > 0) {
    messages.push({ role: "user", content: [{ type: "text", text: "(images returned by the tool)" }, ...toolImages] })
  }
  if (own.length > 0) messages.push({ role: "user", content: own })
  return messages
}

const assistantParts = (content: string | ReadonlyArray<unknown>): ReadonlyArray<ContentPart> => {
  if (typeof content === "string") return content.trim().length === 0 ? [] : [{ type: "text", text: content }]
  const parts: Array<ContentPart> = []
  for (const block of content) {
    const text = decodeText(block)
    if (Option.isSome(text)) {
      if (text.value.text.length > 0) parts.push({ type: "text", text: text.value.text })
      continue
    }
    const thinking = decodeThinking(block)
    if (Option.isSome(thinking)) {
      if (thinking.value.thinking.trim().length > 0) parts.push({ type: "thinking", text: thinking.value.thinking })
      continue
    }
    const use = decodeToolUse(block)
    if (Option.isSome(use)) {
      parts.push({ type: "tool_call", id: use.value.id, name: use.value.name, arguments: JSON.stringify(use.value.input ?? {}) })
    }
  }
  return parts
}

/**
 * What a record contributes to the transcript (see the module
 * documentation); records other than `user` and `assistant`, API error
 * messages and records whose `message` has no known content contribute
 * nothing.
 *
 * @since 0.1.0
 * @category mapping
 */
export const mapRecord = (record: TranscriptRecord): Mapped => {
  if (record.type !== "user" && record.type !== "assistant") return NOTHING
  if (record.isApiErrorMessage === true) return NOTHING
  const message = decodeApiMessage(record.message)
  if (Option.isNone(message)) return NOTHING
  if (record.type === "user") {
    const messages = userMessages(message.value.content)
    return messages.length === 0 ? NOTHING : { _tag: "Messages", messages }
  }
  const parts = assistantParts(message.value.content)
  return parts.length === 0 ? NOTHING : { _tag: "Assistant", messageId: message.value.id ?? undefined, parts }
}

/**
 * Turns the {@link Mapped} records of a chain, in chain order, into
 * messages: consecutive assistant records of one API message are merged.
 * `push` returns the messages complete so far; `flush` the last one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Merger {
  readonly push: (mapped: Mapped) => ReadonlyArray<Message>
  readonly flush: () => ReadonlyArray<Message>
}

/**
 * A new {@link Merger}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMerger = (): Merger => {
  let pending: { id: string | undefined; parts: Array<ContentPart> } | undefined
  const flush = (): ReadonlyArray<Message> => {
    if (pending === undefined) return []
    const message: Message = { role: "assistant", content: pending.parts }
    pending = undefined
    return [message]
  }
  const push = (mapped: Mapped): ReadonlyArray<Message> => {
    switch (mapped._tag) {
      case "Nothing":
        return []
      case "Assistant": {
        if (pending !== undefined && mapped.messageId !== undefined && pending.id === mapped.messageId) {
          pending.parts.push(...mapped.parts)
          return []
        }
        const done = flush()
        pending = { id: mapped.messageId, parts: [...mapped.parts] }
        return done
      }
      case "Messages":
        return [...flush(), ...mapped.messages]
    }
  }
  return { push, flush }
}

// ---------------------------------------------------------------------------
// The scan: the tree, the chain, the header
// ---------------------------------------------------------------------------

interface Node {
  readonly parent: string | undefined
  readonly line: number
  readonly timestamp: Timestamp.Timestamp | undefined
  readonly role: "user" | "assistant" | "other"
  /** Assistant: the API message id and model. */
  readonly messageId: string | undefined
  readonly model: string | undefined
  /** Messages this record maps to (user), or 1 when it has parts (assistant). */
  readonly messages: number
  /** User: a text that may give the session its title. */
  readonly titleText: string | undefined
}

/** User texts Claude Code writes itself (command echoes, interruptions, reminders): never a title. */
const injectedPrefixes = [
  "<command-",
  "<local-command-",
  "<system-reminder>",
  "<bash-input>",
  "<bash-stdout>",
  "Caveat:",
  "[Request interrupted"
]

const titleTextOf = (record: TranscriptRecord, mapped: Mapped): string | undefined => {
  if (record.type !== "user" || record.isMeta === true || record.isCompactSummary === true || mapped._tag !== "Messages") {
    return undefined
  }
  const user = mapped.messages.find((m) => m.role === "user")
  const text = user?.content.find((p) => p.type === "text")
  if (text === undefined || text.type !== "text") return undefined
  const start = text.text.trimStart()
  return injectedPrefixes.some((prefix) => start.startsWith(prefix)) ? undefined : text.text
}

const usageOf = (value: unknown): Usage.Usage | undefined => {
  const fields = decodeUsage(value)
  if (Option.isNone(fields)) return undefined
  const count = (n: number | null | undefined) =>
    typeof n === "number" && Number.isFinite(n) ? Math.max(0, Math.round(n)) : undefined
  const u = fields.value
  const input = count(u.input_tokens) ?? 0
  const output = count(u.output_tokens) ?? 0
  const cacheWrite = count(u.cache_creation_input_tokens)
  const cacheRead = count(u.cache_read_input_tokens)
  const prompt = input + (cacheWrite ?? 0) + (cacheRead ?? 0)
  return {
    promptTokens: prompt,
    completionTokens: output,
    totalTokens: prompt + output,
    cacheReadTokens: cacheRead ?? null,
    cacheWriteTokens: cacheWrite ?? null
  }
}

/**
 * What the first pass over a transcript learnt: the conversation chain (the
 * line numbers of its records, root first), whether those lines are in file
 * order, and the header fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface Scan {
  /** Line numbers (1-based) of the chain's records, root first. */
  readonly chain: ReadonlyArray<number>
  /** Whether {@link chain} is increasing (the messages can be streamed in file order). */
  readonly inFileOrder: boolean
  readonly createdAt: Timestamp.Timestamp
  readonly updatedAt: Timestamp.Timestamp
  readonly directory: string | null
  readonly model: string | null
  readonly title: string | null
  readonly usage: Usage.Usage
  readonly messageCount: number
}

/**
 * The first pass: feed every decoded record with its line number (`add`),
 * then `finish`. Holds a few fields per record of the conversation, never
 * their content.
 *
 * @since 0.1.0
 * @category models
 */
export interface Scanner {
  readonly add: (record: TranscriptRecord, line: number) => void
  /** The scan, or `undefined` when the transcript has no conversation (no user or assistant record of the main agent). */
  readonly finish: () => Scan | undefined
}

/**
 * A new {@link Scanner}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScanner = (): Scanner => {
  const nodes = new Map<string, Node>()
  const usages = new Map<string, Usage.Usage>()
  const summaries = new Map<string, string>()
  let customTitle: string | undefined
  let cwd: string | undefined
  let first: Timestamp.Timestamp | undefined
  let last: Timestamp.Timestamp | undefined
  /** The newest user or assistant record: the end of the conversation. */
  let latest: { readonly uuid: string; readonly node: Node } | undefined
  let anonymousUsage = 0

  const add = (record: TranscriptRecord, line: number): void => {
    if (record.isSidechain === true) return
    if (record.type === "summary" && typeof record.summary === "string" && typeof record.leafUuid === "string") {
      summaries.set(record.leafUuid, record.summary)
    }
    if (record.type === "custom-title" && typeof record.customTitle === "string" && record.customTitle.trim().length > 0) {
      customTitle = record.customTitle.trim()
    }
    const timestamp = typeof record.timestamp === "string" ? Timestamp.fromString(record.timestamp) : undefined
    if (timestamp !== undefined) {
      first = first === undefined || Timestamp.compare(timestamp, first) < 0 ? timestamp : first
      last = last === undefined ? timestamp : Timestamp.max(last, timestamp)
    }
    if (typeof record.uuid !== "string") return
    if (cwd === undefined && typeof record.cwd === "string" && record.cwd.length > 0) cwd = record.cwd
    const parent = record.parentUuid ?? record.logicalParentUuid ?? undefined
    const mapped = mapRecord(record)
    const role = record.type === "user" || record.type === "assistant" ? record.type : "other"
    let messageId: string | undefined
    let model: string | undefined
    if (record.type === "assistant") {
      const message = decodeApiMessage(record.message)
      if (Option.isSome(message)) {
        messageId = message.value.id ?? undefined
        const m = message.value.model
        if (typeof m === "string" && m.length > 0 && m !== "<synthetic>" && record.isApiErrorMessage !== true) model = m
        const usage = usageOf(message.value.usage)
        // each API message once (Claude Code repeats it on every record of the message)
        if (usage !== undefined) usages.set(messageId ?? `#${anonymousUsage++}`, usage)
      }
    }
    const node: Node = {
      parent,
      line,
      timestamp,
      role,
      messageId,
      model,
      messages: mapped._tag === "Messages" ? mapped.messages.length : mapped._tag === "Assistant" ? 1 : 0,
      titleText: titleTextOf(record, mapped)
    }
    nodes.set(record.uuid, node)
    if (role !== "other" && (latest === undefined || newer(node, latest.node))) latest = { uuid: record.uuid, node }
  }

  const finish = (): Scan | undefined => {
    if (latest === undefined || first === undefined || last === undefined) return undefined
    // from the end of the newest branch (its newest message) up to the root
    const chain: Array<{ uuid: string; node: Node }> = []
    const seen = new Set<string>()
    for (let at: { uuid: string; node: Node } | undefined = latest; at !== undefined && !seen.has(at.uuid);) {
      seen.add(at.uuid)
      chain.push(at)
      const parent: string | undefined = at.node.parent
      const node: Node | undefined = parent === undefined ? undefined : nodes.get(parent)
      at = parent === undefined || node === undefined ? undefined : { uuid: parent, node }
    }
    chain.reverse()
    let messageCount = 0
    let openAssistant: string | undefined // the API message id of the assistant message being merged
    let model: string | null = null
    let title: string | null = customTitle ?? null
    let derived: string | undefined
    for (const { node, uuid } of chain) {
      if (title === null && summaries.has(uuid)) title = summaries.get(uuid)!
      if (node.model !== undefined) model = node.model.includes("/") ? node.model : `anthropic/${node.model}`
      if (node.messages === 0) continue
      if (node.role === "assistant") {
        if (openAssistant === undefined || node.messageId === undefined || openAssistant !== node.messageId) messageCount++
        openAssistant = node.messageId ?? `#line${node.line}`
      } else {
        messageCount += node.messages
        openAssistant = undefined
        if (derived === undefined && node.titleText !== undefined) derived = node.titleText
      }
    }
    if (title === null && derived !== undefined) title = titleFromText(derived)
    const lines = chain.map(({ node }) => node.line)
    return {
      chain: lines,
      inFileOrder: lines.every((line, i) => i === 0 || line > lines[i - 1]!),
      createdAt: first,
      updatedAt: last,
      directory: cwd ?? null,
      model,
      title,
      usage: [...usages.values()].reduce(Usage.add, Usage.empty),
      messageCount
    }
  }
  return { add, finish }
}

const newer = (a: Node, b: Node): boolean => {
  if (a.timestamp !== undefined && b.timestamp !== undefined) {
    const order = Timestamp.compare(a.timestamp, b.timestamp)
    if (order !== 0) return order > 0
  } else if (a.timestamp !== undefined || b.timestamp !== undefined) {
    return a.timestamp !== undefined
  }
  return a.line > b.line
}

// ---------------------------------------------------------------------------
// The session and its summary
// ---------------------------------------------------------------------------

/**
 * Inputs of {@link build} besides the scan: the session id (the transcript's
 * file name), and the provenance's randomness, time and environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface BuildOptions {
  readonly id: string
  /** UUID v4 whose hex digits form `provenance_id`. */
  readonly provenanceUuid: string
  /** `provenance.issued_at` (the import time). */
  readonly now: Timestamp.Timestamp
  readonly env?: Provenance.ProvenanceEnv | undefined
}

/**
 * The session header of a scanned transcript (its `messages` empty: the
 * service streams them in, see {@link makeMerger}): agent `build`, no tool
 * uses, metadata defaults with the directory, model and a fresh provenance.
 *
 * @since 0.1.0
 * @category mapping
 */
export const build = (scan: Scan, options: BuildOptions): Session => ({
  id: options.id,
  title: scan.title,
  createdAt: scan.createdAt,
  updatedAt: scan.updatedAt,
  metadata: {
    ...SessionMetadata.defaults(scan.directory),
    model: scan.model,
    provenance: Provenance.make({
      sessionId: options.id,
      agentName: IMPORT_AGENT,
      issuedAt: options.now,
      uuid: options.provenanceUuid,
      env: options.env
    })
  },
  agent: IMPORT_AGENT,
  messages: [],
  toolUses: [],
  usage: scan.usage
})

/**
 * The listing row of a scanned transcript (same fields as {@link build}).
 *
 * @since 0.1.0
 * @category mapping
 */
export const summarize = (scan: Scan, id: string): SessionSummary => ({
  id,
  title: scan.title,
  createdAt: scan.createdAt,
  updatedAt: scan.updatedAt,
  messageCount: scan.messageCount,
  agent: IMPORT_AGENT,
  directory: scan.directory
})

/**
 * The whole pipeline over in-memory lines (both passes), for tests and small
 * transcripts: the session, and the malformed lines (1-based) with their
 * reasons; `undefined` session when there is no conversation.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromLines = (
  lines: ReadonlyArray<string>,
  options: BuildOptions
): { readonly session: Session | undefined; readonly malformed: ReadonlyArray<{ readonly line: number; readonly reason: string }> } => {
  const scanner = makeScanner()
  const malformed: Array<{ line: number; reason: string }> = []
  const records = new Map<number, TranscriptRecord>()
  lines.forEach((text, i) => {
    const decoded = decodeLine(text)
    if (decoded._tag === "Malformed") malformed.push({ line: i + 1, reason: decoded.reason })
    if (decoded._tag !== "Record") return
    records.set(i + 1, decoded.record)
    scanner.add(decoded.record, i + 1)
  })
  const scan = scanner.finish()
  if (scan === undefined) return { session: undefined, malformed }
  const merger = makeMerger()
  const messages: Array<Message> = []
  for (const line of scan.chain) messages.push(...merger.push(mapRecord(records.get(line)!)))
  messages.push(...merger.flush())
  return { session: { ...build(scan, options), messages }, malformed }
}

// ---------------------------------------------------------------------------
// Project folders and listings
// ---------------------------------------------------------------------------

/**
 * A directory in the form Claude Code names its project folders: every
 * character other than an ASCII letter or digit replaced by `-`
 * (`/home/dev/demo` → `-home-dev-demo`). Lossy: compare folder names with
 * it, then confirm with the records' `cwd`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const projectFolderName = (directory: string): string => directory.replace(/[^A-Za-z0-9]/g, "-")

/**
 * The prefix of the titles of Claude Code sessions not imported yet in
 * `sessions list --all`.
 *
 * @since 0.1.0
 * @category constants
 */
export const LISTING_PREFIX = "[Claude] "

/**
 * A Claude Code summary as listings show it: `[Claude] <title>`, or
 * `[Claude] <id>` without a title.
 *
 * @since 0.1.0
 * @category combinators
 */
export const prefixTitle = (summary: SessionSummary): SessionSummary => ({
  ...summary,
  title: `${LISTING_PREFIX}${summary.title ?? summary.id}`
})
