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
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

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
 * Resolves the data dir from `CODETETHER_DATA_DIR` (read through `Config`)
 * and the process's current directory, as 4.5.7 does.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DataDir, Config.ConfigError> = Layer.effect(
  DataDir,
  Effect.gen(function*() {
    const env = yield* Config.option(Config.String("CODETETHER_DATA_DIR"))
    return resolve({ env: Option.getOrUndefined(env), cwd: process.cwd() })
  })
)

/**
 * A fixed data dir (the CLI's `--data-dir`, tests, embedding apps).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPath = (path: string): Layer.Layer<DataDir> => Layer.succeed(DataDir, make(path))
