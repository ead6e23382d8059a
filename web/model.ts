/**
 * The transcript as rows for the virtualised list: one row per message,
 * except tool messages whose results are shown in the card of the call
 * they answer; compaction summaries marked as such; then the live rows of a
 * running prompt.
 */
import { COMPRESSION_MARKER, TRUNCATION_MARKER } from "../schemas/Compaction.ts"
import type { ContentPart, Message, Session, ToolUse } from "./wire.ts"

export type ToolCallPart = Extract<ContentPart, { type: "tool_call" }>

/** A tool call with its result (when the transcript has one) and its recorded outcome. */
export interface ToolCard {
  readonly id: string
  readonly name: string
  readonly arguments: string
  readonly result: string | undefined
  /** From `tool_uses` (`undefined`: not recorded), or from the live `ToolCallComplete`. */
  readonly success: boolean | undefined
  /** Milliseconds, known for calls seen live (`tool_uses` has no duration). */
  readonly durationMs: number | undefined
  readonly running?: boolean
}

export type Row =
  | { readonly kind: "message"; readonly key: string; readonly index: number; readonly message: Message; readonly tools: ReadonlyArray<ToolCard> }
  | { readonly kind: "results"; readonly key: string; readonly index: number; readonly results: ReadonlyArray<{ readonly callId: string; readonly content: string }> }
  | { readonly kind: "compaction"; readonly key: string; readonly index: number; readonly marker: "compression" | "truncation"; readonly text: string }
  | { readonly kind: "live"; readonly key: string; readonly item: LiveItem }

/** What a running prompt has shown so far, in order. */
export type LiveItem =
  | { readonly kind: "user"; readonly text: string }
  | { readonly kind: "text"; readonly text: string; readonly done: boolean }
  | { readonly kind: "thinking"; readonly text: string }
  | { readonly kind: "tool"; readonly card: ToolCard }
  | { readonly kind: "error"; readonly text: string }

export interface Transcript {
  /**
   * Only the last messages of the session are here (the first paint of a
   * long session); message indices are then unknown, and row keys count
   * from the end, so the rows keep their keys when the whole session comes.
   */
  readonly partial: boolean
  readonly rows: ReadonlyArray<Row>
  /** The row that shows message `i` (a tool result: the row of its call). */
  readonly rowOfMessage: Int32Array
}

const compactionOf = (message: Message): { marker: "compression" | "truncation"; text: string } | undefined => {
  if (message.role !== "assistant" || message.content.length !== 1) return undefined
  const part = message.content[0]!
  if (part.type !== "text") return undefined
  if (part.text.startsWith(COMPRESSION_MARKER)) return { marker: "compression", text: part.text.slice(COMPRESSION_MARKER.length).trim() }
  if (part.text.startsWith(TRUNCATION_MARKER)) return { marker: "truncation", text: part.text.slice(TRUNCATION_MARKER.length).trim() }
  return undefined
}

/** Builds the rows of a stored session (linear in its size); `partial`: its last messages only. */
export const build = (session: Session, partial = false): Transcript => {
  const messages = session.messages
  const keyOf = (index: number) => (partial ? `t${messages.length - index}` : `m${index}`)
  const uses = new Map<string, ToolUse>()
  for (const use of session.tool_uses) uses.set(use.id, use)
  // where each call is answered
  const results = new Map<string, { content: string; index: number }>()
  messages.forEach((message, index) => {
    if (message.role !== "tool") return
    for (const part of message.content) {
      if (part.type === "tool_result" && !results.has(part.tool_call_id)) results.set(part.tool_call_id, { content: part.content, index })
    }
  })
  const calls = new Map<string, number>()
  const rows: Array<Row> = []
  const rowOfMessage = new Int32Array(messages.length).fill(-1)
  messages.forEach((message, index) => {
    if (message.role === "tool") {
      const orphans: Array<{ callId: string; content: string }> = []
      for (const part of message.content) {
        if (part.type !== "tool_result") continue
        const row = calls.get(part.tool_call_id)
        if (row !== undefined && results.get(part.tool_call_id)?.index === index) {
          rowOfMessage[index] = row
        } else {
          orphans.push({ callId: part.tool_call_id, content: part.content })
        }
      }
      // a partial transcript can start with results whose calls were cut off: left out until the whole one comes
      if ((orphans.length > 0 || rowOfMessage[index] === -1) && !(partial && rows.length === 0)) {
        rowOfMessage[index] = rows.length
        rows.push({ kind: "results", key: keyOf(index), index, results: orphans })
      }
      return
    }
    const compaction = compactionOf(message)
    rowOfMessage[index] = rows.length
    if (compaction !== undefined) {
      rows.push({ kind: "compaction", key: keyOf(index), index, ...compaction })
      return
    }
    const tools: Array<ToolCard> = []
    for (const part of message.content) {
      if (part.type !== "tool_call") continue
      calls.set(part.id, rows.length)
      const use = uses.get(part.id)
      tools.push({
        id: part.id,
        name: part.name,
        arguments: part.arguments,
        result: results.get(part.id)?.content,
        success: use?.success,
        durationMs: undefined
      })
    }
    rows.push({ kind: "message", key: keyOf(index), index, message, tools })
  })
  return { partial, rows, rowOfMessage }
}

/** The text of a message's text parts. */
export const textOf = (message: Message): string =>
  message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n\n")

/** Pretty JSON of a tool call's arguments (the raw text when it is not JSON). */
export const prettyArguments = (raw: string): string => {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2)
  } catch {
    return raw
  }
}

/** A one-line summary of a call: `$ command` for bash, the path for file tools, else compact JSON. */
export const callSummary = (raw: string): string => {
  let args: unknown
  try {
    args = JSON.parse(raw)
  } catch {
    return raw
  }
  if (typeof args !== "object" || args === null) return raw
  const a = args as Record<string, unknown>
  if (typeof a.command === "string") return `$ ${a.command}`
  for (const key of ["path", "file_path", "pattern", "query", "url"]) {
    if (typeof a[key] === "string") return `${a[key]}`
  }
  const compact = JSON.stringify(args)
  return compact.length > 160 ? `${compact.slice(0, 157)}…` : compact
}
