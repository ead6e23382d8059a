import { Console, Effect } from "effect"
import { DataDir, SessionStore } from "codetether"

// A store-only program: the sessions saved in DATA_DIR, newest first.
// (`npm run bundle` measures what it costs in a bundle.)
const program = Effect.gen(function*() {
  const store = yield* SessionStore.SessionStore
  for (const summary of yield* store.list) {
    yield* Console.log(`${summary.id}  ${summary.messageCount} messages  ${summary.title ?? "(untitled)"}`)
  }
})

Effect.runPromise(program.pipe(
  Effect.provide(SessionStore.layerFileSystem),
  Effect.provide(DataDir.layerPath(process.env.DATA_DIR ?? ".data"))
))
