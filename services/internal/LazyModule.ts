/**
 * The modules codetether loads on first use (the PostgreSQL store, sink and
 * search; the HTTP server of `@effect/platform-node`), imported so that
 * bundlers do not follow them.
 *
 * A literal `import("./x.ts")` puts `x` and everything it imports into an
 * app's bundle even when the code doing the import is never called, and
 * makes esbuild wrap every module reachable from there in lazy initialisers
 * that defeat its tree shaking: an app that bundled only the file store
 * carried the PostgreSQL driver, re2js and effect modules it never used
 * (679,566 bytes instead of ~206,000), and could not be bundled at all
 * without `@effect/sql-pg` installed. Here the specifiers are computed, so
 * bundlers leave them to run time. An app that bundles codetether and uses
 * PostgreSQL imports `codetether/SessionStorePostgres` (its `layer`) itself.
 *
 * The CLI's own bundle (scripts/build-bin.ts) replaces this module with
 * scripts/LazyModule.bundled.ts, whose imports are literal: there each of
 * these is a chunk loaded on first use.
 *
 * @internal
 */

/** A module of this package, relative to this file (`.ts` from the sources, `.js` once compiled). */
const own = (path: string): string =>
  new URL(`${path}${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href

/** An import whose specifier is a value: bundlers do not resolve it. */
const load = <A>(specifier: string): Promise<A> => import(specifier) as Promise<A>

/** `services/SessionStorePostgres.ts`. */
export const sessionStorePostgres = (): Promise<typeof import("../SessionStorePostgres.ts")> =>
  load(own("../SessionStorePostgres"))

/** `services/DurableSinkPostgres.ts`. */
export const durableSinkPostgres = (): Promise<typeof import("../DurableSinkPostgres.ts")> =>
  load(own("../DurableSinkPostgres"))

/** `services/SessionSearchPostgres.ts`. */
export const sessionSearchPostgres = (): Promise<typeof import("../SessionSearchPostgres.ts")> =>
  load(own("../SessionSearchPostgres"))

/** `@effect/platform-node/NodeHttpServer` (an optional peer). */
export const nodeHttpServer = (): Promise<typeof import("@effect/platform-node/NodeHttpServer")> =>
  load("@effect/platform-node/NodeHttpServer")
