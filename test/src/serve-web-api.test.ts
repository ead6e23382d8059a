/**
 * The routes `codetether serve` has for its web page (issue 14): the listing
 * with usage and cost, search, per-step usage with the last durable seq, who
 * holds a session's lease, and the page's own files (public, from memory,
 * with a content security policy; names that could reach a path answer 404).
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Effect, Stream } from "effect"
import * as NodeHttp from "node:http"
import type * as ServerApi from "../../schemas/ServerApi.ts"
import * as SessionSearch from "../../services/SessionSearch.ts"
import * as WebPage from "../../src/WebPage.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { RecordedRequest } from "../utils/ScriptedServer.ts"
import * as Serve from "../utils/Serve.ts"
import * as TempDir from "../utils/TempDir.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (response: Response): Promise<any> => response.json()

const errorOf = async (response: Response) => (await response.json() as { error: ServerApi.ErrorBody }).error

const eventually = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) =>
  promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/** A model that runs `sleep 30` once, then answers. */
const sleeper = (request: RecordedRequest) => {
  const messages = (request.body as { messages: Array<{ role: string }> }).messages
  return messages.at(-1)!.role === "tool"
    ? OpenAiServer.text("woke up")
    : OpenAiServer.toolCalls([{ id: "call_sleep", name: "bash", arguments: { command: "sleep 30" } }])
}

/** A GET with raw headers (fetch cannot send `..` unnormalised). */
const rawGet = (url: string, path: string, headers: Record<string, string> = {}) =>
  promise(() =>
    new Promise<{ status: number; headers: NodeHttp.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const request = NodeHttp.request(url + path, { headers }, (res) => {
        let body = ""
        res.on("data", (d) => (body += d))
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      })
      request.on("error", reject)
      request.end()
    })
  )

describe("codetether serve: routes of the web page", () => {
  it.live("GET /api/session?usage=true adds usage and cost_usd; without it the 4.5.7 keys only", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const priced = yield* promise(() => h.createSession({ model: "openai/gpt-4o" }))
      const unpriced = yield* promise(() => h.createSession({ model: "openai/no-such-model" }))
      h.model.enqueue(
        OpenAiServer.text("one", { usage: { input: 1000, output: 100 } }),
        OpenAiServer.text("two", { usage: { input: 10, output: 5 } })
      )
      expect((yield* promise(() => h.post(`/api/session/${priced}/prompt`, { message: "a" }))).status).toBe(200)
      expect((yield* promise(() => h.post(`/api/session/${unpriced}/prompt`, { message: "b" }))).status).toBe(200)
      const plain = yield* promise(() => h.fetch("/api/session").then(json))
      expect(Object.keys(plain[0])).toEqual(["id", "title", "created_at", "updated_at", "message_count", "agent", "directory"])
      const rows = yield* promise(() => h.fetch("/api/session?usage=true").then(json))
      const byId = new Map(rows.map((r: { id: string }) => [r.id, r]))
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const p = byId.get(priced) as any
      expect(Object.keys(p)).toEqual([
        "id", "title", "created_at", "updated_at", "message_count", "agent", "directory", "usage", "cost_usd"
      ])
      expect(p.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 })
      // gpt-4o: $2.50 in, $10 out per million tokens
      expect(p.cost_usd).toBeCloseTo((1000 * 2.5 + 100 * 10) / 1e6, 10)
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      expect((byId.get(unpriced) as any).cost_usd).toBeNull()
      const bad = yield* promise(() => h.fetch("/api/session?usage=maybe"))
      expect(bad.status).toBe(400)
    }))

  it.live("GET /api/search: plain text and RE2 patterns, newest session first, directory and limit; a bad pattern is 400", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const older = yield* promise(() => h.createSession())
      NodeFs.mkdirSync(NodePath.join(h.repo, "sub"))
      const newer = yield* promise(() => h.createSession({ directory: "sub" }))
      h.model.enqueue(OpenAiServer.text("the load_config answer"), OpenAiServer.text("another load_config"))
      yield* promise(() => h.post(`/api/session/${older}/prompt`, { message: "where is load_config?" }))
      yield* promise(() => h.post(`/api/session/${newer}/prompt`, { message: "Load_Config again" }))
      const hits: Array<ServerApi.SearchHit> = yield* promise(() => h.fetch("/api/search?q=load_config").then(json))
      expect(hits.map((hit) => [hit.session_id, hit.message_index, hit.role])).toEqual([
        [newer, 1, "assistant"],
        [older, 0, "user"],
        [older, 1, "assistant"]
      ])
      expect(hits[1]!.snippet).toBe("where is load_config?")
      expect(hits[1]!.title).toBe("where is load_config?")
      const insensitive = yield* promise(() => h.fetch(`/api/search?q=${encodeURIComponent("(?i)load_config again")}&regex=true`).then(json))
      expect(insensitive.map((hit: ServerApi.SearchHit) => hit.session_id)).toEqual([newer])
      const limited = yield* promise(() => h.fetch("/api/search?q=load_config&limit=1").then(json))
      expect(limited).toHaveLength(1)
      const inSub = yield* promise(() => h.fetch("/api/search?q=load_config&directory=sub").then(json))
      expect(inSub.map((hit: ServerApi.SearchHit) => hit.session_id)).toEqual([newer])
      const badPattern = yield* promise(() => h.fetch(`/api/search?q=${encodeURIComponent("(a")}&regex=true`))
      expect(badPattern.status).toBe(400)
      expect((yield* promise(() => errorOf(badPattern))).code).toBe("InvalidQuery")
      for (const query of ["", "?q=", "?q=x&limit=0", "?q=x&limit=1001"]) {
        expect((yield* promise(() => h.fetch(`/api/search${query}`))).status, query).toBe(400)
      }
    }))

  it.live("GET /api/search uses the SessionSearch the app provides; without one it searches through the store", () =>
    Effect.gen(function*() {
      const stub = SessionSearch.SessionSearch.of({
        search: (query) =>
          Stream.make({ sessionId: "from-the-app", messageIndex: 7, role: "assistant" as const, snippet: `found ${query.query}`, title: "stub" })
      })
      const provided = yield* Serve.make({ search: stub })
      expect(yield* promise(() => provided.fetch("/api/search?q=abc").then(json))).toEqual([
        { session_id: "from-the-app", message_index: 7, role: "assistant", snippet: "found abc", title: "stub" }
      ])
      const none = yield* Serve.make({ search: "none" })
      const id = yield* promise(() => none.createSession())
      none.model.enqueue(OpenAiServer.text("the needle is here"))
      yield* promise(() => none.post(`/api/session/${id}/prompt`, { message: "look for it" }))
      expect(yield* promise(() => none.fetch("/api/search?q=needle").then(json))).toEqual([
        { session_id: id, message_index: 1, role: "assistant", snippet: "the needle is here", title: "look for it" }
      ])
    }))

  it.live("GET /api/session/{id}/usage: each round trip with its seq, tokens and cost, and the log's last seq", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const id = yield* promise(() => h.createSession({ model: "openai/gpt-4o" }))
      const empty = yield* promise(() => h.fetch(`/api/session/${id}/usage`).then(json))
      expect(empty).toMatchObject({ session_id: id, steps: [], last_seq: 0, from_steps: false, cost_usd: 0 })
      h.model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "true" } }], {
          usage: { input: 100, output: 10, cacheRead: 50 }
        }),
        OpenAiServer.text("done", { usage: { input: 200, output: 20 } })
      )
      expect((yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "go" }))).status).toBe(200)
      const usage: ServerApi.SessionUsage = yield* promise(() => h.fetch(`/api/session/${id}/usage`).then(json))
      expect(usage.last_seq).toBe(2)
      expect(usage.from_steps).toBe(true)
      expect(usage.steps.map((s) => [s.seq, s.prompt_tokens, s.cache_read_tokens, s.completion_tokens, s.message_index])).toEqual([
        [1, 150, 50, 10, 1],
        [2, 200, null, 20, 3]
      ])
      const first = (100 * 2.5 + 50 * 1.25 + 10 * 10) / 1e6
      const second = (200 * 2.5 + 20 * 10) / 1e6
      expect(usage.steps[0]!.cost_usd).toBeCloseTo(first, 12)
      expect(usage.cost_usd).toBeCloseTo(first + second, 12)
      // the session's usage in its on-disk keys
      expect(usage.usage).toEqual({
        prompt_tokens: 350,
        completion_tokens: 30,
        total_tokens: 380,
        cache_read_tokens: 50,
        cache_write_tokens: null
      })
      expect((yield* promise(() => h.fetch("/api/session/nope/usage"))).status).toBe(404)
      expect((yield* promise(() => h.fetch("/api/session/a%5Cb/usage"))).status).toBe(400)
    }))

  it.live("GET /api/session/{id}/lease: nobody, then this server's prompt (here), then another process's lock", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const id = yield* promise(() => h.createSession())
      expect(yield* promise(() => h.fetch(`/api/session/${id}/lease`).then(json))).toEqual({
        session_id: id,
        holder: null,
        message: null,
        here: false
      })
      h.model.respond(sleeper)
      const running = h.post(`/api/session/${id}/prompt`, { message: "sleep" })
      yield* eventually(() => h.model.requests.length > 0, "the prompt")
      const busy: ServerApi.SessionLease = yield* promise(() => h.fetch(`/api/session/${id}/lease`).then(json))
      expect(busy.here).toBe(true)
      expect(busy.holder).toMatchObject({ pid: process.pid, host: NodeOs.hostname(), purpose: "prompt" })
      expect(busy.message).toMatch(new RegExp(`^session ${id} is busy: a prompt started by pid ${process.pid} at \\d\\d:\\d\\d:\\d\\d is running$`))
      // the 409 a second prompt gets says the same
      const refused = yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "again" }))
      expect((yield* promise(() => errorOf(refused))).message).toBe(busy.message)
      expect((yield* promise(() => h.post(`/api/session/${id}/cancel`, {}))).status).toBe(200)
      expect((yield* promise(() => running)).status).toBe(409)
      yield* eventually(async () => (await h.fetch(`/api/session/${id}/lease`).then(json)).holder === null, "the lease released")

      // a live process of this host (our parent) holds it: not here
      const lock = NodePath.join(h.sessionsDir, `${id}.json.lock`)
      NodeFs.writeFileSync(lock, JSON.stringify({
        pid: process.ppid,
        host: NodeOs.hostname(),
        started_at: new Date().toISOString(),
        purpose: "prompt",
        token: "t"
      }))
      const other: ServerApi.SessionLease = yield* promise(() => h.fetch(`/api/session/${id}/lease`).then(json))
      expect(other).toMatchObject({ here: false, holder: { pid: process.ppid, purpose: "prompt" } })
      expect(other.message).toContain(`pid ${process.ppid}`)
      NodeFs.rmSync(lock)
      expect((yield* promise(() => h.fetch("/api/session/..%2Fx/lease"))).status).toBe(400)
    }), 60_000)

  it.live("the page and its files: public, with a CSP, cached by name, 304 on a match; other names 404", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make("codetether-web-")
      const webRoot = NodePath.join(root, "web")
      NodeFs.mkdirSync(NodePath.join(webRoot, "assets"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(webRoot, "index.html"), "<!doctype html><script type=module src=/assets/app-ab12.js></script>")
      NodeFs.writeFileSync(NodePath.join(webRoot, "assets", "app-ab12.js"), "console.log(1)")
      NodeFs.writeFileSync(NodePath.join(webRoot, "assets", "app-ab12.css"), "body{}")
      NodeFs.writeFileSync(NodePath.join(root, "secret.txt"), "not for the web")
      NodeFs.symlinkSync(NodePath.join(root, "secret.txt"), NodePath.join(webRoot, "assets", "link.txt"))
      const h = yield* Serve.make({ webRoot })
      const page = yield* promise(() => h.fetch("/", { auth: false }))
      expect(page.status).toBe(200)
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
      expect(page.headers.get("content-security-policy")).toBe(WebPage.CONTENT_SECURITY_POLICY)
      expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'")
      expect(page.headers.get("cache-control")).toBe("no-cache")
      expect(yield* promise(() => page.text())).toContain("/assets/app-ab12.js")
      const script = yield* promise(() => h.fetch("/assets/app-ab12.js", { auth: false }))
      expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
      expect(script.headers.get("cache-control")).toContain("immutable")
      expect(script.headers.get("x-content-type-options")).toBe("nosniff")
      expect(yield* promise(() => script.text())).toBe("console.log(1)")
      const etag = script.headers.get("etag")!
      const again = yield* promise(() => h.fetch("/assets/app-ab12.js", { auth: false, headers: { "if-none-match": etag } }))
      expect(again.status).toBe(304)
      expect((yield* promise(() => h.fetch("/assets/app-ab12.css", { auth: false }))).headers.get("content-type")).toBe(
        "text/css; charset=utf-8"
      )
      // a symlink in the page's directory is not served; nor is anything a name could reach
      for (const path of ["/assets/link.txt", "/assets/..%2F..%2Fsecret.txt", "/assets/../secret.txt", "/assets/%2e%2e%2fsecret.txt", "/secret.txt"]) {
        const response = yield* rawGet(h.url, path)
        expect(response.status, path).toBe(404)
        expect(response.body).not.toContain("not for the web")
        expect(JSON.parse(response.body).error.code).toMatch(/NotFound|NoRoute/)
      }
      // the router resolves dot segments: /assets/%2e%2e is / (the page), never a file beside it
      const dots = yield* rawGet(h.url, "/assets/%2e%2e")
      expect(dots.body).not.toContain("not for the web")
      expect([200, 404]).toContain(dots.status)
    }))

  it.live("without a built page, / answers 404 with a JSON error that says how to build it", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: false })
      const response = yield* promise(() => h.fetch("/", { auth: false }))
      expect(response.status).toBe(404)
      expect(yield* promise(() => errorOf(response))).toMatchObject({ code: "NoWebPage" })
    }))
})
