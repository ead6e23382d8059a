/**
 * Persistence of sessions, compatible with codetether-agent 4.5.7's data dir:
 * `<data_dir>/sessions/<id>.json` (compact JSON, written atomically), the
 * workspace index `.workspace_index.json`, listing, bounded tail loads and
 * "the last session for this directory".
 *
 * Two layers implement the same contract: {@link layerFileSystem} (the data
 * dir on disk, needs {@link DataDir.DataDir}) and {@link layerMemory} (in
 * process, for tests and embedders). Both store the exact bytes 4.5.7 writes.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import { mergeSummaries } from "../schemas/CodexRollout.ts"
import type { Message } from "../schemas/Message.ts"
import * as Session_ from "../schemas/Session.ts"
import type { Session, TailLoad } from "../schemas/Session.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import * as SessionSummary_ from "../schemas/SessionSummary.ts"
import type { SessionSummary } from "../schemas/SessionSummary.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as WorkspaceIndex from "../schemas/WorkspaceIndex.ts"
import * as DataDir from "./DataDir.ts"
import { AtomicWriteError, type ChunkSink, removeStaleTemps, writeFileAtomic, writeFileAtomicWith } from "./internal/AtomicWrite.ts"
import { canonicalize, componentsEqual, extensionOf, normalizeComponents } from "./internal/Paths.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as SessionFile from "./internal/SessionFile.ts"
import * as LazyModule from "./internal/LazyModule.ts"
import * as SessionLock from "./internal/SessionLock.ts"
import * as WorkspaceIndexFile from "./internal/WorkspaceIndexFile.ts"

/**
 * Why a store operation failed:
 * - `NotFound`: no session file with that id, or no session for a directory
 *   (`No sessions found`, as 4.5.7 says);
 * - `Corrupt`: the file exists but does not decode; `message` names the file
 *   and the JSON path inside it;
 * - `IdMismatch`: the file decodes but holds another session (its inner `id`
 *   is not its file name, e.g. `backup.json` holding session X): the file
 *   name is a session's identity, so such a file is never loaded or resumed;
 * - `InvalidId`: the id cannot name a file safely (nothing was read or written);
 * - `Io`: the file system failed (permissions, disk full, a symlink or FIFO
 *   where a session or directory should be, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionStoreError extends Schema.TaggedError<SessionStoreError>()("SessionStoreError", {
  reason: Schema.Literals(["NotFound", "Corrupt", "IdMismatch", "InvalidId", "Io"]),
  message: Schema.String,
  sessionId: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * Who holds a session's lease: the process (`pid` on `host`), when it took it
 * (`startedAt`, RFC 3339) and what for (`prompt`: a running prompt; `save`
 * or `delete`: a short write).
 *
 * @since 0.1.0
 * @category models
 */
export const LeaseHolder = Schema.Struct({
  pid: Schema.Number,
  host: Schema.String,
  startedAt: Schema.String,
  purpose: Schema.Literals(["prompt", "save", "delete"])
})

/**
 * @since 0.1.0
 * @category models
 */
export type LeaseHolder = typeof LeaseHolder.Type

const timeOfDay = (iso: string, now: Date): string => {
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return iso
  const pad = (n: number) => String(n).padStart(2, "0")
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() &&
    at.getDate() === now.getDate()
  return sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`
}

/**
 * The sentence {@link SessionBusy} says, e.g. `session 1b2c… is busy: a
 * prompt started by pid 4242 at 18:02:11 is running` (the host is named when
 * it is not this one; the date when it is not today).
 *
 * @since 0.1.0
 * @category errors
 */
export const busyMessage = (sessionId: string, holder: LeaseHolder, localHost: string, now = new Date()): string => {
  const by = `pid ${holder.pid}${holder.host === localHost ? "" : ` on host ${holder.host}`}`
  const at = timeOfDay(holder.startedAt, now)
  switch (holder.purpose) {
    case "prompt":
      return `session ${sessionId} is busy: a prompt started by ${by} at ${at} is running`
    case "save":
      return `session ${sessionId} is busy: ${by} has been saving it since ${at}`
    case "delete":
      return `session ${sessionId} is busy: ${by} has been deleting it since ${at}`
  }
}

/**
 * The session's lease is held by someone else (another process, another
 * machine, or another prompt of this process): nothing was read for writing
 * and nothing was written. `holder` says who; `message` is one line, e.g.
 * `session 1b2c… is busy: a prompt started by pid 4242 at 18:02:11 is running`.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionBusy extends Schema.TaggedError<SessionBusy>()("SessionBusy", {
  sessionId: Schema.String,
  holder: LeaseHolder,
  message: Schema.String
}) {}

/**
 * A conditional write was refused and nothing was written:
 * - `Stale`: the stored session changed since this value was loaded (another
 *   writer saved it): reload and retry;
 * - `Exists`: a new session value (never loaded or saved) has the id of a
 *   stored session;
 * - `Deleted`: the session was deleted since this value was loaded;
 * - `LeaseLost`: a prompt's lease was removed or taken over while it ran
 *   (`sessions delete --force`, or `--force` from another process).
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionConflict extends Schema.TaggedError<SessionConflict>()("SessionConflict", {
  sessionId: Schema.String,
  reason: Schema.Literals(["Stale", "Exists", "Deleted", "LeaseLost"]),
  message: Schema.String
}) {}

/**
 * The {@link SessionConflict} of `reason` for session `sessionId`, with its
 * standard message (every store uses it).
 *
 * @since 0.1.0
 * @category errors
 */
export const conflict = (sessionId: string, reason: SessionConflict["reason"]): SessionConflict => {
  switch (reason) {
    case "Stale":
      return new SessionConflict({
        sessionId,
        reason,
        message:
          `session ${sessionId} changed since this copy was loaded (another writer saved it); nothing was written: load it again and retry`
      })
    case "Exists":
      return new SessionConflict({
        sessionId,
        reason,
        message: `session ${sessionId} already exists; a new session with that id was not written`
      })
    case "Deleted":
      return new SessionConflict({
        sessionId,
        reason,
        message: `session ${sessionId} was deleted since this copy was loaded; nothing was written`
      })
    case "LeaseLost":
      return new SessionConflict({
        sessionId,
        reason,
        message:
          `session ${sessionId} was deleted or its lease taken over (--force) while this prompt ran; nothing more was written`
      })
  }
}

/**
 * Checks a conditional write: `expected` is the revision the value carries
 * (`undefined`: a new session), `stored` the store's current one
 * (`undefined`: nothing stored). Returns the conflict, or `undefined` when
 * the write may go ahead.
 *
 * @since 0.1.0
 * @category errors
 */
export const checkRevision = (
  sessionId: string,
  expected: string | undefined,
  stored: string | undefined
): SessionConflict | undefined => {
  if (expected === stored) return undefined
  if (expected === undefined) return conflict(sessionId, "Exists")
  if (stored === undefined) return conflict(sessionId, "Deleted")
  return conflict(sessionId, "Stale")
}

/**
 * A session's lease, held from {@link SessionStore} `lease` until its scope
 * closes: while it is held no other prompt, save or delete (of this process
 * or any other) touches the session, except a forced delete or takeover,
 * after which `save` fails with `LeaseLost`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly sessionId: string
  readonly holder: LeaseHolder
  /**
   * Saves `session` (same format and atomicity as the store's `save`),
   * conditional on the revision this lease last wrote or was given, and
   * returns it with its new revision. Fails with `SessionConflict` (`LeaseLost`
   * when the lease was taken away; `Stale`/`Deleted` when another writer that
   * ignores leases, such as 4.5.7, changed the file) or `SessionStoreError`.
   */
  readonly save: (session: Session) => Effect.Effect<Session, SessionStoreError | SessionConflict>
}

/**
 * Options of {@link SessionStore} `lease` and `delete`: `force` takes over a
 * lease held by a live process, or by another host (with a warning), instead
 * of failing with `SessionBusy`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ForceOptions {
  readonly force?: boolean | undefined
}

/**
 * Options of {@link SessionStore} `lastForDirectory`.
 *
 * @since 0.1.0
 * @category models
 */
export interface LastOptions {
  /** Keep only the last `window` messages and tool uses (default: all). */
  readonly window?: number | undefined
}

/**
 * A session in the trash (`SessionStore` `trash`): its id and when it was
 * moved there (`deletedAt`, millisecond precision).
 *
 * @since 0.1.0
 * @category models
 */
export interface TrashEntry {
  readonly id: string
  readonly deletedAt: Timestamp.Timestamp
}

/**
 * A {@link TrashEntry} with the summary of the trashed session, or, when
 * its file does not decode, `summary` `undefined` and the reason in
 * `problem`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TrashedSession extends TrashEntry {
  readonly summary: SessionSummary | undefined
  readonly problem?: string | undefined
}

/**
 * Options of {@link SessionStore} `purge`: only the sessions trashed at
 * least `olderThan` ago (default: all), only those with this `id` (default:
 * every id).
 *
 * @since 0.1.0
 * @category models
 */
export interface PurgeOptions {
  readonly olderThan?: Duration.Input | undefined
  readonly id?: string | undefined
}

/**
 * The errors of a conditional write.
 *
 * @since 0.1.0
 * @category errors
 */
export type WriteError = SessionStoreError | SessionBusy | SessionConflict

/**
 * @since 0.1.0
 * @category services
 */
export class SessionStore extends Context.Service<SessionStore, {
  /**
   * Writes the session as compact JSON (no trailing newline), atomically (a
   * temporary file of its own, fsync, rename; files 0600, directories 0700),
   * then records `metadata.directory` (canonicalised) -> id in the workspace
   * index, best effort. Does not change the session's fields (4.5.7 `save`
   * does not bump `updated_at`).
   *
   * The save is conditional: the value's revision ({@link Session_.revisionOf},
   * set by every load and save) must be the stored one, and a value without
   * one (a new session) must not have a stored copy. Returns the session with
   * its new revision: save that value (or values derived from it) next.
   *
   * Fails with `SessionConflict` (nothing written), `SessionBusy` (a prompt
   * holds the session's lease), or `SessionStoreError` (`InvalidId`, `Io`).
   */
  readonly save: (session: Session) => Effect.Effect<Session, WriteError>
  /**
   * {@link save} with the messages taken, in order, from `messages` instead
   * of `session.messages`: each message is encoded and written as it arrives,
   * so a session larger than memory should hold (an import) is never built in
   * full. Returns `session` (with its own messages) with the new revision.
   * When the stream fails or is interrupted the previous file is kept. Also
   * fails with `Corrupt` (a message that cannot be encoded) or the stream's
   * own error.
   */
  readonly saveStream: <E, R>(
    session: Session,
    messages: Stream.Stream<Message, E, R>
  ) => Effect.Effect<Session, WriteError | E, R>
  /**
   * The deliberate replacement of an older stored copy (imports, migrations):
   * writes `session` (its messages from `messages` when given) unless a
   * stored copy that decodes has an `updated_at` at or after the session's
   * (4.5.7's import persist rule). A stored copy that does not decode is
   * replaced. Returns whether it wrote. Fails with `SessionBusy` (a prompt
   * holds the lease), `SessionStoreError`, or the stream's error.
   */
  readonly replaceIfOlder: <E = never, R = never>(
    session: Session,
    messages?: Stream.Stream<Message, E, R>
  ) => Effect.Effect<boolean, SessionStoreError | SessionBusy | E, R>
  /**
   * The whole session, carrying its revision. Fails with `InvalidId`,
   * `NotFound`, `Corrupt` (naming the file and the JSON path), `IdMismatch`
   * or `Io`.
   */
  readonly load: (id: string) => Effect.Effect<Session, SessionStoreError>
  /**
   * The session with only the last `window` messages and tool uses (each array
   * independently), the number of elements dropped and the file size in bytes
   * (4.5.7 `load_tail`). Reads the file as a stream: a file larger than V8's
   * maximum string length loads. Kept elements are type-checked; dropped ones
   * are checked for JSON structure only. The session carries the revision of
   * the whole stored copy (so saving a tail-loaded value replaces the file
   * with the kept messages only). Errors as {@link load}.
   */
  readonly loadTail: (id: string, window: number) => Effect.Effect<TailLoad, SessionStoreError>
  /**
   * Removes the session; succeeds when it does not exist (4.5.7 `delete`).
   * Returns `true` when a session was removed, `false` when there was none.
   * The workspace index keeps its (now stale) entry, as in 4.5.7. Fails with
   * `SessionBusy` while a prompt holds the lease, unless `force` (the running
   * prompt's next save then fails with `SessionConflict` `LeaseLost` instead
   * of recreating the file); `InvalidId` or `Io`.
   */
  readonly delete: (id: string, options?: ForceOptions) => Effect.Effect<boolean, SessionStoreError | SessionBusy>
  /**
   * Moves the session to the trash instead of deleting it: from then on
   * `load`, `loadTail`, the listings and `lastForDirectory` do not see it;
   * {@link restore} brings it back, {@link purge} deletes it for good. The
   * time (the `Clock`'s) is recorded with it, never in the session's bytes,
   * which are kept as they are. Trashing a session again (recreated since)
   * keeps both trashed copies. Returns `false` when there was no session.
   * Leases as {@link delete}: `SessionBusy` while a prompt holds the lease,
   * unless `force` (the prompt's next save then fails with `LeaseLost`).
   * Fails with `InvalidId` or `Io`.
   */
  readonly trash: (id: string, options?: ForceOptions) => Effect.Effect<boolean, SessionStoreError | SessionBusy>
  /**
   * Moves the most recently trashed copy of session `id` back, unchanged, and
   * returns its entry. Never overwrites: a live session with that id is a
   * `SessionConflict` (`Exists`) and the trashed copy stays. Fails with
   * `NotFound` when nothing with that id is in the trash, `SessionBusy` when
   * a prompt holds the id's lease, `InvalidId` or `Io`.
   */
  readonly restore: (id: string) => Effect.Effect<TrashedSession, SessionStoreError | SessionBusy | SessionConflict>
  /**
   * The sessions in the trash, most recently trashed first, with their
   * summaries (a trashed file that does not decode is listed with its
   * `problem`). Fails with `Io` when the trash cannot be read.
   */
  readonly listTrash: Effect.Effect<ReadonlyArray<TrashedSession>, SessionStoreError>
  /**
   * Deletes trashed sessions for good (see {@link PurgeOptions}) and returns
   * what it deleted, most recently trashed first. Fails with `InvalidId`
   * (an `id` option that cannot name a session) or `Io`.
   */
  readonly purge: (options?: PurgeOptions) => Effect.Effect<ReadonlyArray<TrashEntry>, SessionStoreError>
  /**
   * Takes the session's lease for a prompt, held until the scope closes: a
   * second `lease` (any process, any machine sharing the store) fails at once
   * with `SessionBusy` naming the holder, and so do saves and deletes of the
   * session by others. A lease whose holder is gone (same host, no process
   * with that pid and start time) is taken over. `session` must be current
   * (its revision is the stored one, or it is new and nothing is stored),
   * else `SessionConflict`. Nothing is written by a refused lease.
   */
  readonly lease: (
    session: Session,
    options?: ForceOptions
  ) => Effect.Effect<Lease, SessionStoreError | SessionBusy | SessionConflict, Scope.Scope>
  /**
   * Who holds the session's lease now, without taking it: `Option.some`
   * while a prompt holds it (or a short save or delete of another process
   * is under way: `purpose` says which), `Option.none()` when nobody does:
   * no lease, or one whose holder is gone (the next {@link lease} would take
   * it over). The holder is the one a {@link SessionBusy} would name. A
   * session that is not stored has no holder unless a prompt leased it
   * before its first save. Reads only. Fails with `InvalidId` or `Io`.
   */
  readonly holder: (id: string) => Effect.Effect<Option.Option<LeaseHolder>, SessionStoreError>
  /**
   * A summary of every session, newest `updated_at` first (4.5.7
   * `list_sessions`). Files that are not sessions (corrupt, truncated, empty,
   * binary, other JSON, a copy holding another id, a FIFO, a symlink leaving
   * the data dir) are skipped with one warning each. Fails with `Io` only when
   * the sessions directory itself cannot be read.
   */
  readonly list: Effect.Effect<ReadonlyArray<SessionSummary>, SessionStoreError>
  /**
   * The summaries whose `directory`, canonicalised, equals `directory`
   * canonicalised (4.5.7 `list_sessions_for_directory`). Same errors as
   * {@link list}.
   */
  readonly listForDirectory: (directory: string) => Effect.Effect<ReadonlyArray<SessionSummary>, SessionStoreError>
  /**
   * The session a resume in `directory` picks (4.5.7
   * `last_for_directory_tail`): the workspace index entry when it is still
   * valid, otherwise the newest file (by modification time) whose header
   * belongs to the directory. Stops at the first confirmed match and repairs
   * the index. A file whose header matches but whose body is corrupt is skipped
   * with a warning (4.5.7 failed instead), and so is a file whose inner id is
   * not its name. Fails with `NotFound` (`No sessions found`) or `Io`.
   */
  readonly lastForDirectory: (
    directory: string,
    options?: LastOptions
  ) => Effect.Effect<TailLoad, SessionStoreError>
}>()("codetether/SessionStore") {}

const MAX_ID_BYTES = 200

/**
 * Checks that `id` can safely name `<id>.json`: non-empty, not `.` or `..`, no
 * `/` or `\`, no NUL or other control characters, at most 200 UTF-8 bytes.
 * Every id 4.5.7 produces (UUID v4, Codex UUID v7) passes.
 *
 * Fails with `InvalidId` and a message saying why.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateId = (id: string): Effect.Effect<string, SessionStoreError> => {
  const problem = idProblem(id)
  return problem === undefined
    ? Effect.succeed(id)
    : Effect.fail(
      new SessionStoreError({ reason: "InvalidId", message: `Invalid session id ${JSON.stringify(id)}: ${problem}` })
    )
}

/**
 * Why `id` is not a valid session id, or `undefined` when it is.
 *
 * @since 0.1.0
 * @category validation
 */
export const idProblem = (id: string): string | undefined => {
  if (id.length === 0) return "it is empty"
  if (id === "." || id === "..") return "it names a directory"
  if (id.includes("/") || id.includes("\\")) return "it contains a path separator"
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) return "it contains a control character"
  if (Buffer.byteLength(id) > MAX_ID_BYTES) return `it is longer than ${MAX_ID_BYTES} bytes`
  return undefined
}

/**
 * The `NotFound` error of a resume that found nothing (`No sessions found`, as 4.5.7 says).
 *
 * @since 0.1.0
 * @category errors
 */
export const noSessions = (): SessionStoreError => new SessionStoreError({ reason: "NotFound", message: "No sessions found" })

/**
 * The `NotFound` error of a restore with nothing of that id in the trash
 * (every store uses it).
 *
 * @since 0.1.0
 * @category errors
 */
export const notInTrash = (id: string): SessionStoreError =>
  new SessionStoreError({ reason: "NotFound", message: `No trashed session ${id}`, sessionId: id })

/**
 * The `SessionConflict` (`Exists`) of a restore refused because a live
 * session has the id (every store uses it).
 *
 * @since 0.1.0
 * @category errors
 */
export const restoreConflict = (id: string): SessionConflict =>
  new SessionConflict({
    sessionId: id,
    reason: "Exists",
    message: `session ${id} exists; the trashed copy was not restored over it (delete or rename the live session first)`
  })

/**
 * A trash entry's `deletedAt` from its time in ms since the epoch.
 *
 * @since 0.1.0
 * @category models
 */
export const deletedAtOf = (ms: number): Timestamp.Timestamp => Timestamp.fromEpochNanos(BigInt(ms) * 1_000_000n)

/**
 * The cut-off of a purge in ms since the epoch (the `Clock`'s time minus
 * `olderThan`): entries trashed at or before it go (`Infinity`: all). Fails
 * with `InvalidId` for an invalid `id` or age.
 *
 * @since 0.1.0
 * @category validation
 */
export const purgeCutoff: (options: PurgeOptions | undefined) => Effect.Effect<number, SessionStoreError> = Effect.fnUntraced(function*(options: PurgeOptions | undefined) {
  if (options?.id !== undefined) yield* validateId(options.id)
  if (options?.olderThan === undefined) return Number.POSITIVE_INFINITY
  const age = Duration.fromInput(options.olderThan)
  if (age._tag === "None") {
    return yield* new SessionStoreError({ reason: "InvalidId", message: `Invalid purge age ${String(options.olderThan)}` })
  }
  return (yield* Clock.currentTimeMillis) - Duration.toMillis(age.value)
})

/**
 * The name of a trash directory for a deletion at `ms` (UTC, file-name safe):
 * `2026-11-30T20-21-29.123Z`.
 */
const trashDirName = (ms: number): string => new Date(ms).toISOString().replace(/:/g, "-")

/** The time of a trash directory's name, or `undefined` for any other name. */
const parseTrashDirName = (name: string): number | undefined => {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})Z$/.exec(name)
  if (match === null) return undefined
  const ms = Date.parse(`${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z`)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * A trashed session file of the file store:
 * `<data_dir>/trash/<deletion time>/<id>.json` (`dir` is the deletion
 * directory, `ms` its time in ms since the epoch).
 *
 * @since 0.1.0
 * @category models
 */
export interface TrashFile {
  readonly id: string
  readonly ms: number
  readonly dir: string
  readonly path: string
  readonly deletedAt: Timestamp.Timestamp
}

/**
 * The trashed session files under `trashDir`, newest deletion first: real
 * deletion directories only (never a symlink), `<id>.json` names with a valid
 * id. Synchronous; throws the file system's error.
 */
const readTrashDir = (trashDir: string): ReadonlyArray<TrashFile> => {
  const top = NodeFs.lstatSync(trashDir, { throwIfNoEntry: false })
  if (top === undefined) return []
  if (!top.isDirectory()) throw new SafeFs.SafeFsError("NotRegular", trashDir, "is not a directory (a symlink?)")
  const dirs: Array<{ path: string; ms: number }> = []
  for (const name of NodeFs.readdirSync(trashDir)) {
    const ms = parseTrashDirName(name)
    const path = NodePath.join(trashDir, name)
    if (ms !== undefined && NodeFs.lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true) dirs.push({ path, ms })
  }
  return dirs.sort((a, b) => b.ms - a.ms).flatMap((dir) =>
    NodeFs.readdirSync(dir.path).flatMap((name) => {
      const id = SessionFile.idOfPath(name)
      if (extensionOf(name) !== "json" || idProblem(id) !== undefined) return []
      return [{ id, ms: dir.ms, dir: dir.path, path: NodePath.join(dir.path, name), deletedAt: deletedAtOf(dir.ms) }]
    })
  )
}

/**
 * The file store's trash in the data dir `dataDir`, as files (what `sessions
 * migrate` copies to and from another store's trash, keeping each copy's
 * deletion time):
 * - `list`: every trashed copy, newest deletion first (fails with `Io` when
 *   `<dataDir>/trash` cannot be read, e.g. a symlink);
 * - `load`: the session in a trashed file (read as the store reads its files;
 *   `NotFound`, `Corrupt`, `IdMismatch`, `Io`);
 * - `put`: writes `session` as trashed at `ms` (compact encoding, atomic,
 *   0600 in 0700 directories), unless a copy of that id trashed at that time
 *   is there; returns whether it wrote (`Io` on failure).
 *
 * @since 0.1.0
 * @category trash
 */
export const fileTrash = (dataDir: string) => {
  const trashDir = NodePath.join(dataDir, "trash")
  const readOptions: SessionFile.ReadOptions = { within: dataDir }
  const io = (what: string, path: string, id?: string) => (e: unknown) =>
    new SessionStoreError({
      reason: "Io",
      message: `${what} ${path}: ${e instanceof SafeFs.SafeFsError ? e.detail : (e as Error)?.message ?? String(e)}`,
      path,
      cause: e,
      ...(id === undefined ? {} : { sessionId: id })
    })
  return {
    list: Effect.try({ try: () => readTrashDir(trashDir), catch: io("Cannot read the trash", trashDir) }),
    load: (file: TrashFile): Effect.Effect<Session, SessionStoreError> =>
      Effect.map(
        Effect.tryPromise({
          try: () => SessionFile.readTail(file.path, Number.POSITIVE_INFINITY, readOptions),
          catch: fromReadError(file.id)
        }),
        (loaded) => Session_.withRevision(loaded.session, undefined)
      ),
    put: (session: Session, ms: number): Effect.Effect<boolean, SessionStoreError> =>
      Effect.gen(function*() {
        const id = yield* validateId(session.id)
        const dir = NodePath.join(trashDir, trashDirName(ms))
        const path = NodePath.join(dir, `${id}.json`)
        if (NodeFs.lstatSync(path, { throwIfNoEntry: false }) !== undefined) return false
        const chunks = yield* encodeSession(session)
        yield* Effect.try({
          try: () => {
            SafeFs.ensureDirSync(trashDir)
            SafeFs.ensureDirSync(dir)
          },
          catch: io("Cannot write to the trash", dir, id)
        })
        yield* Effect.mapError(writeFileAtomic(path, chunks, { sync: true }), io("Cannot write", path, id))
        return true
      })
  }
}

/**
 * Checks a tail window: a non-negative integer or `Infinity` (fails with
 * `InvalidId` otherwise).
 *
 * @since 0.1.0
 * @category validation
 */
export const checkWindow = (window: number): Effect.Effect<number, SessionStoreError> =>
  window === Number.POSITIVE_INFINITY || (Number.isInteger(window) && window >= 0)
    ? Effect.succeed(window)
    : Effect.fail(
      new SessionStoreError({
        reason: "InvalidId",
        message: `Invalid tail window ${window}: expected a non-negative integer`
      })
    )

const fromReadError = (id: string | undefined) => (e: unknown): SessionStoreError => {
  if (e instanceof SessionFile.FileReadError) {
    switch (e.kind) {
      case "Missing":
        return new SessionStoreError({
          reason: "NotFound",
          message: id === undefined ? `No session file at ${e.path}` : `Session not found: ${id}`,
          path: e.path,
          ...(id === undefined ? {} : { sessionId: id })
        })
      case "Corrupt":
        return new SessionStoreError({
          reason: "Corrupt",
          message: `Session file ${e.path} is not a valid session: ${e.detail}`,
          path: e.path,
          ...(id === undefined ? {} : { sessionId: id })
        })
      case "IdMismatch":
        return new SessionStoreError({
          reason: "IdMismatch",
          message: `Session file ${e.path} is not loaded: ${e.detail}`,
          path: e.path,
          ...(id === undefined ? {} : { sessionId: id })
        })
      case "Io":
        return new SessionStoreError({
          reason: "Io",
          message: `Cannot read ${e.path}: ${e.detail}`,
          path: e.path,
          cause: e,
          ...(id === undefined ? {} : { sessionId: id })
        })
    }
  }
  return new SessionStoreError({ reason: "Io", message: `Session store failure: ${String(e)}`, cause: e })
}

/** Runs an encoder; a failure is `Corrupt` (a value the format cannot hold, e.g. a bad timestamp). */
const encodeWith = <A>(sessionId: string, what: string, encode: () => A): Effect.Effect<A, SessionStoreError> =>
  Effect.try({
    try: encode,
    catch: (e) =>
      new SessionStoreError({
        reason: "Corrupt",
        message: `${what} cannot be encoded: ${(e as Error).message ?? String(e)}`,
        sessionId,
        cause: e
      })
  })

const encodeSession = (session: Session) =>
  encodeWith(session.id, `Session ${session.id}`, () => SessionJson.encodeChunks(session))

/** How long a write waits for another process's short save or delete to finish (ms). */
const SHORT_LOCK_WAIT_MS = 2_000

/**
 * The file-system store rooted at `sessionsDir` (`<data_dir>/sessions`).
 *
 * Leases are lock files `<id>.json.lock` beside the sessions (see
 * `internal/SessionLock.ts`); revisions are the inode, size and modification
 * time of `<id>.json` (each save sets a modification time past the previous
 * one). Session files and the index are read through symlinks only when they
 * point inside the data dir (the parent of `sessionsDir`); the sessions
 * directory itself must not be a symlink for writes.
 *
 * With `gitignore`, creating the data dir (the parent of `sessionsDir`) also
 * writes `<data_dir>/.gitignore` holding `*` (see {@link layerFileSystem}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (
  sessionsDir: string,
  options: { readonly gitignore?: boolean | undefined } = {}
): SessionStore["Service"] => {
  const dataDir = NodePath.dirname(sessionsDir)
  const dirOptions: SafeFs.EnsureDirOptions = options.gitignore === true ? { gitignoreIn: dataDir } : {}
  const readOptions: SessionFile.ReadOptions = { within: dataDir }
  const indexLock = Semaphore.makeUnsafe(1)
  const pathOf = (id: string) => NodePath.join(sessionsDir, `${id}.json`)
  const lockPathOf = (id: string) => NodePath.join(sessionsDir, `${id}.json.lock`)
  let swept = false

  const ioError = (id: string | undefined, path: string, what: string) => (e: unknown) =>
    new SessionStoreError({
      reason: "Io",
      message: `${what} ${path}: ${(e as Error)?.message ?? String(e)}`,
      path,
      cause: e,
      ...(id === undefined ? {} : { sessionId: id })
    })

  /** Creates the sessions dir (0700; never through a symlink) and, once, sweeps stale temp files. */
  const makeSessionsDir = (id: string) =>
    Effect.try({
      try: () => {
        SafeFs.ensureDirSync(sessionsDir, 0o700, dirOptions)
        if (!swept) {
          swept = true
          removeStaleTemps(sessionsDir)
        }
      },
      catch: (e) =>
        new SessionStoreError({
          reason: "Io",
          message: `Cannot write sessions in ${sessionsDir}: ${e instanceof SafeFs.SafeFsError ? e.detail : String(e)}`,
          path: sessionsDir,
          sessionId: id,
          cause: e
        })
    })

  const storedRevision = (id: string) =>
    Effect.try({ try: () => SessionFile.currentRevision(pathOf(id)), catch: ioError(id, pathOf(id), "Cannot stat") })

  const busy = (id: string, holder: SessionLock.Holder) =>
    new SessionBusy({
      sessionId: id,
      holder: { pid: holder.pid, host: holder.host, startedAt: holder.startedAt, purpose: holder.purpose },
      message: busyMessage(id, holder, SessionLock.hostName())
    })

  /**
   * Takes `<id>.json.lock` for `purpose`, waiting up to
   * {@link SHORT_LOCK_WAIT_MS} for another writer's short save or delete, and
   * releases it when the scope closes. Fails with `SessionBusy` when a prompt
   * holds it (unless `force`).
   */
  const takeLock = (id: string, purpose: SessionLock.Purpose, options: ForceOptions = {}) =>
    Effect.acquireRelease(
      Effect.gen(function*() {
        yield* makeSessionsDir(id)
        const path = lockPathOf(id)
        const started = Date.now()
        for (;;) {
          const outcome = yield* Effect.try({
            try: () => SessionLock.tryAcquire(path, purpose, { force: options.force === true }),
            catch: ioError(id, path, "Cannot take the lock")
          })
          if (outcome._tag === "Acquired") {
            const previous = outcome.tookOver
            if (options.force === true && previous !== undefined && previous !== "invalid" && !SessionLock.isStale(previous)) {
              yield* Effect.logWarning(`${busyMessage(id, previous, SessionLock.hostName())}; taking it over (--force)`)
            }
            return outcome.holder
          }
          if (outcome.holder.purpose === "prompt" || Date.now() - started > SHORT_LOCK_WAIT_MS) {
            return yield* busy(id, outcome.holder)
          }
          // real time, whatever Clock the caller runs with (a TestClock would never wake up)
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
        }
      }),
      (holder) => Effect.sync(() => SessionLock.release(lockPathOf(id), holder))
    )

  /**
   * Runs a short write of session `id` (save, delete) and its lock's scope
   * after the other short writes of this process to the same id: they queue
   * instead of polling the lock file.
   */
  const queues = new Map<string, Semaphore.Semaphore>()
  const exclusive = <A, E, R>(id: string, effect: Effect.Effect<A, E, R | Scope.Scope>) => {
    let queue = queues.get(id)
    if (queue === undefined) queues.set(id, queue = Semaphore.makeUnsafe(1))
    return queue.withPermits(1)(Effect.scoped(effect))
  }

  const readTail = (id: string | undefined, path: string, window: number) =>
    Effect.tryPromise({ try: () => SessionFile.readTail(path, window, readOptions), catch: fromReadError(id) })

  const upsertIndex = (workspace: string, id: string) =>
    indexLock.withPermits(1)(WorkspaceIndexFile.upsert(sessionsDir, workspace, id)).pipe(
      Effect.catch((e) => Effect.logWarning(`workspace index update failed (the session is saved): ${e.message}`))
    )

  // Directory listing, stats, index and header-prefix reads are synchronous:
  // each is a small syscall answered from the kernel's caches, and a scan does
  // thousands of them, where a thread-pool round trip each costs ~10x more
  // (4.5.7 runs the whole scan on one blocking thread for the same reason).
  // Whole-session reads and writes stay asynchronous.
  const listCandidates = Effect.fnUntraced(function*() {
    const names = yield* Effect.try({
      try: () => NodeFs.readdirSync(sessionsDir),
      catch: (e) => e as NodeJS.ErrnoException
    }).pipe(
      Effect.catch((e) =>
        e.code === "ENOENT" ? Effect.succeed([] as Array<string>) : Effect.fail(
          new SessionStoreError({
            reason: "Io",
            message: `Cannot list ${sessionsDir}: ${e.message}`,
            path: sessionsDir,
            cause: e
          })
        )
      )
    )
    return names.filter((name) => extensionOf(name) === "json" && name !== WorkspaceIndex.FILE_NAME).map((name) =>
      NodePath.join(sessionsDir, name)
    )
  })

  /**
   * Writes `<id>.json` atomically with what `produce` writes (fsync, then
   * rename), the caller holding the session's lock. `expected` is checked
   * again just before the rename (a writer that ignores locks, such as 4.5.7,
   * may have saved meanwhile), and the new file's modification time is set
   * past the old one's so the revision always changes. Then points the
   * workspace index at it. Returns the new revision.
   */
  const persist = <E, R>(
    session: Session,
    id: string,
    expected: string | undefined | "any",
    produce: (sink: ChunkSink) => Effect.Effect<void, E, R>
  ) =>
    Effect.gen(function*() {
      const path = pathOf(id)
      let revision = ""
      yield* writeFileAtomicWith(path, produce, {
        sync: true,
        beforeRename: (handle) =>
          Effect.gen(function*() {
            const previous = yield* Effect.try({
              try: () => NodeFs.statSync(path, { bigint: true, throwIfNoEntry: false }),
              catch: ioError(id, path, "Cannot stat")
            })
            if (expected !== "any") {
              const problem = checkRevision(id, expected, previous === undefined ? undefined : SessionFile.revisionOfStat(previous))
              if (problem !== undefined) return yield* problem
            }
            revision = yield* Effect.tryPromise({
              try: async () => {
                const nowNs = BigInt(Date.now()) * 1_000_000n
                const floor = previous === undefined ? 0n : previous.mtimeNs + 2_000n
                const mtimeNs = nowNs > floor ? nowNs : floor
                const mine = await handle.stat({ bigint: true })
                await handle.utimes(Number(mine.atimeNs) / 1e9, Number(mtimeNs) / 1e9)
                return SessionFile.revisionOfStat(await handle.stat({ bigint: true }))
              },
              catch: ioError(id, path, "Cannot stamp")
            })
          })
      }).pipe(
        Effect.catchIf((e): e is AtomicWriteError => e instanceof AtomicWriteError, (e) => Effect.fail(saveError(id, path)(e)))
      )
      const directory = session.metadata.directory
      if (directory !== null) yield* upsertIndex(canonicalize(directory), id)
      return revision
    })

  /** A conditional save under a short `save` lock (see `save` and `saveStream`). */
  const conditionalSave = <E, R>(session: Session, id: string, produce: (sink: ChunkSink) => Effect.Effect<void, E, R>) =>
    exclusive(id, Effect.gen(function*() {
      yield* takeLock(id, "save")
      const expected = Session_.revisionOf(session)
      const problem = checkRevision(id, expected, yield* storedRevision(id))
      if (problem !== undefined) return yield* problem
      const revision = yield* persist(session, id, expected, produce)
      return Session_.withRevision(session, revision)
    }))

  const save = Effect.fn("SessionStore.save")(function*(session: Session) {
    const id = yield* validateId(session.id)
    const chunks = yield* encodeSession(session)
    return yield* conditionalSave(session, id, (sink) => sink.writeMany(chunks))
  })

  const streamed = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.map(encodeFrame(session), (frame) => (sink: ChunkSink) =>
      Effect.gen(function*() {
        yield* sink.write(frame.head)
        let first = true
        yield* Stream.runForEach(messages, (message) =>
          Effect.flatMap(encodeMessage(session.id, message), (bytes) => {
            const write = first ? sink.write(bytes) : sink.writeMany([COMMA, bytes])
            first = false
            return write
          }))
        yield* sink.write(frame.tail)
      }))

  const saveStream = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.gen(function*() {
      const id = yield* validateId(session.id)
      return yield* conditionalSave(session, id, yield* streamed(session, messages))
    }).pipe(Effect.withSpan("SessionStore.saveStream"))

  const replaceIfOlder = <E = never, R = never>(session: Session, messages?: Stream.Stream<Message, E, R>) =>
    Effect.gen(function*() {
      const id = yield* validateId(session.id)
      const produce = messages === undefined
        ? yield* Effect.map(encodeSession(session), (chunks) => (sink: ChunkSink) => sink.writeMany(chunks))
        : yield* streamed(session, messages)
      return yield* exclusive(id, replaceLocked(session, id, produce))
    }).pipe(Effect.withSpan("SessionStore.replaceIfOlder"))

  const replaceLocked = <E, R>(session: Session, id: string, produce: (sink: ChunkSink) => Effect.Effect<void, E, R>) =>
    Effect.gen(function*() {
      yield* takeLock(id, "save")
      const stored = yield* Effect.result(readTail(id, pathOf(id), 0))
      if (Result.isSuccess(stored) && Timestamp.compare(stored.success.session.updatedAt, session.updatedAt) >= 0) {
        return false
      }
      if (Result.isFailure(stored) && stored.failure.reason !== "NotFound" && stored.failure.reason !== "Corrupt") {
        return yield* stored.failure
      }
      // "any": no revision check, so no conflict can arise
      yield* persist(session, id, "any", produce).pipe(Effect.catchTag("SessionConflict", Effect.die))
      return true
    })

  const load = Effect.fn("SessionStore.load")(function*(id: string) {
    yield* validateId(id)
    const loaded = yield* readTail(id, pathOf(id), Number.POSITIVE_INFINITY)
    return loaded.session
  })

  const loadTail = Effect.fn("SessionStore.loadTail")(function*(id: string, window: number) {
    yield* validateId(id)
    yield* checkWindow(window)
    return yield* readTail(id, pathOf(id), window)
  })

  const delete_ = Effect.fn("SessionStore.delete")(function*(id: string, options?: ForceOptions) {
    yield* validateId(id)
    const path = pathOf(id)
    if (!NodeFs.existsSync(sessionsDir)) return false
    return yield* exclusive(id, Effect.gen(function*() {
      yield* takeLock(id, "delete", options)
      return yield* Effect.tryPromise({
        try: () =>
          NodeFs.promises.unlink(path).then(
            () => true,
            (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? false : Promise.reject(e))
          ),
        catch: ioError(id, path, "Cannot delete")
      })
    }))
  })


  // --- the trash: <data_dir>/trash/<deletion time>/<id>.json -------------------

  const trashDir = NodePath.join(dataDir, "trash")

  /** Every trashed session file, newest deletion first. */
  const trashFiles = Effect.try({
    try: () => readTrashDir(trashDir),
    catch: ioError(undefined, trashDir, "Cannot read the trash")
  })

  const trashedSummary = (file: { readonly id: string; readonly path: string; readonly deletedAt: Timestamp.Timestamp }) =>
    Effect.tryPromise({ try: () => SessionFile.readSummary(file.path, readOptions), catch: fromReadError(file.id) }).pipe(
      Effect.map((summary): TrashedSession => ({ id: file.id, deletedAt: file.deletedAt, summary })),
      Effect.catch((e) => Effect.succeed<TrashedSession>({ id: file.id, deletedAt: file.deletedAt, summary: undefined, problem: e.message }))
    )

  const removeIfEmpty = (dir: string) => {
    try {
      NodeFs.rmdirSync(dir)
    } catch {
      // not empty, or gone
    }
  }

  /** Moves `<id>.json` (whatever it is: renames never follow a symlink) into a new deletion directory. */
  const moveToTrash = (id: string, now: number): boolean => {
    if (NodeFs.lstatSync(pathOf(id), { throwIfNoEntry: false }) === undefined) return false
    SafeFs.ensureDirSync(trashDir)
    for (let ms = now;; ms++) {
      const dir = NodePath.join(trashDir, trashDirName(ms))
      SafeFs.ensureDirSync(dir)
      const target = NodePath.join(dir, `${id}.json`)
      if (NodeFs.lstatSync(target, { throwIfNoEntry: false }) !== undefined) continue
      try {
        NodeFs.renameSync(pathOf(id), target)
      } catch (e) {
        removeIfEmpty(dir)
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return false
        throw e
      }
      return true
    }
  }

  /** Moves a trashed file back without ever replacing a live one. */
  const moveBack = (from: string, to: string): "moved" | "exists" | "missing" => {
    try {
      NodeFs.linkSync(from, to) // fails when `to` exists, atomically
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === "EEXIST") return "exists"
      if (code === "ENOENT") return "missing"
      // a file system without hard links: check, then rename (under the session's lock)
      if (NodeFs.lstatSync(to, { throwIfNoEntry: false }) !== undefined) return "exists"
      NodeFs.renameSync(from, to)
      return "moved"
    }
    NodeFs.rmSync(from, { force: true })
    return "moved"
  }

  const trash = Effect.fn("SessionStore.trash")(function*(id: string, options?: ForceOptions) {
    yield* validateId(id)
    if (!NodeFs.existsSync(sessionsDir)) return false
    const now = yield* Clock.currentTimeMillis
    return yield* exclusive(id, Effect.gen(function*() {
      yield* takeLock(id, "delete", options)
      return yield* Effect.try({
        try: () => moveToTrash(id, now),
        catch: ioError(id, pathOf(id), "Cannot move to the trash")
      })
    }))
  })

  const restore = Effect.fn("SessionStore.restore")(function*(id: string) {
    yield* validateId(id)
    return yield* exclusive(id, Effect.gen(function*() {
      yield* takeLock(id, "save")
      const file = (yield* trashFiles).find((f) => f.id === id)
      if (file === undefined) return yield* notInTrash(id)
      const entry = yield* trashedSummary(file)
      const moved = yield* Effect.try({
        try: () => moveBack(file.path, pathOf(id)),
        catch: ioError(id, file.path, "Cannot restore")
      })
      if (moved === "exists") return yield* restoreConflict(id)
      if (moved === "missing") return yield* notInTrash(id)
      removeIfEmpty(file.dir)
      return entry
    }))
  })

  const listTrash = Effect.gen(function*() {
    return yield* Effect.forEach(yield* trashFiles, trashedSummary, { concurrency: 4 })
  }).pipe(Effect.withSpan("SessionStore.listTrash"))

  const purge = Effect.fn("SessionStore.purge")(function*(options?: PurgeOptions) {
    const cutoff = yield* purgeCutoff(options)
    const files = (yield* trashFiles).filter((f) => f.ms <= cutoff && (options?.id === undefined || f.id === options.id))
    yield* Effect.try({
      try: () => {
        for (const file of files) NodeFs.rmSync(file.path, { force: true })
        for (const dir of new Set(files.map((f) => f.dir))) removeIfEmpty(dir)
      },
      catch: ioError(undefined, trashDir, "Cannot purge the trash")
    })
    return files.map(({ deletedAt, id }): TrashEntry => ({ id, deletedAt }))
  })

  const lease = Effect.fn("SessionStore.lease")(function*(session: Session, options?: ForceOptions) {
    const id = yield* validateId(session.id)
    const holder = yield* takeLock(id, "prompt", options)
    let current = Session_.revisionOf(session)
    const problem = checkRevision(id, current, yield* storedRevision(id))
    if (problem !== undefined) return yield* problem
    const lockPath = lockPathOf(id)
    const writes = Semaphore.makeUnsafe(1)
    const leaseSave = (next: Session) =>
      writes.withPermits(1)(Effect.gen(function*() {
        if (next.id !== id) {
          return yield* new SessionStoreError({
            reason: "InvalidId",
            message: `the lease of session ${id} cannot save session ${next.id}`,
            sessionId: id
          })
        }
        if (!SessionLock.stillHeld(lockPath, holder)) return yield* conflict(id, "LeaseLost")
        const stored = yield* storedRevision(id)
        const stale = checkRevision(id, current, stored)
        if (stale !== undefined) return yield* stale
        const chunks = yield* encodeSession(next)
        current = yield* persist(next, id, current, (sink) => sink.writeMany(chunks))
        return Session_.withRevision(next, current)
      })).pipe(Effect.withSpan("SessionStore.Lease.save"))
    return {
      sessionId: id,
      holder: { pid: holder.pid, host: holder.host, startedAt: holder.startedAt, purpose: holder.purpose },
      save: leaseSave
    } satisfies Lease
  })

  const holder = Effect.fn("SessionStore.holder")(function*(id: string) {
    yield* validateId(id)
    // SessionLock.read never throws: a missing lock is undefined, anything unreadable "invalid"
    const current = SessionLock.read(lockPathOf(id))
    if (current === undefined || current === "invalid" || SessionLock.isStale(current)) return Option.none<LeaseHolder>()
    return Option.some<LeaseHolder>({
      pid: current.pid,
      host: current.host,
      startedAt: current.startedAt,
      purpose: current.purpose
    })
  })

  // The summaries of the last listing, by path and file revision: a
  // long-lived store (codetether serve, an app) lists again with one lstat
  // per unchanged file, scanning only the files that changed.
  const summaryCache: SessionFile.SummaryCache = new Map()

  const list = Effect.fnUntraced(function*() {
    const paths = yield* listCandidates()
    const listed = new Set(paths)
    for (const path of summaryCache.keys()) if (!listed.has(path)) summaryCache.delete(path)
    const summaries = yield* Effect.forEach(paths, (path) =>
      Effect.tryPromise({
        try: () => SessionFile.readSummaryCached(path, summaryCache, readOptions),
        catch: fromReadError(undefined)
      }).pipe(
        Effect.map((summary): SessionSummary | undefined => summary),
        Effect.catch((e) =>
          e.reason === "NotFound"
            ? Effect.succeed(undefined) // deleted while listing
            : Effect.as(Effect.logWarning(`skipping ${path}: ${e.message}`), undefined)
        )
      ), { concurrency: 4 })
    return summaries.filter((s): s is SessionSummary => s !== undefined).sort(SessionSummary_.byUpdatedAtDesc)
  }, Effect.withSpan("SessionStore.list"))

  const listForDirectory = Effect.fn("SessionStore.listForDirectory")(function*(directory: string) {
    const workspace = canonicalize(directory)
    const all = yield* list()
    const canonical = cachedCanonicalize()
    return all.filter((s) => s.directory !== null && componentsEqual(canonical(s.directory), workspace))
  })

  const lastForDirectory = Effect.fn("SessionStore.lastForDirectory")(function*(
    directory: string,
    options?: LastOptions
  ) {
    const window = yield* checkWindow(options?.window ?? Number.POSITIVE_INFINITY)
    const workspace = canonicalize(directory)
    const canonical = cachedCanonicalize()

    // Fast path: the workspace index, confirmed against the file (4.5.7 scan_with_index).
    const index = WorkspaceIndexFile.load(sessionsDir)
    if (index.problem !== undefined) yield* Effect.logWarning(`ignoring the workspace index: ${index.problem}`)
    const indexed = index.entries[workspace]
    if (indexed !== undefined && idProblem(indexed) === undefined) {
      const hit = yield* Effect.result(readTail(indexed, pathOf(indexed), window))
      if (Result.isSuccess(hit)) {
        const dir = hit.success.session.metadata.directory
        if (dir !== null && componentsEqual(canonical(dir), workspace)) return hit.success
      }
    }

    // Slow path: newest modification time first, header-confirmed (4.5.7 scan_sync).
    const paths = yield* listCandidates()
    if (paths.length === 0) return yield* noSessions()
    // Regular files (or symlinks, checked when opened) only: a FIFO named *.json would block.
    const stamped: Array<{ readonly path: string; readonly mtime: bigint }> = []
    for (const path of paths) {
      const stat = NodeFs.statSync(path, { bigint: true, throwIfNoEntry: false })
      if (stat?.isFile() === true) stamped.push({ path, mtime: stat.mtimeNs })
    }
    stamped.sort((a, b) => (a.mtime === b.mtime ? 0 : a.mtime > b.mtime ? -1 : 1))
    for (const { path } of stamped) {
      const match = yield* Effect.tryPromise({
        try: () => SessionFile.matchHeader(path, workspace, canonical, readOptions),
        catch: fromReadError(undefined)
      }).pipe(Effect.result)
      if (Result.isFailure(match)) {
        if (match.failure.reason !== "NotFound") yield* Effect.logWarning(`skipping ${path}: ${match.failure.message}`)
        continue
      }
      if (match.success._tag === "NotASession") {
        yield* Effect.logWarning(`skipping ${path}: not a session file: ${match.success.detail}`)
        continue
      }
      if (match.success._tag === "NoMatch") continue
      const loaded = yield* Effect.result(readTail(undefined, path, window))
      if (Result.isFailure(loaded)) {
        yield* Effect.logWarning(
          `skipping ${path}: its header belongs to ${workspace} but it cannot be loaded: ${loaded.failure.message}`
        )
        continue
      }
      yield* upsertIndex(workspace, loaded.success.session.id)
      return loaded.success
    }
    return yield* noSessions()
  })

  return SessionStore.of({
    save,
    saveStream,
    replaceIfOlder,
    load,
    loadTail,
    delete: delete_,
    trash,
    restore,
    listTrash,
    purge,
    lease,
    holder,
    list: list(),
    listForDirectory,
    lastForDirectory
  })
}

const COMMA = Uint8Array.of(0x2c)

const saveError = (id: string, path: string) => (e: AtomicWriteError): SessionStoreError =>
  new SessionStoreError({ reason: "Io", message: `Cannot save session ${id}: ${e.message}`, path, sessionId: id, cause: e })

const encodeFrame = (session: Session) =>
  encodeWith(session.id, `Session ${session.id}`, () => SessionJson.encodeFrame(session))

const encodeMessage = (id: string, message: Message) =>
  encodeWith(id, `A message of session ${id}`, () => SessionJson.encodeMessageBytes(message))

/** `canonicalize` with a per-call cache: sessions of one directory share the realpath call. */
const cachedCanonicalize = () => {
  const cache = new Map<string, string>()
  return (path: string): string => {
    let result = cache.get(path)
    if (result === undefined) cache.set(path, result = canonicalize(path))
    return result
  }
}

/** The last `window` messages and tool uses of a stored session, as a load from its bytes. */
const tailOf = (session: Session, bytes: Uint8Array, window: number): TailLoad => {
  const { session: kept, dropped } = Session_.tail(session, window)
  return { session: kept, dropped, fileBytes: bytes.length }
}

/**
 * An in-memory store (see {@link layerMemory}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): SessionStore["Service"] => {
  const files = new Map<string, { readonly bytes: Uint8Array; readonly sequence: number }>()
  const index = new Map<string, string>()
  /** Holders of the leases held now, by session id (the whole process shares this store). */
  const leases = new Map<string, { readonly holder: LeaseHolder; readonly token: symbol }>()
  let sequence = 0
  const revisionOfFile = (file: { readonly sequence: number } | undefined) =>
    file === undefined ? undefined : `m${file.sequence}`

  const decode = (id: string, bytes: Uint8Array, sequence: number): Effect.Effect<Session, SessionStoreError> => {
    const result = SessionJson.decode(bytes)
    if (Result.isFailure(result)) {
      return Effect.fail(
        new SessionStoreError({
          reason: "Corrupt",
          message: `Session ${id} is not a valid session: ${result.failure.message}`,
          sessionId: id
        })
      )
    }
    return Effect.succeed(Session_.withRevision(result.success, `m${sequence}`))
  }
  const get = (id: string) =>
    Effect.flatMap(validateId(id), () => {
      const file = files.get(id)
      return file === undefined
        ? Effect.fail(new SessionStoreError({ reason: "NotFound", message: `Session not found: ${id}`, sessionId: id }))
        : decode(id, file.bytes, file.sequence).pipe(Effect.map((session) => ({ session, file })))
    })
  const busy = (id: string) => {
    const held = leases.get(id)
    return held === undefined
      ? undefined
      : new SessionBusy({ sessionId: id, holder: held.holder, message: busyMessage(id, held.holder, held.holder.host) })
  }
  /** Stores `chunks` as the session's bytes; returns the new revision. */
  const write = (session: Session, id: string, chunks: ReadonlyArray<Uint8Array>) => {
    const file = { bytes: SessionJson.concat(chunks), sequence: ++sequence }
    files.set(id, file)
    if (session.metadata.directory !== null) index.set(normalizeComponents(session.metadata.directory), id)
    return revisionOfFile(file)!
  }
  const writeConditional = (session: Session, chunks: ReadonlyArray<Uint8Array>) =>
    Effect.gen(function*() {
      const id = session.id
      const held = busy(id)
      if (held !== undefined) return yield* held
      const problem = checkRevision(id, Session_.revisionOf(session), revisionOfFile(files.get(id)))
      if (problem !== undefined) return yield* problem
      return Session_.withRevision(session, write(session, id, chunks))
    })
  const collected = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.map(Stream.runCollect(messages), (all): Session => ({ ...session, messages: Array.from(all) }))

  const save = Effect.fn("SessionStore.save")(function*(session: Session) {
    yield* validateId(session.id)
    return yield* writeConditional(session, yield* encodeSession(session))
  })
  const saveStream = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.gen(function*() {
      yield* validateId(session.id)
      const whole = yield* collected(session, messages)
      const saved = yield* writeConditional(whole, yield* encodeSession(whole))
      return Session_.withRevision(session, Session_.revisionOf(saved))
    })
  const replaceIfOlder = <E = never, R = never>(session: Session, messages?: Stream.Stream<Message, E, R>) =>
    Effect.gen(function*() {
      const id = yield* validateId(session.id)
      const whole = messages === undefined ? session : yield* collected(session, messages)
      const chunks = yield* encodeSession(whole)
      const held = busy(id)
      if (held !== undefined) return yield* held
      const file = files.get(id)
      if (file !== undefined) {
        const stored = SessionJson.decode(file.bytes)
        if (Result.isSuccess(stored) && Timestamp.compare(stored.success.updatedAt, session.updatedAt) >= 0) return false
      }
      write(whole, id, chunks)
      return true
    })
  const load = Effect.fn("SessionStore.load")(function*(id: string) {
    return (yield* get(id)).session
  })
  const loadTail = Effect.fn("SessionStore.loadTail")(function*(id: string, window: number) {
    yield* checkWindow(window)
    const { session, file } = yield* get(id)
    return tailOf(session, file.bytes, window)
  })
  const delete_ = Effect.fn("SessionStore.delete")(function*(id: string, options?: ForceOptions) {
    yield* validateId(id)
    const held = busy(id)
    if (held !== undefined) {
      if (options?.force !== true) return yield* held
      leases.delete(id)
    }
    return files.delete(id)
  })

  /** Trashed sessions: id, deletion time (ms) and bytes, in the order trashed. */
  const trashed: Array<{ readonly id: string; readonly ms: number; readonly bytes: Uint8Array }> = []
  const entryOf = (t: { readonly id: string; readonly ms: number; readonly bytes: Uint8Array }): TrashedSession => {
    const decoded = SessionJson.decode(t.bytes)
    return Result.isSuccess(decoded)
      ? { id: t.id, deletedAt: deletedAtOf(t.ms), summary: SessionSummary_.fromSession(decoded.success) }
      : { id: t.id, deletedAt: deletedAtOf(t.ms), summary: undefined, problem: decoded.failure.message }
  }
  const newestFirst = () => [...trashed].sort((a, b) => b.ms - a.ms)
  const trash = Effect.fn("SessionStore.trash")(function*(id: string, options?: ForceOptions) {
    yield* validateId(id)
    const held = busy(id)
    if (held !== undefined) {
      if (options?.force !== true) return yield* held
      leases.delete(id)
    }
    const file = files.get(id)
    if (file === undefined) return false
    let ms = yield* Clock.currentTimeMillis
    while (trashed.some((t) => t.id === id && t.ms === ms)) ms++
    trashed.push({ id, ms, bytes: file.bytes })
    files.delete(id)
    return true
  })
  const restore = Effect.fn("SessionStore.restore")(function*(id: string) {
    yield* validateId(id)
    const held = busy(id)
    if (held !== undefined) return yield* held
    const item = newestFirst().find((t) => t.id === id)
    if (item === undefined) return yield* notInTrash(id)
    if (files.has(id)) return yield* restoreConflict(id)
    files.set(id, { bytes: item.bytes, sequence: ++sequence })
    trashed.splice(trashed.indexOf(item), 1)
    return entryOf(item)
  })
  const listTrash = Effect.sync(() => newestFirst().map(entryOf)).pipe(Effect.withSpan("SessionStore.listTrash"))
  const purge = Effect.fn("SessionStore.purge")(function*(options?: PurgeOptions) {
    const cutoff = yield* purgeCutoff(options)
    const gone = newestFirst().filter((t) => t.ms <= cutoff && (options?.id === undefined || t.id === options.id))
    for (const item of gone) trashed.splice(trashed.indexOf(item), 1)
    return gone.map((t): TrashEntry => ({ id: t.id, deletedAt: deletedAtOf(t.ms) }))
  })
  const lease = Effect.fn("SessionStore.lease")(function*(session: Session, options?: ForceOptions) {
    const id = yield* validateId(session.id)
    const held = busy(id)
    if (held !== undefined && options?.force !== true) return yield* held
    let current = Session_.revisionOf(session)
    const problem = checkRevision(id, current, revisionOfFile(files.get(id)))
    if (problem !== undefined) return yield* problem
    const token = Symbol(id)
    const holder: LeaseHolder = {
      pid: process.pid,
      host: "memory",
      startedAt: new Date().toISOString(),
      purpose: "prompt"
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => leases.set(id, { holder, token })),
      () => Effect.sync(() => leases.get(id)?.token === token && leases.delete(id))
    )
    const leaseSave = Effect.fn("SessionStore.Lease.save")(function*(next: Session) {
      if (leases.get(id)?.token !== token) return yield* conflict(id, "LeaseLost")
      const stale = checkRevision(id, current, revisionOfFile(files.get(id)))
      if (stale !== undefined) return yield* stale
      current = write(next, id, yield* encodeSession(next))
      return Session_.withRevision(next, current)
    })
    return { sessionId: id, holder, save: leaseSave } satisfies Lease
  })
  const list = Effect.fnUntraced(function*() {
    const summaries: Array<SessionSummary> = []
    for (const [id, file] of files) {
      summaries.push(SessionSummary_.fromSession(yield* decode(id, file.bytes, file.sequence)))
    }
    return summaries.sort(SessionSummary_.byUpdatedAtDesc)
  }, Effect.withSpan("SessionStore.list"))
  const listForDirectory = Effect.fn("SessionStore.listForDirectory")(function*(directory: string) {
    return (yield* list()).filter((s) => s.directory !== null && componentsEqual(s.directory, directory))
  })
  const lastForDirectory = Effect.fn("SessionStore.lastForDirectory")(function*(
    directory: string,
    options?: LastOptions
  ) {
    const window = yield* checkWindow(options?.window ?? Number.POSITIVE_INFINITY)
    const belongs = (session: Session) =>
      session.metadata.directory !== null && componentsEqual(session.metadata.directory, directory)
    const indexed = index.get(normalizeComponents(directory))
    const hit = indexed === undefined ? undefined : files.get(indexed)
    if (indexed !== undefined && hit !== undefined) {
      const session = yield* Effect.result(decode(indexed, hit.bytes, hit.sequence))
      if (Result.isSuccess(session) && belongs(session.success)) return tailOf(session.success, hit.bytes, window)
    }
    const newestFirst = [...files].sort(([, a], [, b]) => b.sequence - a.sequence)
    for (const [id, file] of newestFirst) {
      const session = yield* Effect.result(decode(id, file.bytes, file.sequence))
      if (Result.isFailure(session)) {
        yield* Effect.logWarning(`skipping session ${id}: ${session.failure.message}`)
        continue
      }
      if (!belongs(session.success)) continue
      index.set(normalizeComponents(directory), id)
      return tailOf(session.success, file.bytes, window)
    }
    return yield* noSessions()
  })

  return SessionStore.of({
    save,
    saveStream,
    replaceIfOlder,
    load,
    loadTail,
    delete: delete_,
    trash,
    restore,
    listTrash,
    purge,
    lease,
    holder: Effect.fn("SessionStore.holder")(function*(id: string) {
      return Option.fromUndefinedOr(leases.get(yield* validateId(id))?.holder)
    }),
    list: list(),
    listForDirectory,
    lastForDirectory
  })
}

/**
 * The store on disk, in the data dir given by {@link DataDir.DataDir}. When
 * it creates a default data dir (`<git root>/.codetether-agent` or
 * `<cwd>/.codetether-agent`; not one given by `--data-dir` or
 * `CODETETHER_DATA_DIR`), it writes a `.gitignore` holding `*` in it, so the
 * sessions are never committed by accident; an existing `.gitignore` is never
 * touched.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem: Layer.Layer<SessionStore, never, DataDir.DataDir> = Layer.effect(
  SessionStore,
  Effect.gen(function*() {
    const dataDir = yield* DataDir.DataDir
    return makeFileSystem(dataDir.sessionsDir, { gitignore: DataDir.isDefault(dataDir) })
  })
)

/**
 * An in-memory store holding each session's encoded bytes, as the file store
 * does. Directories are compared path-wise without touching the file system.
 * Each layer build starts empty.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<SessionStore> = Layer.effect(SessionStore, Effect.sync(makeMemory))

// ---------------------------------------------------------------------------
// Operations derived from the contract (any store) and from files
// ---------------------------------------------------------------------------

/**
 * The newest session of any directory (4.5.7 `last()`, the legacy unscoped
 * resume), with its last `window` messages and tool uses. Derived from the
 * {@link SessionStore} contract, so it works with every store: sessions are
 * tried newest `updated_at` first (4.5.7 went by file modification time,
 * which a store in general does not have; the two agree unless a file was
 * touched or copied), and one that cannot be loaded is skipped with a
 * warning. Fails with `NotFound` (`No sessions found`), `Io`, or
 * `InvalidId` for a bad window.
 *
 * @since 0.1.0
 * @category operations
 */
export const last = (options?: LastOptions): Effect.Effect<TailLoad, SessionStoreError, SessionStore> =>
  Effect.gen(function*() {
    const window = yield* checkWindow(options?.window ?? Number.POSITIVE_INFINITY)
    const store = yield* SessionStore
    for (const summary of yield* store.list) {
      const loaded = yield* Effect.result(store.loadTail(summary.id, window))
      if (Result.isSuccess(loaded)) return loaded.success
      // deleted since it was listed: not worth a warning
      if (loaded.failure.reason !== "NotFound") {
        yield* Effect.logWarning(`skipping session ${summary.id}: ${loaded.failure.message}`)
      }
    }
    return yield* noSessions()
  }).pipe(Effect.withSpan("SessionStore.last"))

/**
 * Options of {@link listPaged}: at most `limit` summaries, after skipping
 * `offset` (default 0); both non-negative integers.
 *
 * @since 0.1.0
 * @category models
 */
export interface PageOptions {
  readonly limit: number
  readonly offset?: number | undefined
}

/**
 * One page of the sessions of `directory` (4.5.7 `list_sessions_paged`):
 * `listForDirectory`, newest `updated_at` first, then `offset` skipped and
 * `limit` taken. Derived from the contract. Fails as `listForDirectory`,
 * or with `InvalidId` when `limit` or `offset` is not a non-negative
 * integer.
 *
 * @since 0.1.0
 * @category operations
 */
export const listPaged = (
  directory: string,
  options: PageOptions
): Effect.Effect<ReadonlyArray<SessionSummary>, SessionStoreError, SessionStore> =>
  Effect.gen(function*() {
    const offset = options.offset ?? 0
    for (const [name, value] of [["limit", options.limit], ["offset", offset]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        return yield* new SessionStoreError({
          reason: "InvalidId",
          message: `Invalid page ${name} ${value}: expected a non-negative integer`
        })
      }
    }
    const all = yield* (yield* SessionStore).listForDirectory(directory)
    return all.slice(offset, offset + options.limit)
  }).pipe(Effect.withSpan("SessionStore.listPaged"))

/**
 * Where {@link listAll} finds Codex CLI sessions: the `CodexImport` service
 * fits (`yield* CodexImport.CodexImport`); any value listing summaries of a
 * directory does.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodexListing<E = never, R = never> {
  readonly listForDirectory: (directory: string) => Effect.Effect<ReadonlyArray<SessionSummary>, E, R>
}

/**
 * 4.5.7 `list_all_sessions_for_directory` (the same as
 * `CodexImport.listAllForDirectory`, at the store level): the store's
 * summaries for `directory` merged with the Codex CLI sessions `codex` lists
 * for it, titled `[Codex] <title>`; a Codex summary replaces a native one
 * with the same id only when strictly newer; newest first. A failure of
 * `codex` is logged as a warning and ignored (4.5.7 does the same); without
 * `codex` the result is the store's `listForDirectory`. Fails with the
 * store's errors.
 *
 * @since 0.1.0
 * @category operations
 */
export const listAll = <E = never, R = never>(
  directory: string,
  codex?: CodexListing<E, R>
): Effect.Effect<ReadonlyArray<SessionSummary>, SessionStoreError, SessionStore | R> =>
  Effect.gen(function*() {
    const native = yield* (yield* SessionStore).listForDirectory(directory)
    if (codex === undefined) return native
    const found = yield* codex.listForDirectory(directory).pipe(
      Effect.catch((error) =>
        Effect.as(
          Effect.logWarning(`Codex sessions of ${directory} are not listed: ${describeError(error)}`),
          [] as ReadonlyArray<SessionSummary>
        )
      )
    )
    return mergeSummaries(native, found)
  }).pipe(Effect.withSpan("SessionStore.listAll"))

const describeError = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)

/**
 * 4.5.7 `load_tail_from_path`: the session in the file at `path` (any name,
 * anywhere: an export, a backup, another data dir), with its last `window`
 * messages and tool uses (`Infinity`: all), the number dropped and the file
 * size in bytes. Read as the store reads its files: opened without blocking,
 * a regular file only (a FIFO or a device is an `Io` error, never a hang; a
 * symlink to a regular file is followed), streamed (a file larger than V8's
 * maximum string length loads), kept elements type-checked and dropped ones
 * checked for JSON structure. The file name need not be the session id.
 * The session carries no revision: it is not a stored copy, so saving it to
 * a store saves a new session (`SessionConflict` `Exists` when the store has
 * that id). Fails with `NotFound`, `Corrupt` (naming the file and the JSON
 * path), `Io`, or `InvalidId` for a bad window.
 *
 * @since 0.1.0
 * @category operations
 */
export const loadTailFromPath = (path: string, window: number): Effect.Effect<TailLoad, SessionStoreError> =>
  Effect.gen(function*() {
    yield* checkWindow(window)
    const absolute = NodePath.resolve(path)
    const loaded = yield* Effect.tryPromise({
      try: () =>
        SessionFile.readTail(absolute, window, {
          within: NodePath.parse(absolute).root,
          checkIdentity: false
        }),
      catch: fromReadError(undefined)
    })
    return { ...loaded, session: Session_.withRevision(loaded.session, undefined) }
  }).pipe(Effect.withSpan("SessionStore.loadTailFromPath"))

/**
 * Settings of {@link layerPostgres}.
 *
 * @since 0.1.0
 * @category models
 */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` (the password is never printed). */
  readonly url: Redacted.Redacted<string>
  /**
   * How long a save keeps retrying, with backoff, when the connection to the
   * database is lost (ms, default 30,000).
   */
  readonly retryMs?: number | undefined
  /**
   * Where a save that still failed after {@link retryMs} writes the session
   * as it stood, as `<recoveryDir>/<id>.json` (the file store's encoding,
   * written atomically), so no completed step is lost. Unset: nowhere.
   */
  readonly recoveryDir?: string | undefined
  /** Connections in the pool (default 8); each held lease uses one more. */
  readonly maxConnections?: number | undefined
  /** How long a connection attempt may take (ms, default 10,000). */
  readonly connectTimeoutMs?: number | undefined
}

/**
 * The store in a PostgreSQL database shared by many machines (see
 * `SessionStorePostgres.ts`): the same contract as the file store (leases
 * visible to every machine, conditional saves), messages as rows holding the
 * exact bytes the file store writes, saves that append only the new rows.
 *
 * Loads `@effect/sql-pg` on first use (a dynamic import), so an app that
 * uses only the file or memory store never loads or bundles the SQL driver.
 * Nothing connects until the first operation, which runs the schema
 * migrations; a database that cannot be reached fails that operation with
 * `Io` and one line naming `host:port` and the cause (never the password).
 * Fails to build with `Io` when `@effect/sql-pg` is not installed.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPostgres = (options: PostgresOptions): Layer.Layer<SessionStore, SessionStoreError> =>
  Layer.unwrap(Effect.map(importPostgres(), (module) => module.layer(options)))

// Through LazyModule: a literal import() would put the PostgreSQL store (and
// the driver it imports) into the bundle of every app that uses the store.
const importPostgres = () =>
  Effect.tryPromise({
    try: LazyModule.sessionStorePostgres,
    catch: (cause) =>
      new SessionStoreError({
        reason: "Io",
        message: `The PostgreSQL session store needs the @effect/sql-pg package (npm install @effect/sql-pg@4.0): ${
          (cause as Error)?.message ?? String(cause)
        }`,
        cause
      })
  })
