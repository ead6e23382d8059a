/**
 * `codetether sessions search "text" [--all] [--regex] [--json] [--limit N]`:
 * the sessions and messages where something was said (`SessionSearch`),
 * newest session first, at most N hits (default 50). The search comes with
 * the store (src/Cli.ts): the data dir's files streamed, or the PostgreSQL
 * store's rows searched by the database.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as SessionSearch from "../../services/SessionSearch.ts"
import * as Style from "../render/Style.ts"
import { currentDirectory, json, printLine, switchFlag } from "./shared.ts"

/**
 * Hits shown when `--limit` is not given.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_LIMIT = 50

const render = (hits: ReadonlyArray<SessionSearch.Hit>): string => {
  if (hits.length === 0) return Style.dim("No matches.")
  const lines: Array<string> = []
  let current: string | undefined
  for (const hit of hits) {
    if (hit.sessionId !== current) {
      current = hit.sessionId
      if (lines.length > 0) lines.push("")
      lines.push(`${Style.bold(hit.sessionId)}  ${hit.title ?? Style.dim("(untitled)")}`)
    }
    lines.push(`  ${Style.dim(`#${hit.messageIndex}`)} ${Style.cyan(hit.role)}: ${hit.snippet}`)
  }
  return lines.join("\n")
}

/**
 * `sessions search`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("search", {
  query: Argument.String("text").pipe(Argument.withDescription("What to look for (plain text, case-sensitive; or a pattern with --regex)")),
  all: switchFlag("all", "Search every session in the data dir, not only those of the current directory"),
  regex: switchFlag("regex", "The text is an RE2 regular expression (linear time; (?i) for case-insensitive)"),
  json,
  limit: Flag.Int("limit").pipe(
    Flag.withSchema(Schema.Int.check(Schema.isGreaterThan(0))),
    Flag.withDescription(`Stop after N matching messages (default ${DEFAULT_LIMIT})`),
    Flag.withDefault(DEFAULT_LIMIT)
  )
}, Effect.fn("sessions.search")(function*({ all, json, limit, query, regex }) {
  const search = yield* SessionSearch.SessionSearch
  const directory = all ? undefined : yield* currentDirectory
  const hits = Array.from(yield* Stream.runCollect(search.search({ query, regex, directory }).pipe(Stream.take(limit))))
  yield* printLine(json ? JSON.stringify(hits.map(SessionSearch.toJson)) : render(hits))
})).pipe(
  Command.withDescription(
    "Find the messages that mention something, newest session first (default: sessions of the current directory; --all: every session)"
  ),
  Command.withExamples([
    { command: "codetether sessions search load_config", description: "Where was load_config discussed here?" },
    { command: "codetether sessions search --all --regex \"(?i)timeout \\d+\" --json", description: "A pattern, every session, as JSON" }
  ])
)
