/**
 * Embedding without ambient configuration: `Codetether.layerValue` reads no
 * config file, providers file or environment variable (a broken
 * `codetether.toml` in the app's working directory changes nothing), and
 * `Codetether.layerEnv` reads configuration through `Config` only, never a
 * file. `layerAt`, which reads the files, fails on the same directory.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Redacted, Schema } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Codetether from "../../src/Codetether.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.succeed(`echo: ${text}`)
})

/** A working directory whose config files are broken and whose data dir lists a provider of its own; the process is in it while the scope lasts. */
const hostileCwd = Effect.gen(function*() {
  const dir = yield* TempDir.make("codetether-embed-")
  NodeFs.writeFileSync(NodePath.join(dir, "codetether.toml"), "default_model = [\n")
  NodeFs.mkdirSync(NodePath.join(dir, ".codetether"))
  NodeFs.writeFileSync(NodePath.join(dir, ".codetether", "config.toml"), "[session]\nmax_steps = \"many\"\n")
  NodeFs.mkdirSync(NodePath.join(dir, "data"))
  NodeFs.writeFileSync(
    NodePath.join(dir, "data", "providers.json"),
    JSON.stringify({ providers: [{ name: "planted", kind: "openai", base_url: "http://127.0.0.1:9/v1", default_model: "x" }] })
  )
  const previous = process.cwd()
  yield* Effect.acquireRelease(Effect.sync(() => process.chdir(dir)), () => Effect.sync(() => process.chdir(previous)))
  return dir
})

/** A ConfigProvider recording every key asked for, answering from `values`. */
const recordingConfig = (values: Record<string, string> = {}) => {
  const asked: Array<string> = []
  const inner = ConfigProvider.fromUnknown(values)
  const provider = ConfigProvider.make((path) =>
    Effect.suspend(() => {
      asked.push(path.join("."))
      return inner.load(path)
    })
  )
  return { asked, provider }
}

const promptOnce = Effect.gen(function*() {
  const config = yield* CodetetherConfig.CodetetherConfig
  const loop = yield* SessionLoop.SessionLoop
  const registry = yield* ProviderRegistry.ProviderRegistry
  const { result, session } = yield* loop.prompt(yield* config.newSession(process.cwd()), "Echo hi")
  return { result, session, providers: registry.list.map((p) => p.name), model: config.model }
})

describe("Codetether.layerValue", () => {
  it.live("configuration and providers as values: no file and no environment variable is read", () =>
    Effect.gen(function*() {
      const dir = yield* hostileCwd
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "echo", arguments: { text: "hi" } }]),
        OpenAiServer.text("It said echo: hi")
      )
      const spy = recordingConfig()
      const layer = Codetether.layerValue({
        dataDir: NodePath.join(dir, "data"),
        providers: [
          ProviderRegistry.openAiCompatible({
            name: "local",
            baseUrl: server.url,
            defaultModel: "m",
            apiKey: Redacted.make("sk-local")
          })
        ],
        config: { model: "local/qwen", maxSteps: 5 },
        tools: [echo],
        systemPrompt: "You are embedded."
      })
      const { model, providers, result, session } = yield* promptOnce.pipe(
        Effect.provide(layer),
        Effect.provide(NodeServices.layer),
        Effect.provideService(ConfigProvider.ConfigProvider, spy.provider)
      )
      expect(result.text).toBe("It said echo: hi")
      expect([model, providers]).toEqual(["local/qwen", ["local"]])
      expect(spy.asked).toEqual([])
      expect(server.requests[0]!.body.model).toBe("qwen")
      expect(server.requests[0]!.body.messages[0]).toEqual({ role: "system", content: "You are embedded." })
      expect(NodeFs.existsSync(NodePath.join(dir, "data", "sessions", `${session.id}.json`))).toBe(true)
      expect(NodeFs.readFileSync(NodePath.join(dir, "data", "events", `${session.id}.jsonl`), "utf8")).toContain("\"kind\":\"token_usage\"")

      // the CLI's layer reads the same directory's files, and fails on them
      const exit = yield* Effect.exit(
        Effect.provide(promptOnce, Codetether.layerAt(NodePath.join(dir, "data"))).pipe(
          Effect.provide(NodeServices.layer),
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown({ HOME: dir }))
        )
      )
      assert(Exit.isFailure(exit))
      expect(String(exit.cause)).toContain("codetether.toml")
    }))

  it.effect("an invalid setting is a CodetetherConfigError naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Codetether.layerValue({ dataDir: "/nonexistent", providers: [], config: { maxSteps: 0 } })).pipe(
          Effect.provide(NodeServices.layer)
        )
      )
      expect(error).toMatchObject({ _tag: "CodetetherConfigError", reason: "InvalidValue", key: "maxSteps" })
    }))
})

describe("Codetether.layerEnv", () => {
  it.live("configuration and providers from Config only: no config file, no providers file", () =>
    Effect.gen(function*() {
      const dir = yield* hostileCwd
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("from the environment"))
      const spy = recordingConfig({
        OPENAI_API_KEY: "sk-env",
        OPENAI_BASE_URL: server.url,
        CODETETHER_MODEL: "openai/gpt-env",
        CODETETHER_MAX_STEPS: "3"
      })
      const { model, providers, result } = yield* promptOnce.pipe(
        Effect.provide(Codetether.layerEnv({ dataDir: NodePath.join(dir, "data") })),
        Effect.provide(NodeServices.layer),
        Effect.provideService(ConfigProvider.ConfigProvider, spy.provider)
      )
      expect(result.text).toBe("from the environment")
      expect([model, providers]).toEqual(["openai/gpt-env", ["openai"]])
      expect(server.requests[0]!.headers.authorization).toBe("Bearer sk-env")
      expect(server.requests[0]!.body.model).toBe("gpt-env")
      expect(spy.asked).toContain("CODETETHER_MAX_STEPS")
      expect(spy.asked).not.toContain("XDG_CONFIG_HOME")
    }))
})
