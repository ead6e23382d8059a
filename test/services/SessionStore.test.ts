/**
 * The SessionStore contract, run against the in-memory, file-system and PostgreSQL stores.
 */
import * as NodeFs from "node:fs"
import { Effect, Layer } from "effect"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as TempDir from "../utils/TempDir.ts"
import * as Postgres from "../utils/Postgres.ts"
import { runContract } from "./contracts/SessionStoreContract.ts"

runContract("layerMemory", Effect.sync(SessionStore.makeMemory))

runContract(
  "layerFileSystem",
  Effect.gen(function*() {
    const dir = yield* TempDir.make()
    NodeFs.mkdirSync(`${dir}/work/project`, { recursive: true })
    return yield* SessionStore.SessionStore.pipe(
      Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(`${dir}/data`))))
    )
  })
)

runContract(
  "layerPostgres",
  Effect.gen(function*() {
    // a database of its own per test: no rows, leases or marks shared between tests
    const url = yield* Effect.promise(() => Postgres.database())
    return (yield* Postgres.store(url)).store
  })
)
