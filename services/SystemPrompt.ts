/**
 * The system prompt sent before the transcript on every request (4.5.7
 * builds the *build agent* prompt for the working directory and appends the
 * discovered `AGENTS.md` files, BEHAVIOUR §6.2 step 14). It is request-only:
 * never persisted in the session.
 *
 * `AGENTS.md` files are opened without blocking and must be regular files: a
 * FIFO or a device named `AGENTS.md` is skipped (with a warning), never
 * waited on; a symlink is followed only when it points inside the searched
 * tree (the git root, else the session directory), so a repository cannot
 * make codetether send, say, `~/.ssh/id_rsa` to the model. At most
 * {@link MAX_AGENTS_MD_BYTES} bytes of each are read.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SafeFs from "./internal/SafeFs.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class SystemPrompt extends Context.Service<SystemPrompt, {
  /** The system prompt for a session working in `directory`. Never fails. */
  readonly build: (directory: string) => Effect.Effect<string>
}>()("codetether/SystemPrompt") {}

/**
 * Bytes of one `AGENTS.md` included at most (the rest is cut with a note).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_AGENTS_MD_BYTES = 32 * 1024

/**
 * The build-agent prompt for `directory`, followed by the given `AGENTS.md`
 * files (outermost first, so the nearest, most specific file comes last).
 *
 * @since 0.1.0
 * @category constructors
 */
export const render = (directory: string, agentsFiles: ReadonlyArray<{ readonly path: string; readonly text: string }>) => {
  const sections = [
    `You are codetether, an AI coding agent working in the directory ${directory}.`,
    [
      "You help the user with software engineering tasks in this directory: reading and changing code,",
      "running commands and tests, and explaining what you find.",
      "",
      "How to work:",
      "- Use the tools to look before you act: read files, list directories, glob and grep for what you need.",
      "  Relative paths are resolved against the working directory.",
      "- Make changes with the edit and write tools; run commands (tests, builds, linters) with bash.",
      "- Verify your changes when you can, for example by running the relevant tests.",
      "- Never invent tool output. If a tool fails, read its error and adapt.",
      "- When the task is done, or you need the user to decide something, answer in plain text:",
      "  briefly what you did and what you found. Do not call tools in that final answer."
    ].join("\n")
  ]
  for (const file of agentsFiles) {
    sections.push(`Instructions from ${file.path} (they apply to the directory tree that contains it):\n\n${file.text}`)
  }
  return sections.join("\n\n")
}

/** One `AGENTS.md`, or why one that exists was skipped. */
type AgentsRead =
  | { readonly path: string; readonly text: string }
  | { readonly path: string; readonly skipped: string }
  | undefined

const readAgentsFile = (dir: string, within: string): AgentsRead => {
  const path = NodePath.join(dir, "AGENTS.md")
  let opened: { readonly fd: number }
  try {
    opened = SafeFs.openRegularSync(path, { follow: { within } })
  } catch (e) {
    if (e instanceof SafeFs.SafeFsError && e.kind === "Missing") return undefined
    return { path, skipped: e instanceof Error ? e.message : String(e) }
  }
  try {
    const buffer = Buffer.alloc(MAX_AGENTS_MD_BYTES + 1)
    let length = 0
    while (length < buffer.length) {
      const read = NodeFs.readSync(opened.fd, buffer, length, buffer.length - length, null)
      if (read === 0) break
      length += read
    }
    const text = buffer.subarray(0, Math.min(length, MAX_AGENTS_MD_BYTES)).toString("utf8")
    return { path, text: length > MAX_AGENTS_MD_BYTES ? `${text}\n[... AGENTS.md cut at ${MAX_AGENTS_MD_BYTES} bytes]` : text }
  } catch (e) {
    return { path, skipped: e instanceof Error ? e.message : String(e) }
  } finally {
    NodeFs.closeSync(opened.fd)
  }
}

/**
 * The `AGENTS.md` files of `directory` and its ancestors up to the nearest
 * one containing `.git` (or the file-system root), outermost first, and the
 * ones skipped (not regular files, symlinks leaving that tree, unreadable)
 * with the reason.
 *
 * @since 0.1.0
 * @category constructors
 */
export const scanAgentsFiles = (directory: string): {
  readonly found: ReadonlyArray<{ readonly path: string; readonly text: string }>
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>
} => {
  const dirs: Array<string> = []
  let dir = NodePath.resolve(directory)
  for (;;) {
    dirs.push(dir)
    const parent = NodePath.dirname(dir)
    if (parent === dir || NodeFs.existsSync(NodePath.join(dir, ".git"))) break
    dir = parent
  }
  const top = dirs[dirs.length - 1]!
  const within = NodeFs.existsSync(NodePath.join(top, ".git")) ? top : NodePath.resolve(directory)
  const found: Array<{ readonly path: string; readonly text: string }> = []
  const skipped: Array<{ readonly path: string; readonly reason: string }> = []
  for (const current of dirs) {
    const file = readAgentsFile(current, within)
    if (file === undefined) continue
    if ("skipped" in file) skipped.push({ path: file.path, reason: file.skipped })
    else found.unshift(file)
  }
  return { found, skipped }
}

/**
 * The `AGENTS.md` files of `directory` and its ancestors up to the nearest
 * one containing `.git` (or the file-system root), outermost first (see
 * {@link scanAgentsFiles}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const discoverAgentsFiles = (directory: string): ReadonlyArray<{ readonly path: string; readonly text: string }> =>
  scanAgentsFiles(directory).found

/**
 * The build-agent prompt with the `AGENTS.md` files found on disk. A skipped
 * `AGENTS.md` is logged as a warning once per path for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SystemPrompt> = Layer.sync(SystemPrompt, () => {
  const warned = new Set<string>()
  return SystemPrompt.of({
    build: (directory) =>
      Effect.gen(function*() {
        const { found, skipped } = scanAgentsFiles(directory)
        for (const file of skipped) {
          if (warned.has(file.path)) continue
          warned.add(file.path)
          yield* Effect.logWarning(`Skipping ${file.reason}`)
        }
        return render(directory, found)
      })
  })
})

/**
 * A fixed system prompt (tests, embedders with their own prompt).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStatic = (text: string): Layer.Layer<SystemPrompt> =>
  Layer.succeed(SystemPrompt, SystemPrompt.of({ build: () => Effect.succeed(text) }))
