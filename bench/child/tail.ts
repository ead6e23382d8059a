// bench child: tail-load one session through SessionStore.layerFileSystem and
// print the elapsed milliseconds (argv: <data dir> <session id> <window>).
import { Effect, Layer } from "effect"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"

const [dataDir, id, window] = process.argv.slice(2) as [string, string, string]
const start = performance.now()
const load = await Effect.runPromise(
  Effect.gen(function*() {
    const store = yield* SessionStore.SessionStore
    return yield* store.loadTail(id, Number(window))
  }).pipe(
    Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(dataDir))))
  )
)
const elapsed = performance.now() - start
console.log(JSON.stringify({ ms: elapsed, dropped: load.dropped, kept: load.session.messages.length, fileBytes: load.fileBytes }))
