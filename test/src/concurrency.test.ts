/**
 * Several writers on one session, through the real `codetether` binary: two
 * OS processes prompting the same session, four writers on a 60 MB session,
 * a delete during a run and a copied session file. No turn may be lost and
 * no file may be torn.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { RecordedRequest, ScriptedServer } from "../utils/ScriptedServer.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

/**
 * A model that calls `bash` with `command` once per prompt, then answers
 * `done: <the prompt>`.
 */
const toolThenAnswer = (command: string) => (request: RecordedRequest) => {
  const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
  const last = messages.at(-1)!
  if (last.role === "tool") {
    const user = [...messages].reverse().find((m) => m.role === "user")!
    return OpenAiServer.text(`done: ${typeof user.content === "string" ? user.content : JSON.stringify(user.content)}`)
  }
  return OpenAiServer.toolCalls([{ id: `call_${messages.length}`, name: "bash", arguments: { command } }])
}

const workspace = (server: ScriptedServer) =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-writers-")
    const repo = NodePath.join(root, "repo")
    NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
    const sessionsDir = NodePath.join(repo, ".codetether-agent", "sessions")
    const env = Cli.isolatedEnv(root, {
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: server.url
    })
    const run = (args: ReadonlyArray<string>, input?: string) =>
      Cli.run(args, { cwd: repo, env, ...(input === undefined ? {} : { input }) })
    const load = (id: string): Session => {
      const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessionsDir, `${id}.json`)))
      if (Result.isFailure(decoded)) throw new Error(`torn session file: ${decoded.failure.message}`)
      return decoded.success
    }
    const userTexts = (id: string) => load(id).messages.filter((m) => m.role === "user").map((m) => Message.textOf(m))
    const leftovers = () => NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock"))
    return { root, repo, env, sessionsDir, run, load, userTexts, leftovers }
  })

const firstSessionId = (sessionsDir: string) =>
  NodeFs.readdirSync(sessionsDir).find((n) => n.endsWith(".json") && !n.startsWith("."))!.replace(/\.json$/, "")

const REFUSED = /^codetether: session \S+ (is busy: a prompt started by pid \d+ at \d\d:\d\d:\d\d is running|changed since this copy was loaded)/

describe("several writers on one session", () => {
  it.live("two processes prompting one session: over 20 trials no turn is lost; overlaps are refused with one line", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(toolThenAnswer("sleep 0.3"))
      const { run, sessionsDir, userTexts, leftovers } = yield* workspace(server)
      const first = yield* Effect.promise(() => run(["run", "turn 0"]))
      expect(first.code).toBe(0)
      const id = firstSessionId(sessionsDir)
      const expected = ["turn 0"]
      let refused = 0
      for (let trial = 0; trial < 20; trial++) {
        const names = [`trial ${trial} A`, `trial ${trial} B`]
        const results = yield* Effect.promise(() => Promise.all(names.map((name) => run(["run", "--session", id, name]))))
        for (const [i, result] of results.entries()) {
          if (result.code === 0) {
            expected.push(names[i]!)
          } else {
            refused++
            expect(result.code).toBe(1)
            expect(result.stderr).toMatch(REFUSED)
            expect(result.stderr.trim().split("\n")).toHaveLength(1)
          }
        }
        expect(results.some((r) => r.code === 0)).toBe(true)
        // every accepted turn is in the file, in the order the prompts ran
        expect([...userTexts(id)].sort()).toEqual([...expected].sort())
      }
      expect(leftovers()).toEqual([])
      // the runs overlapped at least once (both outcomes were exercised)
      expect(refused).toBeGreaterThan(0)
    }), 180_000)

  it.live("four writers on a 60 MB session: one prompt lands, the others are refused, the file decodes", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(() => OpenAiServer.text("ok"))
      const { run, sessionsDir, load, leftovers, repo } = yield* workspace(server)
      const big = Sessions.make({
        directory: repo,
        messages: Array.from({ length: 600 }, (_, i) => Message.text(i % 2 === 0 ? "user" : "assistant", `${i} ${"x".repeat(100_000)}`))
      })
      NodeFs.mkdirSync(sessionsDir, { recursive: true })
      NodeFs.writeFileSync(NodePath.join(sessionsDir, `${big.id}.json`), SessionJson.encode(big))
      const results = yield* Effect.promise(() =>
        Promise.all([0, 1, 2, 3].map((i) => run(["run", "--session", big.id, "-"], `writer ${i}`)))
      )
      const landed = results.flatMap((r, i) => (r.code === 0 ? [`writer ${i}`] : []))
      expect(landed.length).toBeGreaterThanOrEqual(1)
      for (const r of results.filter((r) => r.code !== 0)) expect(r.stderr).toMatch(REFUSED)
      // (the 60 MB transcript is over the model's window: compaction rewrote the older messages)
      const writers = load(big.id).messages.filter((m) => m.role === "user").map((m) => Message.textOf(m))
        .filter((text) => text.startsWith("writer "))
      expect(writers.sort()).toEqual(landed.sort())
      expect(leftovers()).toEqual([])
    }), 180_000)

  it.live("sessions delete of a running session is refused; --force deletes it and the run ends without recreating it", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(() => OpenAiServer.text("ok"))
      const { env, repo, sessionsDir, run } = yield* workspace(server)
      expect((yield* Effect.promise(() => run(["run", "first"]))).code).toBe(0)
      server.respond(toolThenAnswer("sleep 3"))
      const child = NodeChild.spawn(process.execPath, [Cli.BIN, "run", "-c", "long task"], {
        cwd: repo,
        env: Object.fromEntries(
          Object.entries({ ...process.env, ...env, NO_COLOR: "1" }).filter(([, v]) => v !== undefined)
        ) as Record<string, string>,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
      while (!NodeFs.existsSync(sessionsDir) || !NodeFs.readdirSync(sessionsDir).some((n) => n.endsWith(".lock"))) {
        yield* Effect.sleep("20 millis")
      }
      const id = NodeFs.readdirSync(sessionsDir).find((n) => n.endsWith(".lock"))!.replace(/\.json\.lock$/, "")
      const refused = yield* Effect.promise(() => run(["sessions", "delete", id]))
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(new RegExp(`^codetether: session ${id} is busy: a prompt started by pid ${child.pid} at `))
      const forced = yield* Effect.promise(() => run(["sessions", "delete", id, "--force"]))
      expect(forced.code).toBe(0)
      expect(forced.stdout).toContain(`Deleted session ${id}`)
      expect(forced.stderr).toContain("--force")
      const code = yield* Effect.promise(() => exited)
      expect(code).toBe(1)
      expect(stderr).toContain(`session ${id} was deleted or its lease taken over`)
      expect(NodeFs.existsSync(NodePath.join(sessionsDir, `${id}.json`))).toBe(false)
    }), 60_000)

  it.live("a copied session file cannot overwrite its original (cp X.json backup.json)", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(() => OpenAiServer.text("ok"))
      const { run, sessionsDir, userTexts } = yield* workspace(server)
      expect((yield* Effect.promise(() => run(["run", "first"]))).code).toBe(0)
      const id = firstSessionId(sessionsDir)
      NodeFs.copyFileSync(NodePath.join(sessionsDir, `${id}.json`), NodePath.join(sessionsDir, "backup.json"))
      expect((yield* Effect.promise(() => run(["run", "--session", id, "later work"]))).code).toBe(0)
      const fromBackup = yield* Effect.promise(() => run(["run", "--session", "backup", "from backup"]))
      expect(fromBackup.code).toBe(1)
      expect(fromBackup.stderr).toContain("backup.json")
      expect(fromBackup.stderr).toContain(id)
      expect(userTexts(id)).toEqual(["first", "later work"])
      const listed = yield* Effect.promise(() => run(["sessions", "list", "--json"]))
      expect(JSON.parse(listed.stdout).map((s: { id: string }) => s.id)).toEqual([id])
    }), 60_000)
})
