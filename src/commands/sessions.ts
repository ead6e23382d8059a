/**
 * `codetether sessions list | show | last | delete | trash | restore | purge |
 * fork | export | search`: the persistence side of codetether-agent 4.5.7
 * from the command line, and codetether's additions (costs in `list` and
 * `show`; `delete` moves a session to the trash: `trash`, `restore` and
 * `purge` are in `trash.ts`; `fork`, `export` and `search` in `sessions-*.ts`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as CodexRollout from "../../schemas/CodexRollout.ts"
import type { TailLoad } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as SessionSummary_ from "../../schemas/SessionSummary.ts"
import { SessionSummary } from "../../schemas/SessionSummary.ts"
import * as ClaudeTranscript from "../../schemas/ClaudeTranscript.ts"
import * as ClaudeImport from "../../services/ClaudeImport.ts"
import * as CodexImport from "../../services/CodexImport.ts"
import * as SessionCost from "../../services/SessionCost.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Render from "../render/Sessions.ts"
import * as Costs from "./sessions-cost.ts"
import * as Export from "./sessions-export.ts"
import * as Fork from "./sessions-fork.ts"
import * as Search from "./sessions-search.ts"
import * as Migrate from "./migrate.ts"
import * as Terminal from "../render/Terminal.ts"
import { currentDirectory, json, printLine, switchFlag, tail, writeStdout } from "./shared.ts"
import * as Trash from "./trash.ts"

const encodeSummaries = Schema.encodeSync(Schema.Array(SessionSummary))

/** File text shown on stdout: control characters made visible when stdout is a terminal. */
const onTerminal = (text: string): string => Terminal.forStream(process.stdout, text)

/** Codex sessions that have no native copy yet, titled `[Codex] <title>` (or `[Codex] <id>`). */
const notImportedCodexSessions = Effect.gen(function*() {
  const codex = yield* CodexImport.CodexImport
  const sessions = yield* codex.listAll.pipe(
    // whatever goes wrong with Codex files, the native sessions are listed
    Effect.catch((e) => Effect.as(Effect.logWarning(`cannot list Codex sessions: ${e.message}`), [])),
    Effect.catchDefect((defect) =>
      Effect.as(Effect.logWarning(`cannot list Codex sessions: ${defect instanceof Error ? defect.message : String(defect)}`), [])
    )
  )
  return sessions.filter((s) => s.state === "new").map((s) => CodexRollout.prefixTitle(s.summary))
})

/** Claude Code sessions that have no native copy yet, titled `[Claude] <title>` (or `[Claude] <id>`). */
const notImportedClaudeSessions = Effect.gen(function*() {
  const claude = yield* ClaudeImport.ClaudeImport
  const sessions = yield* claude.listAll.pipe(
    Effect.catch((e) => Effect.as(Effect.logWarning(`cannot list Claude Code sessions: ${e.message}`), []))
  )
  return sessions.filter((s) => s.state === "new").map((s) => ClaudeTranscript.prefixTitle(s.summary))
})

const printSession = (load: TailLoad, asJson: boolean) =>
  asJson
    ? writeStdout(SessionJson.encode(load.session)).pipe(
      Effect.andThen(process.stdout.isTTY ? writeStdout("\n") : Effect.void)
    )
    : printLine(Render.transcript(load, { clean: onTerminal }))

const list = Command.make("list", {
  all: switchFlag("all", "List every session in the data dir, not only those of the current directory"),
  json,
  limit: Flag.Int("limit").pipe(
    Flag.withSchema(Schema.Int.check(Schema.isGreaterThan(0))),
    Flag.withDescription("Show at most N sessions (newest first)"),
    Flag.optional
  ),
  usage: switchFlag("usage", "With --json: add each session's usage and cost_usd (null when unknown) to its summary")
}, Effect.fn("sessions.list")(function*({ all, json, limit, usage }) {
  const store = yield* SessionStore.SessionStore
  const native = all ? yield* store.list : yield* store.listForDirectory(yield* currentDirectory)
  // With --all, Codex CLI sessions not imported yet are listed too, titled
  // "[Codex] ..." as 4.5.7's merged listing does.
  const codex = all ? yield* notImportedCodexSessions : []
  const claude = all ? yield* notImportedClaudeSessions : []
  const summaries = [...native, ...codex, ...claude].sort(SessionSummary_.byUpdatedAtDesc)
  const shown = Option.match(limit, { onNone: () => summaries, onSome: (n) => summaries.slice(0, n) })
  if (json && !usage) return yield* printLine(JSON.stringify(encodeSummaries(shown)))
  // tokens and cost: the header and usage of each session (no messages) and its durable log
  const options = yield* Costs.costOptions
  const reports = yield* Effect.forEach(shown, (s) =>
    SessionCost.ofSession(s.id, options).pipe(Effect.orElseSucceed(() => undefined)), { concurrency: 4 })
  yield* printLine(
    json
      ? JSON.stringify(shown.map((s, i) => Costs.usageRow(s, reports[i])))
      : Render.table(shown, { withDirectory: all, clean: onTerminal, extra: { headers: ["TOKENS", "COST"], cells: (_, i) => Costs.cells(reports[i]) } })
  )
})).pipe(
  Command.withDescription(
    "List sessions, newest first (default: those of the current directory; --all: every session, and Claude Code and Codex CLI sessions not imported yet)"
  ),
  Command.withExamples([
    { command: "codetether sessions list", description: "Sessions of this directory" },
    { command: "codetether sessions list --all --json --limit 20", description: "The 20 newest sessions, as JSON" },
    { command: "codetether sessions list --json --usage", description: "With each session's usage and cost_usd" }
  ])
)

const show = Command.make("show", {
  id: Argument.String("id").pipe(Argument.withDescription("Session id")),
  tail,
  json
}, Effect.fn("sessions.show")(function*({ id, tail, json }) {
  const store = yield* SessionStore.SessionStore
  const load = yield* Option.match(tail, {
    onNone: () => Effect.map(store.load(id), (session) => ({ session, dropped: 0, fileBytes: 0 })),
    onSome: (window) => store.loadTail(id, window)
  })
  yield* printSession(load, json)
  if (!json) yield* printLine(Costs.breakdown(yield* SessionCost.ofSession(id, yield* Costs.costOptions)))
})).pipe(
  Command.withDescription(
    "Print a session: a readable transcript with its usage and cost per step, or with --json its exact on-disk encoding"
  )
)

const last = Command.make("last", { tail, json }, Effect.fn("sessions.last")(function*({ tail, json }) {
  const store = yield* SessionStore.SessionStore
  const load = yield* store.lastForDirectory(yield* currentDirectory, { window: Option.getOrUndefined(tail) })
  yield* printSession(load, json)
})).pipe(
  Command.withDescription("Print the session a resume would pick for the current directory")
)

const delete_ = Command.make("delete", {
  id: Argument.String("id").pipe(Argument.withDescription("Session id")),
  force: switchFlag("force", "Delete even while a prompt runs on the session (that prompt then ends with an error)")
}, Effect.fn("sessions.delete")(function*({ id, force }) {
  const store = yield* SessionStore.SessionStore
  // Moved to the trash (the store's `delete` stays 4.5.7's hard delete);
  // for the user a missing session is an error.
  if (!(yield* store.trash(id, { force }))) {
    return yield* new SessionStore.SessionStoreError({
      reason: "NotFound",
      message: `Session not found: ${id}`,
      sessionId: id
    })
  }
  yield* printLine(`Deleted session ${id} (moved to the trash: codetether sessions restore ${id} brings it back)`)
})).pipe(Command.withDescription(
  "Delete a session: move it to the trash (refused while a prompt runs on it, unless --force); see trash, restore, purge"
))

/**
 * The `sessions` command group.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("sessions").pipe(
  Command.withDescription("List, show, resume-preview, delete, restore, purge, fork, export, search and migrate saved sessions"),
  Command.withSubcommands([
    list,
    show,
    last,
    delete_,
    Trash.trashCommand,
    Trash.restoreCommand,
    Trash.purgeCommand,
    Fork.command,
    Export.command,
    Search.command,
    Migrate.command
  ])
)
