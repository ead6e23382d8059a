/**
 * `codetether serve` over HTTP: the real server (the layer the CLI runs, on
 * an ephemeral port) driven with `fetch` and an SSE client, the model a
 * scripted OpenAI server. Every route of the HttpApi definition refuses a
 * request without the token.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpApiClient from "effect/http-api/HttpApiClient"
import * as Message from "../../schemas/Message.ts"
import * as ServerApi from "../../schemas/ServerApi.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import { INTERRUPTED_CALL_TEXT } from "../../services/SessionLoop.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { RecordedRequest } from "../utils/ScriptedServer.ts"
import * as Serve from "../utils/Serve.ts"
import * as TempDir from "../utils/TempDir.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (response: Response): Promise<any> => response.json()

const loadSession = (h: Serve.Harness, id: string) => {
  const decoded = SessionJson.decode(h.sessionBytes(id))
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
}

const userTexts = (h: Serve.Harness, id: string) =>
  loadSession(h, id).messages.filter((m) => m.role === "user").map((m) => Message.textOf(m))

/** A model that calls bash `command` once per prompt, then answers `done: <prompt>`. */
const toolThenAnswer = (command: string) => (request: RecordedRequest) => {
  const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
  if (messages.at(-1)!.role === "tool") {
    const user = [...messages].reverse().find((m) => m.role === "user")!
    return OpenAiServer.text(`done: ${typeof user.content === "string" ? user.content : JSON.stringify(user.content)}`)
  }
  return OpenAiServer.toolCalls([{ id: `call_${messages.length}`, name: "bash", arguments: { command } }])
}

const errorOf = async (response: Response) => (await response.json() as { error: ServerApi.ErrorBody }).error

/** Waits until `check` holds (polling), for state another process or fiber changes. */
const eventually = (check: () => boolean, what: string, timeoutMs = 15_000) =>
  promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

describe("codetether serve: authentication", () => {
  it.live("every route of the API definition refuses a missing or wrong token with 401; the agent card is public", () =>
    Effect.gen(function*() {
      // a page to serve: the web routes are public
      const webRoot = NodePath.join(yield* TempDir.make("codetether-web-"), "web")
      NodeFs.mkdirSync(NodePath.join(webRoot, "assets"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(webRoot, "index.html"), "<!doctype html><title>codetether</title>")
      NodeFs.writeFileSync(NodePath.join(webRoot, "assets", "app-1.js"), "export {}")
      const h = yield* Serve.make({ webRoot })
      const id = yield* promise(() => h.createSession())
      const routes = Object.values(ServerApi.Api.groups).flatMap((group) =>
        Object.values(group.endpoints).map((endpoint) => ({
          group: group.identifier,
          method: endpoint.method,
          path: endpoint.path.replace(":id", id).replace(":name", "app-1.js") + (endpoint.name === "search" ? "?q=x" : "")
        }))
      )
      expect(routes.length).toBeGreaterThanOrEqual(16)
      for (const route of routes) {
        for (const auth of [false, "wrong-token", ""] as const) {
          const response = yield* promise(() =>
            h.fetch(route.path, {
              method: route.method,
              auth,
              ...(route.method === "POST" ? { body: "{}", headers: { "content-type": "application/json" } } : {})
            })
          )
          if (ServerApi.PUBLIC_GROUPS.has(route.group)) {
            expect(response.status, `${route.method} ${route.path}`).toBe(200)
          } else {
            expect(response.status, `${route.method} ${route.path} auth=${auth}`).toBe(401)
            expect(response.headers.get("www-authenticate")).toBe("Bearer")
            expect((yield* promise(() => errorOf(response))).code).toBe("Unauthorized")
          }
        }
      }
      // nothing was deleted or prompted by the refused requests
      expect(NodeFs.existsSync(NodePath.join(h.sessionsDir, `${id}.json`))).toBe(true)
      expect(h.model.requests).toHaveLength(0)
      const card = yield* promise(() => h.fetch("/.well-known/agent-card.json", { auth: false }).then(json))
      expect(card.name).toBe("codetether")
      expect(card.supportedInterfaces[0]).toEqual({ url: `${h.url}/a2a`, protocolBinding: "JSONRPC", protocolVersion: "1.0" })
      expect(card.capabilities.streaming).toBe(true)
      expect(card.skills.map((s: { id: string }) => s.id)).toEqual(["coding"])
      expect(card.securitySchemes.bearer.httpAuthSecurityScheme.scheme).toBe("Bearer")
    }))

  it.live("/openapi.json (with the token) documents every route", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const document = yield* promise(() => h.fetch("/openapi.json").then(json))
      expect(Object.keys(document.paths).sort()).toEqual([
        "/",
        "/.well-known/agent-card.json",
        "/a2a",
        "/api/search",
        "/api/server",
        "/api/session",
        "/api/session/{id}",
        "/api/session/{id}/cancel",
        "/api/session/{id}/events",
        "/api/session/{id}/lease",
        "/api/session/{id}/prompt",
        "/api/session/{id}/usage",
        "/assets/{name}",
        "/openapi.json"
      ])
      expect(Object.keys(document.paths["/api/session/{id}"]).sort()).toEqual(["delete", "get"])
    }))

  it.live("requests for another Host (DNS rebinding) are refused on loopback", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const refused = yield* promise(() =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = NodeHttp.request(`${h.url}/api/session`, {
            headers: { host: "evil.example:80", authorization: `Bearer ${h.token}` }
          }, (res) => {
            let body = ""
            res.on("data", (d) => (body += d))
            res.on("end", () => resolve({ status: res.statusCode!, body }))
          })
          req.on("error", reject)
          req.end()
        })
      )
      expect(refused.status).toBe(403)
      expect(JSON.parse(refused.body).error.code).toBe("Forbidden")
      // localhost:<port> is this server
      const port = new URL(h.url).port
      const local = yield* promise(() => h.fetch("/api/server", { headers: { host: `localhost:${port}` } }))
      expect(local.status).toBe(200)
    }))
})

describe("codetether serve: sessions", () => {
  it.live("create, get (the bytes of `sessions show --json`), list with offset/limit/directory, delete", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const created = yield* promise(() =>
        h.post("/api/session", { directory: h.repo, model: "openai/gpt-test", agent: "plan" })
      )
      expect(created.status).toBe(201)
      const createdBytes = Buffer.from(yield* promise(() => created.arrayBuffer()))
      const first = JSON.parse(createdBytes.toString()) as { id: string; agent: string; metadata: Record<string, unknown> }
      expect(first.agent).toBe("plan")
      expect(first.metadata.model).toBe("openai/gpt-test")
      expect(first.metadata.directory).toBe(h.repo)
      expect(createdBytes.equals(h.sessionBytes(first.id))).toBe(true)

      h.model.enqueue(OpenAiServer.text("first answer"))
      const prompted = yield* promise(() => h.post(`/api/session/${first.id}/prompt`, { message: "hello" }))
      expect(prompted.status).toBe(200)

      const got = yield* promise(() => h.fetch(`/api/session/${first.id}`))
      expect(got.headers.get("content-type")).toBe("application/json")
      const bytes = Buffer.from(yield* promise(() => got.arrayBuffer()))
      const shown = yield* promise(() =>
        Cli.run(["sessions", "show", "--json", first.id], { cwd: h.repo, env: { CODETETHER_DATA_DIR: h.dataDir } })
      )
      expect(shown.code).toBe(0)
      expect(bytes.equals(shown.stdoutBytes)).toBe(true)
      expect(bytes.equals(h.sessionBytes(first.id))).toBe(true)

      const tail = yield* promise(() => h.fetch(`/api/session/${first.id}?tail=1`).then(json))
      expect(tail.messages).toHaveLength(1)
      expect(tail.messages[0].role).toBe("assistant")

      const other = NodePath.join(h.repo, "sub")
      NodeFs.mkdirSync(other)
      const second = yield* promise(() => h.createSession({ directory: "sub" }))
      const third = yield* promise(() => h.createSession())
      const all = yield* promise(() => h.fetch("/api/session").then(json))
      expect(all.map((s: { id: string }) => s.id)).toEqual([third, second, first.id])
      expect(Object.keys(all[2])).toEqual(["id", "title", "created_at", "updated_at", "message_count", "agent", "directory"])
      expect(all[2].message_count).toBe(2)
      const page = yield* promise(() => h.fetch("/api/session?offset=1&limit=1").then(json))
      expect(page.map((s: { id: string }) => s.id)).toEqual([second])
      const inSub = yield* promise(() => h.fetch(`/api/session?directory=${encodeURIComponent(other)}`).then(json))
      expect(inSub.map((s: { id: string }) => s.id)).toEqual([second])

      const deleted = yield* promise(() => h.fetch(`/api/session/${second}`, { method: "DELETE" }))
      expect(deleted.status).toBe(204)
      expect(NodeFs.existsSync(NodePath.join(h.sessionsDir, `${second}.json`))).toBe(false)
      const again = yield* promise(() => h.fetch(`/api/session/${second}`, { method: "DELETE" }))
      expect(again.status).toBe(404)
      expect((yield* promise(() => errorOf(again))).code).toBe("NotFound")
    }))

  it.live("bad ids are 400, missing sessions 404, bad queries and bodies 400, all as JSON errors", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const outside = NodePath.join(h.dataDir, "outside.json")
      NodeFs.mkdirSync(h.dataDir, { recursive: true })
      NodeFs.writeFileSync(outside, "{}")
      for (const bad of ["..%2Foutside", "..%5C..%5Cx", "a%00b"]) {
        for (const [method, path] of [["GET", ""], ["DELETE", ""], ["POST", "/prompt"], ["GET", "/events"]] as const) {
          const response = yield* promise(() =>
            h.fetch(`/api/session/${bad}${path}`, {
              method,
              ...(method === "POST" ? { body: JSON.stringify({ message: "x" }), headers: { "content-type": "application/json" } } : {})
            })
          )
          expect(response.status, `${method} ${bad}${path}`).toBe(400)
          expect((yield* promise(() => errorOf(response))).code).toBe("InvalidId")
        }
      }
      expect(NodeFs.existsSync(outside)).toBe(true)
      const missing = "7d0c5a52-4b1e-4c8f-9f3a-2e6b1c0d9a84"
      for (const [method, path] of [["GET", ""], ["DELETE", ""], ["POST", "/prompt"], ["GET", "/events"]] as const) {
        const response = yield* promise(() =>
          h.fetch(`/api/session/${missing}${path}`, {
            method,
            ...(method === "POST" ? { body: JSON.stringify({ message: "x" }), headers: { "content-type": "application/json" } } : {})
          })
        )
        expect(response.status, `${method} ${path}`).toBe(404)
        expect((yield* promise(() => errorOf(response))).message).toContain(missing)
      }
      const query = yield* promise(() => h.fetch("/api/session?limit=-1"))
      expect(query.status).toBe(400)
      expect((yield* promise(() => errorOf(query))).code).toBe("InvalidQuery")
      const id = yield* promise(() => h.createSession())
      const noMessage = yield* promise(() => h.post(`/api/session/${id}/prompt`, { text: "x" }))
      expect(noMessage.status).toBe(400)
      expect((yield* promise(() => errorOf(noMessage))).message).toContain("message")
      const notJson = yield* promise(() =>
        h.fetch(`/api/session/${id}/prompt`, { method: "POST", body: "{", headers: { "content-type": "application/json" } })
      )
      expect(notJson.status).toBe(400)
      const empty = yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "  " }))
      expect((yield* promise(() => errorOf(empty))).code).toBe("EmptyMessage")
      const badDir = yield* promise(() => h.post("/api/session", { directory: NodePath.join(h.repo, "nope") }))
      expect(badDir.status).toBe(400)
      expect((yield* promise(() => errorOf(badDir))).code).toBe("InvalidDirectory")
      const badImage = yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "x", images: [{ data: Buffer.from("%PDF-1.7").toString("base64") }] }))
      expect(badImage.status).toBe(400)
      expect((yield* promise(() => errorOf(badImage))).message).toContain("PDF")
      const noRoute = yield* promise(() => h.fetch("/api/nothing"))
      expect(noRoute.status).toBe(404)
      expect((yield* promise(() => errorOf(noRoute))).code).toBe("NoRoute")
      // nothing reached the model
      expect(h.model.requests).toHaveLength(0)
    }))

  it.live("a body over the cap is 413 whether or not it declares its length", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ maxBodyBytes: 4096 })
      const id = yield* promise(() => h.createSession())
      const declared = yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "x".repeat(5000) }))
      expect(declared.status).toBe(413)
      expect((yield* promise(() => errorOf(declared))).code).toBe("PayloadTooLarge")
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"message":"${"y".repeat(8000)}"}`))
          controller.close()
        }
      })
      const chunked = yield* promise(() =>
        h.fetch(`/api/session/${id}/prompt`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
          duplex: "half"
        } as RequestInit)
      )
      expect(chunked.status).toBe(413)
      expect(h.model.requests).toHaveLength(0)
      expect(userTexts(h, id)).toEqual([])
    }))
})

describe("codetether serve: the typed client derived from the API definition", () => {
  it.live("lists, creates, reads and gets typed errors through HttpApiClient", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const client = yield* HttpApiClient.make(ServerApi.Api, {
        baseUrl: h.url,
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(h.token))
      }).pipe(Effect.provide(FetchHttpClient.layer))
      const created = (yield* client.sessions.create({ payload: { directory: h.repo } })) as { id: string }
      const listed = yield* client.sessions.list({ query: { limit: 5 } })
      expect(listed.map((s) => s.id)).toEqual([created.id])
      expect(listed[0]!.messageCount).toBe(0)
      const info = yield* client.system.info()
      expect(info.prompts.max).toBe(8)
      const missing = yield* client.sessions.get({ params: { id: "nope" }, query: {} }).pipe(Effect.flip)
      expect(missing).toBeInstanceOf(ServerApi.NotFound)
      expect((missing as ServerApi.NotFound).error).toEqual({ code: "NotFound", message: "Session not found: nope" })
      h.model.enqueue(OpenAiServer.text("typed"))
      const answer = yield* client.prompts.prompt({ params: { id: created.id }, payload: { message: "hi" } })
      expect(answer).toEqual({ text: "typed", session_id: created.id, steps: 1 })
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("codetether serve: prompts", () => {
  it.live("JSON: {text, session_id, steps}; images reach the model; the model of the body is saved; tools run in the session's directory", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      NodeFs.mkdirSync(NodePath.join(h.repo, "work"))
      const id = yield* promise(() => h.createSession({ directory: "work" }))
      h.model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "echo hi; pwd" } }]),
        OpenAiServer.text("It printed hi.")
      )
      const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(32)]).toString("base64")
      const response = yield* promise(() =>
        h.post(`/api/session/${id}/prompt`, { message: "run echo", images: [{ data: png }], model: "openai/gpt-x", max_steps: 5 })
      )
      expect(response.status).toBe(200)
      expect(yield* promise(() => response.json())).toEqual({ text: "It printed hi.", session_id: id, steps: 2 })
      const request = h.model.requests[0]!.body as { model: string; messages: Array<{ role: string; content: unknown }> }
      expect(request.model).toBe("gpt-x")
      expect(JSON.stringify(request.messages.at(-1)!.content)).toContain(`data:image/png;base64,${png}`)
      const session = loadSession(h, id)
      expect(session.metadata.model).toBe("openai/gpt-x")
      expect(session.toolUses.map((t) => [t.name, t.output.trim()])).toEqual([["bash", `hi\n${NodePath.join(h.repo, "work")}`]])
    }))

  it.live("SSE: every event as `run --json` prints it, ids on durable events, closed after Done", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const id = yield* promise(() => h.createSession())
      h.model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "echo hi" } }]),
        OpenAiServer.text("All done.")
      )
      const response = yield* promise(() =>
        h.post(`/api/session/${id}/prompt`, { message: "go" }, { headers: { accept: "text/event-stream" } })
      )
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toContain("text/event-stream")
      expect(response.headers.get("cache-control")).toBe("no-cache")
      const events = yield* promise(() => Serve.collect(response))
      const types = events.map((e) => e.event)
      expect(types[0]).toBe("Thinking")
      expect(types.at(-1)).toBe("Done")
      expect(types).toContain("ToolCallStart")
      expect(types).toContain("SessionSync")
      expect(types.filter((t) => t === "TokenUsage")).toHaveLength(2)
      for (const event of events) {
        const data = JSON.parse(event.data) as { type: string }
        expect(data.type).toBe(event.event)
        expect(event.id !== undefined).toBe(event.event === "TokenUsage")
      }
      expect(events.filter((e) => e.event === "TokenUsage").map((e) => e.id)).toEqual(["1", "2"])
      const complete = JSON.parse(events.find((e) => e.event === "ToolCallComplete")!.data)
      expect(Object.keys(complete)).toEqual(["type", "name", "output", "success", "duration_ms"])
      // the SessionSync event carries the saved session in its on-disk shape
      const sync = JSON.parse(events.find((e) => e.event === "SessionSync")!.data)
      expect(JSON.stringify(sync.session)).toBe(h.sessionBytes(id).toString())
    }))

  it.live("a second prompt on a busy session gets 409 with the SessionBusy message; so does one busy in another process", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const id = yield* promise(() => h.createSession())
      h.model.respond(toolThenAnswer("sleep 1"))
      const first = h.post(`/api/session/${id}/prompt`, { message: "first" })
      yield* eventually(() => h.model.requests.length > 0, "the first prompt")
      for (const accept of ["application/json", "text/event-stream"]) {
        const second = yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "second" }, { headers: { accept } }))
        expect(second.status).toBe(409)
        const error = yield* promise(() => errorOf(second))
        expect(error.code).toBe("SessionBusy")
        expect(error.message).toMatch(new RegExp(`^session ${id} is busy: a prompt started by pid ${process.pid} at \\d\\d:\\d\\d:\\d\\d is running$`))
      }
      const deleting = yield* promise(() => h.fetch(`/api/session/${id}`, { method: "DELETE" }))
      expect(deleting.status).toBe(409)
      expect((yield* promise(() => first)).status).toBe(200)
      expect(userTexts(h, id)).toEqual(["first"])

      // the CLI holds the lease now
      const child = NodeChild.spawn(process.execPath, [Cli.BIN, "run", "--session", id, "from the cli"], {
        cwd: h.repo,
        env: {
          ...process.env,
          HOME: NodePath.dirname(h.repo),
          XDG_CONFIG_HOME: NodePath.join(NodePath.dirname(h.repo), "config"),
          CODETETHER_DATA_DIR: h.dataDir,
          OPENAI_API_KEY: "sk-test",
          OPENAI_BASE_URL: h.model.url
        },
        stdio: "ignore"
      })
      const exited = new Promise((resolve) => child.on("close", resolve))
      yield* eventually(() => NodeFs.existsSync(NodePath.join(h.sessionsDir, `${id}.json.lock`)), "the CLI's lease")
      const busy = yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "while the cli runs" }))
      expect(busy.status).toBe(409)
      const error = yield* promise(() => errorOf(busy))
      expect(error.code).toBe("SessionBusy")
      expect(error.message).toMatch(new RegExp(`^session ${id} is busy: a prompt started by pid ${child.pid} at `))
      expect(yield* promise(() => exited)).toBe(0)
      expect(userTexts(h, id)).toEqual(["first", "from the cli"])
    }), 60_000)

  it.live("beyond --max-prompts: 429 with retry-after; a slot frees when a prompt ends", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ maxPrompts: 1 })
      const a = yield* promise(() => h.createSession())
      const b = yield* promise(() => h.createSession())
      h.model.respond(toolThenAnswer("sleep 1"))
      const first = h.post(`/api/session/${a}/prompt`, { message: "a" })
      yield* eventually(() => h.model.requests.length > 0, "the first prompt")
      const refused = yield* promise(() => h.post(`/api/session/${b}/prompt`, { message: "b" }))
      expect(refused.status).toBe(429)
      expect(refused.headers.get("retry-after")).toBe("2")
      expect((yield* promise(() => errorOf(refused))).code).toBe("TooManyPrompts")
      const info = yield* promise(() => h.fetch("/api/server").then(json))
      expect(info.prompts).toEqual({ running: 1, max: 1, sessions: [a] })
      expect((yield* promise(() => first)).status).toBe(200)
      const later = yield* promise(() => h.post(`/api/session/${b}/prompt`, { message: "b" }))
      expect(later.status).toBe(200)
      expect(userTexts(h, b)).toEqual(["b"])
    }), 30_000)

  it.live("cancel interrupts a prompt as Ctrl-C does: completed steps saved, the interrupted tool call answered", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const id = yield* promise(() => h.createSession())
      h.model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "echo one" } }]),
        OpenAiServer.toolCalls([{ id: "c2", name: "bash", arguments: { command: "sleep 30" } }])
      )
      const prompt = h.post(`/api/session/${id}/prompt`, { message: "long" })
      yield* eventually(() => h.model.requests.length === 2, "the second step")
      yield* promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
      const cancelled = yield* promise(() => h.fetch(`/api/session/${id}/cancel`, { method: "POST" }))
      expect(cancelled.status).toBe(200)
      expect(yield* promise(() => cancelled.json())).toEqual({ session_id: id, cancelled: true })
      const answer = yield* promise(() => prompt)
      expect(answer.status).toBe(409)
      expect((yield* promise(() => errorOf(answer))).code).toBe("Cancelled")
      const session = loadSession(h, id)
      const results = session.messages.flatMap((m) => m.content.filter((p) => p.type === "tool_result"))
      expect(results.map((p) => (p as { content: string }).content.trim())).toEqual(["one", INTERRUPTED_CALL_TEXT])
      const again = yield* promise(() => h.fetch(`/api/session/${id}/cancel`, { method: "POST" }))
      expect(again.status).toBe(404)
      expect((yield* promise(() => errorOf(again))).code).toBe("NoRunningPrompt")
    }), 30_000)

  it.live("a client that disconnects does not stop its prompt", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      h.model.respond(toolThenAnswer("sleep 0.5"))
      for (const accept of ["text/event-stream", "application/json"]) {
        const id = yield* promise(() => h.createSession())
        const controller = new AbortController()
        const request = h.post(`/api/session/${id}/prompt`, { message: accept }, { headers: { accept }, signal: controller.signal })
          .then((r) => r.body?.getReader().read()).catch(() => undefined)
        const before = h.model.requests.length
        yield* eventually(() => h.model.requests.length > before, "the prompt")
        controller.abort()
        yield* promise(() => request)
        yield* eventually(() => userTexts(h, id).includes(accept) && loadSession(h, id).messages.at(-1)?.role === "assistant" &&
          Message.textOf(loadSession(h, id).messages.at(-1)!).includes(`done: ${accept}`), "the answer")
      }
    }), 30_000)
})

describe("codetether serve: events", () => {
  it.live("GET /events follows the session's prompts; Last-Event-ID replays the durable events after it", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const id = yield* promise(() => h.createSession())
      const followed = yield* promise(() => h.fetch(`/api/session/${id}/events`))
      expect(followed.status).toBe(200)
      const reader = Serve.events(followed).getReader()
      h.model.enqueue(OpenAiServer.text("one"), OpenAiServer.text("two"))
      expect((yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "1" }))).status).toBe(200)
      const firstPrompt = yield* promise(() => Serve.readUntil(reader, (e) => e.event === "Done"))
      expect(firstPrompt.map((e) => e.event)).toContain("TextComplete")
      expect(firstPrompt.filter((e) => e.id !== undefined).map((e) => [e.event, e.id])).toEqual([["TokenUsage", "1"]])
      expect((yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "2" }))).status).toBe(200)
      const secondPrompt = yield* promise(() => Serve.readUntil(reader, (e) => e.event === "Done"))
      expect(secondPrompt.filter((e) => e.id !== undefined).map((e) => e.id)).toEqual(["2"])
      yield* promise(() => reader.cancel())

      // a reconnecting UI that saw id 1 gets 2 first, then the live events
      const resumed = yield* promise(() => h.fetch(`/api/session/${id}/events`, { headers: { "last-event-id": "1" } }))
      const resumedReader = Serve.events(resumed).getReader()
      const replay = yield* promise(() => Serve.readUntil(resumedReader, (e) => e.id === "2"))
      expect(replay.map((e) => [e.event, e.id])).toEqual([["TokenUsage", "2"]])
      expect(JSON.parse(replay[0]!.data)).toMatchObject({ type: "TokenUsage", payload: { source: "root", completion_tokens: 5 } })
      yield* promise(() => resumedReader.cancel())
      const badId = yield* promise(() => h.fetch(`/api/session/${id}/events`, { headers: { "last-event-id": "abc" } }))
      expect(badId.status).toBe(400)
    }), 30_000)

  it.live("durable events of a prompt run by another process (the CLI) arrive from the durable log", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ pollInterval: 100 })
      const id = yield* promise(() => h.createSession())
      const followed = yield* promise(() => h.fetch(`/api/session/${id}/events`))
      const reader = Serve.events(followed).getReader()
      h.model.enqueue(OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "true" } }]), OpenAiServer.text("ok"))
      const cli = yield* promise(() =>
        Cli.run(["run", "--session", id, "from the cli"], {
          cwd: h.repo,
          env: {
            HOME: NodePath.dirname(h.repo),
            XDG_CONFIG_HOME: NodePath.join(NodePath.dirname(h.repo), "config"),
            CODETETHER_DATA_DIR: h.dataDir,
            OPENAI_API_KEY: "sk-test",
            OPENAI_BASE_URL: h.model.url
          }
        })
      )
      expect(cli.code).toBe(0)
      const got = yield* promise(() => Serve.readUntil(reader, (e) => e.id === "2"))
      expect(got.map((e) => [e.event, e.id])).toEqual([["TokenUsage", "1"], ["TokenUsage", "2"]])
      yield* promise(() => reader.cancel())
    }), 30_000)
})

describe("codetether serve: CORS", () => {
  it.live("CORS headers only for the --cors origin; none by default", () =>
    Effect.gen(function*() {
      const plain = yield* Serve.make()
      const without = yield* promise(() => plain.fetch("/api/server", { headers: { origin: "http://localhost:5173" } }))
      expect(without.headers.get("access-control-allow-origin")).toBeNull()
      const h = yield* Serve.make({ cors: ["http://localhost:5173"] })
      const preflight = yield* promise(() =>
        fetch(`${h.url}/api/session`, {
          method: "OPTIONS",
          headers: {
            origin: "http://localhost:5173",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type"
          }
        })
      )
      expect(preflight.status).toBeLessThan(300)
      expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:5173")
      expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization")
      const actual = yield* promise(() => h.fetch("/api/server", { headers: { origin: "http://localhost:5173" } }))
      expect(actual.headers.get("access-control-allow-origin")).toBe("http://localhost:5173")
    }))
})
