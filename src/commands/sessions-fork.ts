/**
 * `codetether sessions fork ID [--at N] [--json]`: copies a session's
 * messages `0..N` (default: all) into a new session titled `<title> (fork)`
 * (`SessionFork.fork`); prints the new id, or with `--json` its summary.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as SessionSummary from "../../schemas/SessionSummary.ts"
import * as SessionFork from "../../services/SessionFork.ts"
import { json, printLine } from "./shared.ts"

/**
 * `--at N`: the index of the last message a fork keeps.
 *
 * @since 0.1.0
 * @category flags
 */
export const at = Flag.Int("at").pipe(
  Flag.withSchema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  Flag.withDescription("Keep messages 0..N (default: all); N is the #index sessions show prints"),
  Flag.optional
)

const encodeSummary = Schema.encodeSync(SessionSummary.SessionSummary)

/**
 * `sessions fork`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("fork", {
  id: Argument.String("id").pipe(Argument.withDescription("Session id")),
  at,
  json
}, Effect.fn("sessions.fork")(function*({ at, id, json }) {
  const forked = yield* SessionFork.fork(id, { at: Option.getOrUndefined(at) })
  yield* printLine(json ? JSON.stringify(encodeSummary(SessionSummary.fromSession(forked.session))) : forked.session.id)
})).pipe(
  Command.withDescription("Copy a session (messages 0..N) into a new session to take it elsewhere; the original is untouched"),
  Command.withExamples([
    { command: "codetether sessions fork 1b2c… --at 7", description: "A new session with messages 0 to 7" },
    { command: "codetether run --fork 1b2c… \"try the other approach\"", description: "Fork and prompt in one step" }
  ])
)
