/**
 * Child program of the crash-safety test: takes the session's lease (taking
 * over the lock a killed predecessor left), saves two versions of one session
 * alternately, forever, under the lease, through SessionStore.layerFileSystem,
 * and prints `ready` after the first save. The parent kills it with SIGKILL.
 *
 * argv: <data dir> <session id> <workspace>
 */
import { Effect, Layer } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as Session_ from "../../schemas/Session.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionMetadata from "../../schemas/SessionMetadata.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"
import * as Usage from "../../schemas/Usage.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"

const [dataDir, id, workspace] = process.argv.slice(2) as [string, string, string]

const version = (name: string, messages: number): Session => ({
  id,
  title: name,
  createdAt: Timestamp.fromEpochNanos(0n),
  updatedAt: Timestamp.fromEpochNanos(BigInt(messages)),
  metadata: SessionMetadata.defaults(workspace),
  agent: "build",
  messages: Array.from({ length: messages }, (_, i) => Message.text("user", `${name} ${i} ${"y".repeat(2000)}`)),
  toolUses: [],
  usage: Usage.empty
})

const a = version("A", 400) // ~0.8 MB
const b = version("B", 1500) // ~3 MB

const program = Effect.gen(function*() {
  const store = yield* SessionStore.SessionStore
  const existing = yield* Effect.option(store.load(id))
  const start = existing._tag === "Some" ? existing.value : a
  const lease = yield* store.lease(start)
  let current = yield* lease.save(Session_.withRevision(a, Session_.revisionOf(start)))
  process.stdout.write("ready\n")
  for (let i = 0; ; i++) {
    current = yield* lease.save(Session_.withRevision(i % 2 === 0 ? b : a, Session_.revisionOf(current)))
  }
}).pipe(Effect.scoped)

Effect.runPromise(
  program.pipe(Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(dataDir)))))
).catch((e) => {
  process.stderr.write(`${e}\n`)
  process.exit(2)
})
