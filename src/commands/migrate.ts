/**
 * `codetether sessions migrate --to URL | --from URL`: copies every session
 * of the data dir (and its durable events, and the sessions a lost database
 * connection left in `<data_dir>/recovery/`) into the PostgreSQL database at
 * URL, or every session of the database into the data dir; trashed sessions
 * go to the other store's trash with their deletion time. Idempotent and
 * re-runnable: a copy at least as new as the source is never overwritten.
 * Shows progress on a TTY (stderr), then prints `copied N, skipped M, failed
 * K` (and, when there is a trash, `trash: copied N, skipped M, failed K`);
 * exits 1 only when a valid session could not be copied.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionMigration from "../../services/SessionMigration.ts"
import { printLine } from "./shared.ts"

/**
 * A usage problem of `sessions migrate`, or sessions that could not be copied.
 *
 * @since 0.1.0
 * @category errors
 */
export class MigrateError extends Schema.TaggedError<MigrateError>()("MigrateError", {
  message: Schema.String
}) {}

const counts = (c: SessionMigration.Counts) => `copied ${c.copied}, skipped ${c.skipped}, failed ${c.failed}`

const progress = (done: number, total: number) => {
  if (process.stderr.isTTY !== true) return
  process.stderr.write(`\rmigrating sessions: ${done}/${total}${done === total ? "\n" : ""}`)
}

/**
 * The `sessions migrate` command. Needs `DataDir`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("migrate", {
  to: Flag.String("to").pipe(
    Flag.withDescription("Copy the sessions of the data dir (and its trash) into the PostgreSQL database at this URL"),
    Flag.optional
  ),
  from: Flag.String("from").pipe(
    Flag.withDescription("Copy the sessions of the PostgreSQL database at this URL (and its trash) into the data dir"),
    Flag.optional
  )
}, Effect.fn("sessions.migrate")(function*({ from, to }) {
  if (Option.isSome(to) === Option.isSome(from)) {
    return yield* new MigrateError({ message: "Give either --to <postgres url> or --from <postgres url>" })
  }
  const dataDir = yield* DataDir.DataDir
  const summary = Option.isSome(to)
    ? yield* SessionMigration.toPostgres(dataDir, { url: Redacted.make(to.value), onProgress: progress })
    : yield* SessionMigration.fromPostgres(dataDir, { url: Redacted.make(Option.getOrThrow(from)), onProgress: progress })
  yield* printLine(counts(summary))
  const { trash } = summary
  if (trash.copied + trash.skipped + trash.failed > 0) yield* printLine(`trash: ${counts(trash)}`)
  const failed = summary.failed + trash.failed
  if (failed > 0) {
    return yield* new MigrateError({
      message: `${failed} session${failed === 1 ? "" : "s"} could not be copied (see the warnings above); run the migration again to retry them`
    })
  }
})).pipe(
  Command.withDescription(
    "Copy sessions between the data dir and a PostgreSQL database (--to URL or --from URL); never overwrites a newer copy"
  ),
  Command.withExamples([
    { command: "codetether sessions migrate --to postgres://app@db/codetether", description: "Data dir -> database" },
    { command: "codetether sessions migrate --from postgres://app@db/codetether", description: "Database -> data dir" }
  ])
)
