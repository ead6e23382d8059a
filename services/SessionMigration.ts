/**
 * Copies sessions (and their durable events) between the data dir and a
 * PostgreSQL database: `codetether sessions migrate --to URL` and
 * `--from URL`.
 *
 * Both directions follow the Codex import's rule (the store's
 * `replaceIfOlder`): a session is written unless the destination holds a
 * copy whose `updated_at` is at or after the source's, so a migration is
 * idempotent, can be re-run at any time, and never overwrites a newer copy.
 * Sessions travel as values, so a pretty-printed or legacy file arrives in
 * the compact 4.5.7 encoding, as a re-save would write it, and after a round
 * trip `sessions show --json` prints the same bytes from either store.
 * Events are copied record by record (same `ts`, `seq`, `kind`, `payload`);
 * records the destination already has (by session and `seq`) are skipped.
 *
 * `--to` also picks up `<data_dir>/recovery/<id>.json`, where a PostgreSQL
 * save that could not reach the database left the session as it stood.
 *
 * The trash travels too: each trashed copy (`<data_dir>/trash/<deletion
 * time>/<id>.json`, or a row of the database's trash) arrives in the other
 * store's trash with its deletion time, unless a copy of that id trashed at
 * that time is there already (so re-runs skip it); `sessions trash` lists the
 * same entries from either store and `restore` gives back the same bytes.
 * The durable events of trashed sessions are copied as those of live ones.
 *
 * Files (or rows) that are not valid sessions are skipped with a warning and
 * counted as skipped; a valid session that cannot be copied is counted as
 * failed (with a warning) and the migration goes on.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import type { Session } from "../schemas/Session.ts"
import type * as DataDir from "./DataDir.ts"
import * as DurableSink from "./DurableSink.ts"
import * as LazyModule from "./internal/LazyModule.ts"
import { extensionOf } from "./internal/Paths.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * How many sessions were `copied`, `skipped` (the destination copy was at
 * least as new, or the source was not a valid session) and `failed`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counts {
  readonly copied: number
  readonly skipped: number
  readonly failed: number
}

/**
 * What a migration did: the live sessions' {@link Counts}, and those of the
 * trashed copies in `trash` (skipped: the destination's trash holds that id
 * trashed at that time, or the source is not a valid session).
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary extends Counts {
  readonly trash: Counts
}

/**
 * Options of a migration: the database, and a callback told after each
 * session how many of `total` are done.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly url: SessionStore.PostgresOptions["url"]
  readonly onProgress?: ((done: number, total: number) => void) | undefined
}

type Outcome = "copied" | "skipped" | "failed"

/** Sessions copied at a time. */
const CONCURRENCY = 4

const summarize = (outcomes: ReadonlyArray<Outcome>): Counts => ({
  copied: outcomes.filter((o) => o === "copied").length,
  skipped: outcomes.filter((o) => o === "skipped").length,
  failed: outcomes.filter((o) => o === "failed").length
})

/** The session files of a directory (`<id>.json`, not the workspace index), sorted. */
const sessionFiles = (dir: string): ReadonlyArray<string> => {
  const names = (() => {
    try {
      return NodeFs.readdirSync(dir)
    } catch {
      return []
    }
  })()
  return names.filter((n) => extensionOf(n) === "json" && !n.startsWith(".")).sort()
}

/**
 * The PostgreSQL modules, loaded on demand (the CLI does not load the driver
 * unless a database is used). A function, so that a bundler does not keep
 * them in an app that never migrates.
 */
const loadPostgres = () =>
  Effect.tryPromise({
    try: () => Promise.all([LazyModule.sessionStorePostgres(), LazyModule.durableSinkPostgres()]),
    catch: (cause) =>
      new SessionStore.SessionStoreError({
        reason: "Io",
        message: `Migrating needs the @effect/sql-pg package (npm install @effect/sql-pg@4.0): ${(cause as Error)?.message ?? String(cause)}`,
        cause
      })
  })

/** The database at `url`, connected and migrated, with its store and sink; closed with the scope. */
const openDatabase = (url: Options["url"]) =>
  Effect.gen(function*() {
    const [StorePg, SinkPg] = yield* loadPostgres()
    const context = yield* Layer.build(StorePg.layerDatabase({ url }))
    const db = Context.get(context, StorePg.Database)
    // connect (and migrate) now: an unreachable server is one error, not one per session
    yield* Effect.mapError(db.ready, (e) => new SessionStore.SessionStoreError({ reason: "Io", message: e.message, cause: e }))
    return { db, store: StorePg.make(db), sink: SinkPg.make(db), StorePg, SinkPg }
  })

/** Copies one loaded session with `replaceIfOlder`; warnings name what went wrong. */
const copy = (
  load: Effect.Effect<Session, SessionStore.SessionStoreError>,
  write: (session: Session) => Effect.Effect<boolean, SessionStore.SessionStoreError | SessionStore.SessionBusy>,
  what: string
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const loaded = yield* Effect.result(load)
    if (Result.isFailure(loaded)) {
      const error = loaded.failure
      if (error.reason === "Io") {
        yield* Effect.logWarning(`cannot copy ${what}: ${error.message}`)
        return "failed"
      }
      yield* Effect.logWarning(`skipping ${what}: ${error.message}`)
      return "skipped"
    }
    const written = yield* Effect.result(write(loaded.success))
    if (Result.isFailure(written)) {
      yield* Effect.logWarning(`cannot copy ${what}: ${written.failure.message}`)
      return "failed"
    }
    return written.success ? "copied" : "skipped"
  })

/** A failure to read a whole trash: one warning, one failure counted. */
const trashUnreadable = (error: { readonly message: string }) =>
  Effect.as(Effect.logWarning(`cannot copy the trash: ${error.message}`), ["failed"] as ReadonlyArray<Outcome>)

/**
 * Copies every session of the data dir (`<data_dir>/sessions/*.json`, then
 * `<data_dir>/recovery/*.json`), every trashed copy (`<data_dir>/trash/`)
 * and their durable events (`<data_dir>/events/<id>.jsonl`) into the
 * database at `options.url`. Fails with `Io` (one line naming `host:port`)
 * when the database cannot be reached; per-session problems are counted in
 * the {@link Summary}.
 *
 * @since 0.1.0
 * @category migrations
 */
export const toPostgres = (dataDir: DataDir.DataDir["Service"], options: Options): Effect.Effect<Summary, SessionStore.SessionStoreError> =>
  Effect.scoped(Effect.gen(function*() {
    const target = yield* openDatabase(options.url)
    const recoveryDir = NodePath.join(dataDir.path, "recovery")
    const sources = [
      ...sessionFiles(dataDir.sessionsDir).map((name) => ({ dir: dataDir.sessionsDir, name })),
      ...sessionFiles(recoveryDir).map((name) => ({ dir: recoveryDir, name }))
    ]
    const stores = new Map<string, SessionStore.SessionStore["Service"]>()
    const storeFor = (dir: string) => {
      let store = stores.get(dir)
      if (store === undefined) stores.set(dir, store = SessionStore.makeFileSystem(dir))
      return store
    }
    const events = DurableSink.makeJsonl(NodePath.join(dataDir.path, "events"))
    const eventsCopied = new Set<string>()
    /** The events of session `id` (once per id), even when its copy was skipped as not newer. */
    const copyEvents = (id: string) =>
      Effect.gen(function*() {
        if (eventsCopied.has(id) || SessionStore.idProblem(id) !== undefined) return
        eventsCopied.add(id)
        const copied = yield* events.read(id).pipe(
          Effect.flatMap((records) => target.SinkPg.insertRecords(target.db, records)),
          Effect.result
        )
        if (Result.isFailure(copied)) yield* Effect.logWarning(`cannot copy the events of session ${id}: ${copied.failure.message}`)
      })
    const trash = SessionStore.fileTrash(dataDir.path)
    const trashed = yield* Effect.result(trash.list)
    const total = sources.length + (Result.isSuccess(trashed) ? trashed.success.length : 0)
    let done = 0
    const progress = () => options.onProgress?.(++done, total)
    const outcomes: Array<Outcome> = []
    // a few sessions at a time: reading and encoding here overlaps the database's inserts
    yield* Effect.forEach(sources, ({ dir, name }) => Effect.gen(function*() {
      const id = name.slice(0, -".json".length)
      const path = NodePath.join(dir, name)
      const outcome = yield* copy(storeFor(dir).load(id), (session) => target.store.replaceIfOlder(session), path)
      if (outcome !== "failed") yield* copyEvents(id)
      outcomes.push(outcome)
      progress()
    }), { concurrency: CONCURRENCY, discard: true })
    const trashOutcomes: Array<Outcome> = []
    if (Result.isFailure(trashed)) {
      trashOutcomes.push(...yield* trashUnreadable(trashed.failure))
    } else {
      yield* Effect.forEach(trashed.success, (file) => Effect.gen(function*() {
        const outcome = yield* copy(trash.load(file), (session) => target.StorePg.insertTrashed(target.db, session, file.ms), file.path)
        if (outcome !== "failed") yield* copyEvents(file.id)
        trashOutcomes.push(outcome)
        progress()
      }), { concurrency: CONCURRENCY, discard: true })
    }
    return { ...summarize(outcomes), trash: summarize(trashOutcomes) }
  }))

/**
 * Copies every session stored in the database at `options.url`, every
 * trashed copy in its trash, and their durable events into the data dir.
 * Fails with `Io` (one line naming `host:port`) when the database cannot be
 * reached; per-session problems are counted in the {@link Summary}.
 *
 * @since 0.1.0
 * @category migrations
 */
export const fromPostgres = (dataDir: DataDir.DataDir["Service"], options: Options): Effect.Effect<Summary, SessionStore.SessionStoreError> =>
  Effect.scoped(Effect.gen(function*() {
    const source = yield* openDatabase(options.url)
    const toIo = (e: { readonly message: string }) => new SessionStore.SessionStoreError({ reason: "Io", message: e.message, cause: e })
    const ids = yield* Effect.mapError(source.StorePg.ids(source.db), toIo)
    const trashed = yield* Effect.mapError(source.StorePg.trashedCopies(source.db), toIo)
    const files = SessionStore.makeFileSystem(dataDir.sessionsDir)
    const trash = SessionStore.fileTrash(dataDir.path)
    const eventsDir = NodePath.join(dataDir.path, "events")
    const events = DurableSink.makeJsonl(eventsDir)
    const eventsCopied = new Set<string>()
    /** The events of session `id` the data dir does not have yet (once per id). */
    const copyEvents = (id: string) =>
      Effect.gen(function*() {
        if (eventsCopied.has(id)) return
        eventsCopied.add(id)
        const copied = yield* Effect.gen(function*() {
          const have = yield* events.read(id)
          const last = have.reduce((max, r) => Math.max(max, r.seq), 0)
          const missing = yield* source.sink.read(id, { after: last })
          if (missing.length === 0) return
          const lines = missing.map((r) => `${JSON.stringify(r)}\n`).join("")
          const path = NodePath.join(eventsDir, `${id}.jsonl`)
          yield* Effect.tryPromise({
            try: () => SafeFs.ensureDir(eventsDir).then(() => SafeFs.appendFile(path, lines)),
            catch: (cause) =>
              new DurableSink.DurableSinkError({
                reason: "Io",
                message: `Cannot write ${path}: ${cause instanceof SafeFs.SafeFsError ? cause.detail : (cause as Error).message}`,
                path,
                cause
              })
          })
        }).pipe(Effect.result)
        if (Result.isFailure(copied)) yield* Effect.logWarning(`cannot copy the events of session ${id}: ${copied.failure.message}`)
      })
    const total = ids.length + trashed.length
    let done = 0
    const progress = () => options.onProgress?.(++done, total)
    const outcomes: Array<Outcome> = []
    yield* Effect.forEach(ids, (id) => Effect.gen(function*() {
      const outcome = yield* copy(source.store.load(id), (session) => files.replaceIfOlder(session), `session ${id}`)
      if (outcome !== "failed") yield* copyEvents(id)
      outcomes.push(outcome)
      progress()
    }), { concurrency: CONCURRENCY, discard: true })
    const trashOutcomes: Array<Outcome> = []
    yield* Effect.forEach(trashed, (copied) => Effect.gen(function*() {
      const outcome = yield* copy(
        source.StorePg.loadTrashed(source.db, copied),
        (session) => trash.put(session, copied.ms),
        `trashed session ${copied.id}`
      )
      if (outcome !== "failed") yield* copyEvents(copied.id)
      trashOutcomes.push(outcome)
      progress()
    }), { concurrency: CONCURRENCY, discard: true })
    return { ...summarize(outcomes), trash: summarize(trashOutcomes) }
  }))
