/**
 * Where the workspace is (the files a repository controls) and where the
 * user's own configuration lives (outside any repository): the two places
 * every trust decision compares.
 *
 * - The workspace of a current directory is that directory and its git root
 *   (the nearest ancestor, itself included, holding a `.git` entry). Whoever
 *   wrote the repository wrote everything under either.
 * - The user config dir is `$XDG_CONFIG_HOME/codetether-agent` when
 *   `XDG_CONFIG_HOME` is an absolute path, else
 *   `$HOME/.config/codetether-agent` (`HOME` read through `Config`, falling
 *   back to the OS home directory): 4.5.7's global config directory on Linux.
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { canonicalize } from "./Paths.ts"
import { isWithin } from "./SafeFs.ts"

/** The workspace of a current directory: the directory and its git root (when any). Both absolute. */
export interface Workspace {
  readonly cwd: string
  readonly gitRoot: string | undefined
}

/** The nearest ancestor of `dir` (itself included) that holds a `.git` entry, or `undefined`. */
export const gitRootOf = (dir: string): string | undefined => {
  let current = NodePath.resolve(dir)
  for (;;) {
    if (NodeFs.existsSync(NodePath.join(current, ".git"))) return current
    const parent = NodePath.dirname(current)
    if (parent === current) return undefined
    current = parent
  }
}

/** The workspace of `cwd`. */
export const of = (cwd: string): Workspace => {
  const absolute = NodePath.resolve(cwd)
  return { cwd: absolute, gitRoot: gitRootOf(absolute) }
}

/**
 * The workspace root `path` lies under (the git root when it is under both),
 * or `undefined` when it lies outside the workspace. Symlinks are resolved on
 * both sides (a path that does not exist yet is compared as written), so a
 * symlink pointing into the repository counts as inside.
 */
export const containing = (workspace: Workspace, path: string): string | undefined => {
  const written = NodePath.resolve(path)
  const target = realpathLoose(written)
  for (const root of [workspace.gitRoot, workspace.cwd]) {
    if (root === undefined) continue
    const real = canonicalize(root)
    if (isWithin(real, target) || isWithin(root, written)) return root
  }
  return undefined
}

/** `realpath` of the nearest existing ancestor of `path`, with the rest appended. */
const realpathLoose = (path: string): string => {
  const rest: Array<string> = []
  let current = path
  for (;;) {
    const real = canonicalize(current)
    if (real !== current || NodeFs.existsSync(current)) return NodePath.join(real, ...rest.reverse())
    const parent = NodePath.dirname(current)
    if (parent === current) return path
    rest.push(NodePath.basename(current))
    current = parent
  }
}

const nonEmpty = (name: string) =>
  Config.option(Config.String(name)).pipe(Config.map(Option.filter((value) => value.trim().length > 0)))

/** Name of codetether's directory inside the user's config directory (4.5.7's). */
export const CONFIG_DIR_NAME = "codetether-agent"

/** The user config dir (see the module docs). */
export const userConfigDir: Effect.Effect<string, Config.ConfigError> = Effect.gen(function*() {
  const xdg = yield* nonEmpty("XDG_CONFIG_HOME")
  if (Option.isSome(xdg) && NodePath.isAbsolute(xdg.value)) return NodePath.join(xdg.value, CONFIG_DIR_NAME)
  const home = Option.getOrElse(yield* nonEmpty("HOME"), () => NodeOs.homedir())
  return NodePath.join(home, ".config", CONFIG_DIR_NAME)
})

/**
 * Another agent's home directory, found as that agent finds it (Codex:
 * `CODEX_HOME`, else `~/.codex`; Claude Code: `CLAUDE_CONFIG_DIR`, else
 * `~/.claude`): `fromEnv` trimmed when it is not blank (a relative value
 * resolved against `cwd`), else `<home>/<dotDir>`, else `undefined` when
 * there is no home either.
 */
export const agentHome = (options: {
  readonly fromEnv: string | undefined
  readonly home: string | undefined
  readonly cwd: string
  readonly dotDir: string
}): string | undefined => {
  const fromEnv = options.fromEnv?.trim()
  if (fromEnv !== undefined && fromEnv.length > 0) return NodePath.resolve(options.cwd, fromEnv)
  const home = options.home?.trim()
  return home !== undefined && home.length > 0 ? NodePath.join(home, options.dotDir) : undefined
}

/**
 * {@link agentHome} with `variable` and `HOME` read through `Config` (`HOME`
 * falling back to the OS home directory) and the process's current directory.
 */
export const agentHomeFromConfig = (variable: string, dotDir: string): Effect.Effect<string | undefined, Config.ConfigError> =>
  Effect.gen(function*() {
    const fromEnv = yield* Config.option(Config.String(variable))
    const home = yield* Config.option(Config.String("HOME"))
    return agentHome({
      fromEnv: Option.getOrUndefined(fromEnv),
      home: Option.getOrElse(home, () => NodeOs.homedir()),
      cwd: process.cwd(),
      dotDir
    })
  })

/** A follow policy that follows a symlink wherever it points (the user's own files: dotfile managers link them). */
export const followAnywhere = (path: string): { readonly within: string } => ({
  within: NodePath.parse(NodePath.resolve(path)).root
})
