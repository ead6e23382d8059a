import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Option, Stream } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Provider from "../../schemas/Provider.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as AnthropicServer from "../utils/AnthropicServer.ts"
import * as Logs from "../utils/Logs.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

const request: Provider.CompletionRequest = {
  model: "m",
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
  tools: [],
  maxTokens: 64
}

/** The registry of `env`; the user config dir is `<dataDir>/config` (no user providers file unless a test writes one). */
const layerFor = (env: Record<string, string>, dataDir: string) =>
  ProviderRegistry.layerConfig.pipe(
    Layer.provide(DataDir.layerPath(dataDir)),
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { XDG_CONFIG_HOME: `${dataDir}/config`, ...env } })))
  )

/** The registry built from `env` and `providers` (written to providers.json when given), plus captured logs. */
const registryFor = (env: Record<string, string>, providers?: unknown) =>
  Effect.gen(function*() {
    const dir = yield* TempDir.make()
    if (providers !== undefined) {
      NodeFs.writeFileSync(
        NodePath.join(dir, "providers.json"),
        typeof providers === "string" ? providers : JSON.stringify(providers)
      )
    }
    const { logs, value } = yield* Logs.capture(
      Effect.provide(
        Effect.gen(function*() {
          return yield* ProviderRegistry.ProviderRegistry
        }),
        layerFor(env, dir)
      )
    )
    return { registry: value, logs, dir }
  })

const names = (registry: ProviderRegistry.ProviderRegistry["Service"]) => registry.list.map((p) => p.name)

const collectText = (stream: Stream.Stream<Provider.StreamEvent, ProviderRegistry.ProviderError>) =>
  Stream.runCollect(stream).pipe(
    Effect.map((events) => events.flatMap((e) => (e._tag === "TextDelta" ? [e.text] : [])).join(""))
  )

describe("ProviderRegistry.layerConfig", () => {
  it.live("registers only providers with credentials, in registration order", () =>
    Effect.gen(function*() {
      const { registry } = yield* registryFor({
        GEMINI_API_KEY: "g-key-123",
        ANTHROPIC_API_KEY: "a-key-123",
        OPENROUTER_API_KEY: "or-key-123",
        ZHIPUAI_API_KEY: "z-key-123",
        MOONSHOT_API_KEY: "   ",
        OPENAI_BASE_URL: "http://127.0.0.1:9/v1"
      })
      assert.deepStrictEqual(names(registry), ["anthropic", "openrouter", "zai", "google"])
      const zai = Option.getOrThrow(registry.get("zai"))
      assert.strictEqual(zai.keyVariable, "ZHIPUAI_API_KEY")
      assert.strictEqual(zai.baseUrl, "https://api.z.ai/api/paas/v4")
      assert.strictEqual(zai.defaultModel, "glm-5")
      assert.strictEqual(zai.kind, "openai")
      const anthropic = Option.getOrThrow(registry.get("anthropic"))
      assert.strictEqual(anthropic.kind, "anthropic")
      assert.strictEqual(anthropic.baseUrl, "https://api.anthropic.com")
      assert.strictEqual(anthropic.defaultModel, "claude-sonnet-4-20250514")
      assert.isTrue(Option.isNone(registry.get("openai")))
      assert.isTrue(Option.isNone(registry.get("moonshotai")))
    }))

  it.live("the first key variable of a preset wins; base URLs can be overridden", () =>
    Effect.gen(function*() {
      const { registry } = yield* registryFor({
        ZAI_API_KEY: "first-key",
        ZHIPUAI_API_KEY: "second-key",
        ZAI_BASE_URL: "https://api.z.ai/api/coding/paas/v4/",
        OPENAI_API_KEY: "sk-1234",
        OPENAI_BASE_URL: "https://gateway.example.com/v1"
      })
      assert.deepStrictEqual(names(registry), ["openai", "zai"])
      const zai = Option.getOrThrow(registry.get("zai"))
      assert.strictEqual(zai.keyVariable, "ZAI_API_KEY")
      assert.strictEqual(zai.baseUrl, "https://api.z.ai/api/coding/paas/v4")
      assert.strictEqual(Option.getOrThrow(registry.get("openai")).baseUrl, "https://gateway.example.com/v1")
    }))

  it.live("no credentials: no providers, and select fails with 4.5.7's text", () =>
    Effect.gen(function*() {
      const { registry } = yield* registryFor({})
      assert.deepStrictEqual(names(registry), [])
      const error = yield* Effect.flip(registry.select(null))
      assert.strictEqual(error.reason, "NoProviders")
      assert.strictEqual(error.message, Provider.noProvidersMessage)
      const resolve = yield* Effect.flip(registry.resolveModel("gpt-4o"))
      assert.strictEqual(resolve.message, "No providers available in registry")
    }))

  it.live("OPENAI_API_KEY and OPENAI_BASE_URL reach the SDK; the key is never printed", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("hello from openai"))
      const key = "sk-live-VERY-SECRET-42"
      const { registry } = yield* registryFor({ OPENAI_API_KEY: key, OPENAI_BASE_URL: server.url })
      const { provider, model } = yield* registry.select(null)
      assert.strictEqual(provider.name, "openai")
      assert.strictEqual(model, "gpt-4o")
      assert.strictEqual(yield* collectText(provider.stream({ ...request, model })), "hello from openai")
      assert.strictEqual(server.requests[0]!.headers.authorization, `Bearer ${key}`)
      assert.strictEqual(server.requests[0]!.body.model, "gpt-4o")
      assert.strictEqual(server.requests[0]!.body.max_completion_tokens, 64)
      assert.notInclude(JSON.stringify(registry.list), key)
      assert.notInclude(String(registry.list.map((p) => Object.values(p).join(" "))), key)
    }))

  it.live("ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL reach the SDK", () =>
    Effect.gen(function*() {
      const server = yield* AnthropicServer.make
      server.enqueue(AnthropicServer.text("hello from anthropic"))
      const { registry } = yield* registryFor({ ANTHROPIC_API_KEY: "sk-ant-xyz", ANTHROPIC_BASE_URL: server.url })
      const { model, provider } = yield* registry.select("anthropic/claude-haiku-4-5")
      assert.strictEqual(model, "claude-haiku-4-5")
      assert.strictEqual(yield* collectText(provider.stream({ ...request, model })), "hello from anthropic")
      assert.strictEqual(server.requests[0]!.headers.authorization, "Bearer sk-ant-xyz")
      assert.strictEqual(server.requests[0]!.body.model, "claude-haiku-4-5")
    }))
})

describe("providers.json", () => {
  it.live("registers custom providers after the built-in ones; keyless ones send no credentials", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiServer.make
      const anthropic = yield* AnthropicServer.make
      openai.enqueue(OpenAiServer.text("local answer"))
      anthropic.enqueue(AnthropicServer.text("gateway answer"))
      const { registry } = yield* registryFor({ OPENROUTER_API_KEY: "or-1234", GATEWAY_KEY: "gw-secret-99" }, {
        providers: [
          { name: "local", base_url: `${openai.url}/`, default_model: "qwen3-coder" },
          { name: "gateway", base_url: anthropic.url, api_key_env: "GATEWAY_KEY", kind: "anthropic" }
        ]
      })
      assert.deepStrictEqual(names(registry), ["openrouter", "local", "gateway"])
      const local = Option.getOrThrow(registry.get("local"))
      assert.strictEqual(local.baseUrl, openai.url)
      assert.strictEqual(local.source, "custom")
      assert.isUndefined(local.keyVariable)

      const bare = yield* registry.select("local")
      assert.strictEqual(bare.provider.name, "local")
      assert.strictEqual(bare.model, "qwen3-coder")
      assert.strictEqual(yield* collectText(bare.provider.stream({ ...request, model: bare.model })), "local answer")
      assert.notProperty(openai.requests[0]!.headers, "authorization")
      assert.strictEqual(openai.requests[0]!.body.max_tokens, 64)

      const gateway = yield* registry.select("gateway/claude-x")
      assert.strictEqual(gateway.provider.kind, "anthropic")
      assert.strictEqual(yield* collectText(gateway.provider.stream({ ...request, model: "claude-x" })), "gateway answer")
      assert.strictEqual(anthropic.requests[0]!.headers.authorization, "Bearer gw-secret-99")

      // no explicit provider: the preference order picks openrouter
      const implicit = yield* registry.select("some-model")
      assert.strictEqual(implicit.provider.name, "openrouter")
    }))

  it.live("a custom provider whose key variable is unset is skipped with a warning", () =>
    Effect.gen(function*() {
      const { registry, logs } = yield* registryFor({}, {
        providers: [{ name: "corp", base_url: "https://llm.corp.example/v1", api_key_env: "CORP_KEY" }]
      })
      assert.deepStrictEqual(names(registry), [])
      assert.isTrue(logs.some((l) => l.message.includes("\"corp\" is not registered: CORP_KEY is not set")))
    }))

  it.live("a custom entry of a data dir outside the workspace replaces a built-in provider of the same name", () =>
    Effect.gen(function*() {
      const { registry } = yield* registryFor({ OPENAI_API_KEY: "sk-1", ANTHROPIC_API_KEY: "a-1" }, {
        providers: [{ name: "openai", base_url: "http://127.0.0.1:8080/v1", default_model: "local-model" }]
      })
      assert.deepStrictEqual(names(registry), ["openai", "anthropic"])
      const openai = Option.getOrThrow(registry.get("openai"))
      assert.strictEqual(openai.baseUrl, "http://127.0.0.1:8080/v1")
      assert.strictEqual((yield* registry.select(null)).model, "local-model")
    }))

  const malformed: Array<[string, unknown, string]> = [
    ["invalid JSON", "{\"providers\": [", "not valid JSON"],
    ["a bad kind", { providers: [{ name: "x", base_url: "http://h", kind: "gemini" }] }, "[\"kind\"]"],
    ["a name with a slash", { providers: [{ name: "a/b", base_url: "http://h" }] }, "no '/'"],
    ["a missing base_url", { providers: [{ name: "x" }] }, "base_url"],
    ["a non-http base_url", { providers: [{ name: "x", base_url: "ftp://h" }] }, "http(s) URL"],
    ["an unknown key", { providers: [{ name: "x", base_url: "http://h", api_key: "oops" }] }, "api_key"],
    ["a duplicate name", { providers: [{ name: "x", base_url: "http://h" }, { name: "x", base_url: "http://i" }] }, "duplicate provider name \"x\""],
    ["no providers array", [], "expected an object {\"providers\": [...]}"]
  ]
  for (const [label, content, problem] of malformed) {
    it.live(`a providers.json with ${label} is an error naming the file and the problem`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(registryFor({ OPENAI_API_KEY: "sk-1" }, content))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
        const value = error?._tag === "Fail" ? (error.error as ProviderRegistry.ProviderError) : undefined
        assert.strictEqual(value?._tag, "ProviderError")
        assert.strictEqual(value?.reason, "Config")
        assert.match(value!.message, /^Invalid providers file \/.*providers\.json: /)
        assert.include(value!.message, problem)
        assert.notInclude(value!.message, "\n")
      }))
  }
})

describe("ProviderRegistry.layerProviders", () => {
  const scripted = (name: string, text: string): ProviderRegistry.Provider => ({
    name,
    kind: "openai",
    baseUrl: "memory://",
    defaultModel: `${name}-default`,
    stream: (req) =>
      Stream.fromIterable<Provider.StreamEvent>([
        Provider.textDelta(`${text}:${req.model}`),
        Provider.finish("stop")
      ])
  })

  it.effect("selects among given providers and streams from them", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry.ProviderRegistry
      assert.deepStrictEqual(names(registry), ["beta", "alpha"])
      const implicit = yield* registry.select(null)
      assert.strictEqual(implicit.provider.name, "beta")
      assert.strictEqual(implicit.model, "beta-default")
      const explicit = yield* registry.select("alpha/x1")
      assert.strictEqual(yield* collectText(explicit.provider.stream({ ...request, model: explicit.model })), "A:x1")
      const missing = yield* Effect.flip(registry.select("openai/gpt-4o"))
      assert.strictEqual(missing.reason, "Unavailable")
      assert.strictEqual(
        missing.message,
        "Provider 'openai' selected explicitly but is unavailable. Available providers: beta, alpha"
      )
      const sub = yield* registry.resolveModel("alpha/")
      assert.strictEqual(sub.model, "alpha-default")
      const unknown = yield* Effect.flip(registry.resolveModel("gamma/x"))
      assert.strictEqual(unknown.message, "Provider 'gamma' not found. Available: [\"beta\", \"alpha\"]")
    }).pipe(Effect.provide(ProviderRegistry.layerProviders([scripted("beta", "B"), scripted("alpha", "A")]))))

  it.effect("a later provider of the same name replaces the earlier one in place", () =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry.ProviderRegistry
      assert.deepStrictEqual(names(registry), ["a", "b"])
      const { provider } = yield* registry.select("a")
      assert.strictEqual(yield* collectText(provider.stream(request)), "second:m")
    }).pipe(Effect.provide(ProviderRegistry.layerProviders([scripted("a", "first"), scripted("b", "B"), scripted("a", "second")]))))
})
