/**
 * Atomic file replacement: write `<target>.tmp`, optionally fsync, rename over
 * `<target>`. The temporary file is a scoped resource: when the write fails or
 * the fiber is interrupted before the rename, it is closed and removed, and
 * `<target>` keeps its previous content.
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import { Effect, Exit } from "effect"

/** Why an atomic write failed: the step and the underlying error. */
export class AtomicWriteError extends Error {
  readonly step: "open" | "write" | "rename"
  constructor(step: "open" | "write" | "rename", message: string, cause: unknown) {
    super(message, { cause })
    this.step = step
  }
}

const describe = (e: unknown): string => (e as Error)?.message ?? String(e)

/**
 * Replaces `target` with `bytes` atomically. `mode` applies to the new file
 * (default 0600). With `sync`, the data is fsynced before the rename, so the
 * rename never exposes a file whose bytes are not on disk.
 *
 * On Windows, where a rename cannot replace an open file, a failed rename is
 * retried once after removing the target (4.5.7 `save`); elsewhere the target
 * is never removed, so a failed save loses nothing.
 */
export const writeFileAtomic = (
  target: string,
  bytes: Uint8Array,
  options: { readonly mode?: number; readonly sync?: boolean; readonly tmp?: string } = {}
): Effect.Effect<void, AtomicWriteError> => {
  const tmp = options.tmp ?? `${target}.tmp`
  const mode = options.mode ?? 0o600
  return Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => NodeFs.promises.open(tmp, "w", mode),
      catch: (e) => new AtomicWriteError("open", `cannot create ${tmp}: ${describe(e)}`, e)
    }),
    (handle) =>
      Effect.tryPromise({
        try: async () => {
          await handle.chmod(mode)
          let offset = 0
          while (offset < bytes.length) {
            const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
            offset += bytesWritten
          }
          if (options.sync === true) await handle.sync()
          await handle.close()
        },
        catch: (e) => new AtomicWriteError("write", `cannot write ${tmp}: ${describe(e)}`, e)
      }).pipe(
        Effect.andThen(Effect.uninterruptible(Effect.tryPromise({
          try: () => renameOver(tmp, target),
          catch: (e) => e as AtomicWriteError
        })))
      ),
    (handle, exit) =>
      Exit.isSuccess(exit) ? Effect.void : Effect.promise(async () => {
        await handle.close().catch(() => undefined)
        await NodeFs.promises.rm(tmp, { force: true }).catch(() => undefined)
      })
  )
}

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
