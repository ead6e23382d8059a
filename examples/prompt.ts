import { NodeServices } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { Codetether, CodetetherConfig, SessionLoop } from "codetether"

// One prompt in a new session for this directory: the model may call tools
// (read, grep, bash, ...) until it answers; the session is saved after every step.
const program = Effect.gen(function*() {
  const config = yield* CodetetherConfig.CodetetherConfig
  const loop = yield* SessionLoop.SessionLoop
  const session = yield* config.newSession(process.cwd())
  yield* loop.promptStream(session, "How many files are in this directory?").pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "ToolCallStart":
          return Console.error(`running ${event.name} ${event.arguments}`)
        case "TextComplete":
          return Console.log(event.text)
        case "SessionSync":
          return Console.error(`saved session ${event.session.id}`)
        default:
          return Effect.void
      }
    })
  )
})

// Providers come from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...).
Effect.runPromise(program.pipe(Effect.provide(Codetether.layer), Effect.provide(NodeServices.layer)))
