/**
 * Databases on the test run's PostgreSQL server (PostgresGlobalSetup.ts):
 * `database()` creates a new empty database and returns its URL, so test
 * files (and tests) never see each other's rows. Databases live until the
 * server is removed at the end of the run.
 */
import * as NodeCrypto from "node:crypto"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Clock, Context, Effect, Layer, Redacted, Tracer } from "effect"
import type { TestClock } from "effect/testing"
import * as Reactivity from "effect/reactivity/Reactivity"
import type * as Scope from "effect/Scope"
import { inject } from "vitest"
import * as DurableSink from "../../services/DurableSink.ts"
import type * as SessionStore from "../../services/SessionStore.ts"
import { SessionStore as SessionStoreService } from "../../services/SessionStore.ts"
import * as SessionStorePostgres from "../../services/SessionStorePostgres.ts"

/** The server's admin URL (database `postgres`). */
export const serverUrl = (): string => inject("pgUrl")

/** `url` with another database name. */
export const withDatabase = (url: string, name: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/** Runs `statements` on the admin database. */
export const admin = (...statements: ReadonlyArray<string>): Promise<void> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const sql = yield* PgClient.makeClient({ url: Redacted.make(serverUrl()) })
    for (const statement of statements) yield* sql.unsafe(statement)
  })).pipe(Effect.provide(Reactivity.layer)))

/** A new empty database on the test server; returns its URL. */
export const database = async (): Promise<string> => {
  const name = `ct_${NodeCrypto.randomBytes(6).toString("hex")}`
  await admin(`CREATE DATABASE ${name}`)
  return withDatabase(serverUrl(), name)
}

/** A client on `url` for assertions on the tables (closed with the scope). */
export const client = (url: string): Effect.Effect<PgClient.PgClient, never, Scope.Scope> =>
  PgClient.make({ url: Redacted.make(url), maxConnections: 2 }).pipe(Effect.provide(Reactivity.layer), Effect.orDie)

/** Options of a store on `url` for tests (short retry window unless given). */
export const options = (url: string, more: Partial<SessionStore.PostgresOptions> = {}): SessionStore.PostgresOptions => ({
  url: Redacted.make(url),
  retryMs: 2_000,
  ...more
})

/**
 * Runs `effect` with the real clock when the test runs on a `TestClock`: the
 * pool's idle-connection check runs once a minute on the clock it was built
 * with, so a test that moves a TestClock years ahead (`TestClock.setTime`)
 * would run it millions of times. The store's operations still take the time
 * of the fiber that calls them (the TestClock).
 */
const withRealClock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const clock = fiber.getRef(Clock.Clock) as Clock.Clock & { readonly withLive?: typeof TestClock.withLive }
    return clock.withLive === undefined ? effect : clock.withLive(effect)
  })

/** A store, the durable sink and their database handle on `url` (one pool), closed with the scope. */
export const store = (url: string, more: Partial<SessionStore.PostgresOptions> = {}) =>
  Effect.map(withRealClock(Layer.build(SessionStorePostgres.layerServices(options(url, more)).pipe(
    Layer.provideMerge(SessionStorePostgres.layerDatabase(options(url, more)))
  ))), (context) => ({
    store: Context.get(context, SessionStoreService),
    sink: Context.get(context, DurableSink.DurableSink),
    db: Context.get(context, SessionStorePostgres.Database),
    context
  }))

/** Runs `effect` counting the SQL statements it sends (the driver's client spans). */
export const statements = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const base = yield* Effect.tracer
    let count = 0
    const counting = Tracer.make({
      span(options) {
        if (options.kind === "client") count++
        return base.span(options)
      }
    })
    const value = yield* Effect.withTracer(effect, counting)
    return { value, count }
  })
