/**
 * `codetether serve` as a process (the bundled binary): where it listens,
 * the token rules, and a graceful stop on SIGTERM with a prompt running and
 * a follower connected.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import { INTERRUPTED_CALL_TEXT } from "../../services/SessionLoop.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { ScriptedServer } from "../utils/ScriptedServer.ts"
import * as Serve from "../utils/Serve.ts"
import * as TempDir from "../utils/TempDir.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

interface Process {
  readonly child: NodeChild.ChildProcess
  readonly url: Promise<string>
  readonly exited: Promise<number | null>
  readonly stdout: () => string
  readonly stderr: () => string
}

const workspace = (model?: ScriptedServer) =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-serve-cli-")
    const repo = NodePath.join(root, "repo")
    NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
    const env: Record<string, string | undefined> = Cli.isolatedEnv(root, {
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: model?.url ?? "http://127.0.0.1:9/v1",
      NO_COLOR: "1"
    })
    const dataDir = NodePath.join(repo, ".codetether-agent")
    /** Starts `codetether serve args` (stopped when the test ends). */
    const serve = (args: ReadonlyArray<string>, extraEnv: Record<string, string | undefined> = {}) =>
      Effect.acquireRelease(
        Effect.sync((): Process => {
          const child = NodeChild.spawn(process.execPath, [Cli.BIN, "serve", ...args], {
            cwd: repo,
            env: Object.fromEntries(
              Object.entries({ ...process.env, ...env, ...extraEnv }).filter(([, v]) => v !== undefined)
            ) as Record<string, string>,
            stdio: ["ignore", "pipe", "pipe"]
          })
          let stdout = ""
          let stderr = ""
          const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
          const url = new Promise<string>((resolve, reject) => {
            child.stdout!.on("data", (d: Buffer) => {
              stdout += d.toString()
              const match = /^listening on (\S+)$/m.exec(stdout)
              if (match !== null && /^token: /m.test(stdout)) resolve(match[1]!)
            })
            void exited.then(() => reject(new Error(`serve exited: ${stderr}`)))
          })
          url.catch(() => undefined)
          child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
          return { child, url, exited, stdout: () => stdout, stderr: () => stderr }
        }),
        (p) => Effect.promise(async () => {
          if (p.child.exitCode === null && p.child.signalCode === null) {
            p.child.kill("SIGKILL")
            await p.exited
          }
        })
      )
    const token = () => NodeFs.readFileSync(NodePath.join(dataDir, "server-token"), "utf8").trim()
    return { root, repo, env, dataDir, serve, token }
  })

const authed = (token: string) => (url: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers)
  headers.set("authorization", `Bearer ${token}`)
  if (init.body !== undefined) headers.set("content-type", "application/json")
  return fetch(url, { ...init, headers })
}

describe("codetether serve (the binary)", () => {
  it.live("SIGTERM: running prompts are interrupted as Ctrl-C does and saved, streams closed, exit 0", () =>
    Effect.gen(function*() {
      const model = yield* OpenAiServer.make
      model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "echo step one" } }]),
        OpenAiServer.toolCalls([{ id: "c2", name: "bash", arguments: { command: "sleep 60" } }])
      )
      const w = yield* workspace(model)
      const p = yield* w.serve(["--port", "0"])
      const url = yield* promise(() => p.url)
      const call = authed(w.token())
      const created = yield* promise(() => call(`${url}/api/session`, { method: "POST", body: JSON.stringify({ directory: w.repo }) }))
      const id = (yield* promise(() => created.json() as Promise<{ id: string }>)).id
      const follower = yield* promise(() => call(`${url}/api/session/${id}/events`))
      const followed = Serve.collect(follower)
      const prompt = yield* promise(() =>
        call(`${url}/api/session/${id}/prompt`, {
          method: "POST",
          body: JSON.stringify({ message: "work" }),
          headers: { accept: "text/event-stream" }
        })
      )
      expect(prompt.status).toBe(200)
      const promptEvents = Serve.collect(prompt)
      yield* promise(async () => {
        const deadline = Date.now() + 15_000
        while (model.requests.length < 2 || !NodeFs.existsSync(NodePath.join(w.dataDir, "sessions", `${id}.json.lock`))) {
          if (Date.now() > deadline) throw new Error("the second step never started")
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        await new Promise((resolve) => setTimeout(resolve, 300)) // `sleep 60` is running
      })
      p.child.kill("SIGTERM")
      expect(yield* promise(() => p.exited)).toBe(0)
      // the prompt's stream ended with the interruption, the follower's stream was closed
      const events = yield* promise(() => promptEvents)
      expect(events.slice(-2).map((e) => [e.event, JSON.parse(e.data)])).toEqual([
        ["Error", { type: "Error", message: "Interrupted" }],
        ["Done", { type: "Done" }]
      ])
      // the follower's stream was closed (it saw the prompt up to its end)
      expect((yield* promise(() => followed)).map((e) => e.event)).toContain("ToolCallStart")
      const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(w.dataDir, "sessions", `${id}.json`)))
      if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
      const results = decoded.success.messages.flatMap((m) => m.content.filter((part) => part.type === "tool_result"))
      expect(results.map((r) => (r as { content: string }).content.trim())).toEqual(["step one", INTERRUPTED_CALL_TEXT])
      expect(NodeFs.readdirSync(NodePath.join(w.dataDir, "sessions")).filter((n) => n.endsWith(".lock"))).toEqual([])
      expect(p.stderr()).toBe("")
    }), 60_000)

  it.live("the token: a new 0600 file in the data dir, named (not printed) when stdout is not a terminal; a planted one is replaced", () =>
    Effect.gen(function*() {
      const w = yield* workspace()
      NodeFs.mkdirSync(w.dataDir, { recursive: true })
      const planted = "committed-by-a-repository"
      NodeFs.writeFileSync(NodePath.join(w.dataDir, "server-token"), `${planted}\n`, { mode: 0o600 })
      const p = yield* w.serve(["--port", "0"])
      const url = yield* promise(() => p.url)
      const token = w.token()
      expect(token).not.toBe(planted)
      expect(NodeFs.statSync(NodePath.join(w.dataDir, "server-token")).mode & 0o777).toBe(0o600)
      expect(p.stdout()).toContain(`token: ${NodePath.join(w.dataDir, "server-token")}`)
      expect(p.stdout()).not.toContain(token)
      expect(p.stderr()).toContain("ignoring")
      expect(p.stderr()).not.toContain(token)
      const refused = yield* promise(() => authed(planted)(`${url}/api/session`))
      expect(refused.status).toBe(401)
      const ok = yield* promise(() => authed(token)(`${url}/api/session`))
      expect(ok.status).toBe(200)
      p.child.kill("SIGTERM")
      expect(yield* promise(() => p.exited)).toBe(0)
      // the next start trusts the file it wrote
      const again = yield* w.serve(["--port", "0"])
      const url2 = yield* promise(() => again.url)
      expect((yield* promise(() => authed(token)(`${url2}/api/server`))).status).toBe(200)
      expect(again.stderr()).toBe("")
    }), 30_000)

  it.live("the binary serves the web page built into the package, without a token; the API still needs it", () =>
    Effect.gen(function*() {
      const w = yield* workspace()
      const p = yield* w.serve(["--port", "0"])
      const url = yield* promise(() => p.url)
      const page = yield* promise(() => fetch(`${url}/`))
      expect(page.status).toBe(200)
      expect(page.headers.get("content-security-policy")).toContain("default-src 'none'")
      const html = yield* promise(() => page.text())
      // the page the package ships (dist/web, built by npm run build:web)
      const shipped = NodeFs.readFileSync(NodePath.resolve(import.meta.dirname, "../../dist/web/index.html"), "utf8")
      expect(html).toBe(shipped)
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!)
      expect(assets).toHaveLength(2)
      for (const asset of assets) {
        const response = yield* promise(() => fetch(`${url}${asset}`))
        expect(response.status, asset).toBe(200)
        expect(response.headers.get("content-type")).toMatch(/^text\/(javascript|css); charset=utf-8$/)
      }
      expect((yield* promise(() => fetch(`${url}/api/session`))).status).toBe(401)
      expect((yield* promise(() => authed(w.token())(`${url}/api/session`))).status).toBe(200)
    }), 30_000)

  it.live("--host other than loopback needs CODETETHER_SERVER_TOKEN; with it no token file is written", () =>
    Effect.gen(function*() {
      const w = yield* workspace()
      const refused = yield* promise(() => Cli.run(["serve", "--host", "0.0.0.0", "--port", "0"], { cwd: w.repo, env: w.env }))
      expect(refused.code).toBe(1)
      expect(refused.stderr).toBe(
        "codetether: --host 0.0.0.0 is not a loopback address: set CODETETHER_SERVER_TOKEN to a long random secret before serving on a network\n"
      )
      const secret = "a-long-random-secret-for-the-network"
      const p = yield* w.serve(["--host", "0.0.0.0", "--port", "0"], { CODETETHER_SERVER_TOKEN: secret })
      const url = yield* promise(() => p.url)
      expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/)
      expect(p.stdout()).toContain("token: $CODETETHER_SERVER_TOKEN")
      const port = new URL(url).port
      expect((yield* promise(() => authed(secret)(`http://127.0.0.1:${port}/api/server`))).status).toBe(200)
      expect((yield* promise(() => authed("nope")(`http://127.0.0.1:${port}/api/server`))).status).toBe(401)
      expect(NodeFs.existsSync(NodePath.join(w.dataDir, "server-token"))).toBe(false)
    }), 30_000)

  it.live("without --port: 4096 or the next free port; a taken --port is an error", () =>
    Effect.gen(function*() {
      const w = yield* workspace()
      // hold 4096 (if another process holds it, serve moves on all the same)
      const blocker = NodeNet.createServer()
      yield* Effect.acquireRelease(
        promise(() => new Promise<void>((resolve) => blocker.once("error", () => resolve()).listen(4096, "127.0.0.1", resolve))),
        () => promise(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
      )
      const p = yield* w.serve([])
      const port = Number(new URL(yield* promise(() => p.url)).port)
      expect(port).toBeGreaterThan(4096)
      expect(port).toBeLessThan(4196)
      const taken = yield* promise(() => Cli.run(["serve", "--port", String(port)], { cwd: w.repo, env: w.env }))
      expect(taken.code).toBe(1)
      expect(taken.stderr).toMatch(/^codetether: cannot listen on 127\.0\.0\.1: .*EADDRINUSE/)
    }), 30_000)
})
