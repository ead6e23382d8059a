/**
 * Path handling shared by the tools: resolving what the model wrote against
 * the session directory, showing paths back to it, and turning file-system
 * errors into messages a model can act on.
 *
 * @since 0.1.0
 */
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"
import { ToolError } from "./Tool.ts"

/**
 * The absolute path a tool argument names: `~` and `~/...` expand to the home
 * directory, absolute paths are kept, anything else resolves against
 * `directory` (the session directory, not the process cwd).
 *
 * @since 0.1.0
 * @category paths
 */
export const resolve = (directory: string, path: string): string => {
  if (path === "~") return NodeOs.homedir()
  if (path.startsWith("~/")) return NodePath.join(NodeOs.homedir(), path.slice(2))
  return NodePath.resolve(directory, path)
}

/**
 * How a tool shows `absolute` to the model: relative to `directory` when it
 * is inside it (`.` for the directory itself), absolute otherwise. Always uses
 * `/` separators for relative paths.
 *
 * @since 0.1.0
 * @category paths
 */
export const display = (directory: string, absolute: string): string => {
  const relative = NodePath.relative(directory, absolute)
  if (relative === "") return "."
  if (relative.startsWith("..") || NodePath.isAbsolute(relative)) return absolute
  return relative.split(NodePath.sep).join("/")
}

/**
 * A model-readable message for a file-system failure on `shown` (the path as
 * the model wrote it or as {@link display} shows it).
 *
 * @since 0.1.0
 * @category errors
 */
export const describe = (error: PlatformError.PlatformError, shown: string): string => {
  const reason = error.reason
  if (reason._tag === "BadArgument") return `${shown}: ${reason.description ?? reason.message}`
  switch (reason._tag) {
    case "NotFound":
      return `No such file or directory: ${shown}`
    case "PermissionDenied":
      return `Permission denied: ${shown}`
    case "AlreadyExists":
      return `Already exists: ${shown}`
    case "Busy":
      return `Resource busy: ${shown}`
    default: {
      const detail = reason.description ?? reason.syscall ?? reason._tag
      return `${shown}: ${detail}`
    }
  }
}

/**
 * Maps a `PlatformError` to a {@link ToolError} (`NotFound` or `Io`) with the
 * message from {@link describe}.
 *
 * @since 0.1.0
 * @category errors
 */
export const toToolError = (shown: string) => (error: PlatformError.PlatformError): ToolError =>
  new ToolError({
    reason: error.reason._tag === "NotFound" ? "NotFound" : "Io",
    message: describe(error, shown),
    cause: error
  })

/**
 * `stat` of `absolute`, failing with a `NotFound` {@link ToolError} that says
 * `<what> not found: <shown>` when it does not exist.
 *
 * @since 0.1.0
 * @category file system
 */
export const statOrFail = (
  fs: FileSystem.FileSystem,
  absolute: string,
  shown: string,
  what: string
): Effect.Effect<FileSystem.File.Info, ToolError> =>
  fs.stat(absolute).pipe(
    Effect.mapError((error) =>
      error.reason._tag === "NotFound"
        ? new ToolError({ reason: "NotFound", message: `${what} not found: ${shown}`, cause: error })
        : toToolError(shown)(error)
    )
  )
