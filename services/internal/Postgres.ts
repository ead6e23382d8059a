/**
 * The PostgreSQL database behind `SessionStore.layerPostgres` and
 * `DurableSink.layerPostgres`: one connection pool (`@effect/sql-pg`, a
 * native wire-protocol driver), connections of their own for leases, the
 * versioned schema migrations, and failure messages that name `host:port`
 * but never the password.
 *
 * Nothing connects until the first operation: {@link Database.ready}
 * connects and migrates once (a failed attempt is retried by the next call),
 * so a command that never touches sessions (`codetether config`) works while
 * the database is down.
 *
 * @internal
 */
import * as NodeOs from "node:os"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Migrator from "effect/sql/Migrator"
import * as SqlClient from "effect/sql/SqlClient"
import { SqlError } from "effect/sql/SqlError"

/**
 * The schema version this code writes and reads. A database whose
 * `codetether_schema.version` is higher was migrated by a newer codetether:
 * it is refused, untouched.
 */
export const SCHEMA_VERSION = 2

/** Connection settings (see `SessionStore.PostgresOptions`). */
export interface ConnectOptions {
  readonly url: Redacted.Redacted<string>
  /** Pool size (default 8). */
  readonly maxConnections?: number | undefined
  /** How long a connection attempt may take (ms, default 10,000). */
  readonly connectTimeoutMs?: number | undefined
}

/**
 * A failure talking to PostgreSQL, with a one-line `message` that names
 * `host:port` and the cause, never the password; `connectionLost` when the
 * connection (or the server) went away, which a retry may get past.
 */
export class PostgresError extends Data.TaggedError("PostgresError")<{
  readonly message: string
  readonly connectionLost: boolean
  readonly cause?: unknown
}> {}

/** A connection of a lease's own (see {@link Database.leaseConnection}). */
export interface LeaseConnection {
  readonly client: PgClient.PgClient
  /** Frees every advisory lock the connection holds, then {@link keep}s it (or discards it when that fails). */
  readonly release: Effect.Effect<void>
  /** Keeps the connection (whose locks the caller freed) for the next lease, or closes it when enough are kept. */
  readonly keep: Effect.Effect<void>
  /** Closes the connection (after it failed). */
  readonly discard: Effect.Effect<void>
}

/** Connections kept for the next leases once their lease ended. */
const IDLE_LEASE_CONNECTIONS = 4

/** The database: the pool, its readiness, connections of one's own, and error wording. */
export interface Database {
  /** The pool (statements, `withTransaction`). */
  readonly sql: PgClient.PgClient
  /** `host:port/database`, for messages. */
  readonly target: string
  /** Connects and migrates, once; later calls after a success cost nothing. */
  readonly ready: Effect.Effect<void, PostgresError>
  /**
   * A client on one connection of its own, for a lease to hold its lock on:
   * an idle one left by an earlier lease, or a new one. `release` frees every
   * advisory lock it holds and keeps it for the next lease (or closes it);
   * `discard` closes it (after it failed).
   */
  readonly leaseConnection: Effect.Effect<LeaseConnection, PostgresError>
  /** Turns a driver failure into a {@link PostgresError} (password-free message). */
  readonly fail: (what: string) => (cause: unknown) => PostgresError
}

/**
 * What the database is called in messages: `host:port/database` from the
 * URL (`localhost:5432` defaults, a Unix socket directory from `?host=`),
 * without user or password.
 */
export const describeTarget = (url: string): { readonly hostPort: string; readonly target: string } => {
  try {
    const parsed = new URL(url)
    const socket = parsed.searchParams.get("host")
    const host = parsed.hostname !== "" ? parsed.hostname : socket ?? "localhost"
    const hostPort = `${host}:${parsed.port === "" ? "5432" : parsed.port}`
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""))
    return { hostPort, target: database === "" ? hostPort : `${hostPort}/${database}` }
  } catch {
    return { hostPort: "(an unparsable database URL)", target: "(an unparsable database URL)" }
  }
}

/** The password of a database URL, if any (to scrub it from any text that might echo it). */
const passwordOf = (url: string): string | undefined => {
  try {
    const password = decodeURIComponent(new URL(url).password)
    return password === "" ? undefined : password
  } catch {
    return undefined
  }
}

const GENERIC = /^PgConnection: |^PgClient: /

/** The most specific message in a driver failure's cause chain. */
const causeText = (cause: unknown): string => {
  const messages: Array<string> = []
  const seen = new Set<unknown>()
  let current: unknown = cause
  while (typeof current === "object" && current !== null && !seen.has(current)) {
    seen.add(current)
    const record = current as { readonly message?: unknown; readonly reason?: unknown; readonly cause?: unknown; readonly code?: unknown }
    if (typeof record.message === "string" && record.message.length > 0) {
      messages.push(typeof record.code === "string" && /^[0-9A-Z]{5}$/.test(record.code) ? `${record.message} (SQLSTATE ${record.code})` : record.message)
    }
    current = current instanceof SqlError ? record.reason : record.cause
  }
  const specific = messages.filter((m) => !GENERIC.test(m))
  return (specific.at(-1) ?? messages.at(-1) ?? String(cause)).replace(/\s+/g, " ").trim()
}

/** SQLSTATE classes and codes after which the same statement may succeed on a new connection. */
const LOST_STATES = /^(08...|57P0[1-3]|53300)$/

/** Whether a driver failure means the connection or the server went away. */
export const isConnectionLoss = (cause: unknown): boolean => {
  if (!(cause instanceof SqlError)) return false
  if (cause.reason._tag === "ConnectionError") return true
  let current: unknown = cause.reason.cause
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && (LOST_STATES.test(code) || code === "ECONNRESET" || code === "EPIPE" || code === "ECONNREFUSED")) {
      return true
    }
    current = (current as { readonly cause?: unknown }).cause
  }
  return /connection (was )?(closed|terminated|ended)|socket (closed|hang up)/i.test(causeText(cause))
}

const hostName = NodeOs.hostname()

/**
 * The pool for `options.url` (nothing connects yet), closed with the scope.
 * Every connection announces itself as `codetether <host> <pid>`
 * (`application_name`: who holds a lock is visible in `pg_stat_activity`)
 * and asks the server to probe an idle client after 30 s (TCP keepalives), so
 * a lease of a machine that vanished is released within about a minute; a
 * lease of a process that died is released at once (its socket closes).
 */
export const make = (options: ConnectOptions): Effect.Effect<Database, never, Scope.Scope> =>
  Effect.gen(function*() {
    const url = Redacted.value(options.url)
    const { hostPort, target } = describeTarget(url)
    const password = passwordOf(url)
    const scrub = (text: string) => (password === undefined ? text : text.split(password).join("<redacted>"))
    const config: PgClient.PgPoolConfig = {
      url: options.url,
      maxConnections: options.maxConnections ?? 8,
      connectTimeout: `${options.connectTimeoutMs ?? 10_000} millis`,
      applicationName: `codetether ${hostName} ${process.pid}`.slice(0, 63),
      startupParameters: { tcp_keepalives_idle: "30", tcp_keepalives_interval: "10", tcp_keepalives_count: "3" },
      // a message row holds one whole message (an image attachment can be tens of MB)
      maxMessageSize: 1 << 30
    }
    const reactivity = yield* Reactivity.make
    const sql = yield* PgClient.make(config).pipe(
      Effect.provideService(Reactivity.Reactivity, reactivity),
      // building the pool does not connect (minConnections 0); a failure here is a bad URL
      Effect.orDie
    )

    const fail = (what: string) => (cause: unknown): PostgresError => {
      if (cause instanceof PostgresError) return cause
      const lost = isConnectionLoss(cause)
      const text = scrub(causeText(cause))
      return new PostgresError({
        message: lost ? `${what}: cannot reach PostgreSQL at ${hostPort}: ${text}` : `${what}: PostgreSQL at ${target}: ${text}`,
        connectionLost: lost,
        cause
      })
    }

    let migrated = false
    const gate = Semaphore.makeUnsafe(1)
    const ready: Effect.Effect<void, PostgresError> = Effect.suspend(() =>
      migrated ? Effect.void : gate.withPermits(1)(Effect.suspend(() =>
        migrated ? Effect.void : migrate(sql, target).pipe(
          Effect.mapError((e) =>
            e instanceof PostgresError ? e : new PostgresError({
              message: isConnectionLoss(e)
                ? `Cannot reach PostgreSQL at ${hostPort}: ${scrub(causeText(e))}`
                : `Cannot open the session database at ${target}: ${scrub(causeText(e))}`,
              connectionLost: isConnectionLoss(e),
              cause: e
            })
          ),
          Effect.tap(() => Effect.sync(() => (migrated = true)))
        )
      ))
    )

    const outer = yield* Effect.scope
    const idle: Array<{ readonly scope: Scope.Closeable; readonly client: PgClient.PgClient }> = []
    yield* Scope.addFinalizer(outer, Effect.sync(() => (idle.length = 0)))
    const open = Effect.gen(function*() {
      const scope = yield* Scope.fork(outer)
      const client = yield* PgClient.makeClient({ ...config }).pipe(
        Effect.provideService(Reactivity.Reactivity, reactivity),
        Scope.provide(scope),
        Effect.onError(() => Scope.close(scope, Exit.void)),
        Effect.mapError(fail("Cannot open a connection for the session lease"))
      )
      return { scope, client }
    })
    const wrap = (held: { readonly scope: Scope.Closeable; readonly client: PgClient.PgClient }): LeaseConnection => {
      const discard = Scope.close(held.scope, Exit.void)
      const keep = Effect.suspend(() => idle.length < IDLE_LEASE_CONNECTIONS ? Effect.sync(() => idle.push(held)) : discard)
      return {
        client: held.client,
        discard,
        keep,
        release: held.client`SELECT pg_advisory_unlock_all()`.pipe(
          Effect.timeout("2 seconds"),
          Effect.matchEffect({ onFailure: () => discard, onSuccess: () => keep })
        )
      }
    }
    const leaseConnection = Effect.suspend(() => {
      const reused = idle.pop()
      return reused !== undefined ? Effect.succeed(wrap(reused)) : Effect.map(open, wrap)
    })

    return { sql, target, ready, leaseConnection, fail }
  })

/**
 * Runs the migrations (a versioned list; each runs once, in a transaction,
 * recorded in `codetether_migrations`; concurrent starters wait on the
 * table lock) after refusing a schema newer than {@link SCHEMA_VERSION}.
 */
const migrate = (sql: SqlClient.SqlClient, target: string) =>
  Effect.gen(function*() {
    const version = yield* schemaVersion(sql)
    if (version !== undefined && version > SCHEMA_VERSION) {
      return yield* new PostgresError({
        message: `The session database at ${target} has codetether schema version ${version}, but this codetether ` +
          `knows versions up to ${SCHEMA_VERSION}: upgrade codetether (the database was not changed)`,
        connectionLost: false
      })
    }
    yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "codetether_migrations" }).pipe(
      Effect.provideService(SqlClient.SqlClient, sql)
    )
  })

const schemaVersion = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const exists = yield* sql<{ readonly found: number }>`SELECT 1 AS found WHERE to_regclass('codetether_schema') IS NOT NULL`
    if (exists.length === 0) return undefined
    const rows = yield* sql<{ readonly version: number }>`SELECT version FROM codetether_schema`
    return rows[0]?.version
  })

/**
 * The schema, version by version. Each migration ends by recording its
 * version in the single `codetether_schema` row.
 *
 * - `codetether_sessions`: one header row per session: `head` and `usage`
 *   hold the exact bytes of the session file before the messages
 *   (`{"id":…,"metadata":{…},"agent":…,"messages":[`) and of its `usage`
 *   value; the other columns are for queries and people (`title`,
 *   `directory` and `agent` with any NUL replaced, since `text` cannot hold
 *   one); `updated_sort` orders `updated_at` with nanosecond precision;
 *   `directory_key` is the canonical directory; `revision` is a value of the
 *   global `codetether_revision` sequence, renewed by every write; `epoch` is
 *   the revision of the last write that changed existing rows.
 * - `codetether_messages`, `codetether_tool_uses`: the exact encoded bytes of
 *   each message and tool use, keyed by (session, position).
 * - `codetether_leases`: who holds a session's lease (token, host, pid,
 *   start, the backend holding the advisory lock).
 * - `codetether_events`: the durable event records (`DurableSink`).
 *
 * Version 2 adds the trash (`SessionStore` `trash`, `restore`, `listTrash`,
 * `purge`): `codetether_trash` holds a trashed session's header row as it
 * was (the same columns, its `revision` and `epoch` kept, so a restore puts
 * back exactly the stored state that was trashed) with the deletion time
 * (`deleted_ms`, ms since the epoch, from the trashing process's clock) and
 * a `trash_id` of its own, since one id can be in the trash several times;
 * `codetether_trash_messages` and `codetether_trash_tool_uses` hold its rows,
 * moved there unchanged.
 */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "1_sessions": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE codetether_schema (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      version integer NOT NULL
    )`
    yield* sql`CREATE SEQUENCE codetether_revision`
    yield* sql`CREATE TABLE codetether_sessions (
      id text PRIMARY KEY,
      head bytea NOT NULL,
      usage bytea NOT NULL,
      title text,
      created_at text NOT NULL,
      updated_at text NOT NULL,
      updated_sort text COLLATE "C" NOT NULL,
      directory text,
      directory_key bytea,
      agent text NOT NULL,
      message_count integer NOT NULL,
      tool_use_count integer NOT NULL,
      message_bytes bigint NOT NULL,
      tool_use_bytes bigint NOT NULL,
      revision bigint NOT NULL,
      epoch bigint NOT NULL,
      written_at timestamptz NOT NULL DEFAULT now()
    )`
    yield* sql`CREATE INDEX codetether_sessions_directory ON codetether_sessions (directory_key, revision DESC)`
    yield* sql`CREATE INDEX codetether_sessions_updated ON codetether_sessions (updated_sort DESC, id)`
    yield* sql`CREATE TABLE codetether_messages (
      session_id text NOT NULL REFERENCES codetether_sessions (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      bytes bytea NOT NULL,
      PRIMARY KEY (session_id, seq)
    )`
    yield* sql`CREATE TABLE codetether_tool_uses (
      session_id text NOT NULL REFERENCES codetether_sessions (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      bytes bytea NOT NULL,
      PRIMARY KEY (session_id, seq)
    )`
    yield* sql`CREATE TABLE codetether_leases (
      session_id text PRIMARY KEY,
      token text NOT NULL,
      host text NOT NULL,
      pid integer NOT NULL,
      started_at text NOT NULL,
      backend_pid integer NOT NULL
    )`
    yield* sql`CREATE TABLE codetether_events (
      session_id text NOT NULL,
      seq bigint NOT NULL,
      ts text NOT NULL,
      kind text NOT NULL,
      payload text NOT NULL,
      PRIMARY KEY (session_id, seq)
    )`
    yield* sql`INSERT INTO codetether_schema (version) VALUES (1)`
  }),
  "2_trash": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE codetether_trash (
      trash_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      session_id text NOT NULL,
      deleted_ms bigint NOT NULL,
      head bytea NOT NULL,
      usage bytea NOT NULL,
      title text,
      created_at text NOT NULL,
      updated_at text NOT NULL,
      updated_sort text COLLATE "C" NOT NULL,
      directory text,
      directory_key bytea,
      agent text NOT NULL,
      message_count integer NOT NULL,
      tool_use_count integer NOT NULL,
      message_bytes bigint NOT NULL,
      tool_use_bytes bigint NOT NULL,
      revision bigint NOT NULL,
      epoch bigint NOT NULL,
      UNIQUE (session_id, deleted_ms)
    )`
    yield* sql`CREATE INDEX codetether_trash_deleted ON codetether_trash (deleted_ms DESC, trash_id DESC)`
    yield* sql`CREATE TABLE codetether_trash_messages (
      trash_id bigint NOT NULL REFERENCES codetether_trash (trash_id) ON DELETE CASCADE,
      seq integer NOT NULL,
      bytes bytea NOT NULL,
      PRIMARY KEY (trash_id, seq)
    )`
    yield* sql`CREATE TABLE codetether_trash_tool_uses (
      trash_id bigint NOT NULL REFERENCES codetether_trash (trash_id) ON DELETE CASCADE,
      seq integer NOT NULL,
      bytes bytea NOT NULL,
      PRIMARY KEY (trash_id, seq)
    )`
    yield* sql`UPDATE codetether_schema SET version = 2`
  })
}
