/**
 * Nothing hangs, end to end: the bundled binary against local servers.
 * A `grep` whose pattern backtracks catastrophically used to freeze the
 * process (100% CPU, SIGINT and SIGTERM ignored); now Ctrl-C ends the prompt
 * at once with exit code 130 and the session keeps the interrupted call.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

/** A temporary repository with isolated config and Codex homes. */
const repository = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-hangs-")
  const repo = NodePath.join(root, "repo")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  const env: Record<string, string | undefined> = {
    HOME: root,
    XDG_CONFIG_HOME: NodePath.join(root, "config"),
    CODEX_HOME: NodePath.join(root, "codex"),
    CODETETHER_DATA_DIR: undefined,
    CODETETHER_MODEL: undefined,
    OPENAI_API_KEY: undefined,
    OPENAI_BASE_URL: undefined,
    ANTHROPIC_API_KEY: undefined,
    ANTHROPIC_BASE_URL: undefined,
    NO_COLOR: "1"
  }
  return { root, repo, env, sessionsDir: NodePath.join(repo, ".codetether-agent", "sessions") }
})

/**
 * Spawns the binary; once `ready(stdout)` holds, waits `delayMs`, sends
 * `signal`, and resolves with the exit code and the time from the signal to
 * the exit (a child still alive after `killAfterMs` is killed and reported).
 */
const runAndSignal = (
  args: ReadonlyArray<string>,
  options: {
    readonly cwd: string
    readonly env: Record<string, string | undefined>
    readonly ready: (stdout: string) => boolean
    readonly delayMs: number
    readonly signal: NodeJS.Signals
    readonly killAfterMs: number
  }
) =>
  new Promise<{ readonly code: number | null; readonly afterSignalMs: number; readonly stdout: string; readonly stderr: string }>(
    (resolve, reject) => {
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v
      const child = NodeChild.spawn(process.execPath, [Cli.BIN, ...args], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      let signalledAt: number | undefined
      let killer: NodeJS.Timeout | undefined
      child.stdout.on("data", (d) => {
        stdout += d
        if (signalledAt === undefined && options.ready(stdout)) {
          signalledAt = -1
          setTimeout(() => {
            signalledAt = performance.now()
            child.kill(options.signal)
            killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs)
          }, options.delayMs)
        }
      })
      child.stderr.on("data", (d) => (stderr += d))
      child.on("error", reject)
      child.on("exit", (code, signal) => {
        clearTimeout(killer)
        if (signalledAt === undefined || signalledAt < 0) {
          return reject(new Error(`exited (${code ?? signal}) before the signal: ${stdout}\n${stderr}`))
        }
        resolve({ code: signal === "SIGKILL" ? null : code, afterSignalMs: performance.now() - signalledAt, stdout, stderr })
      })
    }
  )

describe("nothing hangs (CLI)", () => {
  it.live("Ctrl-C during a grep that backtracks catastrophically exits 130 and saves the interrupted call", () =>
    Effect.gen(function*() {
      const { repo, env, sessionsDir } = yield* repository
      NodeFs.writeFileSync(NodePath.join(repo, "f.txt"), `${"a".repeat(50)}!\n`)
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "call_grep", name: "grep", arguments: { pattern: "(a|aa)+$", path: "f.txt" } }]),
        OpenAiServer.text("never reached")
      )
      const result = yield* Effect.promise(() =>
        runAndSignal(["run", "--json", "find the runs of a"], {
          cwd: repo,
          env: { ...env, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url },
          // the grep call has started: the worker is matching
          ready: (stdout) => stdout.includes("{\"type\":\"ToolCallStart\""),
          delayMs: 500,
          signal: "SIGINT",
          killAfterMs: 10_000
        })
      )
      expect(result.code, result.stderr).toBe(130)
      expect(result.afterSignalMs).toBeLessThan(5_000)
      expect(server.requests).toHaveLength(1)
      const files = NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".json") && !n.startsWith("."))
      expect(files).toHaveLength(1)
      const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessionsDir, files[0]!)))
      if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
      const messages = decoded.success.messages
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      expect(messages[2]!.content).toEqual([
        { type: "tool_result", toolCallId: "call_grep", content: SessionLoop.INTERRUPTED_CALL_TEXT }
      ])
    }), 30_000)
})
