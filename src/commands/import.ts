/**
 * `codetether import codex [--id ID] [--all] [--json]`: imports OpenAI Codex
 * CLI sessions into the session store (codetether-agent 4.5.7
 * `import_codex_sessions_for_directory` / `import_codex_session_by_id`);
 * `codetether import claude` does the same for Claude Code sessions
 * (`ClaudeImport`).
 *
 * - default: the Codex sessions whose cwd is the current directory;
 * - `--id ID`: that one session, whatever its directory;
 * - `--all`: every Codex session.
 *
 * Each session is written only when it is new or newer than the stored copy
 * (4.5.7's persist rule); the command prints one line per session (or, with
 * `--json`, one object `{imported, skipped, importedIds, skippedIds,
 * failed}`). A rollout that cannot be imported is reported and makes the
 * command exit with status 1 after the others are imported.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as ClaudeImport from "../../services/ClaudeImport.ts"
import * as CodexImport from "../../services/CodexImport.ts"
import { currentDirectory, json, printLine, printText, switchFlag } from "./shared.ts"

/**
 * A usage error of `import codex` (`--id` with `--all`), or the summary
 * failure when some rollouts could not be imported.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImportCommandError extends Schema.TaggedError<ImportCommandError>()("ImportCommandError", {
  message: Schema.String
}) {}

const render = (report: CodexImport.ImportReport, scope: string, agent: string) =>
  Effect.gen(function*() {
    if (report.sessions.length + report.failed.length === 0) {
      yield* printText(`No ${agent} sessions found ${scope}.`)
      return
    }
    for (const { id, status, title } of report.sessions) {
      const label = title === null ? id : `${id} ${JSON.stringify(title)}`
      yield* printText(status === "imported" ? `imported ${label}` : `skipped  ${label} (already up to date)`)
    }
    for (const failure of report.failed) yield* printText(`failed   ${failure.path}: ${failure.message}`)
    yield* printText(
      `${report.imported} imported, ${report.skipped} skipped${
        report.failed.length > 0 ? `, ${report.failed.length} failed` : ""
      }.`
    )
  })

/** What `import codex` and `import claude` need of their importer (CodexImport, ClaudeImport). */
interface Importer<E> {
  readonly home: string | undefined
  readonly importOne: (id: string) => Effect.Effect<CodexImport.ImportResult, E>
  readonly importAll: Effect.Effect<CodexImport.ImportReport, E>
  readonly importForDirectory: (directory: string) => Effect.Effect<CodexImport.ImportReport, E>
}

const singleReport = (result: CodexImport.ImportResult): CodexImport.ImportReport => {
  const imported = result.status === "imported"
  return {
    imported: imported ? 1 : 0,
    skipped: imported ? 0 : 1,
    importedIds: imported ? [result.id] : [],
    skippedIds: imported ? [] : [result.id],
    failed: [],
    sessions: [result]
  }
}

/**
 * One import command's work: one session (`--id`), all (`--all`) or the
 * current directory's; the report (or `--json` counts); exit 1 when a
 * session could not be imported. `agent` names the sessions in messages.
 */
const runImport = <E>(
  importer: Importer<E>,
  agent: string,
  options: { readonly all: boolean; readonly id: Option.Option<string>; readonly json: boolean }
) =>
  Effect.gen(function*() {
    const { all, id, json } = options
    if (Option.isSome(id) && all) {
      return yield* new ImportCommandError({ message: "--id and --all cannot be used together" })
    }
    let report: CodexImport.ImportReport
    let scope: string
    if (Option.isSome(id)) {
      report = singleReport(yield* importer.importOne(id.value))
      scope = `with id ${id.value}`
    } else if (all) {
      report = yield* importer.importAll
      scope = importer.home === undefined ? "" : `in ${importer.home}`
    } else {
      const directory = yield* currentDirectory
      report = yield* importer.importForDirectory(directory)
      scope = `for ${directory}`
    }
    if (json) {
      const { failed, imported, importedIds, skipped, skippedIds } = report
      yield* printLine(JSON.stringify({ imported, skipped, importedIds, skippedIds, failed }))
    } else {
      yield* render(report, scope, agent)
    }
    if (report.failed.length > 0) {
      return yield* new ImportCommandError({
        message: `${report.failed.length} ${agent} session${report.failed.length === 1 ? "" : "s"} could not be imported`
      })
    }
  })

/**
 * `import codex`.
 *
 * @since 0.1.0
 * @category commands
 */
export const codexCommand = Command.make("codex", {
  id: Flag.String("id").pipe(
    Flag.withDescription("Import only the Codex session with this id (any directory)"),
    Flag.optional
  ),
  all: switchFlag("all", "Import every Codex session, not only those of the current directory"),
  json
}, Effect.fn("import.codex")(function*(options) {
  return yield* runImport(yield* CodexImport.CodexImport, "Codex", options)
})).pipe(
  Command.withDescription("Import OpenAI Codex CLI sessions (rollouts under $CODEX_HOME/sessions)"),
  Command.withExamples([
    { command: "codetether import codex", description: "Import the Codex sessions of the current directory" },
    { command: "codetether import codex --id 01a2013b-c1ee-7120-b0ee-fab476a007fd", description: "Import one session" },
    { command: "codetether import codex --all --json", description: "Import every Codex session; print counts as JSON" }
  ])
)

/**
 * `import claude`: Claude Code sessions (`$CLAUDE_CONFIG_DIR/projects/` or
 * `~/.claude/projects/`): those of the current directory, one (`--id`) or
 * all (`--all`), with the same output and persist rule as `import codex`.
 *
 * @since 0.1.0
 * @category commands
 */
export const claudeCommand = Command.make("claude", {
  id: Flag.String("id").pipe(
    Flag.withDescription("Import only the Claude Code session with this id (any directory)"),
    Flag.optional
  ),
  // a switch, as every boolean flag: a bare --all never eats the next word
  all: switchFlag("all", "Import every Claude Code session, not only those of the current directory"),
  json
}, Effect.fn("import.claude")(function*(options) {
  return yield* runImport(yield* ClaudeImport.ClaudeImport, "Claude Code", options)
})).pipe(
  Command.withDescription(
    "Import Claude Code sessions (transcripts under $CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects)"
  ),
  Command.withExamples([
    { command: "codetether import claude", description: "Import the Claude Code sessions of the current directory" },
    { command: "codetether import claude --id 30210cd6-1912-46b7-8b72-34bf998a507a", description: "Import one session" },
    { command: "codetether import claude --all --json", description: "Import every Claude Code session; print counts as JSON" }
  ])
)

/**
 * `import`: the parent of `import codex` and `import claude`. The root
 * command provides `CodexImport` and `ClaudeImport` (which need `SessionStore`).
 *
 * @since 0.1.0
 * @category commands
 */
export const importCommand = Command.make("import").pipe(
  Command.withDescription("Import sessions written by other coding agents (Codex CLI, Claude Code)"),
  Command.withSubcommands([codexCommand, claudeCommand])
)
