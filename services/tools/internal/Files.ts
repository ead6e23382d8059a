/**
 * How the file tools open the files a model names: never blocking on a FIFO
 * or a device, only ever reading or writing regular files (checked on the
 * opened handle, so a path swapped after a check cannot slip through), with a
 * size cap on whole-file reads. Symlinks are followed (the model works in the
 * user's tree, where symlinked files are ordinary), but what they point to
 * must be a regular file too. Failures are {@link ToolError}s written for the
 * model: `fifo is a FIFO, not a regular file; write works on regular files`.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as SafeFs from "../../internal/SafeFs.ts"
import { ToolError } from "./Tool.ts"

const anywhere = (path: string): SafeFs.FollowPolicy => ({ within: NodePath.parse(path).root })

const C = NodeFs.constants
/** Write-only, created when missing, never blocking on a FIFO (no `O_TRUNC`: truncation waits for the type check). */
const O_WRITE = C.O_WRONLY | C.O_CREAT | (C.O_NONBLOCK ?? 0)

/**
 * Maps a file-system failure on `shown` to a {@link ToolError}: a missing
 * file is `NotFound`, a FIFO/device/directory or a file over the cap is
 * `InvalidInput`, anything else `Io`.
 *
 * @since 0.1.0
 * @category errors
 */
export const toToolError = (shown: string, tool: string) => (e: unknown): ToolError => {
  const error = SafeFs.fromNodeError(shown, e)
  switch (error.kind) {
    case "Missing":
      return new ToolError({ reason: "NotFound", message: `File not found: ${shown}`, cause: e })
    case "NotRegular":
    case "Symlink":
      return new ToolError({
        reason: "InvalidInput",
        message: `${shown} ${error.detail}; ${tool} works on regular files only`,
        cause: e
      })
    case "TooLarge":
      return new ToolError({ reason: "InvalidInput", message: `${shown} ${error.detail}`, cause: e })
    case "Io": {
      const code = (e as NodeJS.ErrnoException)?.code
      const detail = code === "EACCES" || code === "EPERM" ? "permission denied" : error.detail
      return new ToolError({ reason: "Io", message: `${shown}: ${detail}`, cause: e })
    }
  }
}

/**
 * Opens `absolute` for reading as a regular file (see the module docs); the
 * handle is closed when the scope closes.
 *
 * @since 0.1.0
 * @category reading
 */
export const openRegular = (
  absolute: string,
  shown: string,
  tool: string
): Effect.Effect<FileHandle, ToolError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => SafeFs.openRegular(absolute, { follow: anywhere(absolute) }).then(({ handle }) => handle),
      catch: toToolError(shown, tool)
    }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

/**
 * The whole content of the regular file `absolute`, at most `maxBytes` bytes
 * (a larger file is an `InvalidInput` error saying both sizes).
 *
 * @since 0.1.0
 * @category reading
 */
export const readRegular = (
  absolute: string,
  shown: string,
  tool: string,
  maxBytes: number
): Effect.Effect<Buffer, ToolError> =>
  Effect.tryPromise({
    try: async () => {
      const bytes = await SafeFs.readFile(absolute, { maxBytes, follow: anywhere(absolute) })
      if (bytes === undefined) throw new SafeFs.SafeFsError("Missing", absolute, "no such file")
      return bytes
    },
    catch: toToolError(shown, tool)
  })

/**
 * Replaces the content of the regular file `absolute` with `content`
 * (creating it, mode 0666 minus the umask, when missing). Opened
 * non-blocking: a FIFO or a device at the path is an `InvalidInput` error,
 * never a hang, and is never written to.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeRegular = (
  absolute: string,
  shown: string,
  tool: string,
  content: string | Uint8Array
): Effect.Effect<void, ToolError> =>
  Effect.tryPromise({
    try: async () => {
      const handle = await NodeFs.promises.open(absolute, O_WRITE, 0o666)
      try {
        SafeFs.checkRegular(absolute, await handle.stat())
        await handle.truncate(0)
        await handle.writeFile(content)
      } finally {
        await handle.close().catch(() => undefined)
      }
    },
    catch: toToolError(shown, tool)
  })
