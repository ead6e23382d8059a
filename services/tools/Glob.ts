/**
 * The `glob` tool: files whose path matches a glob pattern, under the working
 * directory (or `path`). Patterns use Effect's `Glob` syntax (`*`, `**`, `?`,
 * `[...]`, `{a,b}`) and match paths relative to the search directory, so
 * `*.ts` matches only its top level and `**\/*.ts` every depth; wildcards
 * match dot-files. The walk skips `.git`, `node_modules` and
 * `.codetether-agent` unless the pattern names them, does not follow
 * symbolic links to directories, and stops after `limit` files (default 100,
 * at most 1000). Results are in path order (depth-first, names sorted), shown
 * relative to the working directory (absolute when outside it).
 *
 * 4.5.7's `glob` (`pattern`, `limit`) honoured `.gitignore` and let `*` cross
 * `/`; codetether keeps standard glob semantics and the fixed ignore list.
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Glob from "effect/Glob"
import * as Schema from "effect/Schema"
import * as Paths from "./internal/Paths.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"
import * as Walk from "./internal/Walk.ts"

/**
 * Caps of the `glob` tool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Files listed when `limit` is not given (default 100). */
  readonly defaultLimit?: number | undefined
  /** Largest accepted `limit`; larger values are lowered to it (default 1000). */
  readonly maxLimit?: number | undefined
}

/**
 * Parameters of `glob`: `pattern` (required), `path` (directory to search,
 * default the working directory), `limit` (default 100).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  pattern: Schema.String.annotate({
    description: "Glob pattern matched against file paths relative to the search directory, e.g. \"**/*.ts\" or \"src/**/*.{js,jsx}\""
  }),
  path: Schema.optionalKey(
    Schema.String.annotate({ description: "Directory to search in (default: the working directory)" })
  ),
  limit: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: "Maximum number of files to return (default 100, at most 1000)"
    })
  )
})

const DESCRIPTION = `Find files by glob pattern, e.g. "**/*.ts", "src/**/test_*.py", "*.{json,yaml}".
The pattern matches paths relative to the search directory: "*.ts" matches only the top level, "**/*.ts" matches at any depth.
Returns matching file paths in path order, one per line. Skips .git and node_modules unless the pattern names them.`

const META = /[*?[\]{}\\]/

/**
 * Builds the `glob` tool. Needs `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Tool, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const defaultLimit = options?.defaultLimit ?? 100
    const maxLimit = options?.maxLimit ?? 1000
    return define({
      name: "glob",
      description: DESCRIPTION,
      parameters: Parameters,
      handler: Effect.fnUntraced(function*(params, context) {
        if (params.pattern.trim() === "") {
          return yield* new ToolError({ reason: "InvalidArguments", message: "pattern is empty" })
        }
        const root = Paths.resolve(context.directory, params.path ?? ".")
        const shownRoot = Paths.display(context.directory, root)
        const rootInfo = yield* Paths.statOrFail(fs, root, shownRoot, "Directory")
        if (rootInfo.type !== "Directory") {
          return yield* new ToolError({ reason: "InvalidInput", message: `${shownRoot} is not a directory` })
        }
        const limit = Math.min(params.limit ?? defaultLimit, maxLimit)

        // Walk from the pattern's leading literal directories, match the rest.
        const segments = params.pattern.split("/")
        const absolutePattern = segments[0] === ""
        let literal = absolutePattern ? 1 : 0
        while (literal < segments.length - 1 && !META.test(segments[literal]!)) literal++
        const prefix = segments.slice(absolutePattern ? 1 : 0, literal).join("/")
        const rest = segments.slice(literal).join("/")
        const base = absolutePattern ? NodePath.resolve("/", prefix) : NodePath.resolve(root, prefix)
        const matches: Array<string> = []
        let more = false

        if (!META.test(rest)) {
          // A literal path: it matches when it names a file.
          const target = NodePath.join(base, rest)
          const info = yield* fs.stat(target).pipe(Effect.option)
          if (info._tag === "Some" && info.value.type === "File") matches.push(target)
        } else {
          const baseInfo = yield* fs.stat(base).pipe(Effect.option)
          if (baseInfo._tag === "Some" && baseInfo.value.type === "Directory") {
            const glob = Glob.make(rest, { dot: true })
            const ignored = Walk.ignoredUnlessNamed(params.pattern)
            yield* Walk.files(fs, base, (entry) => {
              if (!Glob.match(glob, entry.relative)) return Effect.succeed(true)
              if (matches.length === limit) {
                more = true
                return Effect.succeed(false)
              }
              matches.push(entry.absolute)
              return Effect.succeed(true)
            }, { ignored }).pipe(Effect.mapError(Paths.toToolError(Paths.display(context.directory, base))))
          }
        }

        if (matches.length === 0) {
          const hint = !params.pattern.includes("/") && !params.pattern.startsWith("**")
            ? ` ("${params.pattern}" matches only the top level of the search directory; use "**/${params.pattern}" to search subdirectories)`
            : ""
          return {
            output: `No files match ${params.pattern} in ${shownRoot}${hint}`,
            success: true,
            metadata: { count: 0, truncated: false }
          }
        }
        const listing = matches.map((file) => Paths.display(context.directory, file)).join("\n")
        return {
          output: more
            ? `${listing}\n\n[Showing the first ${limit} matching files; more exist. ` +
              "Use a more specific pattern or path, or a larger limit.]"
            : listing,
          success: true,
          metadata: { count: matches.length, truncated: more }
        }
      })
    })
  })
