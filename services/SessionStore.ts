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
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import type { Message } from "../schemas/Message.ts"
import { escapeStringContent } from "../schemas/RustJson.ts"
import * as Session_ from "../schemas/Session.ts"
import type { Session, TailLoad } from "../schemas/Session.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import * as SessionSummary_ from "../schemas/SessionSummary.ts"
import type { SessionSummary } from "../schemas/SessionSummary.ts"
import * as WorkspaceIndex from "../schemas/WorkspaceIndex.ts"
import * as DataDir from "./DataDir.ts"
import { AtomicWriteError, type ChunkSink, writeFileAtomicWith } from "./internal/AtomicWrite.ts"
import { canonicalize, componentsEqual, extensionOf, normalizeComponents } from "./internal/Paths.ts"
import * as SessionFile from "./internal/SessionFile.ts"
import * as WorkspaceIndexFile from "./internal/WorkspaceIndexFile.ts"

/**
 * Why a store operation failed:
 * - `NotFound`: no session file with that id, or no session for a directory
 *   (`No sessions found`, as 4.5.7 says);
 * - `Corrupt`: the file exists but does not decode; `message` names the file
 *   and the JSON path inside it;
 * - `InvalidId`: the id cannot name a file safely (nothing was read or written);
 * - `Io`: the file system failed (permissions, disk full, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionStoreError extends Schema.TaggedError<SessionStoreError>()("SessionStoreError", {
  reason: Schema.Literals(["NotFound", "Corrupt", "InvalidId", "Io"]),
  message: Schema.String,
  sessionId: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

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
 * @since 0.1.0
 * @category services
 */
export class SessionStore extends Context.Service<SessionStore, {
  /**
   * Writes the session as compact JSON (no trailing newline) to
   * `<id>.json.tmp`, fsyncs it and renames it over `<id>.json`; files are
   * 0600, directories 0700. The temporary file is removed when the write fails
   * or the fiber is interrupted. Saves of one id are serialised within the
   * process. Then records `metadata.directory` (canonicalised) -> id in the
   * workspace index, best effort: an index failure is logged, never returned.
   * Does not change the session (4.5.7 `save` does not bump `updated_at`).
   *
   * Fails with `InvalidId`, or `Io`.
   */
  readonly save: (session: Session) => Effect.Effect<void, SessionStoreError>
  /**
   * Saves `session` with its messages taken, in order, from `messages`
   * instead of `session.messages`: each message is encoded and written as it
   * arrives, so a session larger than memory should hold (an import) is never
   * built in full. Same format, atomicity, permissions, serialisation and
   * index update as {@link save}; when the stream fails or is interrupted the
   * previous file is kept. Fails with `InvalidId`, `Corrupt` (a message that
   * cannot be encoded), `Io`, or the stream's own error.
   */
  readonly saveStream: <E, R>(
    session: Session,
    messages: Stream.Stream<Message, E, R>
  ) => Effect.Effect<void, SessionStoreError | E, R>
  /**
   * The whole session. Fails with `InvalidId`, `NotFound`, `Corrupt` (naming
   * the file and the JSON path) or `Io`.
   */
  readonly load: (id: string) => Effect.Effect<Session, SessionStoreError>
  /**
   * The session with only the last `window` messages and tool uses (each array
   * independently), the number of elements dropped and the file size in bytes
   * (4.5.7 `load_tail`). Reads the file as a stream: a file larger than V8's
   * maximum string length loads. Kept elements are type-checked; dropped ones
   * are checked for JSON structure only. Errors as {@link load}.
   */
  readonly loadTail: (id: string, window: number) => Effect.Effect<TailLoad, SessionStoreError>
  /**
   * Removes `<id>.json`; succeeds when it does not exist (4.5.7 `delete`).
   * Returns `true` when a file was removed, `false` when there was none. The
   * workspace index keeps its (now stale) entry, as in 4.5.7. Fails with
   * `InvalidId` or `Io`.
   */
  readonly delete: (id: string) => Effect.Effect<boolean, SessionStoreError>
  /**
   * A summary of every session, newest `updated_at` first (4.5.7
   * `list_sessions`). Files that are not sessions (corrupt, truncated, empty,
   * binary, other JSON) are skipped with one warning each. Fails with `Io`
   * only when the sessions directory itself cannot be read.
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
   * with a warning (4.5.7 failed instead). Fails with `NotFound`
   * (`No sessions found`) or `Io`.
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

const noSessions = () => new SessionStoreError({ reason: "NotFound", message: "No sessions found" })

const checkWindow = (window: number): Effect.Effect<number, SessionStoreError> =>
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

/**
 * The file-system store rooted at `sessionsDir` (`<data_dir>/sessions`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (sessionsDir: string): SessionStore["Service"] => {
  const locks = new Map<string, Semaphore.Semaphore>()
  const indexLock = Semaphore.makeUnsafe(1)
  const lockFor = (id: string): Semaphore.Semaphore => {
    let lock = locks.get(id)
    if (lock === undefined) locks.set(id, lock = Semaphore.makeUnsafe(1))
    return lock
  }
  const pathOf = (id: string) => NodePath.join(sessionsDir, `${id}.json`)

  const makeSessionsDir = (id: string) =>
    Effect.tryPromise({
      try: () => NodeFs.promises.mkdir(sessionsDir, { recursive: true, mode: 0o700 }),
      catch: (e) =>
        new SessionStoreError({
          reason: "Io",
          message: `Cannot create ${sessionsDir}: ${(e as Error).message}`,
          path: sessionsDir,
          sessionId: id,
          cause: e
        })
    })

  const readTail = (id: string | undefined, path: string, window: number) =>
    Effect.tryPromise({ try: () => SessionFile.readTail(path, window), catch: fromReadError(id) })

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
   * rename), under the session's lock, then points the workspace index at it.
   */
  const persist = <E, R>(session: Session, id: string, produce: (sink: ChunkSink) => Effect.Effect<void, E, R>) =>
    Effect.gen(function*() {
      const path = pathOf(id)
      yield* makeSessionsDir(id)
      yield* lockFor(id).withPermits(1)(writeFileAtomicWith(path, produce, { sync: true })).pipe(
        Effect.catchIf((e): e is AtomicWriteError => e instanceof AtomicWriteError, (e) => Effect.fail(saveError(id, path)(e)))
      )
      const directory = session.metadata.directory
      if (directory !== null) yield* upsertIndex(canonicalize(directory), id)
    })

  const save = Effect.fn("SessionStore.save")(function*(session: Session) {
    const id = yield* validateId(session.id)
    const chunks = yield* encodeSession(session)
    yield* persist(session, id, (sink) => sink.writeMany(chunks))
  })

  const saveStream = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.gen(function*() {
      const id = yield* validateId(session.id)
      const frame = yield* encodeFrame(session)
      yield* persist(session, id, (sink) =>
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
    }).pipe(Effect.withSpan("SessionStore.saveStream"))

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

  const delete_ = Effect.fn("SessionStore.delete")(function*(id: string) {
    yield* validateId(id)
    const path = pathOf(id)
    return yield* lockFor(id).withPermits(1)(Effect.tryPromise({
      try: () =>
        NodeFs.promises.unlink(path).then(
          () => true,
          (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? false : Promise.reject(e))
        ),
      catch: (e) =>
        new SessionStoreError({
          reason: "Io",
          message: `Cannot delete ${path}: ${(e as Error).message}`,
          path,
          sessionId: id,
          cause: e
        })
    }))
  })

  const list = Effect.fnUntraced(function*() {
    const paths = yield* listCandidates()
    const summaries = yield* Effect.forEach(paths, (path) =>
      Effect.tryPromise({ try: () => SessionFile.readSummary(path), catch: fromReadError(undefined) }).pipe(
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
    // Regular files only (a FIFO named *.json would block the header read).
    const stamped: Array<{ readonly path: string; readonly mtime: bigint }> = []
    for (const path of paths) {
      const stat = NodeFs.statSync(path, { bigint: true, throwIfNoEntry: false })
      if (stat?.isFile() === true) stamped.push({ path, mtime: stat.mtimeNs })
    }
    stamped.sort((a, b) => (a.mtime === b.mtime ? 0 : a.mtime > b.mtime ? -1 : 1))
    const needle = Buffer.from(escapeStringContent(workspace))
    for (const { path } of stamped) {
      const match = yield* Effect.tryPromise({
        try: () => SessionFile.matchHeader(path, workspace, needle, canonical),
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
    load,
    loadTail,
    delete: delete_,
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
  let sequence = 0

  const decode = (id: string, bytes: Uint8Array): Effect.Effect<Session, SessionStoreError> => {
    const result = SessionJson.decode(bytes)
    return Result.isSuccess(result)
      ? Effect.succeed(result.success)
      : Effect.fail(
        new SessionStoreError({
          reason: "Corrupt",
          message: `Session ${id} is not a valid session: ${result.failure.message}`,
          sessionId: id
        })
      )
  }
  const get = (id: string) =>
    Effect.flatMap(validateId(id), () => {
      const file = files.get(id)
      return file === undefined
        ? Effect.fail(new SessionStoreError({ reason: "NotFound", message: `Session not found: ${id}`, sessionId: id }))
        : decode(id, file.bytes).pipe(Effect.map((session) => ({ session, file })))
    })

  const save = Effect.fn("SessionStore.save")(function*(session: Session) {
    const id = yield* validateId(session.id)
    const bytes = SessionJson.concat(yield* encodeSession(session))
    files.set(id, { bytes, sequence: ++sequence })
    if (session.metadata.directory !== null) index.set(normalizeComponents(session.metadata.directory), id)
  })
  const saveStream = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.flatMap(Stream.runCollect(messages), (collected) => save({ ...session, messages: Array.from(collected) }))
  const load = Effect.fn("SessionStore.load")(function*(id: string) {
    return (yield* get(id)).session
  })
  const loadTail = Effect.fn("SessionStore.loadTail")(function*(id: string, window: number) {
    yield* checkWindow(window)
    const { session, file } = yield* get(id)
    return tailOf(session, file.bytes, window)
  })
  const delete_ = Effect.fn("SessionStore.delete")(function*(id: string) {
    yield* validateId(id)
    return files.delete(id)
  })
  const list = Effect.fnUntraced(function*() {
    const summaries: Array<SessionSummary> = []
    for (const [id, file] of files) {
      summaries.push(SessionSummary_.fromSession(yield* decode(id, file.bytes)))
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
      const session = yield* Effect.result(decode(indexed, hit.bytes))
      if (Result.isSuccess(session) && belongs(session.success)) return tailOf(session.success, hit.bytes, window)
    }
    const newestFirst = [...files].sort(([, a], [, b]) => b.sequence - a.sequence)
    for (const [id, file] of newestFirst) {
      const session = yield* Effect.result(decode(id, file.bytes))
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
    load,
    loadTail,
    delete: delete_,
    list: list(),
    listForDirectory,
    lastForDirectory
  })
}

/**
 * The store on disk, in the data dir given by {@link DataDir.DataDir}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem: Layer.Layer<SessionStore, never, DataDir.DataDir> = Layer.effect(
  SessionStore,
  Effect.gen(function*() {
    const dataDir = yield* DataDir.DataDir
    return makeFileSystem(dataDir.sessionsDir)
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
