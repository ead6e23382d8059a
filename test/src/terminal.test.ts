/**
 * Terminal escapes from a model, a tool or a session file never reach a
 * terminal (issue 11: `ESC ]` window-title and OSC 52 clipboard sequences
 * were written raw). The bundled binary runs on a pseudo-terminal
 * (util-linux `script`); `--json` output and the session file keep the text
 * exactly.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`

/** Runs the binary with `args` on a pseudo-terminal; returns everything the terminal received. */
const onTerminal = (args: ReadonlyArray<string>, options: { readonly cwd: string; readonly env: Record<string, string | undefined> }) =>
  Effect.promise(() =>
    new Promise<{ readonly code: number | null; readonly screen: string }>((resolve, reject) => {
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", TERM: "xterm", ...options.env })) {
        if (v !== undefined) env[k] = v
      }
      const command = [process.execPath, Cli.BIN, ...args].map(quote).join(" ")
      const child = NodeChild.spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
        cwd: options.cwd,
        env,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let screen = ""
      child.stdout.on("data", (d: Buffer) => (screen += d.toString("utf8")))
      child.stderr.on("data", (d: Buffer) => (screen += d.toString("utf8")))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, screen }))
    })
  )

/** What a hostile model sends: a window title (OSC 0); its tool writes the clipboard (OSC 52). */
const TITLE = "\x1b]0;pwned\x07"

const expectNoEscapes = (screen: string) => {
  expect(screen).not.toContain("\x1b]")
  expect(screen).not.toContain("\x07")
  expect(screen).not.toContain("\u009b")
}

describe("terminal escapes on a TTY", () => {
  it.live("run shows the model's and the tool's escapes as text; sessions show too; --json and the session file keep them", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make("codetether-tty-")
      const repo = NodePath.join(root, "repo")
      NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "call_1", name: "bash", arguments: { command: "printf '\\033]52;c;ZXZpbA==\\007'; exit 3" } }]),
        OpenAiServer.text(`All done${TITLE}\u009b2J, really.`)
      )
      const env = Cli.isolatedEnv(root, {
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: server.url
      })
      const run = yield* onTerminal(["run", "go"], { cwd: repo, env })
      expect(run.code).toBe(0)
      expectNoEscapes(run.screen)
      expect(run.screen).toContain("All done\\x1b]0;pwned\\x07\\x9b2J, really.")
      expect(run.screen).toContain("\\x1b]52;c;ZXZpbA==\\x07")

      const sessions = NodePath.join(repo, ".codetether-agent", "sessions")
      const [file] = NodeFs.readdirSync(sessions).filter((n) => n.endsWith(".json") && !n.startsWith("."))
      const raw = NodeFs.readFileSync(NodePath.join(sessions, file!), "utf8")
      expect(raw).toContain("\\u001b]0;pwned\\u0007") // JSON escapes, exactly what the model sent
      expect(raw).toContain("\\u001b]52;c;ZXZpbA==\\u0007")
      const id = file!.replace(/\.json$/, "")

      const show = yield* onTerminal(["sessions", "show", id], { cwd: repo, env })
      expect(show.code).toBe(0)
      expectNoEscapes(show.screen)
      expect(show.screen).toContain("All done\\x1b]0;pwned\\x07")

      const asJson = yield* onTerminal(["sessions", "show", "--json", id], { cwd: repo, env })
      expect(asJson.screen).toContain("\\u001b]0;pwned\\u0007") // --json is never altered
      expect(asJson.screen).toContain("\u009b2J")
    }))
})
