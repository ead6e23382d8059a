/**
 * The SessionStore contract, run against the in-memory and file-system stores
 * (the PostgreSQL store's run is SessionStoreContractPostgres.test.ts: the
 * compat run of .ci/run takes this file and not that one).
 */
import * as NodeFs from "node:fs"
import { Effect, Layer } from "effect"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as TempDir from "../utils/TempDir.ts"
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
