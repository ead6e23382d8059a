/**
 * Providers an app builds from values (`ProviderRegistry.openAi`,
 * `anthropic`, `openAiCompatible`): they read no environment variable, and
 * keep the rules of the configured providers (no cross-origin redirect, the
 * stream timeouts, the key never printed). Real SDKs, local servers.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as AnthropicServer from "../utils/AnthropicServer.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import { failure, KEY, request, run, runWithin, textOf } from "./providers/contract.ts"

/** A server that answers every request with a 307 to `target`, counting what it received. */
const redirecting = (target: () => string) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly url: string; readonly server: Http.Server }>((resolve) => {
        const server = Http.createServer((req, res) => {
          req.resume()
          req.on("end", () => {
            res.writeHead(307, { location: `${target()}${req.url}` })
            res.end()
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server }))
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

describe("ProviderRegistry constructors", () => {
  it.effect("openAi: the given key and base URL, no OpenAI organization or project from the environment", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("hello"))
      const saved = { org: process.env.OPENAI_ORG_ID, project: process.env.OPENAI_PROJECT_ID, key: process.env.OPENAI_API_KEY }
      process.env.OPENAI_ORG_ID = "org-from-env"
      process.env.OPENAI_PROJECT_ID = "proj-from-env"
      process.env.OPENAI_API_KEY = "sk-from-env"
      const provider = ProviderRegistry.openAi({ apiKey: Redacted.make(KEY), baseUrl: `${server.url}/` })
      const { events, exit } = yield* run(provider.stream(request)).pipe(
        Effect.ensuring(Effect.sync(() => {
          for (const [name, value] of [["OPENAI_ORG_ID", saved.org], ["OPENAI_PROJECT_ID", saved.project], ["OPENAI_API_KEY", saved.key]] as const) {
            if (value === undefined) delete process.env[name]
            else process.env[name] = value
          }
        }))
      )
      assert(Exit.isSuccess(exit))
      expect(textOf(events)).toBe("hello")
      const headers = server.requests[0]!.headers
      expect(headers.authorization).toBe(`Bearer ${KEY}`)
      expect(headers["openai-organization"]).toBeUndefined()
      expect(headers["openai-project"]).toBeUndefined()
      expect(provider).toMatchObject({ name: "openai", kind: "openai", baseUrl: server.url, defaultModel: "gpt-4o", source: "embedded" })
      // OpenAI's own wire: max_completion_tokens
      expect(server.requests[0]!.body.max_completion_tokens).toBe(256)
    }))

  it.effect("anthropic: the given key, name and default model", () =>
    Effect.gen(function*() {
      const server = yield* AnthropicServer.make
      server.enqueue(AnthropicServer.text("bonjour"))
      const provider = ProviderRegistry.anthropic({
        apiKey: Redacted.make(KEY),
        baseUrl: server.url,
        name: "claude",
        defaultModel: "claude-test"
      })
      const { events, exit } = yield* run(provider.stream(request))
      assert(Exit.isSuccess(exit))
      expect(textOf(events)).toBe("bonjour")
      expect(provider).toMatchObject({ name: "claude", kind: "anthropic", defaultModel: "claude-test" })
      expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`)
    }))

  it.effect("openAiCompatible: keyless sends no Authorization header; wire options apply", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("ok"))
      const provider = ProviderRegistry.openAiCompatible({
        name: "local",
        baseUrl: server.url,
        defaultModel: "qwen3",
        wire: { maxTokensField: "max_completion_tokens" }
      })
      const { exit } = yield* run(provider.stream(request))
      assert(Exit.isSuccess(exit))
      expect(server.requests[0]!.headers.authorization).toBeUndefined()
      expect(server.requests[0]!.body.max_completion_tokens).toBe(256)
      expect(server.requests[0]!.body.max_tokens).toBeUndefined()
      const registry = ProviderRegistry.make([provider])
      const selected = yield* registry.select(null)
      expect([selected.provider.name, selected.model]).toEqual(["local", "qwen3"])
    }))

  it.effect("a redirect to another origin is refused: the other origin receives nothing, the key is not printed", () =>
    Effect.gen(function*() {
      const other = yield* OpenAiServer.make
      const redirect = yield* redirecting(() => other.url.replace(/\/v1$/, ""))
      const provider = ProviderRegistry.openAiCompatible({
        name: "gateway",
        baseUrl: redirect.url,
        defaultModel: "m",
        apiKey: Redacted.make(KEY)
      })
      const error = failure((yield* run(provider.stream(request))).exit)
      expect(error.reason).toBe("Config")
      expect(error.message).toContain("redirects to another origin are not followed")
      expect(error.message).not.toContain(KEY)
      expect(other.requests).toEqual([])
    }))

  it.live("the stream timeouts apply: a server that never answers is a Timeout", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.silent())
      const provider = ProviderRegistry.openAi({ apiKey: Redacted.make(KEY), baseUrl: server.url })
      const { exit } = yield* runWithin(provider.stream(request), { connectMs: 200, idleMs: 60_000 }, 1)
      const error = failure(exit)
      expect(error.reason).toBe("Timeout")
      expect(error.message).toContain("within 200 ms")
    }))
})
