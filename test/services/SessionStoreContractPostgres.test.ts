/**
 * The SessionStore contract and the derived store operations, run against the
 * PostgreSQL store on the run's throwaway server (test/utils/Postgres.ts).
 * Kept apart from SessionStore.test.ts and SessionStoreOperations.test.ts so
 * the compat run (test/compat) takes the memory and file stores only.
 */
import { Effect } from "effect"
import * as Postgres from "../utils/Postgres.ts"
import { runContract } from "./contracts/SessionStoreContract.ts"
import { runOperations } from "./contracts/SessionStoreOperations.ts"

// a database of its own per test: no rows, leases or marks shared between tests
const store = Effect.gen(function*() {
  const url = yield* Effect.promise(() => Postgres.database())
  return (yield* Postgres.store(url)).store
})

runContract("layerPostgres", store)

runOperations("layerPostgres", store)
