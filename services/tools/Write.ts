/**
 * The `write` tool: creates or overwrites a file with the given content,
 * creating missing parent directories. Parameters and result text as
 * codetether-agent 4.5.7's `write` (`path`, `content`;
 * `Wrote <n> bytes to <path>`, n = UTF-8 bytes). The file is opened without
 * blocking and must be a regular file: a FIFO or a device at the path is a
 * tool error, never a hang, and is never written to.
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Files from "./internal/Files.ts"
import * as Paths from "./internal/Paths.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"

/**
 * Parameters of `write`: `path` and `content` (both required).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  path: Schema.String.annotate({
    description: "Path of the file to write, relative to the working directory or absolute"
  }),
  content: Schema.String.annotate({ description: "The complete new content of the file" })
})

const DESCRIPTION = `Write a file: creates it (and any missing parent directories) or replaces its entire content.
To change part of an existing file, prefer the edit tool.`

/**
 * Builds the `write` tool. Needs `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Tool, never, FileSystem.FileSystem> = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  return define({
    name: "write",
    description: DESCRIPTION,
    parameters: Parameters,
    handler: Effect.fnUntraced(function*(params, context) {
      const absolute = Paths.resolve(context.directory, params.path)
      const shown = Paths.display(context.directory, absolute)
      const existing = yield* fs.stat(absolute).pipe(Effect.option)
      if (existing._tag === "Some" && existing.value.type === "Directory") {
        return yield* new ToolError({
          reason: "InvalidInput",
          message: `${shown} is a directory; give the path of a file to write`
        })
      }
      if (existing._tag === "Some" && existing.value.type !== "File") {
        return yield* new ToolError({
          reason: "InvalidInput",
          message: `${shown} is ${describeType(existing.value.type)}, not a regular file; write works on regular files only`
        })
      }
      const parent = NodePath.dirname(absolute)
      yield* fs.makeDirectory(parent, { recursive: true }).pipe(
        Effect.mapError((error) => {
          const shownParent = Paths.display(context.directory, parent)
          return error.reason._tag === "AlreadyExists"
            ? new ToolError({
              reason: "InvalidInput",
              message: `Cannot create directory ${shownParent}: a file is in the way`,
              cause: error
            })
            : Paths.toToolError(shownParent)(error)
        })
      )
      yield* Files.writeRegular(absolute, shown, "write", params.content)
      const bytes = Buffer.byteLength(params.content)
      return {
        output: `Wrote ${bytes} bytes to ${shown}`,
        success: true,
        metadata: { path: absolute, bytes, created: existing._tag === "None" }
      }
    })
  })
})

const describeType = (type: FileSystem.File.Type): string => {
  switch (type) {
    case "FIFO":
      return "a FIFO"
    case "Socket":
      return "a socket"
    case "CharacterDevice":
    case "BlockDevice":
      return "a device"
    default:
      return "not a regular file"
  }
}
