// bench child: one worker running `prompts` prompts, one after the other, on
// a session of its own through SessionLoop (a scripted provider that answers
// at once, so the store is what is measured). argv: <store> <prompts>, where
// <store> is a postgres:// URL or a data dir. Prints one JSON line: the
// wall-clock start and end of the prompts (Date.now(), ms) and the latency of
// every save under the lease (ms).
import { Effect, Layer, Redacted } from "effect"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as Scripted from "../../test/utils/ScriptedProvider.ts"
import * as Sessions from "../../test/utils/Sessions.ts"

const [target, count] = process.argv.slice(2) as [string, string]
const prompts = Number(count)
const saves: Array<number> = []

/** The store, with every lease's saves timed. */
const timed = Layer.effect(
  SessionStore.SessionStore,
  Effect.gen(function*() {
    const store = yield* SessionStore.SessionStore
    return SessionStore.SessionStore.of({
      ...store,
      lease: (session, options) =>
        Effect.map(store.lease(session, options), (lease) => ({
          ...lease,
          save: (next) =>
            Effect.suspend(() => {
              const start = performance.now()
              return Effect.tap(lease.save(next), () => Effect.sync(() => saves.push(performance.now() - start)))
            })
        }))
    })
  })
).pipe(
  Layer.provide(
    target.startsWith("postgres")
      ? SessionStore.layerPostgres({ url: Redacted.make(target) })
      : SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(target)))
  )
)

const scripted = Scripted.make(Array.from({ length: prompts }, (_, i) => Scripted.answer(`answer ${i}`)))
const layer = SessionLoop.layer.pipe(Layer.provideMerge(Layer.mergeAll(
  timed,
  ProviderRegistry.layerProviders([scripted.provider]),
  ToolRegistry.layerTools([]),
  SessionBus.layer().pipe(Layer.provide(DurableSink.layerNoop)),
  CodetetherConfig.layerDefaults,
  SystemPrompt.layerStatic("bench")
)))

const program = Effect.gen(function*() {
  const loop = yield* SessionLoop.SessionLoop
  const store = yield* SessionStore.SessionStore
  // a session of this worker's own, saved once before the clock starts (and the connection warm)
  let session = yield* store.save({ ...Sessions.make({ messages: 20 }), id: crypto.randomUUID() })
  const start = Date.now()
  for (let i = 0; i < prompts; i++) {
    session = (yield* loop.prompt(session, `prompt ${i}`)).session
  }
  const end = Date.now()
  console.log(JSON.stringify({ start, end, saves }))
}).pipe(Effect.provide(layer))

await Effect.runPromise(program)
process.exit(0)
