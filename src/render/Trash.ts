/**
 * Terminal and JSON rendering of the trash (`codetether sessions trash`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { SessionSummary } from "../../schemas/SessionSummary.ts"
import type * as SessionStore from "../../services/SessionStore.ts"
import { shortTime } from "./Sessions.ts"
import * as Style from "./Style.ts"

const encodeSummary = Schema.encodeSync(SessionSummary)

const truncate = (text: string, width: number): string => {
  const chars = Array.from(text.replaceAll(/\s+/g, " "))
  return chars.length <= width ? chars.join("") : `${chars.slice(0, width - 1).join("")}…`
}

/**
 * A table of trashed sessions: id, when it was deleted, last update, message
 * count, title (or why the file cannot be read).
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (entries: ReadonlyArray<SessionStore.TrashedSession>): string => {
  if (entries.length === 0) return Style.dim("The trash is empty.")
  const header = ["ID", "DELETED (UTC)", "UPDATED (UTC)", "MSGS", "TITLE"]
  const rows = entries.map((e) => [
    e.id,
    shortTime(e.deletedAt),
    e.summary === undefined ? "-" : shortTime(e.summary.updatedAt),
    e.summary === undefined ? "-" : String(e.summary.messageCount),
    e.summary === undefined ? `(unreadable: ${truncate(e.problem ?? "", 60)})` : truncate(e.summary.title ?? "(untitled)", 50)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => Array.from(r[i]!).length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - Array.from(c).length))).join("  ")
  return [Style.bold(line(header)), ...rows.map(line)].join("\n")
}

/**
 * The JSON of the trash: one array, most recently deleted first; each entry
 * is the session's 4.5.7 `SessionSummary` plus `deleted_at`, or, for a file
 * that does not decode, `{id, deleted_at, problem}`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const json = (entries: ReadonlyArray<SessionStore.TrashedSession>): string =>
  JSON.stringify(entries.map((e) =>
    e.summary === undefined
      ? { id: e.id, deleted_at: e.deletedAt, problem: e.problem ?? null }
      : { ...encodeSummary(e.summary), deleted_at: e.deletedAt }
  ))
