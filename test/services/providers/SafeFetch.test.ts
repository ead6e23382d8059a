/**
 * Provider requests never follow a redirect to another origin (the
 * transcript and the key would go there), follow same-origin redirects, and
 * never print credentials written into a base URL. Run with the real SDKs
 * against local servers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Anthropic from "../../../services/providers/Anthropic.ts"
import * as Common from "../../../services/providers/Common.ts"
import * as OpenAi from "../../../services/providers/OpenAi.ts"
import * as SafeFetch from "../../../services/providers/SafeFetch.ts"
import * as AnthropicServer from "../../utils/AnthropicServer.ts"
import * as OpenAiServer from "../../utils/OpenAiServer.ts"
import { failure, KEY, request, run, textOf } from "./contract.ts"

interface Seen {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
}

/** A raw server on 127.0.0.1 answering with `handler`, recording every request; closed with the scope. */
const rawServer = (handler: (req: Http.IncomingMessage, res: Http.ServerResponse, origin: string) => void) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly origin: string; readonly seen: Array<Seen>; readonly server: Http.Server }>((resolve) => {
        const seen: Array<Seen> = []
        let origin = ""
        const server = Http.createServer((req, res) => {
          req.resume()
          req.on("end", () => {
            seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization })
            handler(req, res, origin)
          })
        })
        server.listen(0, "127.0.0.1", () => {
          origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
          resolve({ origin, seen, server })
        })
      })
    ),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      )
  )

const redirectTo = (target: string) =>
  rawServer((req, res) => {
    res.writeHead(307, { location: `${target}${req.url}` })
    res.end()
  })

const openAi = (baseUrl: string, apiKey: string | undefined) =>
  OpenAi.make({ name: "openai", baseUrl, defaultModel: "m", apiKey: apiKey === undefined ? undefined : Redacted.make(apiKey) })

const anthropic = (baseUrl: string, apiKey: string | undefined) =>
  Anthropic.make({ name: "anthropic", baseUrl, defaultModel: "m", apiKey: apiKey === undefined ? undefined : Redacted.make(apiKey) })

/** A minimal Chat Completions stream answering `text`. */
const sse = (res: Http.ServerResponse, text: string) => {
  const chunk = (delta: unknown, finish: string | null) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  res.writeHead(200, { "content-type": "text/event-stream" })
  res.end(`${chunk({ role: "assistant", content: text }, null)}${chunk({}, "stop")}data: [DONE]\n\n`)
}

describe("redirects", () => {
  for (const [label, make, server, path] of [
    ["OpenAI", openAi, OpenAiServer.make, "/v1/chat/completions"],
    ["Anthropic", anthropic, AnthropicServer.make, "/v1/messages"]
  ] as const) {
    it.live(`${label}: a redirect to another origin is refused, naming both URLs; the other origin gets nothing`, () =>
      Effect.gen(function*() {
        const target = yield* server
        target.enqueue(OpenAiServer.text("stolen"))
        const front = yield* redirectTo(target.origin)
        const provider = make(label === "OpenAI" ? `${front.origin}/v1` : front.origin, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        const error = failure(exit)
        assert.strictEqual(error.reason, "Config")
        assert.strictEqual(
          error.message,
          `${provider.name}: the server redirected the request from ${front.origin}${path} to ${target.origin}${path}; ` +
            "redirects to another origin are not followed"
        )
        assert.notInclude(error.message, KEY)
        assert.deepStrictEqual(events, [])
        assert.strictEqual(target.requests.length, 0)
        // not retried: one request reached the redirecting server
        assert.strictEqual(front.seen.length, 1)
        assert.strictEqual(front.seen[0]!.authorization, `Bearer ${KEY}`)
      }))
  }

  it.live("a same-origin redirect is followed (method, body and key kept for a 307)", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((req, res) => {
        if (req.url === "/old/chat/completions") {
          res.writeHead(307, { location: "/v1/chat/completions" })
          res.end()
        } else sse(res, "moved answer")
      })
      const { events, exit } = yield* run(openAi(`${server.origin}/old`, KEY).stream(request))
      assert.isTrue(exit._tag === "Success")
      assert.strictEqual(textOf(events), "moved answer")
      assert.deepStrictEqual(server.seen.map((s) => [s.method, s.path, s.authorization]), [
        ["POST", "/old/chat/completions", `Bearer ${KEY}`],
        ["POST", "/v1/chat/completions", `Bearer ${KEY}`]
      ])
    }))

  it.live("an endless same-origin redirect stops after the limit", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((req, res) => {
        res.writeHead(302, { location: req.url === "/a/chat/completions" ? "/b/chat/completions" : "/a/chat/completions" })
        res.end()
      })
      const { exit } = yield* run(openAi(`${server.origin}/a`, undefined).stream(request))
      const error = failure(exit)
      assert.strictEqual(error.reason, "Config")
      assert.include(error.message, `more than ${SafeFetch.MAX_REDIRECTS} times`)
      assert.strictEqual(server.seen.length, SafeFetch.MAX_REDIRECTS + 1)
    }))
})

describe("credentials in a base URL", () => {
  it.live("are sent as Basic auth to a keyless provider and never printed", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_req, res) => {
        res.writeHead(500, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: "boom" } }))
      })
      const url = `http://alice:pa55-SECRET@${server.origin.slice("http://".length)}/v1`
      const { exit } = yield* run(openAi(url, undefined).stream(request))
      const error = failure(exit)
      assert.notInclude(error.message, "pa55-SECRET")
      assert.strictEqual(server.seen[0]!.authorization, `Basic ${Buffer.from("alice:pa55-SECRET").toString("base64")}`)
    }))

  it.live("a connection error names the base URL without them", () =>
    Effect.gen(function*() {
      const { exit } = yield* run(openAi("http://bob:hunter2-SECRET@127.0.0.1:1/v1", KEY).stream(request))
      const error = failure(exit)
      assert.strictEqual(error.reason, "Connection")
      assert.include(error.message, "http://<redacted>@127.0.0.1:1/v1")
      assert.notInclude(error.message, "hunter2")
      assert.notInclude(error.message, "bob")
    }))

  it("classify redacts credentials in any message", () => {
    const error = Common.classify("p", new Error("cannot reach http://u:pw@h.example/v1"), { baseUrl: "http://u:pw@h.example/v1" })
    assert.strictEqual(error.message, "p: stream failed: cannot reach http://<redacted>@h.example/v1")
  })

  it("redactCredentials and redactPassword", () => {
    assert.strictEqual(
      SafeFetch.redactCredentials("see http://user:p@ss@host:8/v1 and https://tok@x.example"),
      "see http://<redacted>@host:8/v1 and https://<redacted>@x.example"
    )
    assert.strictEqual(SafeFetch.redactCredentials("http://host/v1?a=b@c"), "http://host/v1?a=b@c")
    assert.strictEqual(SafeFetch.redactPassword("postgres://app:s3cret@db:5432/ct"), "postgres://app:<redacted>@db:5432/ct")
    assert.strictEqual(SafeFetch.redactPassword("postgres://db/ct"), "postgres://db/ct")
    assert.strictEqual(SafeFetch.redactPassword("not a url user:pw@x"), "not a url user:pw@x")
  })
})
