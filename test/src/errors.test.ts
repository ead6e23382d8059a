/**
 * What a user sees when a server answers something other than a model stream
 * (issue 11): one line on stderr saying what came back, never "the response
 * stream ended before the model finished", never the SDK's own console output.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Cli from "../utils/Cli.ts"
import * as TempDir from "../utils/TempDir.ts"

/** A server answering every request with `status`, `contentType` and `body`; counts requests. */
const rawServer = (status: number, contentType: string, body: string) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly url: string; readonly server: Http.Server; readonly hits: () => number }>((resolve) => {
        let hits = 0
        const server = Http.createServer((req, res) => {
          hits++
          req.resume()
          req.on("end", () => {
            res.writeHead(status, { "content-type": contentType })
            res.end(body)
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server, hits: () => hits }))
      })
    ),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )

const runAgainst = (url: string, provider: "openai" | "anthropic") =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-errors-")
    NodeFs.mkdirSync(NodePath.join(root, ".git"))
    const env = Cli.isolatedEnv(root, {
      OPENAI_API_KEY: provider === "openai" ? "sk-test" : undefined,
      OPENAI_BASE_URL: provider === "openai" ? url : undefined,
      ANTHROPIC_API_KEY: provider === "anthropic" ? "sk-ant-test" : undefined,
      ANTHROPIC_BASE_URL: provider === "anthropic" ? url.replace(/\/v1$/, "") : undefined
    })
    return yield* Effect.promise(() => Cli.run(["run", "hello"], { cwd: root, env }))
  })

describe("misleading errors", () => {
  for (const provider of ["openai", "anthropic"] as const) {
    it.live(`${provider}: a 200 JSON body instead of an event stream names the content type and the first bytes, at once`, () =>
      Effect.gen(function*() {
        const json = JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", choices: [{ message: { content: "hi" } }] })
        const server = yield* rawServer(200, "application/json", json)
        const result = yield* runAgainst(server.url, provider)
        expect(result.code).toBe(1)
        const lines = result.stderr.trim().split("\n")
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(`codetether: ${provider}: the server answered`)
        expect(lines[0]).toContain("content-type application/json instead of an event stream")
        expect(lines[0]).toContain("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\"")
        expect(lines[0]).not.toContain("ended before the model finished")
        expect(server.hits()).toBe(1) // not retried: a wrong URL does not get better
      }))
  }

  it.live("a 200 HTML page (a wrong base URL, a proxy's login page) is named, with its first bytes", () =>
    Effect.gen(function*() {
      const page = `<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>${"x".repeat(1000)}</body></html>`
      const server = yield* rawServer(200, "text/html; charset=utf-8", page)
      const result = yield* runAgainst(server.url, "openai")
      const lines = result.stderr.trim().split("\n")
      expect([result.code, lines.length]).toEqual([1, 1])
      expect(lines[0]).toContain("content-type text/html; charset=utf-8 instead of an event stream")
      expect(lines[0]).toContain("the response starts with: <!DOCTYPE html> <html><head><title>Sign in</title>")
      expect(lines[0]!.length).toBeLessThan(500)
    }))

  it.live("malformed event JSON: our one error line on stderr, nothing from the SDK", () =>
    Effect.gen(function*() {
      const server = yield* rawServer(200, "text/event-stream", "data: {\"choices\": [ not json\n\n")
      const result = yield* runAgainst(server.url, "openai")
      expect(result.code).toBe(1)
      expect(result.stderr).not.toContain("Could not parse message into JSON")
      expect(result.stderr).not.toContain("From chunk")
      const lines = result.stderr.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^codetether: openai: .*malformed server-sent event JSON/)
    }))
})
