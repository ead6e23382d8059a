/**
 * Human-readable rendering of sessions and session lists for the terminal.
 *
 * @since 0.1.0
 */
import type { ContentPart, Message } from "../../schemas/Message.ts"
import type { Session, TailLoad } from "../../schemas/Session.ts"
import type { SessionSummary } from "../../schemas/SessionSummary.ts"
import * as Style from "./Style.ts"

const MAX_TOOL_LINES = 40

const identity = (text: string): string => text

/**
 * A timestamp as `YYYY-MM-DD HH:MM:SS` (UTC), for tables.
 *
 * @since 0.1.0
 * @category rendering
 */
export const shortTime = (timestamp: string): string => `${timestamp.slice(0, 10)} ${timestamp.slice(11, 19)}`

const truncate = (text: string, width: number): string => {
  const chars = Array.from(text.replaceAll(/\s+/g, " "))
  return chars.length <= width ? chars.join("") : `${chars.slice(0, width - 1).join("")}…`
}

/**
 * A table of summaries: id, last update, message count, the `extra`
 * columns (e.g. tokens and cost), title (and the directory when
 * `withDirectory`). `clean` is applied to the text that comes from the
 * files (ids, titles, directories), e.g. `Terminal.sanitize` on a terminal;
 * default: as it is.
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (
  summaries: ReadonlyArray<SessionSummary>,
  options: {
    readonly withDirectory: boolean
    readonly clean?: ((text: string) => string) | undefined
    readonly extra?: {
      readonly headers: ReadonlyArray<string>
      readonly cells: (summary: SessionSummary, index: number) => ReadonlyArray<string>
    } | undefined
  }
): string => {
  if (summaries.length === 0) return Style.dim("No sessions.")
  const clean = options.clean ?? identity
  const header = ["ID", "UPDATED (UTC)", "MSGS", ...(options.extra?.headers ?? []), "TITLE", ...(options.withDirectory ? ["DIRECTORY"] : [])]
  const rows = summaries.map((s, i) => [
    clean(s.id),
    shortTime(s.updatedAt),
    String(s.messageCount),
    ...(options.extra?.cells(s, i) ?? []),
    truncate(clean(s.title ?? "(untitled)"), 50),
    ...(options.withDirectory ? [clean(s.directory ?? "-")] : [])
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => Array.from(r[i]!).length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - Array.from(c).length))).join("  ")
  return [Style.bold(line(header)), ...rows.map(line)].join("\n")
}

const limitLines = (text: string, max: number): string => {
  const lines = text.split("\n")
  return lines.length <= max
    ? text
    : `${lines.slice(0, max).join("\n")}\n${Style.dim(`… ${lines.length - max} more lines (use --json for everything)`)}`
}

const indent = (text: string, prefix = "  "): string => text.split("\n").map((l) => prefix + l).join("\n")

const part = (p: ContentPart, clean: (text: string) => string): string => {
  switch (p.type) {
    case "text":
      return indent(clean(p.text))
    case "thinking":
      return indent(Style.dim(clean(p.text)), `  ${Style.dim("│")} `)
    case "image":
      return indent(Style.dim(`[image ${clean(p.mimeType ?? "unknown type")}, ${p.url.length} chars]`))
    case "file":
      return indent(Style.dim(clean(`[file ${p.path}${p.mimeType === null ? "" : ` (${p.mimeType})`}]`)))
    case "tool_call":
      return indent(`${Style.yellow("→")} ${Style.bold(clean(p.name))} ${Style.dim(clean(p.arguments))}`)
    case "tool_result":
      return indent(limitLines(clean(p.content), MAX_TOOL_LINES), `  ${Style.dim("│")} `)
  }
}

const roleLabel = (message: Message): string => {
  switch (message.role) {
    case "user":
      return Style.green(Style.bold("user"))
    case "assistant":
      return Style.cyan(Style.bold("assistant"))
    case "tool":
      return Style.yellow("tool result")
    case "system":
      return Style.magenta("system")
  }
}

/**
 * A transcript: a header (title, id, directory, model, times, usage) and every
 * message with its parts; long tool results are cut to 40 lines with a note.
 * `clean` is applied to every text that comes from the file (e.g.
 * `Terminal.sanitize` on a terminal; default: as it is).
 *
 * @since 0.1.0
 * @category rendering
 */
export const transcript = (load: TailLoad, options: { readonly clean?: ((text: string) => string) | undefined } = {}): string => {
  const s: Session = load.session
  const clean = options.clean ?? identity
  const lines: Array<string> = [
    Style.bold(clean(s.title ?? "(untitled)")),
    Style.dim(clean(`id ${s.id}  agent ${s.agent}${s.metadata.model === null ? "" : `  model ${s.metadata.model}`}`)),
    Style.dim(clean(`directory ${s.metadata.directory ?? "-"}`)),
    Style.dim(`created ${shortTime(s.createdAt)}  updated ${shortTime(s.updatedAt)} UTC  tokens ${s.usage.promptTokens} prompt / ${s.usage.completionTokens} completion`)
  ]
  if (load.dropped > 0) lines.push(Style.dim(`… ${load.dropped} earlier messages and tool uses not shown`))
  for (const message of s.messages) {
    lines.push("", roleLabel(message))
    for (const p of message.content) lines.push(part(p, clean))
  }
  return lines.join("\n")
}
