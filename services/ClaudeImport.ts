/**
 * Import of Claude Code sessions into the session store, like the Codex
 * import (`CodexImport.ts`): the codetether id is the Claude session id; a
 * session is written only when it is new or newer than the stored copy
 * (`SessionStore.replaceIfOlder`), so re-importing writes nothing and work
 * continued in codetether is never overwritten.
 *
 * Where Claude Code keeps its sessions:
 * - the config dir is `CLAUDE_CONFIG_DIR`, else `<home>/.claude`;
 * - transcripts are `<config dir>/projects/<folder>/<session id>.jsonl`,
 *   where the folder is the session's working directory with every
 *   character other than a letter or digit replaced by `-` (lossy: a
 *   transcript belongs to a directory by the `cwd` its records carry);
 *   `agent-*.jsonl` files (sub-agent transcripts), symlinked folders and
 *   anything that is not a regular file are skipped.
 *
 * Transcripts are read through `SafeFs` (non-blocking open, regular files
 * only, symlinks only inside the projects dir, a size cap checked while
 * reading) as a stream of lines with a per-line cap, twice: the first pass
 * finds the conversation and the header (`ClaudeTranscript.makeScanner`,
 * a few fields per record), the second streams the chain's messages into the
 * store's atomic save. A malformed or over-long line (a truncated last line,
 * say) is skipped with a warning; a file with no conversation is not a
 * transcript. One bad transcript never blocks another.
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
import * as ClaudeTranscript from "../schemas/ClaudeTranscript.ts"
import type * as Message from "../schemas/Message.ts"
import type { ProvenanceEnv } from "../schemas/Provenance.ts"
import type { Session } from "../schemas/Session.ts"
import * as SessionSummary from "../schemas/SessionSummary.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import type * as CodexImport from "./CodexImport.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import { canonicalize, componentsEqual, extensionOf } from "./internal/Paths.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as Workspace from "./internal/Workspace.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * Why a Claude Code operation failed:
 * - `HomeNotFound`: no Claude Code config dir (`Claude Code config directory not found`);
 * - `NotFound`: no transcript with that id (`Claude Code session not found: <id>`);
 * - `InvalidId`: the id cannot name a session file;
 * - `NotATranscript`: the file holds no conversation (no `user` or
 *   `assistant` record of the main agent);
 * - `Io`: a file could not be opened or read (a FIFO, a symlink leaving the
 *   projects dir, a file over the size cap, ...);
 * - `Store`: the session store failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClaudeImportError extends Schema.TaggedError<ClaudeImportError>()("ClaudeImportError", {
  reason: Schema.Literals(["HomeNotFound", "NotFound", "InvalidId", "NotATranscript", "Io", "Store"]),
  message: Schema.String,
  sessionId: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * One Claude Code session found on disk: its summary (un-prefixed title,
 * agent `build`, directory = its records' cwd), the transcript path and how
 * it relates to the store (`new`, `stale`, `current`, as for Codex).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaudeSessionInfo {
  readonly summary: SessionSummary.SessionSummary
  readonly path: string
  readonly state: CodexImport.ImportState
}

/**
 * @since 0.1.0
 * @category services
 */
export class ClaudeImport extends Context.Service<ClaudeImport, {
  /** The Claude Code config dir this service reads (`undefined` when none could be determined). */
  readonly home: string | undefined
  /**
   * Imports the transcript `<id>.jsonl` (any project folder) under the
   * persist rule and returns the stored session (the import, or the native
   * session when it is as new). Fails with `HomeNotFound`, `InvalidId`,
   * `NotFound`, `NotATranscript`, `Io` or `Store`.
   */
  readonly importById: (id: string) => Effect.Effect<Session, ClaudeImportError>
  /** {@link importById} that reports what it did instead of loading the session. Same errors. */
  readonly importOne: (id: string) => Effect.Effect<CodexImport.ImportResult, ClaudeImportError>
  /**
   * Imports one transcript file; its id is its file name. Fails with
   * `InvalidId`, `NotATranscript`, `Io` or `Store`.
   */
  readonly importPath: (path: string) => Effect.Effect<CodexImport.ImportOutcome, ClaudeImportError>
  /**
   * Imports every transcript whose records' cwd, canonicalised, equals
   * `directory` canonicalised (looked up in the project folders whose name
   * encodes it). A transcript that fails is logged, listed in `failed` and
   * does not stop the others. Fails with `HomeNotFound`.
   */
  readonly importForDirectory: (directory: string) => Effect.Effect<CodexImport.ImportReport, ClaudeImportError>
  /** Imports every transcript of every project folder (same rules). */
  readonly importAll: Effect.Effect<CodexImport.ImportReport, ClaudeImportError>
  /**
   * Summaries of the sessions of `directory`, newest first, un-prefixed;
   * unreadable transcripts skipped with a warning. No config dir → `[]`.
   */
  readonly listForDirectory: (
    directory: string
  ) => Effect.Effect<ReadonlyArray<SessionSummary.SessionSummary>, ClaudeImportError>
  /**
   * Every session with its transcript path and import state, newest first
   * (`sessions list --all` shows the `new` ones). No config dir → `[]`.
   */
  readonly listAll: Effect.Effect<ReadonlyArray<ClaudeSessionInfo>, ClaudeImportError>
  /**
   * For `run --session ID`: when a transcript `<id>.jsonl` exists, imports it
   * (persist rule) and returns the stored session; `None` when there is none
   * (the caller then looks elsewhere). A transcript that cannot be imported
   * never hides a native session with that id (a warning, then the native
   * session); without one its error is returned. Fails with `InvalidId` or
   * `Store`.
   */
  readonly importIfFound: (id: string) => Effect.Effect<Option.Option<Session>, ClaudeImportError>
}>()("codetether/ClaudeImport") {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions {
  /** The Claude Code config dir (absolute), or `undefined` when none is known. */
  readonly home: string | undefined
  /** The `CODETETHER_*` values provenances of imported sessions are seeded from. */
  readonly provenanceEnv?: ProvenanceEnv | undefined
  /** Draws the UUID v4 of each new provenance (default `crypto.randomUUID`). */
  readonly uuid?: (() => string) | undefined
  /** Largest transcript read, in bytes (default {@link MAX_TRANSCRIPT_BYTES}). */
  readonly maxFileBytes?: number | undefined
  /** Longest line read, in bytes (default {@link MAX_LINE_BYTES}); a longer one is skipped with a warning. */
  readonly maxLineBytes?: number | undefined
}

/**
 * Default cap of a transcript's size (bytes): 1 GiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_TRANSCRIPT_BYTES = 1024 * SafeFs.MiB

/**
 * Default cap of one line (bytes): 64 MiB (a record holding a large image or
 * tool output).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_LINE_BYTES = 64 * SafeFs.MiB

/** At most this many line warnings per file; the rest are counted in one summary warning. */
const MAX_LINE_WARNINGS = 10

/** Read size (bytes): one system call per MiB. */
const READ_CHUNK_BYTES = SafeFs.MiB

/**
 * One line of a file: its 1-based number and text (without the newline or a
 * trailing `\r`), or `undefined` text when it is longer than the line cap.
 *
 * @since 0.1.0
 * @category models
 */
export interface Line {
  readonly number: number
  readonly text: string | undefined
}

const utf8 = (parts: ReadonlyArray<Buffer>): string => {
  const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString("utf8")
  return text.endsWith("\r") ? text.slice(0, -1) : text
}

/**
 * The lines of `path`; with `keep`, only the lines whose number it accepts
 * are decoded and yielded (the others are skipped as bytes).
 */
async function* linesOf(
  path: string,
  options: { readonly within: string; readonly maxFileBytes: number; readonly maxLineBytes: number },
  keep?: (line: number) => boolean
): AsyncGenerator<Line> {
  const { handle } = await SafeFs.openRegular(path, { maxBytes: options.maxFileBytes, follow: { within: options.within } })
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES)
    let parts: Array<Buffer> = []
    let partBytes = 0
    let tooLong = false
    let total = 0
    let number = 0
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > options.maxFileBytes) {
        throw new SafeFs.SafeFsError("TooLarge", path, `is over the ${options.maxFileBytes}-byte limit`)
      }
      const view = chunk.subarray(0, bytesRead)
      for (let start = 0;;) {
        const newline = view.indexOf(10, start)
        const end = newline === -1 ? bytesRead : newline
        if (!tooLong) {
          if (partBytes + end - start > options.maxLineBytes) {
            tooLong = true
            parts = []
            partBytes = 0
          } else if (end > start) {
            parts.push(Buffer.from(view.subarray(start, end)))
            partBytes += end - start
          }
        }
        if (newline === -1) break
        number++
        if (keep === undefined || keep(number)) yield { number, text: tooLong ? undefined : utf8(parts) }
        parts = []
        partBytes = 0
        tooLong = false
        start = newline + 1
      }
    }
    if ((partBytes > 0 || tooLong) && (keep === undefined || keep(number + 1))) {
      yield { number: number + 1, text: tooLong ? undefined : utf8(parts) }
    }
  } finally {
    await handle.close().catch(() => undefined)
  }
}

const describe = (cause: unknown): string =>
  cause instanceof SafeFs.SafeFsError ? cause.detail : (cause as Error)?.message ?? String(cause)

const ioError = (path: string, cause: unknown): ClaudeImportError =>
  new ClaudeImportError({ reason: "Io", message: `Cannot read Claude Code transcript ${path}: ${describe(cause)}`, path, cause })

const storeError = (e: SessionStore.SessionStoreError | SessionStore.SessionBusy, sessionId?: string): ClaudeImportError =>
  new ClaudeImportError({
    reason: "Store",
    message: e.message,
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(e._tag === "SessionStoreError" && e.path !== undefined ? { path: e.path } : {}),
    cause: e
  })

const invalidId = (id: string, problem: string) =>
  new ClaudeImportError({ reason: "InvalidId", message: `Invalid session id ${JSON.stringify(id)}: ${problem}`, sessionId: id })

/** The session id of a transcript path (its file name without `.jsonl`). */
const idOfPath = (path: string): string => NodePath.basename(path).replace(/\.jsonl$/, "")

const isTranscriptName = (name: string): boolean =>
  extensionOf(name) === "jsonl" && !name.startsWith("agent-") && SessionStore.idProblem(idOfPath(name)) === undefined

const entriesOf = (dir: string): Array<NodeFs.Dirent> => {
  try {
    return NodeFs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  } catch {
    return []
  }
}

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
  const projectsDir = home === undefined ? undefined : NodePath.join(home, "projects")
  const readOptions = {
    within: projectsDir ?? "/",
    maxFileBytes: options.maxFileBytes ?? MAX_TRANSCRIPT_BYTES,
    maxLineBytes: options.maxLineBytes ?? MAX_LINE_BYTES
  }

  const lines = (path: string, keep?: (line: number) => boolean): Stream.Stream<Line, ClaudeImportError> =>
    Stream.suspend(() => Stream.fromAsyncIterable(linesOf(path, readOptions, keep), (cause) => ioError(path, cause)))

  /** The projects dir when it is an existing directory. */
  const presentProjects: Effect.Effect<string | undefined> = Effect.sync(() =>
    projectsDir !== undefined && NodeFs.statSync(projectsDir, { throwIfNoEntry: false })?.isDirectory() === true
      ? projectsDir
      : undefined
  )

  const requireProjects = Effect.gen(function*() {
    const present = yield* presentProjects
    if (present !== undefined) return present
    return yield* new ClaudeImportError({
      reason: "HomeNotFound",
      message: home === undefined
        ? "Claude Code config directory not found"
        : `Claude Code config directory not found: ${home} (no projects/ in it)`,
      ...(home === undefined ? {} : { path: home })
    })
  })

  /** Transcripts of the project folders whose name passes `folder` (real directories and regular files only). */
  const transcripts = (projects: string, folder: (name: string) => boolean): ReadonlyArray<string> =>
    entriesOf(projects).filter((e) => e.isDirectory() && folder(e.name)).flatMap((e) => {
      const dir = NodePath.join(projects, e.name)
      return entriesOf(dir).filter((f) => f.isFile() && isTranscriptName(f.name)).map((f) => NodePath.join(dir, f.name))
    })

  /** First pass: the conversation and the header; malformed lines skipped with a warning. */
  const scanFile = Effect.fnUntraced(function*(path: string) {
    const scanner = ClaudeTranscript.makeScanner()
    let bad = 0
    yield* Stream.runForEach(lines(path), ({ number, text }) => {
      const decoded = text === undefined
        ? { _tag: "Malformed" as const, reason: `longer than the ${readOptions.maxLineBytes}-byte line limit` }
        : ClaudeTranscript.decodeLine(text)
      if (decoded._tag === "Record") {
        scanner.add(decoded.record, number)
        return Effect.void
      }
      if (decoded._tag === "Blank") return Effect.void
      bad++
      return bad <= MAX_LINE_WARNINGS
        ? Effect.logWarning(`Skipping malformed line ${number} of ${path}: ${decoded.reason}`)
        : Effect.void
    })
    if (bad > MAX_LINE_WARNINGS) yield* Effect.logWarning(`Skipped ${bad - MAX_LINE_WARNINGS} more malformed lines of ${path}`)
    const scan = scanner.finish()
    if (scan === undefined) {
      return yield* new ClaudeImportError({
        reason: "NotATranscript",
        message: `${path} holds no Claude Code conversation (no user or assistant record of the main agent)`,
        path
      })
    }
    return scan
  })

  /** Second pass: the chain's messages, merged, in chain order (streamed when the chain is in file order). */
  const messagesOf = (path: string, scan: ClaudeTranscript.Scan): Stream.Stream<Message.Message, ClaudeImportError> =>
    Stream.suspend(() => {
      const wanted = new Set(scan.chain)
      const merger = ClaudeTranscript.makeMerger()
      const mapped = (line: Line): ClaudeTranscript.Mapped => {
        if (line.text === undefined || !wanted.has(line.number)) return { _tag: "Nothing" }
        const decoded = ClaudeTranscript.decodeLine(line.text)
        return decoded._tag === "Record" ? ClaudeTranscript.mapRecord(decoded.record) : { _tag: "Nothing" }
      }
      if (scan.inFileOrder) {
        return lines(path, (n) => wanted.has(n)).pipe(
          Stream.map((line) => merger.push(mapped(line))),
          Stream.flattenIterable,
          Stream.concat(Stream.suspend(() => Stream.fromIterable(merger.flush())))
        )
      }
      return Stream.unwrap(Effect.gen(function*() {
        const byLine = new Map<number, ClaudeTranscript.Mapped>()
        yield* Stream.runForEach(lines(path, (n) => wanted.has(n)), (line) =>
          Effect.sync(() => {
            if (wanted.has(line.number)) byLine.set(line.number, mapped(line))
          }))
        const messages: Array<Message.Message> = []
        for (const line of scan.chain) messages.push(...merger.push(byLine.get(line) ?? { _tag: "Nothing" }))
        messages.push(...merger.flush())
        return Stream.fromIterable(messages)
      }))
    })

  /** The native copy's `updatedAt` (`missing`, or `corrupt` when it does not decode: an import replaces it). */
  const nativeUpdatedAt = (id: string) =>
    store.loadTail(id, 0).pipe(
      Effect.map(({ session }): Timestamp.Timestamp | "missing" | "corrupt" => session.updatedAt),
      Effect.catch((e) => {
        if (e.reason === "NotFound") return Effect.succeed("missing" as const)
        if (e.reason === "Corrupt") {
          return Effect.as(
            Effect.logWarning(`Native session ${id} does not decode; a Claude Code import replaces it: ${e.message}`),
            "corrupt" as const
          )
        }
        return Effect.fail(storeError(e, id))
      })
    )

  const stateOf = (native: Timestamp.Timestamp | "missing" | "corrupt", updatedAt: Timestamp.Timestamp): CodexImport.ImportState =>
    native === "missing" ? "new" : native === "corrupt" || Timestamp.compare(native, updatedAt) < 0 ? "stale" : "current"

  const importPathWith = Effect.fnUntraced(function*(path: string, known?: ClaudeTranscript.Scan) {
    const id = idOfPath(path)
    const problem = SessionStore.idProblem(id)
    if (problem !== undefined) return yield* invalidId(id, problem)
    const scan = known ?? (yield* scanFile(path))
    const native = yield* nativeUpdatedAt(id)
    if (stateOf(native, scan.updatedAt) === "current") return { status: "skipped" as const, id, title: scan.title }
    const header = ClaudeTranscript.build(scan, { id, provenanceUuid: uuid(), now: yield* Timestamp.now, env })
    // decided again under the session's lock: work continued in codetether meanwhile is never overwritten
    const written = yield* store.replaceIfOlder(header, messagesOf(path, scan)).pipe(
      Effect.catchIf(
        (e): e is SessionStore.SessionStoreError | SessionStore.SessionBusy =>
          e instanceof SessionStore.SessionStoreError || e instanceof SessionStore.SessionBusy,
        (e) => Effect.fail(storeError(e, id))
      )
    )
    return { status: written ? "imported" as const : "skipped" as const, id, title: scan.title }
  })

  const loadNative = (id: string) => Effect.mapError(store.load(id), (e) => storeError(e, id))

  const findTranscript = (projects: string, id: string): string | undefined => {
    for (const folder of entriesOf(projects)) {
      if (!folder.isDirectory()) continue
      const path = NodePath.join(projects, folder.name, `${id}.jsonl`)
      if (NodeFs.lstatSync(path, { throwIfNoEntry: false })?.isFile() === true) return path
    }
    return undefined
  }

  const importIdWith = Effect.fnUntraced(function*(id: string) {
    const problem = SessionStore.idProblem(id)
    if (problem !== undefined) return yield* invalidId(id, problem)
    const projects = yield* requireProjects
    const path = findTranscript(projects, id)
    if (path === undefined) {
      return yield* new ClaudeImportError({ reason: "NotFound", message: `Claude Code session not found: ${id}`, sessionId: id })
    }
    return yield* importPathWith(path)
  })

  /** The transcripts (with their scans) of `directory`, or of every folder; unreadable ones skipped with a warning. */
  const discover = Effect.fnUntraced(function*(projects: string, directory: string | undefined) {
    const wanted = directory === undefined ? undefined : canonicalize(directory)
    const names = wanted === undefined
      ? undefined
      : new Set([ClaudeTranscript.projectFolderName(wanted), ClaudeTranscript.projectFolderName(directory!)])
    const found: Array<{ readonly path: string; readonly scan: ClaudeTranscript.Scan }> = []
    for (const path of transcripts(projects, (name) => names === undefined || names.has(ClaudeTranscript.projectFolderName(name)))) {
      const scan = yield* Effect.result(scanFile(path))
      if (Result.isFailure(scan)) {
        yield* scan.failure.reason === "NotATranscript"
          ? Effect.logDebug(scan.failure.message)
          : Effect.logWarning(`Skipping unreadable Claude Code transcript: ${scan.failure.message}`)
        continue
      }
      if (wanted !== undefined) {
        const cwd = scan.success.directory
        if (cwd === null || !componentsEqual(canonicalize(cwd), wanted)) continue
      }
      found.push({ path, scan: scan.success })
    }
    return found
  })

  const importMany = Effect.fnUntraced(function*(directory: string | undefined) {
    const importedIds: Array<string> = []
    const skippedIds: Array<string> = []
    const failed: Array<{ path: string; message: string }> = []
    const sessions: Array<{ id: string; title: string | null; status: "imported" | "skipped" }> = []
    const projects = yield* requireProjects
    for (const { path, scan } of yield* discover(projects, directory)) {
      const outcome = yield* Effect.result(importPathWith(path, scan))
      if (Result.isSuccess(outcome)) {
        const { id, status, title } = outcome.success
        ;(status === "imported" ? importedIds : skippedIds).push(id)
        sessions.push({ id, title, status })
      } else {
        failed.push({ path, message: outcome.failure.message })
        yield* Effect.logWarning(`Could not import Claude Code transcript ${path}: ${outcome.failure.message}`)
      }
    }
    return {
      imported: importedIds.length,
      skipped: skippedIds.length,
      importedIds,
      skippedIds,
      failed,
      sessions
    } satisfies CodexImport.ImportReport
  })

  const summaries = Effect.fnUntraced(function*(directory: string | undefined) {
    const projects = yield* presentProjects
    if (projects === undefined) return []
    return (yield* discover(projects, directory))
      .map(({ path, scan }) => ({ path, summary: ClaudeTranscript.summarize(scan, idOfPath(path)) }))
      .sort((a, b) => SessionSummary.byUpdatedAtDesc(a.summary, b.summary))
  })

  return ClaudeImport.of({
    home,
    importById: Effect.fn("ClaudeImport.importById")(function*(id: string) {
      return yield* loadNative((yield* importIdWith(id)).id)
    }),
    importOne: Effect.fn("ClaudeImport.importOne")(function*(id: string) {
      const { status, title } = yield* importIdWith(id)
      return { id, title, status } satisfies CodexImport.ImportResult
    }),
    importPath: Effect.fn("ClaudeImport.importPath")(function*(path: string) {
      const outcome = yield* importPathWith(path)
      return { status: outcome.status, session: yield* loadNative(outcome.id) }
    }),
    importForDirectory: Effect.fn("ClaudeImport.importForDirectory")(function*(directory: string) {
      return yield* importMany(directory)
    }),
    importAll: Effect.withSpan(importMany(undefined), "ClaudeImport.importAll"),
    listForDirectory: Effect.fn("ClaudeImport.listForDirectory")(function*(directory: string) {
      return (yield* summaries(directory)).map(({ summary }) => summary)
    }),
    listAll: Effect.gen(function*() {
      const out: Array<ClaudeSessionInfo> = []
      for (const { path, summary } of yield* summaries(undefined)) {
        out.push({ summary, path, state: stateOf(yield* nativeUpdatedAt(summary.id), summary.updatedAt) })
      }
      return out
    }).pipe(Effect.withSpan("ClaudeImport.listAll")),
    importIfFound: Effect.fn("ClaudeImport.importIfFound")(function*(id: string) {
      const problem = SessionStore.idProblem(id)
      if (problem !== undefined) return yield* invalidId(id, problem)
      const projects = yield* presentProjects
      const path = projects === undefined ? undefined : findTranscript(projects, id)
      if (path === undefined) return Option.none()
      const outcome = yield* Effect.result(importPathWith(path))
      if (Result.isSuccess(outcome)) return Option.some(yield* loadNative(id))
      const native = yield* Effect.result(store.load(id))
      if (Result.isFailure(native)) return yield* outcome.failure
      yield* Effect.logWarning(
        `Could not import Claude Code transcript ${path}; using the native session ${id}: ${outcome.failure.message}`
      )
      return Option.some(native.success)
    })
  })
})

/**
 * The Claude Code config dir: `CLAUDE_CONFIG_DIR` (trimmed, when non-empty;
 * relative values resolved against `cwd`), else `<home>/.claude`.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolveHome = (options: {
  readonly configDir: string | undefined
  readonly home: string | undefined
  readonly cwd: string
}): string | undefined => Workspace.agentHome({ fromEnv: options.configDir, home: options.home, cwd: options.cwd, dotDir: ".claude" })

/**
 * The service with the config dir from `CLAUDE_CONFIG_DIR` (through
 * `Config`), else `<HOME>/.claude` (`HOME` through `Config`, else the OS
 * home directory). Provenances are seeded from the `CODETETHER_*` variables.
 * Needs the {@link SessionStore.SessionStore}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ClaudeImport, Config.ConfigError, SessionStore.SessionStore> = Layer.effect(
  ClaudeImport,
  Effect.gen(function*() {
    const home = yield* Workspace.agentHomeFromConfig("CLAUDE_CONFIG_DIR", ".claude")
    const provenanceEnv = yield* CodetetherConfig.provenanceEnv
    return yield* make({ home, provenanceEnv })
  })
)

/**
 * The service reading the Claude Code config dir at `home` (tests,
 * embedding apps); provenances carry no `CODETETHER_*` values.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHome = (
  home: string,
  options?: Omit<MakeOptions, "home" | "provenanceEnv">
): Layer.Layer<ClaudeImport, never, SessionStore.SessionStore> =>
  Layer.effect(ClaudeImport, make({ ...options, home: NodePath.resolve(home) }))
