/**
 * Atomic file replacement: write a temporary file of its own, optionally
 * fsync, rename over `<target>`. The temporary file is a scoped resource: when
 * the write fails or the fiber is interrupted before the rename, it is closed
 * and removed, and `<target>` keeps its previous content.
 *
 * Temporary files are named `.<target name>.<pid>.<random>.tmp` in the
 * target's directory: unique per write (two writers never share one), hidden,
 * and not ending in `.json`, so no listing (4.5.7's included) takes one for a
 * session. They are created with `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600: a
 * symlink or file planted at that name is never written through. The rename
 * replaces a symlink at `<target>` itself, never its target.
 *
 * @internal
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { O_CREATE_EXCL } from "./SafeFs.ts"

/** Why an atomic write failed: the step and the underlying error. */
export class AtomicWriteError extends Error {
  readonly step: "open" | "write" | "rename"
  constructor(step: "open" | "write" | "rename", message: string, cause: unknown) {
    super(message, { cause })
    this.step = step
  }
}

const describe = (e: unknown): string => (e as Error)?.message ?? String(e)

/** Writes bytes to the temporary file, in order, through a bounded buffer. */
export interface ChunkSink {
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, AtomicWriteError>
  /** Many chunks in one step (no Effect per chunk). */
  readonly writeMany: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, AtomicWriteError>
}

/**
 * Bytes are gathered up to this size before a write system call (bytes).
 * 1 MiB keeps system calls few (a 50 MB save is ~50 writes) while bounding
 * what a streamed save holds: with 8 MiB, the batch and its concatenated copy
 * added ~20 MiB to the peak RSS of a 42 MiB Codex import.
 */
const BATCH_BYTES = 1 << 20

const writeAll = async (handle: FileHandle, bytes: Uint8Array): Promise<void> => {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    offset += bytesWritten
  }
}

const makeSink = (handle: FileHandle, tmp: string) => {
  const pending: Array<Uint8Array> = []
  let pendingBytes = 0
  const fail = (e: unknown) => new AtomicWriteError("write", `cannot write ${tmp}: ${describe(e)}`, e)
  const drain = async () => {
    if (pending.length === 0) return
    const batch = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes)
    pending.length = 0
    pendingBytes = 0
    await writeAll(handle, batch)
  }
  const add = async (chunks: ReadonlyArray<Uint8Array>) => {
    for (const bytes of chunks) {
      pending.push(bytes)
      pendingBytes += bytes.length
      if (pendingBytes >= BATCH_BYTES) await drain()
    }
  }
  const flush = Effect.tryPromise({ try: drain, catch: fail })
  const writeMany = (chunks: ReadonlyArray<Uint8Array>) => Effect.tryPromise({ try: () => add(chunks), catch: fail })
  const write = (bytes: Uint8Array): Effect.Effect<void, AtomicWriteError> => {
    pending.push(bytes)
    pendingBytes += bytes.length
    return pendingBytes >= BATCH_BYTES ? flush : Effect.void
  }
  return { sink: { write, writeMany } satisfies ChunkSink, flush }
}

/**
 * Replaces `target` with what `produce` writes, atomically. `mode` applies to
 * the new file (default 0600). With `sync`, the data is fsynced before the
 * rename, so the rename never exposes a file whose bytes are not on disk.
 * Writes are batched in 1 MiB buffers: a large file is never one copy in
 * memory.
 *
 * On Windows, where a rename cannot replace an open file, a failed rename is
 * retried once after removing the target (4.5.7 `save`); elsewhere the target
 * is never removed, so a failed save loses nothing.
 */
export const writeFileAtomicWith = <E, R, E2 = never, R2 = never>(
  target: string,
  produce: (sink: ChunkSink) => Effect.Effect<void, E, R>,
  options: {
    readonly mode?: number
    readonly sync?: boolean
    /**
     * Runs after the data is written and synced, just before the rename, with
     * the temporary file still open (e.g. to check a precondition under a
     * lock, or set its times). A failure removes the temporary file and
     * leaves `<target>` as it was.
     */
    readonly beforeRename?: (handle: FileHandle) => Effect.Effect<void, E2, R2>
  } = {}
): Effect.Effect<void, AtomicWriteError | E | E2, R | R2> => {
  const tmp = tempPathFor(target)
  const mode = options.mode ?? 0o600
  return Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => NodeFs.promises.open(tmp, O_CREATE_EXCL, mode),
      catch: (e) => new AtomicWriteError("open", `cannot create ${tmp}: ${describe(e)}`, e)
    }),
    (handle) =>
      Effect.gen(function*() {
        yield* Effect.tryPromise({
          try: () => handle.chmod(mode),
          catch: (e) => new AtomicWriteError("write", `cannot set the mode of ${tmp}: ${describe(e)}`, e)
        })
        const { sink, flush } = makeSink(handle, tmp)
        yield* produce(sink)
        yield* flush
        if (options.sync === true) {
          yield* Effect.tryPromise({
            try: () => handle.sync(),
            catch: (e) => new AtomicWriteError("write", `cannot write ${tmp}: ${describe(e)}`, e)
          })
        }
        if (options.beforeRename !== undefined) yield* options.beforeRename(handle)
        yield* Effect.tryPromise({
          try: () => handle.close(),
          catch: (e) => new AtomicWriteError("write", `cannot write ${tmp}: ${describe(e)}`, e)
        })
        yield* Effect.uninterruptible(Effect.tryPromise({
          try: () => renameOver(tmp, target),
          catch: (e) => e as AtomicWriteError
        }))
      }),
    (handle, exit) =>
      Exit.isSuccess(exit) ? Effect.void : Effect.promise(async () => {
        await handle.close().catch(() => undefined)
        await NodeFs.promises.rm(tmp, { force: true }).catch(() => undefined)
      })
  )
}

/** {@link writeFileAtomicWith} for chunks already in memory. */
export const writeFileAtomic = (
  target: string,
  chunks: Uint8Array | ReadonlyArray<Uint8Array>,
  options: { readonly mode?: number; readonly sync?: boolean } = {}
): Effect.Effect<void, AtomicWriteError> =>
  writeFileAtomicWith(
    target,
    (sink) => (chunks instanceof Uint8Array ? sink.write(chunks) : sink.writeMany(chunks)),
    options
  )

const renameOver = async (tmp: string, target: string): Promise<void> => {
  try {
    await NodeFs.promises.rename(tmp, target)
  } catch (first) {
    if (process.platform !== "win32") {
      throw new AtomicWriteError("rename", `session rename failed: ${describe(first)}`, first)
    }
    await NodeFs.promises.rm(target, { force: true }).catch(() => undefined)
    try {
      await NodeFs.promises.rename(tmp, target)
    } catch (retry) {
      throw new AtomicWriteError(
        "rename",
        `session rename failed: ${describe(first)} (retry: ${describe(retry)})`,
        retry
      )
    }
  }
}

/** Suffix of every temporary file {@link writeFileAtomicWith} creates. */
export const TEMP_SUFFIX = ".tmp"

/** A fresh temporary path for `target`: `.<name>.<pid>.<random>.tmp` in its directory. */
export const tempPathFor = (target: string): string =>
  NodePath.join(
    NodePath.dirname(target),
    `.${NodePath.basename(target)}.${process.pid}.${NodeCrypto.randomBytes(6).toString("hex")}${TEMP_SUFFIX}`
  )

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/

/** Is a process with this pid alive on this host? (`EPERM`: alive, not ours.) */
export const pidAlive = (pid: number): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Removes the temporary files of {@link writeFileAtomicWith} in `dir` that are
 * older than `maxAgeMs` (default one hour) and whose writer process (the pid
 * in the name) is gone: what a killed writer left behind. Best effort and
 * synchronous; returns how many were removed. Never follows a symlink (only
 * regular files are removed).
 */
export const removeStaleTemps = (dir: string, options: { readonly maxAgeMs?: number; readonly now?: number } = {}): number => {
  const maxAge = options.maxAgeMs ?? 3_600_000
  const now = options.now ?? Date.now()
  let names: Array<string>
  try {
    names = NodeFs.readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    const match = TEMP_NAME.exec(name)
    if (match === null) continue
    const path = NodePath.join(dir, name)
    const stat = NodeFs.lstatSync(path, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isFile() || now - stat.mtimeMs < maxAge) continue
    const pid = Number(match[1])
    if (pid === process.pid || pidAlive(pid)) continue
    try {
      NodeFs.unlinkSync(path)
      removed++
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed
}
