/**
 * Runs the bundled `codetether` binary (dist/bin/codetether.js, built by
 * `npm test`'s pretest step) as a child process.
 */
import * as NodeChild from "node:child_process"
import * as NodePath from "node:path"

export const BIN = NodePath.resolve(import.meta.dirname, "../../dist/bin/codetether.js")

/**
 * An environment for the binary that reads nothing of the machine's user:
 * `HOME` is `root`, the user config dir `<root>/config`, the Codex home
 * `<root>/codex`; codetether's and the providers' variables unset (no data
 * dir, model, database, server token, key or base URL), then `overrides`.
 */
export const isolatedEnv = (
  root: string,
  overrides: Record<string, string | undefined> = {}
): Record<string, string | undefined> => ({
  HOME: root,
  XDG_CONFIG_HOME: NodePath.join(root, "config"),
  CODEX_HOME: NodePath.join(root, "codex"),
  CODETETHER_DATA_DIR: undefined,
  CODETETHER_MODEL: undefined,
  CODETETHER_DATABASE_URL: undefined,
  CODETETHER_SERVER_TOKEN: undefined,
  OPENAI_API_KEY: undefined,
  OPENAI_BASE_URL: undefined,
  ANTHROPIC_API_KEY: undefined,
  ANTHROPIC_BASE_URL: undefined,
  ...overrides
})

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly stdoutBytes: Buffer
}

export const run = (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Record<string, string | undefined>; readonly input?: string } = {}
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...options.env })) {
      if (v !== undefined) env[k] = v
    }
    const child = NodeChild.spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env,
      stdio: ["pipe", "pipe", "pipe"]
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (d: Buffer) => out.push(d))
    child.stderr.on("data", (d: Buffer) => err.push(d))
    child.on("error", reject)
    child.on("close", (code) => {
      const stdoutBytes = Buffer.concat(out)
      resolve({ code, stdout: stdoutBytes.toString(), stderr: Buffer.concat(err).toString(), stdoutBytes })
    })
    child.stdin.end(options.input ?? "")
  })
