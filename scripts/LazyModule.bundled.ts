/**
 * services/internal/LazyModule.ts for the CLI's bundle (scripts/build-bin.ts
 * substitutes this file for it): the same loaders with literal imports, so
 * esbuild puts each module in a chunk of its own, loaded on first use. The
 * `satisfies` keeps the two files in step (`npm run check`).
 */
import type * as LazyModule from "../services/internal/LazyModule.ts"

export const sessionStorePostgres = () => import("../services/SessionStorePostgres.ts")
export const durableSinkPostgres = () => import("../services/DurableSinkPostgres.ts")
export const sessionSearchPostgres = () => import("../services/SessionSearchPostgres.ts")
export const nodeHttpServer = () => import("@effect/platform-node/NodeHttpServer")

export default { sessionStorePostgres, durableSinkPostgres, sessionSearchPostgres, nodeHttpServer } satisfies typeof LazyModule
