/**
 * `codetether sessions trash | restore | purge`: the trash that `sessions
 * delete` moves sessions to (`<data_dir>/trash/`), listed, restored and
 * emptied. The commands are thin shells over `SessionStore` `listTrash`,
 * `restore` and `purge`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Render from "../render/Trash.ts"
import { json, printLine } from "./shared.ts"

/**
 * A usage error of the trash commands (an `--older-than` that is not an age).
 *
 * @since 0.1.0
 * @category errors
 */
export class TrashUsageError extends Schema.TaggedError<TrashUsageError>()("TrashUsageError", {
  message: Schema.String
}) {}

const UNITS: Record<string, Duration.Unit> = {
  s: "seconds",
  m: "minutes",
  h: "hours",
  d: "days",
  w: "weeks"
}

/**
 * An age such as `30d`, `12h`, `90m`, `45s`, `2w` (or Effect's `30 days`),
 * or `undefined`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseAge = (text: string): Duration.Duration | undefined => {
  const short = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text)
  if (short !== null) return Duration.fromInputUnsafe(`${Number(short[1])} ${UNITS[short[2]!]!}`)
  const long = Duration.fromInput(text.trim() as Duration.Input)
  return Option.isSome(long) && Duration.isFinite(long.value) ? long.value : undefined
}

/**
 * `sessions trash`.
 *
 * @since 0.1.0
 * @category commands
 */
export const trashCommand = Command.make("trash", { json }, Effect.fn("sessions.trash")(function*({ json }) {
  const store = yield* SessionStore.SessionStore
  const entries = yield* store.listTrash
  yield* printLine(json ? Render.json(entries) : Render.table(entries))
})).pipe(
  Command.withDescription(
    "List the sessions in the trash (moved there by `sessions delete`), most recently deleted first"
  )
)

/**
 * `sessions restore ID`.
 *
 * @since 0.1.0
 * @category commands
 */
export const restoreCommand = Command.make("restore", {
  id: Argument.String("id").pipe(Argument.withDescription("Session id"))
}, Effect.fn("sessions.restore")(function*({ id }) {
  const store = yield* SessionStore.SessionStore
  const entry = yield* store.restore(id)
  const title = entry.summary?.title
  yield* printLine(`Restored session ${id}${title === undefined || title === null ? "" : ` ${JSON.stringify(title)}`}`)
})).pipe(
  Command.withDescription(
    "Restore a deleted session from the trash (its most recently deleted copy); never overwrites a live session"
  )
)

/**
 * `sessions purge [ID] [--older-than AGE]`.
 *
 * @since 0.1.0
 * @category commands
 */
export const purgeCommand = Command.make("purge", {
  id: Argument.String("id").pipe(
    Argument.withDescription("Purge only this session's trashed copies (default: every session)"),
    Argument.optional
  ),
  olderThan: Flag.String("older-than").pipe(
    Flag.withDescription("Only sessions deleted at least this long ago: 30d, 12h, 90m, 2w"),
    Flag.optional
  ),
  json
}, Effect.fn("sessions.purge")(function*({ id, json, olderThan }) {
  const store = yield* SessionStore.SessionStore
  let age: Duration.Duration | undefined
  if (Option.isSome(olderThan)) {
    age = parseAge(olderThan.value)
    if (age === undefined) {
      return yield* new TrashUsageError({
        message: `--older-than ${JSON.stringify(olderThan.value)} is not an age: use e.g. 30d, 12h, 90m or 2w`
      })
    }
  }
  const purged = yield* store.purge({ olderThan: age, id: Option.getOrUndefined(id) })
  if (json) {
    yield* printLine(JSON.stringify(purged.map((p) => ({ id: p.id, deleted_at: p.deletedAt }))))
    return
  }
  for (const p of purged) yield* printLine(`purged ${p.id} (deleted ${p.deletedAt})`)
  yield* printLine(`${purged.length} session${purged.length === 1 ? "" : "s"} deleted for good.`)
})).pipe(
  Command.withDescription("Delete sessions in the trash for good (all, one id, or those deleted --older-than ago)"),
  Command.withExamples([
    { command: "codetether sessions purge --older-than 30d", description: "Empty what was deleted 30 days ago or more" },
    { command: "codetether sessions purge", description: "Empty the whole trash" }
  ])
)
