/**
 * The system prompt sent before the transcript on every request (4.5.7
 * builds the *build agent* prompt for the working directory and appends the
 * discovered `AGENTS.md` files, BEHAVIOUR §6.2 step 14). It is request-only:
 * never persisted in the session.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

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

const readAgentsFile = (dir: string): { readonly path: string; readonly text: string } | undefined => {
  const path = NodePath.join(dir, "AGENTS.md")
  try {
    const bytes = NodeFs.readFileSync(path)
    const text = bytes.subarray(0, MAX_AGENTS_MD_BYTES).toString("utf8")
    return { path, text: bytes.length > MAX_AGENTS_MD_BYTES ? `${text}\n[... AGENTS.md cut at ${MAX_AGENTS_MD_BYTES} bytes]` : text }
  } catch {
    return undefined
  }
}

/**
 * The `AGENTS.md` files of `directory` and its ancestors up to the nearest
 * one containing `.git` (or the file-system root), outermost first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const discoverAgentsFiles = (directory: string): ReadonlyArray<{ readonly path: string; readonly text: string }> => {
  const found: Array<{ readonly path: string; readonly text: string }> = []
  let dir = NodePath.resolve(directory)
  for (;;) {
    const file = readAgentsFile(dir)
    if (file !== undefined) found.unshift(file)
    const parent = NodePath.dirname(dir)
    if (parent === dir || NodeFs.existsSync(NodePath.join(dir, ".git"))) break
    dir = parent
  }
  return found
}

/**
 * The build-agent prompt with the `AGENTS.md` files found on disk.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SystemPrompt> = Layer.succeed(
  SystemPrompt,
  SystemPrompt.of({
    build: (directory) => Effect.sync(() => render(directory, discoverAgentsFiles(directory)))
  })
)

/**
 * A fixed system prompt (tests, embedders with their own prompt).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStatic = (text: string): Layer.Layer<SystemPrompt> =>
  Layer.succeed(SystemPrompt, SystemPrompt.of({ build: () => Effect.succeed(text) }))
