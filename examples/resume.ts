import { Console, Effect, Layer } from "effect"
import { DataDir, SessionStore } from "codetether"

// What `codetether run --continue` resumes in this directory, with its last 20 messages.
const program = Effect.gen(function*() {
  const store = yield* SessionStore.SessionStore
  const { session, dropped } = yield* store.lastForDirectory(process.cwd(), { window: 20 })
  yield* Console.log(`${session.title ?? "(untitled)"}: ${session.messages.length} messages shown, ${dropped} older`)
})

// The file-system store in the data dir codetether-agent 4.5.7 would use
// (CODETETHER_DATA_DIR, else <git root>/.codetether-agent).
const StoreLive = SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layer))

Effect.runPromise(program.pipe(
  Effect.provide(StoreLive),
  Effect.catchTag("SessionStoreError", (e) => Console.error(e.message))
))
