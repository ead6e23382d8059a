/**
 * `codetether sessions list | show | last | delete`: the persistence side of
 * codetether-agent 4.5.7 from the command line.
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
import * as CodexImport from "../../services/CodexImport.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Render from "../render/Sessions.ts"
import * as Terminal from "../render/Terminal.ts"
import { currentDirectory, json, printLine, switchFlag, tail, writeStdout } from "./shared.ts"

const encodeSummaries = Schema.encodeSync(Schema.Array(SessionSummary))

/** File text shown on stdout: control characters made visible when stdout is a terminal. */
const onTerminal = (text: string): string => Terminal.forStream(process.stdout, text)

/** Codex sessions that have no native copy yet, titled `[Codex] <title>` (or `[Codex] <id>`). */
const notImportedCodexSessions = Effect.gen(function*() {
  const codex = yield* CodexImport.CodexImport
  const sessions = yield* codex.listAll.pipe(
    Effect.catch((e) => Effect.as(Effect.logWarning(`cannot list Codex sessions: ${e.message}`), []))
  )
  return sessions.filter((s) => s.state === "new").map((s) => CodexRollout.prefixTitle(s.summary))
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
  )
}, Effect.fn("sessions.list")(function*({ all, json, limit }) {
  const store = yield* SessionStore.SessionStore
  const native = all ? yield* store.list : yield* store.listForDirectory(yield* currentDirectory)
  // With --all, Codex CLI sessions not imported yet are listed too, titled
  // "[Codex] ..." as 4.5.7's merged listing does.
  const codex = all ? yield* notImportedCodexSessions : []
  const summaries = [...native, ...codex].sort(SessionSummary_.byUpdatedAtDesc)
  const shown = Option.match(limit, { onNone: () => summaries, onSome: (n) => summaries.slice(0, n) })
  yield* printLine(json ? JSON.stringify(encodeSummaries(shown)) : Render.table(shown, { withDirectory: all, clean: onTerminal }))
})).pipe(
  Command.withDescription(
    "List sessions, newest first (default: those of the current directory; --all: every session, and Codex CLI sessions not imported yet)"
  ),
  Command.withExamples([
    { command: "codetether sessions list", description: "Sessions of this directory" },
    { command: "codetether sessions list --all --json --limit 20", description: "The 20 newest sessions, as JSON" }
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
})).pipe(
  Command.withDescription("Print a session: a readable transcript, or with --json its exact on-disk encoding")
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
  // Deleting is idempotent in the store (4.5.7); for the user a missing session is an error.
  if (!(yield* store.delete(id, { force }))) {
    return yield* new SessionStore.SessionStoreError({
      reason: "NotFound",
      message: `Session not found: ${id}`,
      sessionId: id
    })
  }
  yield* printLine(`Deleted session ${id}`)
})).pipe(Command.withDescription("Delete a session file (refused while a prompt runs on it, unless --force)"))

/**
 * The `sessions` command group.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("sessions").pipe(
  Command.withDescription("List, show, resume-preview and delete saved sessions"),
  Command.withSubcommands([list, show, last, delete_])
)
