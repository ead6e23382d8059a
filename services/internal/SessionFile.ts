/**
 * Reading session files: whole, tail-capped, header-only and summary reads.
 *
 * Files up to {@link WHOLE_FILE_LIMIT} bytes are read whole and parsed with
 * `JSON.parse`; larger files go through the structural scanner, which reads
 * 2 MiB chunks and only materialises the values it keeps, so files larger than
 * V8's maximum string length load. Either way the elements a tail load keeps are
 * type-checked by the `Session` schema and the dropped ones are checked for
 * JSON structure only.
 *
 * Functions throw {@link FileReadError}; the store maps it to its tagged error.
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as NodePath from "node:path"
import * as Result from "effect/Result"
import { type Session, type SessionHeader, type TailLoad, withRevision } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import type { SessionSummary } from "../../schemas/SessionSummary.ts"
import * as SessionSummary_ from "../../schemas/SessionSummary.ts"
import { componentsEqual } from "./Paths.ts"
import { PartTagCheck } from "./PartTags.ts"
import * as SafeFs from "./SafeFs.ts"
import * as Structural from "./Structural.ts"

/** Files up to this many bytes are parsed whole (bytes). */
export const WHOLE_FILE_LIMIT = 64 << 20

/**
 * Kept array elements are parsed in batches of at most this many bytes (one
 * larger element is a batch of its own), so a file larger than V8's maximum
 * string length (about 512 MiB) loads (bytes).
 */
export const ELEMENT_BATCH_BYTES = 32 << 20

/** How much of a file a header read looks at before treating it as legacy layout (bytes, multiple of 64). */
export const HEADER_PREFIX_BYTES = 16 << 10

/**
 * Why a file could not be read: `Missing` (no such file), `Corrupt` (not a
 * session: `detail` says why and where), `IdMismatch` (a valid session whose
 * inner `id` is not its file name: a copy such as `backup.json`), `Io` (the
 * file system failed, or the file is a FIFO, device or a symlink leaving the
 * data dir).
 *
 * @internal
 */
export class FileReadError extends Error {
  readonly kind: "Missing" | "Corrupt" | "IdMismatch" | "Io"
  readonly path: string
  readonly detail: string
  constructor(kind: FileReadError["kind"], path: string, detail: string, cause?: unknown) {
    super(`${path}: ${detail}`, cause === undefined ? undefined : { cause })
    this.kind = kind
    this.path = path
    this.detail = detail
  }
}

const corrupt = (path: string, detail: string) => new FileReadError("Corrupt", path, detail)

const ioError = (path: string, cause: unknown): FileReadError => {
  if (cause instanceof FileReadError) return cause
  if (cause instanceof SafeFs.SafeFsError) {
    switch (cause.kind) {
      case "Missing":
        return new FileReadError("Missing", path, "no such file")
      case "NotRegular":
        return corrupt(path, cause.detail)
      default:
        return new FileReadError("Io", path, cause.detail, cause)
    }
  }
  const code = (cause as { code?: string }).code
  if (code === "ENOENT") return new FileReadError("Missing", path, "no such file")
  if (code === "EISDIR") return corrupt(path, "is a directory, not a session file")
  return new FileReadError("Io", path, (cause as Error).message ?? String(cause), cause)
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** V8's maximum string length (2^29 - 24 UTF-16 units): no larger text can be decoded (bytes, at least). */
const MAX_STRING_BYTES = (1 << 29) - 24

const TRACKED: ReadonlySet<string> = new Set(["messages", "tool_uses"])
const HEADER_KEYS: ReadonlySet<string> = new Set(["id", "title", "metadata"])

/**
 * Where a session file may point when it is a symlink: only inside this
 * directory (the data dir). `undefined`: symlinks are not followed at all.
 */
export interface ReadOptions {
  readonly within?: string | undefined
}

const followOf = (options: ReadOptions): SafeFs.FollowPolicy =>
  options.within === undefined ? "never" : { within: options.within }

/**
 * The store revision of a session file: its inode, size and modification
 * time in nanoseconds. Every save writes a new file (a new inode) with a
 * modification time past the previous one, so the revision changes with
 * every save, codetether's or 4.5.7's.
 */
export const revisionOfStat = (stat: NodeFs.BigIntStats): string => `f1:${stat.ino}:${stat.size}:${stat.mtimeNs}`

/** The revision of the file at `path` (following a final symlink), or `undefined` when there is none. */
export const currentRevision = (path: string): string | undefined => {
  const stat = NodeFs.statSync(path, { bigint: true, throwIfNoEntry: false })
  return stat === undefined ? undefined : revisionOfStat(stat)
}

/**
 * Opens `path` (non-blocking, regular files only, symlinks only inside
 * `options.within`), runs `f` with the handle, the size and the revision,
 * closes. Maps errors with {@link ioError}.
 */
export const withFile = async <A>(
  path: string,
  f: (handle: FileHandle, size: number, revision: string) => Promise<A>,
  options: ReadOptions = {}
): Promise<A> => {
  let opened: { readonly handle: FileHandle; readonly stat: NodeFs.BigIntStats }
  try {
    opened = await SafeFs.openRegular(path, { follow: followOf(options) })
  } catch (e) {
    throw ioError(path, e)
  }
  const { handle, stat } = opened
  try {
    return await f(handle, Number(stat.size), revisionOfStat(stat))
  } catch (e) {
    if (e instanceof FileReadError) throw e
    if (e instanceof Structural.JsonScanError) throw corrupt(path, `invalid JSON: ${e.message}`)
    throw ioError(path, e)
  } finally {
    await handle.close().catch(() => undefined)
  }
}

/** The id a session file's name gives it: `<id>.json` → `id`. */
export const idOfPath = (path: string): string => NodePath.basename(path).replace(/\.json$/, "")

/** Fails with `IdMismatch` unless `session.id` is the id of the file name (the file name is the identity). */
const checkIdentity = (path: string, id: string): void => {
  const expected = idOfPath(path)
  if (id !== expected) {
    throw new FileReadError(
      "IdMismatch",
      path,
      `it holds session ${JSON.stringify(id)}, not ${JSON.stringify(expected)} (a copied file?); the file name is the session's identity`
    )
  }
}

const readBytes = async (handle: FileHandle, start: number, end: number): Promise<Buffer> => {
  const out = Buffer.allocUnsafe(end - start)
  const n = await Structural.readFully(handle, out, out.length, start)
  return n === out.length ? out : out.subarray(0, n)
}

const parseRange = (path: string, bytes: Uint8Array, what: string): unknown => {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch (e) {
    if (bytes.length >= MAX_STRING_BYTES && !(e instanceof TypeError)) {
      throw corrupt(path, `${what} is ${bytes.length} bytes, more than a JavaScript string can hold`)
    }
    throw corrupt(path, `${what} is not valid UTF-8`)
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw corrupt(path, `invalid JSON in ${what}: ${(e as Error).message}`)
  }
}

/** Shifts `["messages"][i]` in a decode message by the number of dropped elements. */
const shiftPaths = (message: string, droppedMessages: number, droppedToolUses: number): string =>
  message.replace(
    /\["(messages|tool_uses)"\]\[(\d+)\]/g,
    (_, key: string, index: string) =>
      `["${key}"][${Number(index) + (key === "messages" ? droppedMessages : droppedToolUses)}]`
  )

const decodeSession = (path: string, value: unknown, droppedMessages = 0, droppedToolUses = 0): Session => {
  const result = SessionJson.decodeValue(value)
  if (Result.isFailure(result)) {
    throw corrupt(path, shiftPaths(result.failure.message, droppedMessages, droppedToolUses))
  }
  return result.success
}

/** The last `window` elements of an array, as byte ranges, plus how many there were. */
class Ring {
  readonly starts: Array<number> = []
  readonly ends: Array<number> = []
  count = 0
  private readonly window: number
  constructor(window: number) {
    this.window = window
  }
  push(start: number, end: number): void {
    this.count++
    if (this.window <= 0) return
    if (this.starts.length === this.window) {
      this.starts.shift()
      this.ends.shift()
    }
    this.starts.push(start)
    this.ends.push(end)
  }
  get dropped(): number {
    return this.count - this.starts.length
  }
}

interface ScanResult {
  /** Parsed root values, except the tracked arrays. */
  readonly values: Record<string, unknown>
  readonly rings: Map<string, Ring>
}

/**
 * Scans a whole file, recording the last `window` elements of the tracked
 * arrays and parsing the other root values. A file that fits in one chunk is
 * read once and its root values are taken from the scan buffer; a larger one
 * is streamed and its root values are read back afterwards. With
 * `checkTags`, the content part tags and roles of every message are checked
 * in the same pass (`PartTags.ts`): a message 4.5.7 could not load makes the
 * file corrupt although no message is materialised (listing). It costs about
 * 2 ms per MB of transcript (the byte search), so tail loads, which decode
 * every message they keep, do not ask for it.
 */
const scanFile = async (
  path: string,
  handle: FileHandle,
  size: number,
  window: number,
  checkTags = false
): Promise<ScanResult> => {
  const roots = new Map<string, readonly [number, number]>()
  const rings = new Map<string, Ring>()
  const values: Record<string, unknown> = {}
  const tags = new PartTagCheck()
  const scanner = Structural.acquire()
  try {
    scanner.begin({
      ...(checkTags
        ? {
          onTrackedBytes: (key: string, bytes: Uint8Array, offset: number, last: boolean) => {
            if (key === "messages") tags.feed(bytes, offset, last)
          }
        }
        : {}),
      onRootValue: (key, start, end, tracked) => {
        if (tracked) rings.set(key, rings.get(key) ?? new Ring(window))
        else roots.set(key, [start, end])
      },
      onElement: (key, start, end) => {
        let ring = rings.get(key)
        if (ring === undefined) rings.set(key, ring = new Ring(window))
        ring.push(start, end)
      }
    }, TRACKED)
    if (size <= Structural.CHUNK_BYTES) {
      const n = await Structural.readFully(handle, scanner.buffer, size, 0)
      scanner.process(n)
      scanner.finish()
      failOnBadTag(path, tags)
      for (const [key, [start, end]] of roots) {
        values[key] = parseRange(path, scanner.buffer.subarray(start, end), `"${key}"`)
      }
      return { values, rings }
    }
    await Structural.scanHandle(handle, scanner)
  } finally {
    Structural.release(scanner)
  }
  failOnBadTag(path, tags)
  for (const [key, [start, end]] of roots) {
    values[key] = parseRange(path, await readBytes(handle, start, end), `"${key}"`)
  }
  return { values, rings }
}

/** Fails with `Corrupt` when a message has a part type or role 4.5.7 does not know. */
const failOnBadTag = (path: string, tags: PartTagCheck): void => {
  if (tags.problem !== undefined) {
    throw corrupt(path, `"messages": ${tags.problem.detail} at byte ${tags.problem.offset}: codetether-agent 4.5.7 cannot load this session`)
  }
}

/**
 * Loads a session keeping the last `window` messages and tool uses
 * (`Infinity`: everything), as 4.5.7 `load_tail_from_path`. Kept elements are
 * parsed in batches of `batchBytes` (default {@link ELEMENT_BATCH_BYTES}).
 * The session's `id` must be the file name's (`IdMismatch`) unless
 * `checkIdentity` is `false`.
 */
export const readTail = (
  path: string,
  window: number,
  options: ReadOptions & { readonly batchBytes?: number; readonly checkIdentity?: boolean } = {}
): Promise<TailLoad> =>
  withFile(path, async (handle, size, revision) => {
    // A whole load of a file that fits in a string is fastest with JSON.parse;
    // a bounded window (or a huge file) streams, so memory follows the window.
    if (window === Number.POSITIVE_INFINITY && size <= WHOLE_FILE_LIMIT) {
      const bytes = await readBytes(handle, 0, size)
      const parsed = SessionJson.parseJson(bytes)
      if (Result.isFailure(parsed)) throw corrupt(path, parsed.failure.message)
      const session = decodeSession(path, parsed.success)
      if (options.checkIdentity !== false) checkIdentity(path, session.id)
      return { session: withRevision(session, revision), dropped: 0, fileBytes: size }
    }
    const scan = await scanFile(path, handle, size, window)
    const batchBytes = options?.batchBytes ?? ELEMENT_BATCH_BYTES
    const value = scan.values
    let droppedMessages = 0
    let droppedToolUses = 0
    for (const [key, ring] of scan.rings) {
      // Parsed in batches: the kept elements of a 1 GiB file do not fit in one string.
      const elements: Array<unknown> = []
      for (let first = 0; first < ring.starts.length;) {
        let last = first
        while (
          last + 1 < ring.starts.length && ring.ends[last + 1]! - ring.starts[first]! <= batchBytes
        ) last++
        const bytes = await readBytes(handle, ring.starts[first]!, ring.ends[last]!)
        const batch = parseRange(
          path,
          Buffer.concat([Buffer.from("["), bytes, Buffer.from("]")]),
          `"${key}" (elements ${ring.dropped + first} to ${ring.dropped + last})`
        ) as Array<unknown>
        for (const element of batch) elements.push(element)
        first = last + 1
      }
      value[key] = elements
      if (key === "messages") droppedMessages = ring.dropped
      else droppedToolUses = ring.dropped
    }
    const session = decodeSession(path, value, droppedMessages, droppedToolUses)
    if (options.checkIdentity !== false) checkIdentity(path, session.id)
    return { session: withRevision(session, revision), dropped: droppedMessages + droppedToolUses, fileBytes: size }
  }, options)

/**
 * The summary of a session file (4.5.7 `list_sessions` row): the root values
 * are type-checked with the `Session` schema, messages are counted and
 * structurally checked, never materialised.
 */
export const readSummary = (path: string, options: ReadOptions = {}): Promise<SessionSummary> =>
  withFile(path, (handle, size) => summarize(path, handle, size), options)

const summarize = async (path: string, handle: FileHandle, size: number): Promise<SessionSummary> => {
  const scan = await scanFile(path, handle, size, 0, true)
  const value = scan.values
  for (const key of scan.rings.keys()) value[key] = []
  const session = decodeSession(path, value)
  checkIdentity(path, session.id)
  return { ...SessionSummary_.fromSession(session), messageCount: scan.rings.get("messages")?.count ?? 0 }
}

/**
 * Summaries already read, by path, each with the file revision
 * ({@link revisionOfStat}: inode, size in bytes, mtime in ns) it was read at.
 */
export type SummaryCache = Map<string, { readonly revision: string; readonly summary: SessionSummary }>

/**
 * {@link readSummary} through `cache`: a regular file whose revision (from
 * `lstat`) is the cached one gives the cached summary without being opened;
 * anything else (a symlink, a changed or new file) is opened under the read
 * rules (regular files only, the symlink rule, never blocking) and scanned.
 * Every save gives a file a new revision (a new inode: saves rename a new
 * file into place), so a changed session is always read again. Errors are
 * not cached.
 */
export const readSummaryCached = (path: string, cache: SummaryCache, options: ReadOptions = {}): Promise<SessionSummary> => {
  // A regular file (not a symlink) whose revision is the cached one: its
  // summary, for one lstat (which never blocks, whatever the path is).
  const cached = cache.get(path)
  if (cached !== undefined) {
    let stat: NodeFs.BigIntStats | undefined
    try {
      stat = NodeFs.lstatSync(path, { bigint: true, throwIfNoEntry: false })
    } catch {
      // unreadable: the open below reports it as every read does
    }
    if (stat?.isFile() === true && revisionOfStat(stat) === cached.revision) return Promise.resolve(cached.summary)
  }
  return withFile(path, async (handle, size, revision) => {
    const hit = cache.get(path)
    if (hit !== undefined && hit.revision === revision) return hit.summary
    cache.delete(path)
    const summary = await summarize(path, handle, size)
    cache.set(path, { revision, summary })
    return summary
  }, options)
}

/** How a candidate of a directory scan turned out. */
export type HeaderMatch =
  | { readonly _tag: "Match"; readonly header: SessionHeader }
  | { readonly _tag: "NoMatch" }
  | { readonly _tag: "NotASession"; readonly detail: string }

type RawHeader =
  | { readonly _tag: "Values"; readonly values: Record<string, unknown> }
  | { readonly _tag: "Incomplete" }
  | { readonly _tag: "NotASession"; readonly detail: string }

const headerEvents = (ranges: Map<string, readonly [number, number]>): Structural.ScanEvents => ({
  onRootValue: (key, start, end) => {
    if (HEADER_KEYS.has(key)) ranges.set(key, [start, end])
    return ranges.size === HEADER_KEYS.size
  }
})

const headerValues = (
  path: string,
  ranges: Map<string, readonly [number, number]>,
  bytesOf: (key: string, start: number, end: number) => Uint8Array
): RawHeader => {
  const values: Record<string, unknown> = {}
  try {
    for (const [key, [start, end]] of ranges) values[key] = parseRange(path, bytesOf(key, start, end), `"${key}"`)
  } catch (e) {
    if (e instanceof FileReadError && e.kind === "Corrupt") return { _tag: "NotASession", detail: e.detail }
    throw e
  }
  return { _tag: "Values", values }
}

/**
 * The header values from the first {@link HEADER_PREFIX_BYTES} bytes, read
 * synchronously (one small read: cheaper than thread-pool round trips when a
 * scan looks at thousands of files). `Incomplete` when the header is not
 * within the prefix (legacy layout).
 */
const readHeaderPrefix = (path: string, options: ReadOptions): RawHeader => {
  let fd: number
  try {
    fd = SafeFs.openRegularSync(path, { follow: followOf(options) }).fd
  } catch (e) {
    throw ioError(path, e)
  }
  const scanner = Structural.acquire()
  try {
    let n = 0
    while (n < HEADER_PREFIX_BYTES) {
      const read = NodeFs.readSync(fd, scanner.buffer, n, HEADER_PREFIX_BYTES - n, n)
      if (read === 0) break
      n += read
    }
    const ranges = new Map<string, readonly [number, number]>()
    scanner.begin(headerEvents(ranges))
    try {
      scanner.process(n)
      if (!scanner.stopped) {
        if (n < HEADER_PREFIX_BYTES) scanner.finish()
        else return { _tag: "Incomplete" }
      }
    } catch (e) {
      if (e instanceof Structural.JsonScanError) return { _tag: "NotASession", detail: `invalid JSON: ${e.message}` }
      throw e
    }
    const buffer = scanner.buffer
    return headerValues(path, ranges, (_, start, end) => buffer.subarray(start, end))
  } catch (e) {
    throw ioError(path, e)
  } finally {
    Structural.release(scanner)
    NodeFs.closeSync(fd)
  }
}

/**
 * The header of a legacy-layout file (metadata after the transcript), read by
 * scanning the whole file. 4.5.7 first checked that the file contains the
 * JSON-escaped workspace path (its byte prefilter); a session saved through a
 * symlinked directory holds the link's path, not the workspace's canonical
 * one, so the prefilter hid it from resume while listing showed it. The scan
 * costs about what the prefilter's read did.
 */
const readHeaderLegacy = (path: string, options: ReadOptions): Promise<RawHeader> =>
  withFile(path, async (handle) => {
    const ranges = new Map<string, readonly [number, number]>()
    const scanner = Structural.acquire()
    try {
      scanner.begin(headerEvents(ranges))
      await Structural.scanHandle(handle, scanner)
    } catch (e) {
      if (e instanceof Structural.JsonScanError) return { _tag: "NotASession", detail: `invalid JSON: ${e.message}` }
      throw e
    } finally {
      Structural.release(scanner)
    }
    const bytes = new Map<string, Uint8Array>()
    for (const [key, [start, end]] of ranges) bytes.set(key, await readBytes(handle, start, end))
    return headerValues(path, ranges, (key) => bytes.get(key)!)
  }, options)

/**
 * Reads the header of `path` and tells whether it belongs to the workspace
 * `ws` (already canonical): its `metadata.directory` equals `ws` path-wise, or
 * after canonicalisation (`canonical`, usually cached by the caller).
 *
 * The header (`id`, `title`, `metadata`) is read from the first
 * {@link HEADER_PREFIX_BYTES} bytes, where 4.5.7 writes it. When it is not
 * there (the legacy layout puts `metadata` after the transcript) the file is
 * scanned to the end for it; 4.5.7's byte prefilter (skip files that do not
 * contain the workspace path) is not applied: it missed sessions saved
 * through a symlinked directory.
 */
export const matchHeader = async (
  path: string,
  ws: string,
  canonical: (dir: string) => string,
  options: ReadOptions = {}
): Promise<HeaderMatch> => {
  let raw = readHeaderPrefix(path, options)
  if (raw._tag === "Incomplete") {
    raw = await readHeaderLegacy(path, options)
  }
  if (raw._tag !== "Values") return { _tag: "NotASession", detail: raw._tag === "NotASession" ? raw.detail : "" }
  const decoded = SessionJson.decodeHeaderValue(raw.values)
  if (Result.isFailure(decoded)) return { _tag: "NotASession", detail: decoded.failure.message }
  const header = decoded.success
  if (header.id !== idOfPath(path)) {
    return { _tag: "NotASession", detail: `it holds session ${JSON.stringify(header.id)}, not the one its name says (a copied file?)` }
  }
  const directory = header.metadata.directory
  if (directory === null) return { _tag: "NoMatch" }
  if (componentsEqual(directory, ws) || canonical(directory) === ws) return { _tag: "Match", header }
  return { _tag: "NoMatch" }
}
