import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Config, Console, Effect } from "effect"
import { Codetether, CodetetherConfig, ProviderRegistry, SessionLoop } from "codetether"

// One prompt in a new session for the current directory: the model may call
// the built-in tools (list, read, grep, bash, ...) until it answers.
const program = Effect.gen(function*() {
  const config = yield* CodetetherConfig.CodetetherConfig
  const loop = yield* SessionLoop.SessionLoop
  const session = yield* config.newSession(process.cwd())
  const { result, session: saved, steps } = yield* loop.prompt(session, "How many entries are in this directory?")
  yield* Console.log(result.text)
  yield* Console.error(`session ${saved.id}: ${steps} steps, ${saved.usage.totalTokens} tokens`)
})

// The app's own settings (read by the app, through Config); codetether itself
// reads no file and no environment variable: everything is given as values.
const main = Effect.gen(function*() {
  const baseUrl = yield* Config.String("MODEL_BASE_URL")
  const dataDir = yield* Config.String("DATA_DIR")
  yield* program.pipe(
    Effect.provide(Codetether.layerValue({
      dataDir,
      providers: [ProviderRegistry.openAiCompatible({ name: "scripted", baseUrl, defaultModel: "scripted-model" })],
      config: { maxSteps: 10 }
    }))
  )
})

NodeRuntime.runMain(main.pipe(Effect.provide(NodeServices.layer)))
