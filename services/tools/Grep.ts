/**
 * The `grep` tool: searches file contents for a regular expression (or plain
 * text with `literal`), line by line, under the working directory (or
 * `path`, a directory or one file), optionally only in files matching an
 * `include` glob. Output is one match per line, `path:line: text` (text
 * trimmed, as codetether-agent 4.5.7's `grep`), in path order, stopping after
 * `limit` matches (default 100, at most 1000) with a note.
 *
 * Skips binary files (a NUL byte in the first 8 KiB), files larger than
 * `maxFileBytes` (default 10 MiB; counted in the output), and the
 * directories `.git`, `node_modules` and `.codetether-agent`. Files are
 * opened without blocking and must be regular files: a FIFO, socket or device
 * in a searched tree is skipped silently, and one given as `path` is a tool
 * error (never a hang). Patterns are
 * JavaScript regular expressions. 4.5.7's `grep` treated the pattern as plain
 * text unless `is_regex` was set and honoured `.gitignore`; codetether
 * searches by regular expression by default, as this tool is described to
 * the model, and accepts `literal: true` for plain text.
 *
 * Matching runs in a worker thread (`internal/RegexSearch.ts`) with a time
 * limit (`timeoutMs`, default 10 s, over the whole call): a pattern that
 * backtracks catastrophically ends in a tool error naming the limit instead
 * of freezing the process, and interrupting the call (Ctrl-C) terminates the
 * worker at once. The tool keeps one idle worker between calls, terminated
 * when the scope it was built in closes.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Glob from "effect/Glob"
import * as Schema from "effect/Schema"
import * as Files from "./internal/Files.ts"
import type * as Scope from "effect/Scope"
import * as Paths from "./internal/Paths.ts"
import * as RegexSearch from "./internal/RegexSearch.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"
import * as Walk from "./internal/Walk.ts"

/**
 * Caps of the `grep` tool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Matches shown when `limit` is not given (default 100). */
  readonly defaultLimit?: number | undefined
  /** Largest accepted `limit`; larger values are lowered to it (default 1000). */
  readonly maxLimit?: number | undefined
  /** Files larger than this many bytes are skipped (default 10 MiB). */
  readonly maxFileBytes?: number | undefined
  /** Characters of a matching line shown (default 300). */
  readonly maxLineLength?: number | undefined
  /**
   * Time limit of the matching work of one call, in milliseconds (default
   * 10,000); past it the call fails with a tool error naming the limit.
   */
  readonly timeoutMs?: number | undefined
}

/**
 * Parameters of `grep`: `pattern` (required), `path`, `include`,
 * `ignore_case`, `literal`, `limit`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  pattern: Schema.String.annotate({
    description: "Regular expression (JavaScript syntax) to search for in each line, e.g. \"function\\\\s+main\""
  }),
  path: Schema.optionalKey(
    Schema.String.annotate({ description: "Directory or file to search (default: the working directory)" })
  ),
  include: Schema.optionalKey(
    Schema.String.annotate({
      description: "Only search files matching this glob: a file name pattern like \"*.ts\" or \"*.{c,h}\", " +
        "or a path pattern like \"src/**/*.ts\" (relative to the search directory)"
    })
  ),
  ignore_case: Schema.optionalKey(Schema.Boolean.annotate({ description: "Case-insensitive search (default false)" })),
  literal: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Treat pattern as plain text instead of a regular expression (default false)" })
  ),
  limit: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: "Maximum number of matching lines to return (default 100, at most 1000)"
    })
  )
})

const DESCRIPTION = `Search file contents with a regular expression. Returns matching lines as "path:line: text".
Searches the working directory recursively by default; narrow it with path (a directory or a file) and include (a glob such as "*.ts").
Skips binary files, .git and node_modules. Set literal to search for plain text containing regex characters.`

/**
 * Builds the `grep` tool. Needs `FileSystem`; its search worker lives until
 * the `Scope` closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Tool, never, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const workers = yield* RegexSearch.makePool
    const defaultLimit = options?.defaultLimit ?? 100
    const maxLimit = options?.maxLimit ?? 1000
    const maxFileBytes = options?.maxFileBytes ?? 10 * 1024 * 1024
    const maxLineLength = options?.maxLineLength ?? 300
    const timeoutMs = options?.timeoutMs ?? RegexSearch.DEFAULT_TIMEOUT_MS

    return define({
      name: "grep",
      description: DESCRIPTION,
      parameters: Parameters,
      handler: Effect.fnUntraced(function*(params, context) {
        if (params.pattern === "") {
          return yield* new ToolError({ reason: "InvalidArguments", message: "pattern is empty" })
        }
        const source = params.literal === true ? params.pattern.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&") : params.pattern
        const flags = params.ignore_case === true ? "i" : ""
        // compiled here only to report a bad pattern; matching runs in the worker
        yield* Effect.try({
          try: () => new RegExp(source, flags),
          catch: (error) =>
            new ToolError({
              reason: "InvalidArguments",
              message: `${error instanceof Error ? error.message : `Invalid regular expression: ${String(error)}`}. ` +
                "Escape special characters or set literal to true"
            })
        })
        const include = params.include === undefined || params.include === ""
          ? undefined
          : { glob: Glob.make(params.include, { dot: true }), byName: !params.include.includes("/") }

        const target = Paths.resolve(context.directory, params.path ?? ".")
        const shownTarget = Paths.display(context.directory, target)
        const info = yield* Paths.statOrFail(fs, target, shownTarget, "Path")
        const limit = Math.min(params.limit ?? defaultLimit, maxLimit)

        const results: Array<string> = []
        let more = false
        let filesSearched = 0
        let skippedLarge = 0
        const search = yield* workers.search({ source, flags, maxLineLength, timeoutMs })

        /** Searches a text file's bytes; `false` once the match limit is reached. */
        const searchBytes = (absolute: string, bytes: Uint8Array) =>
          Effect.gen(function*() {
            filesSearched++
            const shown = Paths.display(context.directory, absolute)
            const found = yield* search.file(bytes, limit - results.length, shown)
            for (const match of found.matches) results.push(`${shown}:${match.line}: ${match.text}`)
            if (found.more) {
              more = true
              return false
            }
            return true
          })

        if (info.type === "Directory") {
          const ignored = Walk.ignoredUnlessNamed(params.include ?? "")
          yield* Walk.files(fs, target, (entry) =>
            Effect.gen(function*() {
              if (include !== undefined) {
                const subject = include.byName ? entry.relative.slice(entry.relative.lastIndexOf("/") + 1) : entry.relative
                if (!Glob.match(include.glob, subject)) return true
              }
              const size = yield* fs.stat(entry.absolute).pipe(
                Effect.map((stat) => Number(stat.size)),
                Effect.orElseSucceed(() => 0)
              )
              if (size > maxFileBytes) {
                skippedLarge++
                return true
              }
              // Opened non-blocking as a regular file: a FIFO swapped in after the walk saw a file is skipped.
              const bytes = yield* Files.readRegular(entry.absolute, entry.relative, "grep", maxFileBytes).pipe(
                Effect.option
              )
              if (bytes._tag === "None") return true
              // binary files are skipped silently in a directory search
              return Walk.looksBinary(bytes.value) || (yield* searchBytes(entry.absolute, bytes.value))
            }), { ignored }).pipe(
            Effect.mapError((error) => error._tag === "ToolError" ? error : Paths.toToolError(shownTarget)(error))
          )
        } else if (info.type !== "File") {
          return yield* new ToolError({
            reason: "InvalidInput",
            message: `${shownTarget} is ${
              info.type === "FIFO" ? "a FIFO" : info.type === "Socket" ? "a socket" : "not a regular file"
            }; grep searches regular files and directories`
          })
        } else if (Number(info.size) > maxFileBytes) {
          skippedLarge++
        } else {
          const bytes = yield* Files.readRegular(target, shownTarget, "grep", maxFileBytes)
          if (Walk.looksBinary(bytes)) {
            return yield* new ToolError({
              reason: "InvalidInput",
              message: `${shownTarget} looks like a binary file; grep searches text files`
            })
          }
          yield* searchBytes(target, bytes)
        }

        const notes: Array<string> = []
        if (more) {
          notes.push(
            `[Stopped after ${limit} matches; there are more. Narrow the search with path or include, or raise limit.]`
          )
        }
        if (skippedLarge > 0) {
          notes.push(`[Skipped ${skippedLarge} file${skippedLarge === 1 ? "" : "s"} larger than ${maxFileBytes} bytes.]`)
        }
        const metadata = { count: results.length, truncated: more, files_searched: filesSearched }
        if (results.length === 0) {
          const scope = include === undefined ? shownTarget : `${shownTarget} (files matching ${params.include})`
          return {
            output: [`No matches for ${params.pattern} in ${scope}`, ...notes].join("\n"),
            success: true,
            metadata
          }
        }
        return {
          output: notes.length === 0 ? results.join("\n") : `${results.join("\n")}\n\n${notes.join("\n")}`,
          success: true,
          metadata
        }
      }, Effect.scoped)
    })
  })
