/**
 * Nothing hangs, nothing crashes on size, end to end: the bundled binary
 * against local servers and files on disk.
 * - A `grep` whose pattern backtracks catastrophically used to freeze the
 *   process (100% CPU, SIGINT and SIGTERM ignored); now Ctrl-C ends the
 *   prompt at once with exit code 130 and the session keeps the interrupted
 *   call.
 * - A Codex rollout with one line longer than the 64 MiB line cap used to make
 *   `import codex --all` and `sessions list --all` fail (`Invalid string
 *   length` with a 608 MB line); now the line is skipped with a warning and
 *   everything else lists and imports.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as CodexImport from "../../services/CodexImport.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

/** A temporary repository with isolated config and Codex homes. */
const repository = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-hangs-")
  const repo = NodePath.join(root, "repo")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  const env: Record<string, string | undefined> = Cli.isolatedEnv(root, {
    NO_COLOR: "1"
  })
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

  it.live("a Codex rollout with a line over the 64 MiB cap: the line is skipped with a warning, everything lists and imports", () =>
    Effect.gen(function*() {
      const { repo, env, root } = yield* repository
      const codexHome = NodePath.join(root, "codex")
      const day = NodePath.join(codexHome, "sessions", "2026", "12", "01")
      NodeFs.mkdirSync(day, { recursive: true })
      const line = (timestamp: string, type: string, payload: unknown) => JSON.stringify({ timestamp, type, payload })
      const id = "0199a1b9-0000-7000-8000-00000000f00d"
      const path = NodePath.join(day, `rollout-2026-12-01T00-00-00-${id}.jsonl`)
      // written as a stream: one line of 64 MiB + 1 KiB, between two good ones
      const fd = NodeFs.openSync(path, "w")
      NodeFs.writeSync(fd, line("2026-12-01T00:00:00Z", "session_meta", { id, timestamp: "2026-12-01T00:00:00Z", cwd: repo }) + "\n")
      const head = "{\"timestamp\":\"2026-12-01T00:00:01Z\",\"type\":\"response_item\",\"payload\":{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":\""
      NodeFs.writeSync(fd, head)
      const block = Buffer.alloc(1 << 20, 0x78)
      for (let i = 0; i < 64; i++) NodeFs.writeSync(fd, block)
      NodeFs.writeSync(fd, "x".repeat(1024) + "\"}}\n")
      const hugeBytes = head.length + 64 * (1 << 20) + 1024 + 3
      NodeFs.writeSync(fd, line("2026-12-01T00:00:02Z", "response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "after the huge line" }] }) + "\n")
      NodeFs.closeSync(fd)
      expect(hugeBytes).toBeGreaterThan(CodexImport.DEFAULT_MAX_LINE_BYTES)
      const warning = `Skipping line 2 of ${path}: ${hugeBytes} bytes, over the ${CodexImport.DEFAULT_MAX_LINE_BYTES}-byte line limit`

      // a native session of this directory, made by a first run
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("native answer"))
      const first = yield* Effect.promise(() =>
        Cli.run(["run", "native work"], { cwd: repo, env: { ...env, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url } })
      )
      expect(first.code, first.stderr).toBe(0)

      const listed = yield* Effect.promise(() => Cli.run(["sessions", "list", "--all", "--json"], { cwd: repo, env }))
      expect(listed.code, listed.stderr).toBe(0)
      const rows = JSON.parse(listed.stdout) as Array<{ id: string; title: string }>
      expect(rows.map((r) => r.title).sort()).toEqual(["[Codex] after the huge line", "native work"])
      expect(listed.stderr).toContain(warning)

      const imported = yield* Effect.promise(() => Cli.run(["import", "codex", "--all", "--json"], { cwd: repo, env }))
      expect(imported.code, imported.stderr).toBe(0)
      expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 1, skipped: 0 })
      expect(imported.stderr).toContain(warning)
      NodeFs.rmSync(path)
    }), 60_000)
})
