/**
 * Import of OpenAI Codex CLI sessions into the session store
 * (codetether-agent 4.5.7 `session/codex_import`, BEHAVIOUR §10), and the
 * merged native + Codex listing (4.5.7 `list_all_sessions_for_directory`,
 * BEHAVIOUR §5.3).
 *
 * Where Codex keeps its sessions:
 * - the Codex home is `CODEX_HOME` (any directory name), else
 *   `<home>/.codex`;
 * - rollouts are the `*.jsonl` files anywhere under `<codex home>/sessions/`
 *   that are regular files (a symlink, FIFO, device or socket named
 *   `*.jsonl` is skipped with a warning; symlinked directories are not
 *   followed; unreadable directories are skipped);
 * - thread names come from `<codex home>/session_index.jsonl` (latest
 *   `updated_at` per id wins; malformed lines ignored). It is read only when
 *   it is a regular file of at most 16 MiB (`SafeFs.SMALL_FILE_CAP`; a symlink
 *   is followed only to a file inside the Codex home); otherwise it is
 *   ignored with a warning.
 *
 * Rollouts are opened non-blocking, as regular files only, and read as a
 * `Stream` of lines, one line decoded at a time by the `CodexRollout`
 * schemas; a rollout of any size is never held as one string. A line longer
 * than `maxLineBytes` (default 64 MiB, {@link DEFAULT_MAX_LINE_BYTES}) is
 * never held either: it is skipped with a warning naming the file and the
 * line number (4.5.7 and earlier codetether failed the whole listing or
 * import with `Invalid string length` on a 608 MB line). A malformed line is
 * skipped with a warning; a file whose first non-blank line is not a session
 * meta is not a rollout. One bad rollout never blocks another: searches,
 * imports and listings skip it with a warning, whatever went wrong.
 *
 * Persist rule (BEHAVIOUR §10.5): when the native session `<id>` exists,
 * decodes, and its `updatedAt` is at least the import's, nothing is written;
 * otherwise the import is saved with `SessionStore.save` (atomic, compact,
 * workspace index updated).
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as CodexRollout from "../schemas/CodexRollout.ts"
import type * as Message from "../schemas/Message.ts"
import type { ProvenanceEnv } from "../schemas/Provenance.ts"
import type { Session } from "../schemas/Session.ts"
import * as SessionSummary from "../schemas/SessionSummary.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as LineReader from "./internal/LineReader.ts"
import { canonicalize, componentsEqual, extensionOf } from "./internal/Paths.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as Workspace from "./internal/Workspace.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * Why a Codex operation failed:
 * - `HomeNotFound`: no Codex home (`Codex home directory not found`);
 * - `NotFound`: no rollout with that id (`Codex session not found: <id>`);
 * - `InvalidId`: the id cannot name a session file (`loadOrImport`);
 * - `NotARollout`: the file's first non-blank line is not a session meta
 *   (`Missing session_meta in <path>`, or `Invalid session_meta in <path>: …`
 *   when it is a malformed one);
 * - `Io`: a file could not be opened or read (`Failed to open Codex session
 *   <path>`, `Failed to read <path>`);
 * - `Store`: the session store failed (its message, e.g. a corrupt native
 *   file or a full disk).
 *
 * @since 0.1.0
 * @category errors
 */
export class CodexImportError extends Schema.TaggedError<CodexImportError>()("CodexImportError", {
  reason: Schema.Literals(["HomeNotFound", "NotFound", "InvalidId", "NotARollout", "Io", "Store"]),
  message: Schema.String,
  sessionId: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * What a bulk import did: how many sessions were written (`imported`) or
 * left alone because the native copy is as new (`skipped`), their ids, and
 * the rollouts that could not be imported (`failed`: path and reason; each
 * was also logged as a warning), and every session handled with its title
 * and status (`sessions`, in discovery order).
 *
 * @since 0.1.0
 * @category models
 */
export interface ImportReport {
  readonly imported: number
  readonly skipped: number
  readonly importedIds: ReadonlyArray<string>
  readonly skippedIds: ReadonlyArray<string>
  readonly failed: ReadonlyArray<{ readonly path: string; readonly message: string }>
  readonly sessions: ReadonlyArray<{
    readonly id: string
    readonly title: string | null
    readonly status: "imported" | "skipped"
  }>
}

/**
 * The result of importing one rollout: the session as stored and whether it
 * was written (`imported`) or the native copy was kept (`skipped`; then
 * `session` is the native session).
 *
 * @since 0.1.0
 * @category models
 */
export interface ImportOutcome {
  readonly status: "imported" | "skipped"
  readonly session: Session
}

/**
 * What importing one session did, without the session itself: its id, title
 * and whether it was written (`imported`) or left alone (`skipped`). Cheap:
 * a skipped session is never loaded.
 *
 * @since 0.1.0
 * @category models
 */
export interface ImportResult {
  readonly id: string
  readonly title: string | null
  readonly status: "imported" | "skipped"
}

/**
 * How a Codex session relates to the store: `new` (no native session with
 * its id: not imported yet), `stale` (the native copy is older or does not
 * decode: an import would write), `current` (imported and up to date).
 *
 * @since 0.1.0
 * @category models
 */
export type ImportState = "new" | "stale" | "current"

/**
 * One Codex session found on disk: its summary (un-prefixed Codex title,
 * agent `build`, directory = its cwd), the rollout path and its
 * {@link ImportState}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodexSessionInfo {
  readonly summary: SessionSummary.SessionSummary
  readonly path: string
  readonly state: ImportState
}

/**
 * @since 0.1.0
 * @category services
 */
export class CodexImport extends Context.Service<CodexImport, {
  /** The Codex home this service reads (`undefined` when none could be determined). */
  readonly home: string | undefined
  /**
   * Finds the rollout whose session meta has this id and imports it (persist
   * rule), returning the stored session: the import when written, else the
   * native session (4.5.7 `import_codex_session_by_id`). Rollouts whose file
   * name contains the id are tried first; unreadable or invalid rollouts are
   * skipped with a warning (4.5.7 aborted the search). Fails with
   * `HomeNotFound`, `NotFound`, `NotARollout`, `Io` or `Store`.
   */
  readonly importById: (id: string) => Effect.Effect<Session, CodexImportError>
  /**
   * {@link importById} that reports what it did instead of returning the
   * session (a skipped session is not loaded). Same errors.
   */
  readonly importOne: (id: string) => Effect.Effect<ImportResult, CodexImportError>
  /**
   * Imports one rollout file (persist rule); the title comes from the Codex
   * home's index. Fails with `NotARollout` (`Missing session_meta in
   * <path>`), `Io` or `Store`.
   */
  readonly importPath: (path: string) => Effect.Effect<ImportOutcome, CodexImportError>
  /**
   * Imports every Codex session whose cwd, canonicalised, equals `directory`
   * canonicalised (4.5.7 `import_codex_sessions_for_directory`). A rollout
   * that fails is logged, listed in `failed` and does not stop the others
   * (4.5.7 aborted). Fails with `HomeNotFound` when there is no Codex home.
   */
  readonly importForDirectory: (directory: string) => Effect.Effect<ImportReport, CodexImportError>
  /** Imports every Codex session, whatever its directory (same rules as `importForDirectory`). */
  readonly importAll: Effect.Effect<ImportReport, CodexImportError>
  /**
   * Summaries of the Codex sessions of `directory` (cwd compared
   * canonicalised, path-wise), newest `updatedAt` first, titled with the
   * Codex title (no prefix); messages are counted, not kept. Unreadable or
   * invalid rollouts are skipped with a warning. No Codex home → `[]`.
   */
  readonly listForDirectory: (
    directory: string
  ) => Effect.Effect<ReadonlyArray<SessionSummary.SessionSummary>, CodexImportError>
  /**
   * Every Codex session with its rollout path and {@link ImportState},
   * newest first (for `codetether sessions list --all`: the `new` ones are
   * the sessions not yet imported). No Codex home → `[]`.
   */
  readonly listAll: Effect.Effect<ReadonlyArray<CodexSessionInfo>, CodexImportError>
  /**
   * 4.5.7 `list_all_sessions_for_directory`: the store's summaries for
   * `directory` merged with the Codex ones titled `[Codex] <title>` (a Codex
   * summary replaces a native one with the same id only when strictly
   * newer), newest first. A Codex discovery failure is logged and ignored;
   * fails with `Store` when the store cannot list.
   */
  readonly listAllForDirectory: (
    directory: string
  ) => Effect.Effect<ReadonlyArray<SessionSummary.SessionSummary>, CodexImportError>
  /**
   * The session to resume for `id` (4.5.7 `load_or_import_session`, without
   * its bug): when a Codex rollout has this id it is imported (persist rule)
   * and the stored session returned; otherwise the native session. A broken
   * rollout never prevents loading a native session (it is logged and the
   * native session returned). The native session is loaded only when it is
   * what is returned. Fails with `NotFound` (`Codex session not found:
   * <id>`) when neither exists, `InvalidId` for an id that cannot name a
   * session file, or `Store` when the native file exists but cannot be
   * loaded and no rollout replaces it.
   */
  readonly loadOrImport: (id: string) => Effect.Effect<Session, CodexImportError>
}>()("codetether/CodexImport") {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions {
  /** The Codex home (absolute), or `undefined` when none is known. */
  readonly home: string | undefined
  /** The `CODETETHER_*` values provenances of imported sessions are seeded from. */
  readonly provenanceEnv?: ProvenanceEnv | undefined
  /** Draws the UUID v4 of each new provenance (default `crypto.randomUUID`). */
  readonly uuid?: (() => string) | undefined
  /** Longest rollout line read, in bytes (default {@link DEFAULT_MAX_LINE_BYTES}); longer ones are skipped. */
  readonly maxLineBytes?: number | undefined
}

/**
 * The longest rollout line codetether reads: 64 MiB. Longer lines are
 * skipped with a warning naming the file and the line.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * SafeFs.MiB

/** At most this many malformed-line warnings per file; the rest are counted in one summary warning. */
const MAX_LINE_WARNINGS = 10

/** Read size of the line stream (bytes). */
const READ_CHUNK_BYTES = 64 * 1024

const describe = (cause: unknown): string => (cause as Error)?.message ?? String(cause)

const ioError = (path: string, cause: unknown): CodexImportError => {
  if (cause instanceof SafeFs.SafeFsError) {
    // the system's own text when there is one (`ENOENT: no such file ...`), else what SafeFs found
    const system = cause.cause instanceof Error && (cause.kind === "Missing" || cause.kind === "Io")
      ? cause.cause.message
      : undefined
    return new CodexImportError({
      reason: "Io",
      message: `Failed to open Codex session ${path}: ${system ?? cause.detail}`,
      path,
      cause
    })
  }
  const syscall = (cause as { syscall?: string })?.syscall
  return new CodexImportError({
    reason: "Io",
    message: syscall === "open"
      ? `Failed to open Codex session ${path}: ${describe(cause)}`
      : `Failed to read ${path}: ${describe(cause)}`,
    path,
    cause
  })
}

/**
 * Turns an unexpected failure while reading the rollout at `path` (a defect:
 * a bug, or a file that defeats the reader) into an `Io` error, so that the
 * callers that skip bad rollouts skip this one too.
 */
const contained = (path: string) => <A, R>(effect: Effect.Effect<A, CodexImportError, R>) =>
  Effect.catchDefect(effect, (defect) =>
    Effect.fail(
      new CodexImportError({ reason: "Io", message: `Failed to read ${path}: ${describe(defect)}`, path, cause: defect })
    ))

const storeError = (e: SessionStore.SessionStoreError | SessionStore.SessionBusy, sessionId?: string): CodexImportError =>
  new CodexImportError({
    reason: "Store",
    message: e.message,
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(e._tag === "SessionStoreError" && e.path !== undefined ? { path: e.path } : {}),
    cause: e
  })

const notARollout = (path: string, reason: string | undefined): CodexImportError =>
  new CodexImportError({
    reason: "NotARollout",
    message: reason === undefined || reason === "not a session_meta line"
      ? `Missing session_meta in ${path}`
      : `Invalid session_meta in ${path}: ${reason}`,
    path
  })

/**
 * One line of a rollout: its text and number (from 1), or `TooLong` with its
 * size in bytes when it is longer than the reader's cap (its text is never
 * read into memory).
 *
 * @since 0.1.0
 * @category models
 */
export type Line = LineReader.Line

/**
 * The lines of a text file as a stream (read in 64 KiB chunks, UTF-8,
 * split on `\n`, `\r\n` or `\r`), so a rollout of any size is read with
 * bounded memory; a line longer than `maxLineBytes` (default
 * {@link DEFAULT_MAX_LINE_BYTES}) comes as `TooLong`. The file is opened
 * non-blocking and must be a regular file (not a symlink, FIFO or device).
 * Open and read failures become `Io` errors. The file is closed when the
 * stream ends or is interrupted.
 *
 * @since 0.1.0
 * @category streams
 */
export const lines = (
  path: string,
  options?: { readonly maxLineBytes?: number | undefined }
): Stream.Stream<Line, CodexImportError> =>
  Stream.suspend(() =>
    Stream.fromAsyncIterable(
      (async function*() {
        const { handle } = await SafeFs.openRegular(path)
        try {
          yield* LineReader.readLines(handle, {
            maxLineBytes: options?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
            chunkBytes: READ_CHUNK_BYTES
          })
        } finally {
          await handle.close().catch(() => undefined)
        }
      })(),
      (cause) => ioError(path, cause)
    )
  )

const kindOf = (entry: NodeFs.Dirent): string =>
  entry.isSymbolicLink()
    ? "a symlink"
    : entry.isFIFO()
    ? "a FIFO"
    : entry.isSocket()
    ? "a socket"
    : entry.isCharacterDevice() || entry.isBlockDevice()
    ? "a device"
    : "not a regular file"

/**
 * Every `*.jsonl` regular file under `dir`, recursively, sorted by path;
 * symlinked directories and unreadable directories skipped; a `*.jsonl`
 * entry that is not a regular file is skipped and noted in `skipped`.
 */
const walkRollouts = async (dir: string, out: Array<string>, skipped: Array<string>): Promise<void> => {
  let entries: Array<NodeFs.Dirent>
  try {
    entries = await NodeFs.promises.readdir(dir, { withFileTypes: true })
  } catch {
    return
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const path = NodePath.join(dir, entry.name)
    if (entry.isDirectory()) await walkRollouts(path, out, skipped)
    else if (extensionOf(entry.name) !== "jsonl") continue
    else if (entry.isFile()) out.push(path)
    else skipped.push(`Skipping ${path}: ${kindOf(entry)}, not a regular file (Codex rollouts are read only as regular files)`)
  }
}

const isDirectory = (path: string): Promise<boolean> =>
  NodeFs.promises.stat(path).then((s) => s.isDirectory(), () => false)

/**
 * Builds the service over the {@link SessionStore.SessionStore} in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: MakeOptions) {
  const store = yield* SessionStore.SessionStore
  const home = options.home
  const uuid = options.uuid ?? (() => globalThis.crypto.randomUUID())
  const env = options.provenanceEnv
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  const linesOf = (path: string) => lines(path, { maxLineBytes })
  const tooLong = (path: string, line: { readonly number: number; readonly bytes: number }) =>
    Effect.logWarning(
      `Skipping line ${line.number} of ${path}: ${line.bytes} bytes, over the ${maxLineBytes}-byte line limit`
    )

  /** The Codex home when it is an existing directory. */
  const presentHome: Effect.Effect<string | undefined> = Effect.promise(async () =>
    home !== undefined && (await isDirectory(home)) ? home : undefined
  )

  const requireHome = Effect.gen(function*() {
    if (home === undefined) {
      return yield* new CodexImportError({ reason: "HomeNotFound", message: "Codex home directory not found" })
    }
    const present = yield* presentHome
    if (present === undefined) {
      return yield* new CodexImportError({
        reason: "HomeNotFound",
        message: `Codex home directory not found: ${home}`,
        path: home
      })
    }
    return present
  })

  const rolloutPaths = (codexHome: string): Effect.Effect<ReadonlyArray<string>> =>
    Effect.gen(function*() {
      const { out, skipped } = yield* Effect.promise(async () => {
        const out: Array<string> = []
        const skipped: Array<string> = []
        await walkRollouts(NodePath.join(codexHome, "sessions"), out, skipped)
        return { out, skipped }
      })
      for (const warning of skipped) yield* Effect.logWarning(warning)
      return out
    })

  /**
   * Thread names of `session_index.jsonl`: none when the file is missing; a
   * file that is not a regular file (a symlink is followed only inside the
   * Codex home), is over 16 MiB or cannot be read is ignored with a warning.
   */
  const readIndex = (codexHome: string): Effect.Effect<ReadonlyMap<string, string | null>> => {
    const path = NodePath.join(codexHome, "session_index.jsonl")
    return Effect.tryPromise({
      try: () => SafeFs.readFile(path, { maxBytes: SafeFs.SMALL_FILE_CAP, follow: { within: codexHome } }),
      catch: (cause) => cause instanceof SafeFs.SafeFsError ? cause : SafeFs.fromNodeError(path, cause)
    }).pipe(
      Effect.map((bytes) => {
        const entries: Array<CodexRollout.SessionIndexEntry> = []
        if (bytes !== undefined) {
          for (const line of new TextDecoder("utf-8").decode(bytes).split(/\r\n|\r|\n/)) {
            const entry = CodexRollout.decodeIndexLine(line)
            if (entry !== undefined) entries.push(entry)
          }
        }
        return CodexRollout.indexTitles(entries)
      }),
      Effect.catch((e) =>
        Effect.as(
          Effect.logWarning(`Ignoring Codex session index ${e.path}: ${e.detail}`),
          CodexRollout.indexTitles([])
        )
      )
    )
  }

  /**
   * The session meta of a rollout and its cwd (for legacy files, from the
   * first `<cwd>` in a message: the scan goes on until one is found). With
   * `needCwd: false` only the first non-blank line is read.
   */
  const readMeta = Effect.fnUntraced(function*(path: string, needCwd: boolean) {
    let meta: CodexRollout.SessionMeta | undefined
    let problem: string | undefined
    let oversized: { readonly number: number; readonly bytes: number } | undefined
    let cwd = ""
    yield* Stream.runForEachWhile(linesOf(path), (entry) =>
      Effect.sync(() => {
        if (entry._tag === "TooLong") {
          if (meta !== undefined) return true // reported by the full read
          oversized = entry
          problem = `line ${entry.number} (${entry.bytes} bytes) is over the ${maxLineBytes}-byte line limit`
          return false
        }
        const line = entry.text
        if (meta === undefined) {
          if (line.trim().length === 0) return true
          const first = CodexRollout.metaOfFirstLine(line)
          if (Result.isFailure(first)) {
            problem = first.failure
            return false
          }
          meta = first.success
          cwd = meta.cwd
          return needCwd && cwd.length === 0
        }
        const decoded = CodexRollout.decodeLine(line, meta.createdAt)
        if (decoded._tag !== "Record") return true
        const record = decoded.record
        if (record.kind === "session_meta" && record.meta.id === meta.id && record.meta.cwd.length > 0) {
          cwd = record.meta.cwd
        } else if (record.kind === "response_item" && record.item.type === "message") {
          cwd = CodexRollout.cwdOfMessage(record.item) ?? ""
        }
        return cwd.length === 0
      }))
    if (oversized !== undefined) yield* tooLong(path, oversized)
    if (meta === undefined) return yield* notARollout(path, problem)
    return { meta, cwd }
  })

  /**
   * Reads a whole rollout into a builder, one line at a time; malformed lines
   * are skipped with a warning (at most {@link MAX_LINE_WARNINGS} per file).
   */
  const readRollout = Effect.fnUntraced(function*(path: string, keepMessages: boolean) {
    const reader = CodexRollout.makeReader({ keepMessages })
    let malformed = 0
    let problem: string | undefined
    yield* Stream.runForEachWhile(linesOf(path), (line) => {
      if (line._tag === "TooLong") {
        if (reader.started()) return Effect.as(tooLong(path, line), true)
        problem = `line ${line.number} (${line.bytes} bytes) is over the ${maxLineBytes}-byte line limit`
        return Effect.succeed(false)
      }
      const lineNumber = line.number
      const pushed = reader.push(line.text)
      switch (pushed._tag) {
        case "Ok":
          return Effect.succeed(true)
        case "NotARollout":
          problem = pushed.reason
          return Effect.succeed(false)
        case "Malformed":
          malformed++
          return malformed <= MAX_LINE_WARNINGS
            ? Effect.as(Effect.logWarning(`Skipping malformed line ${lineNumber} of ${path}: ${pushed.reason}`), true)
            : Effect.succeed(true)
      }
    })
    if (malformed > MAX_LINE_WARNINGS) {
      yield* Effect.logWarning(`Skipped ${malformed - MAX_LINE_WARNINGS} more malformed lines of ${path}`)
    }
    if (!reader.started()) return yield* notARollout(path, problem)
    return reader.builder
  })

  /**
   * The native copy's `updatedAt`: `missing` when there is none, `corrupt`
   * when it does not decode (an import replaces it, as in 4.5.7). Reads the
   * header and checks the transcript's structure only (`loadTail(id, 0)`).
   */
  const nativeUpdatedAt = (id: string): Effect.Effect<Timestamp.Timestamp | "missing" | "corrupt", CodexImportError> =>
    store.loadTail(id, 0).pipe(
      Effect.map(({ session }): Timestamp.Timestamp | "missing" | "corrupt" => session.updatedAt),
      Effect.catch((e) => {
        if (e.reason === "NotFound") return Effect.succeed("missing" as const)
        if (e.reason === "Corrupt") {
          return Effect.as(
            Effect.logWarning(`Native session ${id} does not decode; a Codex import replaces it: ${e.message}`),
            "corrupt" as const
          )
        }
        return Effect.fail(storeError(e, id))
      })
    )

  const stateOf = (native: Timestamp.Timestamp | "missing" | "corrupt", updatedAt: Timestamp.Timestamp): ImportState =>
    native === "missing" ? "new" : native === "corrupt" || Timestamp.compare(native, updatedAt) < 0 ? "stale" : "current"

  /**
   * The messages of a rollout as a stream: a second pass over its lines with
   * the same mapping as {@link readRollout} (malformed lines were already
   * reported by the first pass).
   */
  const messagesOf = (path: string): Stream.Stream<Message.Message, CodexImportError> =>
    Stream.suspend(() => {
      const pending: Array<Message.Message> = []
      const reader = CodexRollout.makeReader({ keepMessages: false, onMessage: (m) => pending.push(m) })
      return linesOf(path).pipe(
        Stream.map((line) => {
          if (line._tag === "Line") reader.push(line.text)
          return pending.splice(0)
        }),
        Stream.flattenIterable
      )
    })

  /**
   * Imports one rollout under the persist rule, in two passes over its lines
   * so the session is never built in memory: the first folds the header
   * (timestamps, model, title, usage) in constant memory and decides whether
   * the native copy is current; the second streams the mapped messages
   * straight into the store's atomic save. An unchanged session writes nothing.
   */
  const importPathWith = Effect.fnUntraced(function*(path: string, titles: ReadonlyMap<string, string | null>) {
    const folded = yield* readRollout(path, false)
    const title = titles.get(folded.meta()!.id)
    const summary = CodexRollout.summarize(folded, title)!
    const native = yield* nativeUpdatedAt(summary.id)
    if (native !== "missing" && native !== "corrupt" && stateOf(native, summary.updatedAt) === "current") {
      return { status: "skipped" as const, id: summary.id, title: summary.title }
    }
    const now = yield* Timestamp.now
    const header = CodexRollout.build(folded, { indexTitle: title, provenanceUuid: uuid(), now, env })!
    // The deliberate replacement of an older copy, decided again under the
    // session's lock: a copy continued in codetether meanwhile is never overwritten.
    const written = yield* store.replaceIfOlder(header, messagesOf(path)).pipe(
      Effect.catchIf(
        (e): e is SessionStore.SessionStoreError | SessionStore.SessionBusy =>
          e instanceof SessionStore.SessionStoreError || e instanceof SessionStore.SessionBusy,
        (e) => Effect.fail(storeError(e, header.id))
      )
    )
    return { status: written ? "imported" as const : "skipped" as const, id: header.id, title: header.title }
  })

  const loadNative = (id: string) => Effect.mapError(store.load(id), (e) => storeError(e, id))

  const importPath = Effect.fn("CodexImport.importPath")(function*(path: string) {
    const codexHome = yield* presentHome
    const titles = codexHome === undefined ? new Map<string, string | null>() : yield* readIndex(codexHome)
    const outcome = yield* importPathWith(path, titles)
    return { status: outcome.status, session: yield* loadNative(outcome.id) }
  })

  /** The rollout whose meta has this id; broken rollouts are skipped with a warning. */
  const findRollout = Effect.fnUntraced(function*(codexHome: string, id: string) {
    const paths = yield* rolloutPaths(codexHome)
    const named = paths.filter((p) => NodePath.basename(p).includes(id))
    const ordered = [...named, ...paths.filter((p) => !NodePath.basename(p).includes(id))]
    for (const path of ordered) {
      const found = yield* readMeta(path, false).pipe(
        contained(path),
        Effect.map(({ meta }) => meta.id === id),
        Effect.catch((e) =>
          e.reason === "NotARollout"
            ? Effect.succeed(false)
            : Effect.as(Effect.logWarning(`Skipping unreadable Codex rollout: ${e.message}`), false)
        )
      )
      if (found) return path
    }
    return undefined
  })

  const importIdWith = Effect.fnUntraced(function*(id: string) {
    const codexHome = yield* requireHome
    const path = yield* findRollout(codexHome, id)
    if (path === undefined) {
      return yield* new CodexImportError({ reason: "NotFound", message: `Codex session not found: ${id}`, sessionId: id })
    }
    return yield* importPathWith(path, yield* readIndex(codexHome))
  })

  const importOne = Effect.fn("CodexImport.importOne")(function*(id: string) {
    const { status, title } = yield* importIdWith(id)
    return { id, title, status } satisfies ImportResult
  })

  const importById = Effect.fn("CodexImport.importById")(function*(id: string) {
    const outcome = yield* importIdWith(id)
    return yield* loadNative(outcome.id)
  })

  /** The rollouts (with meta) whose cwd is `directory`; broken ones skipped with a warning. */
  const discover = Effect.fnUntraced(function*(codexHome: string, directory: string | undefined) {
    const wanted = directory === undefined ? undefined : yield* Effect.sync(() => canonicalize(directory))
    const found: Array<{ readonly path: string; readonly meta: CodexRollout.SessionMeta; readonly cwd: string }> = []
    for (const path of yield* rolloutPaths(codexHome)) {
      const meta = yield* readMeta(path, wanted !== undefined).pipe(
        contained(path),
        Effect.map(Option.some),
        Effect.catch((e) =>
          e.reason === "NotARollout"
            ? Effect.as(Effect.logDebug(`Not a Codex rollout: ${path}`), Option.none())
            : Effect.as(Effect.logWarning(`Skipping unreadable Codex rollout: ${e.message}`), Option.none())
        )
      )
      if (Option.isNone(meta)) continue
      if (wanted !== undefined) {
        if (meta.value.cwd.length === 0) continue
        const cwd = yield* Effect.sync(() => canonicalize(meta.value.cwd))
        if (!componentsEqual(cwd, wanted)) continue
      }
      found.push({ path, ...meta.value })
    }
    return found
  })

  const importMany = Effect.fnUntraced(function*(directory: string | undefined) {
    const importedIds: Array<string> = []
    const skippedIds: Array<string> = []
    const failed: Array<{ path: string; message: string }> = []
    const sessions: Array<{ id: string; title: string | null; status: "imported" | "skipped" }> = []
    const codexHome = yield* requireHome
    const titles = yield* readIndex(codexHome)
    for (const { path } of yield* discover(codexHome, directory)) {
      const outcome = yield* Effect.result(contained(path)(importPathWith(path, titles)))
      if (Result.isSuccess(outcome)) {
        const { id, status, title } = outcome.success
        ;(status === "imported" ? importedIds : skippedIds).push(id)
        sessions.push({ id, title, status })
      } else {
        failed.push({ path, message: outcome.failure.message })
        yield* Effect.logWarning(`Could not import Codex rollout ${path}: ${outcome.failure.message}`)
      }
    }
    return {
      imported: importedIds.length,
      skipped: skippedIds.length,
      importedIds,
      skippedIds,
      failed,
      sessions
    } satisfies ImportReport
  })

  const importForDirectory = Effect.fn("CodexImport.importForDirectory")(function*(directory: string) {
    return yield* importMany(directory)
  })

  /** Summaries of the given rollouts (messages counted, not kept), newest first. */
  const summaries = Effect.fnUntraced(function*(
    codexHome: string,
    directory: string | undefined
  ) {
    const titles = yield* readIndex(codexHome)
    const out: Array<{ readonly summary: SessionSummary.SessionSummary; readonly path: string }> = []
    for (const { path } of yield* discover(codexHome, directory)) {
      const builder = yield* Effect.result(contained(path)(readRollout(path, false)))
      if (Result.isFailure(builder)) {
        yield* Effect.logWarning(`Skipping unreadable Codex rollout: ${builder.failure.message}`)
        continue
      }
      const id = builder.success.meta()!.id
      out.push({ summary: CodexRollout.summarize(builder.success, titles.get(id))!, path })
    }
    return out.sort((a, b) => SessionSummary.byUpdatedAtDesc(a.summary, b.summary))
  })

  const listForDirectory = Effect.fn("CodexImport.listForDirectory")(function*(directory: string) {
    const codexHome = yield* presentHome
    if (codexHome === undefined) return []
    return (yield* summaries(codexHome, directory)).map(({ summary }) => summary)
  })

  const listAll = Effect.gen(function*() {
    const codexHome = yield* presentHome
    if (codexHome === undefined) return []
    const out: Array<CodexSessionInfo> = []
    for (const { path, summary } of yield* summaries(codexHome, undefined)) {
      out.push({ summary, path, state: stateOf(yield* nativeUpdatedAt(summary.id), summary.updatedAt) })
    }
    return out
  }).pipe(Effect.withSpan("CodexImport.listAll"))

  const listAllForDirectory = Effect.fn("CodexImport.listAllForDirectory")(function*(directory: string) {
    const native = yield* Effect.mapError(store.listForDirectory(directory), (e) => storeError(e))
    const codex = yield* listForDirectory(directory)
    return CodexRollout.mergeSummaries(native, codex)
  })

  const loadOrImport = Effect.fn("CodexImport.loadOrImport")(function*(id: string) {
    const problem = SessionStore.idProblem(id)
    if (problem !== undefined) {
      return yield* new CodexImportError({
        reason: "InvalidId",
        message: `Invalid session id ${JSON.stringify(id)}: ${problem}`,
        sessionId: id
      })
    }
    const codexHome = yield* presentHome
    const path = codexHome === undefined ? undefined : yield* findRollout(codexHome, id)
    if (path !== undefined && codexHome !== undefined) {
      const outcome = yield* Effect.result(contained(path)(importPathWith(path, yield* readIndex(codexHome))))
      if (Result.isSuccess(outcome)) return yield* loadNative(id)
      const native = yield* Effect.result(store.load(id))
      if (Result.isFailure(native)) return yield* outcome.failure
      yield* Effect.logWarning(
        `Could not import Codex rollout ${path}; using the native session ${id}: ${outcome.failure.message}`
      )
      return native.success
    }
    return yield* store.load(id).pipe(
      Effect.mapError((e) =>
        e.reason === "NotFound"
          ? new CodexImportError({ reason: "NotFound", message: `Codex session not found: ${id}`, sessionId: id })
          : storeError(e, id)
      )
    )
  })

  return CodexImport.of({
    home,
    importById,
    importOne,
    importPath,
    importForDirectory,
    importAll: Effect.withSpan(importMany(undefined), "CodexImport.importAll"),
    listForDirectory,
    listAll,
    listAllForDirectory,
    loadOrImport
  })
})

/**
 * The Codex home from `CODEX_HOME` (trimmed, when non-empty; relative values
 * resolved against `cwd`), else `<home>/.codex`.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolveHome = (options: {
  readonly codexHome: string | undefined
  readonly home: string | undefined
  readonly cwd: string
}): string | undefined => Workspace.agentHome({ fromEnv: options.codexHome, home: options.home, cwd: options.cwd, dotDir: ".codex" })

/**
 * The service with the Codex home resolved as 4.5.7 does: `CODEX_HOME`
 * (through `Config`), else `<HOME>/.codex` (`HOME` through `Config`, else
 * the OS home directory). Provenances are seeded from the `CODETETHER_*`
 * variables. Needs the {@link SessionStore.SessionStore}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<CodexImport, Config.ConfigError, SessionStore.SessionStore> = Layer.effect(
  CodexImport,
  Effect.gen(function*() {
    const home = yield* Workspace.agentHomeFromConfig("CODEX_HOME", ".codex")
    const provenanceEnv = yield* CodetetherConfig.provenanceEnv
    return yield* make({ home, provenanceEnv })
  })
)

/**
 * The service reading the Codex home at `home` (tests, embedding apps, an
 * explicit `--codex-home`); provenances carry no `CODETETHER_*` values.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHome = (
  home: string,
  options?: { readonly uuid?: (() => string) | undefined; readonly maxLineBytes?: number | undefined }
): Layer.Layer<CodexImport, never, SessionStore.SessionStore> =>
  Layer.effect(CodexImport, make({ home: NodePath.resolve(home), uuid: options?.uuid, maxLineBytes: options?.maxLineBytes }))
