/**
 * `codetether providers`: rendering, and the command run in process with a
 * registry built from test configuration.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Stream } from "effect"
import { Command } from "effect/cli"
import { vi } from "vitest"
import * as DataDir from "../../services/DataDir.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as Providers from "../../src/commands/providers.ts"
import * as TempDir from "../utils/TempDir.ts"

const fake = (name: string, extra: Partial<ProviderRegistry.Provider> = {}): ProviderRegistry.Provider => ({
  name,
  kind: "openai",
  baseUrl: `https://${name}.example/v1`,
  defaultModel: `${name}-model`,
  stream: () => Stream.empty,
  ...extra
})

/** Runs the command with `args`, returning what it wrote to stdout. */
const runCommand = (args: ReadonlyArray<string>, layer: Layer.Layer<ProviderRegistry.ProviderRegistry, unknown>) =>
  Effect.gen(function*() {
    const chunks: Array<string> = []
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: string | Uint8Array, cb?: unknown) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString())
      const callback = typeof cb === "function" ? cb : undefined
      callback?.()
      return true
    }) as typeof process.stdout.write)
    yield* Command.runWith(Providers.command, { version: "0.0.0" })(args).pipe(
      Effect.provide(Layer.merge(layer, NodeServices.layer)),
      Effect.ensuring(Effect.sync(() => spy.mockRestore()))
    )
    return chunks.join("")
  })

describe("codetether providers", () => {
  it("displayUrl drops credentials, query and fragment", () => {
    assert.strictEqual(Providers.displayUrl("https://user:pw@gw.example/v1?key=abc#x"), "https://gw.example/v1")
    assert.strictEqual(Providers.displayUrl("http://127.0.0.1:8080/v1/"), "http://127.0.0.1:8080/v1")
  })

  it("infos marks the default provider and never carries a key", () => {
    const rows = Providers.infos([
      fake("google", { keyVariable: "GEMINI_API_KEY", source: "preset" }),
      fake("anthropic", { kind: "anthropic", keyVariable: "ANTHROPIC_API_KEY", source: "builtin" })
    ])
    assert.deepStrictEqual(rows.map((r) => [r.name, r.default]), [["google", false], ["anthropic", true]])
    assert.deepStrictEqual(rows[1], {
      name: "anthropic",
      kind: "anthropic",
      default_model: "anthropic-model",
      base_url: "https://anthropic.example/v1",
      key_variable: "ANTHROPIC_API_KEY",
      source: "builtin",
      file: null,
      trust: null,
      default: true
    })
  })

  it("table aligns columns; an empty registry prints the configuration guidance", () => {
    const text = Providers.table(Providers.infos([fake("openai", { keyVariable: "OPENAI_API_KEY" }), fake("my-local")]))
    const lines = text.split("\n")
    assert.strictEqual(lines.length, 3)
    assert.match(lines[0]!, /^ {2}NAME +KIND +DEFAULT MODEL +BASE URL +KEY +FROM$/)
    assert.match(lines[1]!, /^\* openai +openai +openai-model +https:\/\/openai\.example\/v1 +OPENAI_API_KEY +-$/)
    assert.match(lines[2]!, /^ {2}my-local +openai +my-local-model +https:\/\/my-local\.example\/v1 +- +-$/)
    assert.strictEqual(lines[0]!.indexOf("BASE URL"), lines[1]!.indexOf("https://"))
    assert.strictEqual(Providers.table([]), Providers.table(Providers.infos([])))
    assert.include(Providers.table([]), "No providers available.")
  })

  it.live("--json lists the configured providers without secrets", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const secret = "sk-ant-TOP-SECRET-123"
      const layer = ProviderRegistry.layerConfig.pipe(
        Layer.provide(DataDir.layerPath(dir)),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
          env: { XDG_CONFIG_HOME: dir, ANTHROPIC_API_KEY: secret, OPENROUTER_API_KEY: "or-SECRET-456" }
        })))
      )
      const json = yield* runCommand(["--json"], layer)
      assert.notInclude(json, secret)
      assert.notInclude(json, "or-SECRET-456")
      assert.deepStrictEqual(JSON.parse(json), [
        {
          name: "anthropic",
          kind: "anthropic",
          default_model: "claude-sonnet-4-20250514",
          base_url: "https://api.anthropic.com",
          key_variable: "ANTHROPIC_API_KEY",
          source: "builtin",
          file: null,
          trust: null,
          default: true
        },
        {
          name: "openrouter",
          kind: "openai",
          default_model: "z-ai/glm-5",
          base_url: "https://openrouter.ai/api/v1",
          key_variable: "OPENROUTER_API_KEY",
          source: "preset",
          file: null,
          trust: null,
          default: false
        }
      ])
      const human = yield* runCommand([], layer)
      assert.include(human, "* anthropic")
      assert.notInclude(human, secret)
    }))
})
