/**
 * A process that takes the lease of a stored session on PostgreSQL and holds
 * it until it is killed: `node hold-lease.ts <database url> <session id>`.
 * Prints `held` on stdout once it holds the lease.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as SessionStore from "../../../services/SessionStore.ts"

const [url, id] = process.argv.slice(2)

const program = Effect.scoped(Effect.gen(function*() {
  const store = yield* SessionStore.SessionStore
  const session = yield* store.load(id!)
  yield* store.lease(session)
  process.stdout.write("held\n")
  yield* Effect.never
})).pipe(Effect.provide(SessionStore.layerPostgres({ url: Redacted.make(url!) })))

Effect.runPromise(program).catch((e) => {
  process.stderr.write(`${String(e)}\n`)
  process.exit(1)
})
