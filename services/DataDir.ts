/**
 * The data directory that holds `sessions/` (and, for codetether, `events/`
 * and `providers.json`), resolved once and injected through a Layer so every
 * operation in a process agrees on it.
 *
 * Resolution is codetether-agent 4.5.7's `Config::data_dir`:
 * 1. `CODETETHER_DATA_DIR`, trimmed, when non-empty (used as given; a relative
 *    value is resolved against the current directory once, here);
 * 2. else `<nearest ancestor of the cwd containing a .git entry>/.codetether-agent`
 *    (`.git` may be a file, as in git worktrees);
 * 3. else `<cwd>/.codetether-agent`.
 *
 * Unlike 4.5.7, which caches the sessions dir for load/save but recomputes it
 * for listing and import, codetether resolves it exactly once per layer
 * (BEHAVIOUR §12.13).
 *
 * Also unlike 4.5.7, {@link layer} and {@link layerFlag} refuse an empty (or
 * blank) `CODETETHER_DATA_DIR` or `--data-dir ""` instead of quietly using
 * another directory, and a data dir path that exists but is not a directory
 * (a regular file, a FIFO...) is reported as such: a {@link DataDirError}.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * Where the data dir came from: the `--data-dir` flag / an explicit path, the
 * `CODETETHER_DATA_DIR` environment variable, the enclosing git repository, or
 * the current directory.
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "explicit" | "env" | "git" | "cwd"

/**
 * @since 0.1.0
 * @category services
 */
export class DataDir extends Context.Service<DataDir, {
  /** Absolute path of the data dir. */
  readonly path: string
  /** `<path>/sessions`. */
  readonly sessionsDir: string
  /** How `path` was chosen. */
  readonly source: Source
}>()("codetether/DataDir") {}

/**
 * Pure resolution from the value of `CODETETHER_DATA_DIR` (if set) and a
 * current directory. `hasGit(dir)` tells whether `dir` contains a `.git` entry.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolve = (options: {
  readonly env: string | undefined
  readonly cwd: string
  readonly hasGit?: (dir: string) => boolean
}): DataDir["Service"] => {
  const hasGit = options.hasGit ?? ((dir: string) => NodeFs.existsSync(NodePath.join(dir, ".git")))
  const fromEnv = options.env?.trim()
  if (fromEnv !== undefined && fromEnv.length > 0) {
    return make(NodePath.resolve(options.cwd, fromEnv), "env")
  }
  let dir = NodePath.resolve(options.cwd)
  for (;;) {
    if (hasGit(dir)) return make(NodePath.join(dir, ".codetether-agent"), "git")
    const parent = NodePath.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return make(NodePath.join(NodePath.resolve(options.cwd), ".codetether-agent"), "cwd")
}

/**
 * Whether the data dir is a default one, inside the repository or the
 * working directory (`<git root>/.codetether-agent`, `<cwd>/.codetether-agent`),
 * rather than one the user chose (`--data-dir`, `CODETETHER_DATA_DIR`):
 * codetether writes a `.gitignore` holding `*` into a default data dir it
 * creates.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isDefault = (dir: DataDir["Service"]): boolean => dir.source === "git" || dir.source === "cwd"

/**
 * A data dir at `path` (made absolute against the process cwd).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (path: string, source: Source = "explicit"): DataDir["Service"] => {
  const absolute = NodePath.resolve(path)
  return DataDir.of({ path: absolute, sessionsDir: NodePath.join(absolute, "sessions"), source })
}

/**
 * Why the data dir cannot be used:
 * - `Empty`: `--data-dir ""` or a `CODETETHER_DATA_DIR` that is set but empty
 *   or blank (`name` says which);
 * - `NotDirectory`: the path exists and is not a directory (`path`).
 *
 * @since 0.1.0
 * @category errors
 */
export class DataDirError extends Schema.TaggedError<DataDirError>()("DataDirError", {
  reason: Schema.Literals(["Empty", "NotDirectory"]),
  message: Schema.String,
  name: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String)
}) {}

const kindOf = (stat: NodeFs.Stats): string =>
  stat.isFile()
    ? "a regular file"
    : stat.isFIFO()
    ? "a FIFO"
    : stat.isSocket()
    ? "a socket"
    : stat.isCharacterDevice() || stat.isBlockDevice()
    ? "a device"
    : "not a directory"

/**
 * Succeeds with `dir` unless its path exists and is not a directory (or a
 * parent of it is a file): then a `NotDirectory` {@link DataDirError}, e.g.
 * `The data dir /x/data (from --data-dir) is a regular file, not a directory`.
 * A missing path is fine (it is created on the first save).
 *
 * @since 0.1.0
 * @category checks
 */
export const check = (dir: DataDir["Service"]): Effect.Effect<DataDir["Service"], DataDirError> =>
  Effect.suspend(() => {
    const from = dir.source === "explicit"
      ? "from --data-dir"
      : dir.source === "env"
      ? "from CODETETHER_DATA_DIR"
      : "the default for this directory"
    let stat: NodeFs.Stats | undefined
    let at = dir.path
    try {
      // The path, or else its nearest existing ancestor (which must then be a directory too).
      for (;;) {
        stat = NodeFs.statSync(at, { throwIfNoEntry: false })
        const parent = NodePath.dirname(at)
        if (stat !== undefined || parent === at) break
        at = parent
      }
    } catch {
      return Effect.succeed(dir)
    }
    if (stat !== undefined && !stat.isDirectory() && at !== dir.path) {
      return Effect.fail(
        new DataDirError({
          reason: "NotDirectory",
          path: dir.path,
          message: `The data dir ${dir.path} (${from}) cannot be created: ${at} is ${kindOf(stat)}, not a directory`
        })
      )
    }
    if (stat === undefined || stat.isDirectory()) return Effect.succeed(dir)
    return Effect.fail(
      new DataDirError({
        reason: "NotDirectory",
        path: dir.path,
        message: `The data dir ${dir.path} (${from}) is ${kindOf(stat)}, not a directory`
      })
    )
  })

/**
 * Resolves the data dir from `CODETETHER_DATA_DIR` (read through `Config`)
 * and the process's current directory, as 4.5.7 does, then {@link check}s
 * it. Fails with an `Empty` {@link DataDirError} when the variable is set but
 * blank (with Effect's default environment provider an empty variable reads
 * as unset; the CLI's keeps it), `NotDirectory` when the path is a file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DataDir, Config.ConfigError | DataDirError> = Layer.effect(
  DataDir,
  Effect.gen(function*() {
    const env = yield* Config.option(Config.String("CODETETHER_DATA_DIR"))
    if (Option.isSome(env) && env.value.trim() === "") {
      return yield* new DataDirError({
        reason: "Empty",
        name: "CODETETHER_DATA_DIR",
        message: "CODETETHER_DATA_DIR is set but empty: give it a directory, or unset it to use the default " +
          "(<git root or current directory>/.codetether-agent)"
      })
    }
    return yield* check(resolve({ env: Option.getOrUndefined(env), cwd: process.cwd() }))
  })
)

/**
 * The data dir of the CLI's `--data-dir VALUE` (relative to the process's
 * current directory), {@link check}ed. Fails with an `Empty`
 * {@link DataDirError} when `value` is empty or blank (`--data-dir ""` never
 * means the current directory), `NotDirectory` when it is a file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFlag = (value: string): Layer.Layer<DataDir, DataDirError> =>
  Layer.effect(
    DataDir,
    value.trim() === ""
      ? Effect.fail(
        new DataDirError({
          reason: "Empty",
          name: "--data-dir",
          message: "--data-dir is empty: give it a directory (omit the flag to use the default)"
        })
      )
      : check(make(value))
  )

/**
 * A fixed data dir (the CLI's `--data-dir`, tests, embedding apps).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPath = (path: string): Layer.Layer<DataDir> => Layer.succeed(DataDir, make(path))
