/**
 * The one place where codetether touches files that a repository may control
 * (the data dir under the git root, project config files, Codex files, tool
 * targets): every rule for a hostile directory lives here.
 *
 * - Reads open the file non-blocking (`O_NONBLOCK`: a FIFO or a device cannot
 *   block the open) and without following a final symlink (`O_NOFOLLOW`)
 *   unless the caller allows symlinks that stay inside a directory; the file
 *   must be a regular file (checked with `fstat` on the opened handle, so no
 *   race) and no larger than the caller's cap in bytes.
 * - Appends never follow a symlink and only ever write to a regular file.
 * - Directories created for the data dir are `0700` and must not be symlinks.
 * - Atomic replacement lives in `AtomicWrite.ts` (unique `O_EXCL|O_NOFOLLOW`
 *   temporary files).
 *
 * Functions throw (or reject with) {@link SafeFsError}; callers map it to their
 * own tagged error.
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as NodePath from "node:path"

/** One mebibyte (bytes). */
export const MiB = 1 << 20

/**
 * Cap of a read of a small file codetether reads on its own: the workspace
 * index, config files, `providers.json`, the server token (bytes).
 */
export const SMALL_FILE_CAP = 16 * MiB

/**
 * Why a file could not be used:
 * - `Missing`: no such file (or a missing parent directory);
 * - `NotRegular`: a FIFO, device, socket or directory where a regular file
 *   was expected;
 * - `Symlink`: a symlink where none is allowed, or one that points outside
 *   the allowed directory;
 * - `TooLarge`: larger than the cap (`detail` says both sizes);
 * - `Io`: any other file-system failure.
 */
export class SafeFsError extends Error {
  readonly kind: "Missing" | "NotRegular" | "Symlink" | "TooLarge" | "Io"
  readonly path: string
  readonly detail: string
  constructor(kind: SafeFsError["kind"], path: string, detail: string, cause?: unknown) {
    super(`${path}: ${detail}`, cause === undefined ? undefined : { cause })
    this.kind = kind
    this.path = path
    this.detail = detail
  }
}

const C = NodeFs.constants
/** Read-only, non-blocking, not following a final symlink. */
export const O_READ_NOFOLLOW = C.O_RDONLY | (C.O_NONBLOCK ?? 0) | (C.O_NOFOLLOW ?? 0)
/** Read-only, non-blocking (follows symlinks: only for paths already resolved). */
export const O_READ = C.O_RDONLY | (C.O_NONBLOCK ?? 0)
/** Append-only, created 0600 when missing, never through a symlink, never blocking on a FIFO. */
export const O_APPEND_NOFOLLOW = C.O_WRONLY | C.O_APPEND | C.O_CREAT | (C.O_NOFOLLOW ?? 0) | (C.O_NONBLOCK ?? 0)
/** A new file only: fails when anything (even a dangling symlink) exists at the path. */
export const O_CREATE_EXCL = C.O_WRONLY | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW ?? 0)

const describe = (e: unknown): string => (e as Error)?.message ?? String(e)

/** Maps a Node error on `path` to a {@link SafeFsError}. */
export const fromNodeError = (path: string, e: unknown): SafeFsError => {
  if (e instanceof SafeFsError) return e
  const code = (e as NodeJS.ErrnoException)?.code
  if (code === "ENOENT" || code === "ENOTDIR") return new SafeFsError("Missing", path, "no such file", e)
  if (code === "ELOOP") return new SafeFsError("Symlink", path, "is a symlink (not followed)", e)
  if (code === "EISDIR") return new SafeFsError("NotRegular", path, "is a directory, not a regular file", e)
  if (code === "ENXIO") return new SafeFsError("NotRegular", path, "is not a regular file (a FIFO or socket)", e)
  return new SafeFsError("Io", path, describe(e), e)
}

const kindOf = (stat: NodeFs.Stats | NodeFs.BigIntStats): string =>
  stat.isDirectory()
    ? "a directory"
    : stat.isFIFO()
    ? "a FIFO"
    : stat.isSocket()
    ? "a socket"
    : stat.isCharacterDevice() || stat.isBlockDevice()
    ? "a device"
    : stat.isSymbolicLink()
    ? "a symlink"
    : "not a regular file"

/** Fails unless `stat` is a regular file of at most `maxBytes` bytes. */
export const checkRegular = (
  path: string,
  stat: NodeFs.Stats | NodeFs.BigIntStats,
  maxBytes: number = Number.POSITIVE_INFINITY
): void => {
  if (!stat.isFile()) throw new SafeFsError("NotRegular", path, `is ${kindOf(stat)}, not a regular file`)
  const size = Number(stat.size)
  if (size > maxBytes) {
    throw new SafeFsError("TooLarge", path, `is ${size} bytes, over the ${maxBytes}-byte limit`)
  }
}

/** Is `path` (absolute, resolved) equal to `dir` or inside it? */
export const isWithin = (dir: string, path: string): boolean => {
  const relative = NodePath.relative(dir, path)
  return relative === "" || (!relative.startsWith("..") && !NodePath.isAbsolute(relative))
}

/**
 * How a read treats a symlink at the final component: `"never"` (default:
 * `O_NOFOLLOW`, a symlink is a `Symlink` error) or `{ within: dir }` (followed
 * only when its target, fully resolved, lies inside `dir`).
 */
export type FollowPolicy = "never" | { readonly within: string }

/**
 * The path to open for `path` under `follow`: `path` itself when it is not a
 * symlink; its resolved target when the policy allows it. Throws `Symlink`.
 */
const resolveForRead = (path: string, follow: FollowPolicy): { readonly path: string; readonly flags: number } => {
  if (follow === "never") return { path, flags: O_READ_NOFOLLOW }
  let lstat: NodeFs.Stats | undefined
  try {
    lstat = NodeFs.lstatSync(path, { throwIfNoEntry: false })
  } catch (e) {
    throw fromNodeError(path, e)
  }
  if (lstat === undefined || !lstat.isSymbolicLink()) return { path, flags: O_READ_NOFOLLOW }
  let target: string
  try {
    target = NodeFs.realpathSync.native(path)
  } catch (e) {
    throw fromNodeError(path, e)
  }
  let within: string
  try {
    within = NodeFs.realpathSync.native(follow.within)
  } catch {
    within = follow.within
  }
  if (!isWithin(within, target)) {
    throw new SafeFsError("Symlink", path, `is a symlink to ${target}, outside ${follow.within} (not followed)`)
  }
  return { path: target, flags: O_READ_NOFOLLOW }
}

/**
 * Opens `path` for reading under the rules above and checks it is a regular
 * file of at most `maxBytes` bytes. The caller closes the handle.
 */
export const openRegular = async (
  path: string,
  options: { readonly maxBytes?: number; readonly follow?: FollowPolicy } = {}
): Promise<{ readonly handle: FileHandle; readonly stat: NodeFs.BigIntStats }> => {
  const target = resolveForRead(path, options.follow ?? "never")
  let handle: FileHandle
  try {
    handle = await NodeFs.promises.open(target.path, target.flags)
  } catch (e) {
    throw fromNodeError(path, e)
  }
  try {
    const stat = await handle.stat({ bigint: true })
    checkRegular(path, stat, options.maxBytes)
    return { handle, stat }
  } catch (e) {
    await handle.close().catch(() => undefined)
    throw fromNodeError(path, e)
  }
}

/** {@link openRegular}, synchronously: returns a file descriptor the caller closes. */
export const openRegularSync = (
  path: string,
  options: { readonly maxBytes?: number; readonly follow?: FollowPolicy } = {}
): { readonly fd: number; readonly stat: NodeFs.BigIntStats } => {
  const target = resolveForRead(path, options.follow ?? "never")
  let fd: number
  try {
    fd = NodeFs.openSync(target.path, target.flags)
  } catch (e) {
    throw fromNodeError(path, e)
  }
  try {
    const stat = NodeFs.fstatSync(fd, { bigint: true })
    checkRegular(path, stat, options.maxBytes)
    return { fd, stat }
  } catch (e) {
    NodeFs.closeSync(fd)
    throw fromNodeError(path, e)
  }
}

/**
 * The whole content of a regular file of at most `maxBytes` bytes (the cap is
 * also enforced while reading, so a file that grows is cut off with
 * `TooLarge`), or `undefined` when it does not exist.
 */
export const readFile = async (
  path: string,
  options: { readonly maxBytes: number; readonly follow?: FollowPolicy }
): Promise<Buffer | undefined> => {
  let opened: { readonly handle: FileHandle; readonly stat: NodeFs.BigIntStats }
  try {
    opened = await openRegular(path, options)
  } catch (e) {
    if (e instanceof SafeFsError && e.kind === "Missing") return undefined
    throw e
  }
  const { handle, stat } = opened
  try {
    const chunks: Array<Buffer> = []
    let total = 0
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(Number(stat.size) + 1, 4096), MiB))
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > options.maxBytes) {
        throw new SafeFsError("TooLarge", path, `is over the ${options.maxBytes}-byte limit`)
      }
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)))
    }
    return Buffer.concat(chunks, total)
  } catch (e) {
    throw fromNodeError(path, e)
  } finally {
    await handle.close().catch(() => undefined)
  }
}

/** {@link readFile}, synchronously. */
export const readFileSync = (
  path: string,
  options: { readonly maxBytes: number; readonly follow?: FollowPolicy }
): Buffer | undefined => {
  let opened: { readonly fd: number; readonly stat: NodeFs.BigIntStats }
  try {
    opened = openRegularSync(path, options)
  } catch (e) {
    if (e instanceof SafeFsError && e.kind === "Missing") return undefined
    throw e
  }
  const { fd, stat } = opened
  try {
    const chunks: Array<Buffer> = []
    let total = 0
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(Number(stat.size) + 1, 4096), MiB))
    for (;;) {
      const bytesRead = NodeFs.readSync(fd, chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > options.maxBytes) {
        throw new SafeFsError("TooLarge", path, `is over the ${options.maxBytes}-byte limit`)
      }
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)))
    }
    return Buffer.concat(chunks, total)
  } catch (e) {
    throw fromNodeError(path, e)
  } finally {
    NodeFs.closeSync(fd)
  }
}

/**
 * Appends `data` to the regular file `path` (created 0600 when missing),
 * never through a symlink and never to a FIFO or device.
 */
export const appendFile = async (path: string, data: string | Uint8Array): Promise<void> => {
  let handle: FileHandle
  try {
    handle = await NodeFs.promises.open(path, O_APPEND_NOFOLLOW, 0o600)
  } catch (e) {
    throw fromNodeError(path, e)
  }
  try {
    checkRegular(path, await handle.stat())
    await handle.appendFile(data)
  } catch (e) {
    throw fromNodeError(path, e)
  } finally {
    await handle.close().catch(() => undefined)
  }
}

/** What codetether writes to the `.gitignore` of a data dir it creates: ignore everything. */
export const GITIGNORE = "*\n"

/**
 * Options of {@link ensureDir}: `gitignoreIn`, a directory (the data dir) that
 * gets a `.gitignore` holding `*` when this call creates it (it or one of its
 * parents did not exist before), so its sessions are never committed by
 * accident.
 */
export interface EnsureDirOptions {
  readonly gitignoreIn?: string | undefined
}

/**
 * Writes `<dir>/.gitignore` (`*`) when `created`, the first directory a
 * recursive mkdir created, is `dir` or one of its parents. The file is
 * created with `O_EXCL|O_NOFOLLOW` (never overwrites, never follows a
 * symlink), best effort: a failure is ignored (the directory is ours and new).
 */
const gitignoreIfCreated = (created: string | undefined, options: EnsureDirOptions | undefined): void => {
  const dir = options?.gitignoreIn
  if (created === undefined || dir === undefined || !isWithin(NodePath.resolve(created), NodePath.resolve(dir))) return
  try {
    const fd = NodeFs.openSync(NodePath.join(dir, ".gitignore"), O_CREATE_EXCL, 0o600)
    try {
      NodeFs.writeSync(fd, GITIGNORE)
    } finally {
      NodeFs.closeSync(fd)
    }
  } catch {
    // exists already, or cannot be written: the directory still works
  }
}

/**
 * Makes sure `dir` exists as a real directory (created `mode`, default 0700,
 * with its missing parents). Fails with `Symlink` when `dir` is a symlink and
 * with `NotRegular` when it is something other than a directory: a data dir's
 * `sessions/` or `events/` planted as a symlink by a repository is never
 * written through. See {@link EnsureDirOptions} for `gitignoreIn`.
 */
export const ensureDir = async (dir: string, mode = 0o700, options?: EnsureDirOptions): Promise<void> => {
  try {
    gitignoreIfCreated(await NodeFs.promises.mkdir(dir, { recursive: true, mode }), options)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code
    if (code !== "EEXIST") throw fromNodeError(dir, e)
  }
  let stat: NodeFs.Stats
  try {
    stat = await NodeFs.promises.lstat(dir)
  } catch (e) {
    throw fromNodeError(dir, e)
  }
  if (stat.isSymbolicLink()) throw new SafeFsError("Symlink", dir, "is a symlink; codetether does not write through it")
  if (!stat.isDirectory()) throw new SafeFsError("NotRegular", dir, `is ${kindOf(stat)}, not a directory`)
}

/** {@link ensureDir}, synchronously. */
export const ensureDirSync = (dir: string, mode = 0o700, options?: EnsureDirOptions): void => {
  try {
    gitignoreIfCreated(NodeFs.mkdirSync(dir, { recursive: true, mode }), options)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code
    if (code !== "EEXIST") throw fromNodeError(dir, e)
  }
  let stat: NodeFs.Stats
  try {
    stat = NodeFs.lstatSync(dir)
  } catch (e) {
    throw fromNodeError(dir, e)
  }
  if (stat.isSymbolicLink()) throw new SafeFsError("Symlink", dir, "is a symlink; codetether does not write through it")
  if (!stat.isDirectory()) throw new SafeFsError("NotRegular", dir, `is ${kindOf(stat)}, not a directory`)
}
