/**
 * The `ollama` preset and providers without native tool calling (issue 11):
 * keyless, registered when `OLLAMA_BASE_URL` is set, on demand for
 * `ollama/<model>` at the default address, never chosen for a bare model
 * while another provider is registered; `native_tools: false` in
 * providers.json.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as DataDir from "../../services/DataDir.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as TempDir from "../utils/TempDir.ts"

const registryFor = (env: Record<string, string>, providers?: unknown) =>
  Effect.gen(function*() {
    const dir = yield* TempDir.make()
    const cwd = yield* TempDir.make()
    // a data dir outside the workspace (cwd): its providers file is trusted
    if (providers !== undefined) NodeFs.writeFileSync(NodePath.join(dir, "providers.json"), JSON.stringify(providers))
    return yield* Effect.provide(
      Effect.gen(function*() {
        return yield* ProviderRegistry.ProviderRegistry
      }),
      ProviderRegistry.layerConfigWith({ cwd, userConfigDir: null }).pipe(
        Layer.provide(DataDir.layerPath(dir)),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
      )
    )
  })

const choice = (registry: ProviderRegistry.ProviderRegistry["Service"], selector: string | null) =>
  Effect.map(registry.select(selector), (s) => `${s.provider.name}/${s.model}`)

describe("the ollama preset", () => {
  it.live("without OLLAMA_BASE_URL: not registered, but ollama/<model> selects it at 127.0.0.1:11434, keyless, without native tools", () =>
    Effect.gen(function*() {
      const registry = yield* registryFor({ OPENAI_API_KEY: "sk-x" })
      assert.deepStrictEqual(registry.list.map((p) => p.name), ["openai"])
      const selected = yield* registry.select("ollama/qwen2.5-coder")
      assert.strictEqual(selected.provider.name, "ollama")
      assert.strictEqual(selected.model, "qwen2.5-coder")
      assert.strictEqual(selected.provider.baseUrl, "http://127.0.0.1:11434/v1")
      assert.strictEqual(selected.provider.nativeTools, false)
      assert.strictEqual(selected.provider.keyVariable, undefined)
      assert.strictEqual(yield* choice(registry, "ollama"), "ollama/llama3.2") // a bare provider name: its default model
      assert.strictEqual(yield* choice(registry, "llama3.2"), "openai/llama3.2") // a bare model never goes to ollama
      const none = yield* registryFor({})
      assert.strictEqual(yield* choice(none, "ollama/phi4"), "ollama/phi4")
      const error = yield* Effect.flip(none.select("phi4"))
      assert.strictEqual(error.reason, "NoProviders")
    }))

  it.live("with OLLAMA_BASE_URL: registered at that URL; a bare model goes to it only when no other provider is there", () =>
    Effect.gen(function*() {
      const alone = yield* registryFor({ OLLAMA_BASE_URL: "http://gpu-box:11434/v1/" })
      assert.deepStrictEqual(alone.list.map((p) => [p.name, p.baseUrl, p.source]), [["ollama", "http://gpu-box:11434/v1", "preset"]])
      assert.strictEqual(yield* choice(alone, "qwen3"), "ollama/qwen3")
      const withOthers = yield* registryFor({ OLLAMA_BASE_URL: "http://gpu-box:11434/v1" }, {
        providers: [{ name: "mine", base_url: "http://127.0.0.1:8080/v1" }]
      })
      assert.deepStrictEqual(withOthers.list.map((p) => p.name), ["ollama", "mine"])
      assert.strictEqual(yield* choice(withOthers, "qwen3"), "mine/qwen3")
      assert.strictEqual(yield* choice(withOthers, null), "mine/gpt-4o")
      assert.strictEqual(yield* choice(withOthers, "ollama/qwen3"), "ollama/qwen3")
    }))

  it.live("a custom provider with \"native_tools\": false; other values of the key are refused", () =>
    Effect.gen(function*() {
      const registry = yield* registryFor({}, {
        providers: [
          { name: "llamacpp", base_url: "http://127.0.0.1:8080/v1", native_tools: false },
          { name: "vllm", base_url: "http://127.0.0.1:8000/v1", native_tools: true },
          { name: "plain", base_url: "http://127.0.0.1:8001/v1" }
        ]
      })
      assert.deepStrictEqual(registry.list.map((p) => [p.name, p.nativeTools]), [
        ["llamacpp", false],
        ["vllm", true],
        ["plain", undefined]
      ])
      const error = yield* Effect.flip(registryFor({}, { providers: [{ name: "x", base_url: "http://h", native_tools: "no" }] }))
      assert.include(error.message, "native_tools")
    }))
})
