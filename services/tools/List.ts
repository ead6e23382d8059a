/**
 * The `list` tool: the entries of one directory, sorted by name, one per
 * line, directories marked with a trailing `/` and symbolic links with `@`,
 * as codetether-agent 4.5.7's `list` (beyond 4.5.7, FIFOs with `|`, sockets
 * with `=`, as `ls -F` does; listing never opens them). Unlike 4.5.7, `path` defaults to the
 * working directory and the listing is capped (default 1000 entries) with a
 * note saying how many were left out.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Paths from "./internal/Paths.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"

/**
 * Caps of the `list` tool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Entries shown before the note (default 1000). */
  readonly maxEntries?: number | undefined
}

/**
 * Parameters of `list`: `path` (default `.`, the working directory).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  path: Schema.optionalKey(
    Schema.String.annotate({
      description: "Directory to list, relative to the working directory or absolute (default: the working directory)"
    })
  )
})

const DESCRIPTION = `List the entries of a directory (not recursive), sorted by name.
Directories end with "/", symbolic links with "@". Use glob to find files by pattern across subdirectories.`

/**
 * Builds the `list` tool. Needs `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Tool, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const maxEntries = options?.maxEntries ?? 1000
    return define({
      name: "list",
      description: DESCRIPTION,
      parameters: Parameters,
      handler: Effect.fnUntraced(function*(params, context) {
        const absolute = Paths.resolve(context.directory, params.path ?? ".")
        const shown = Paths.display(context.directory, absolute)
        const info = yield* Paths.statOrFail(fs, absolute, shown, "Directory")
        if (info.type !== "Directory") {
          return yield* new ToolError({
            reason: "InvalidInput",
            message: `${shown} is not a directory; use the read tool for files`
          })
        }
        const entries = yield* fs.readDirectoryEntries(absolute).pipe(Effect.mapError(Paths.toToolError(shown)))
        const names = entries
          .map((entry) => {
            const suffix = entry.type === "Directory"
              ? "/"
              : entry.type === "SymbolicLink"
              ? "@"
              : entry.type === "FIFO"
              ? "|"
              : entry.type === "Socket"
              ? "="
              : ""
            return `${entry.name}${suffix}`
          })
          .sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
        if (names.length === 0) {
          return { output: `(${shown} is empty)`, success: true, metadata: { path: absolute, count: 0 } }
        }
        const kept = names.slice(0, maxEntries)
        const omitted = names.length - kept.length
        const note = omitted > 0
          ? `\n\n[${omitted} more entr${omitted === 1 ? "y" : "ies"} not shown (${names.length} in total). ` +
            "Use glob with a pattern to find specific files.]"
          : ""
        return {
          output: kept.join("\n") + note,
          success: true,
          metadata: { path: absolute, count: names.length, truncated: omitted > 0 }
        }
      })
    })
  })
