/**
 * The session store on PostgreSQL (`SessionStore.layerPostgres`): one set of
 * sessions for every machine that reaches the database, with the file
 * store's contract (leases, conditional saves) and its bytes.
 *
 * Storage (see `internal/Postgres.ts` for the schema): a header row per
 * session holding the exact bytes of the session file before the messages
 * and of its `usage`, plus query columns; one row per message and per tool
 * use holding its exact encoded bytes. A session's file-store encoding is
 * those pieces concatenated, so a load decodes exactly what the file store
 * would, and `sessions show --json` prints the same bytes from either store.
 *
 * Saves are one transaction each, conditional on the revision (a value of
 * the `codetether_revision` sequence, renewed by every write). A save whose
 * stored rows are a prefix of the new messages (the common case: a prompt
 * appended a turn) inserts only the new rows and updates the header; a save
 * that changed earlier messages (compaction, truncation, a tail-loaded value)
 * deletes the rows from the first change on and writes them again. Which
 * rows are unchanged is known without reading or hashing them: every message
 * object this store loaded or saved is marked with its row and the session's
 * rewrite epoch (session values are immutable and share unchanged messages).
 *
 * Leases: a session-level advisory lock (key: 64 bits of SHA-256 of the id)
 * held on a connection of the lease's own, plus a `codetether_leases` row
 * naming the holder (host, pid, start) with a random token. The lock ties
 * the lease to the holder's connection: when the process dies its socket
 * closes and PostgreSQL releases the lock at once (a machine that vanished:
 * within about a minute, by the server's TCP keepalives set on every
 * connection). A row whose holder does not hold the lock is stale. Other
 * writers take the same lock in shared mode for the length of their
 * transaction, so they are refused (`SessionBusy`) while a lease is held. The
 * token decides who may save: a forced takeover or a forced delete changes or
 * removes the row, and the old holder's next save fails with `LeaseLost`. A
 * holder whose connection dropped reconnects, takes the lock again and goes
 * on if its token is still in the row.
 *
 * Trash: `trash` moves the header row and the message and tool use rows, as
 * they are, into the trash tables (`codetether_trash*`, one entry per trashed
 * copy, so one id can be there several times) with the deletion time, in one
 * transaction under the same lease rules as `delete`; `restore` moves the
 * newest copy back (never over a live session), its revision included, so
 * the restored session is the very state that was trashed; `purge` deletes
 * entries for good.
 *
 * Connection loss: a save is retried with backoff for `retryMs` (30 s); if
 * it still fails, the session as it stood is written to
 * `<recoveryDir>/<id>.json` and the save fails naming that file.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodePath from "node:path"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import * as Stream from "effect/Stream"
import type { Message } from "../schemas/Message.ts"
import * as Session_ from "../schemas/Session.ts"
import type { Session, TailLoad } from "../schemas/Session.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import * as SessionSummary_ from "../schemas/SessionSummary.ts"
import type { SessionSummary } from "../schemas/SessionSummary.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as DurableSink from "./DurableSink.ts"
import * as DurableSinkPostgres from "./DurableSinkPostgres.ts"
import { AtomicWriteError, writeFileAtomic } from "./internal/AtomicWrite.ts"
import { canonicalize, normalizeComponents } from "./internal/Paths.ts"
import * as Postgres from "./internal/Postgres.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import { hostName } from "./internal/SessionLock.ts"
import {
  busyMessage,
  checkRevision,
  checkWindow,
  conflict,
  deletedAtOf,
  type ForceOptions,
  type LastOptions,
  type Lease,
  type LeaseHolder,
  noSessions,
  notInTrash,
  type PostgresOptions,
  purgeCutoff,
  type PurgeOptions,
  restoreConflict,
  SessionBusy,
  SessionStore,
  SessionStoreError,
  type TrashedSession,
  type TrashEntry,
  validateId
} from "./SessionStore.ts"

/** How long a write waits for another writer's short transaction, or a lease being taken (ms). */
const SHORT_WAIT_MS = 2_000
/** How long a forced takeover waits for the previous holder's lock to go (ms). */
const TAKEOVER_WAIT_MS = 5_000
/** Rows per INSERT, and bytes per INSERT, when writing messages. */
const BATCH_ROWS = 1_000
const BATCH_BYTES = 8 << 20
/** Session ids whose row marks are kept (the least recently used are forgotten). */
const MARKED_SESSIONS = 10_000

const encoder = new TextEncoder()
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const TOOL_USES_OPEN = encoder.encode(`],"tool_uses":[`)
const USAGE_KEY = encoder.encode(`],"usage":`)
const CLOSE = encoder.encode("}")
const COMMA = encoder.encode(",")
const EMPTY_TOOL_USES = encoder.encode(`],"tool_uses":[],"usage":`)

/** Sleeps in real time, whatever Clock the caller runs with (a TestClock would never wake up). */
const sleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

// ---------------------------------------------------------------------------
// Encoding: a session as the pieces the tables hold
// ---------------------------------------------------------------------------

/**
 * The bytes of a session's file-store encoding that are not messages or tool
 * uses: `head` (from `{` through `"messages":[`) and the `usage` value.
 */
const framePieces = (session: Session): { readonly head: Uint8Array; readonly usage: Uint8Array } => {
  const frame = SessionJson.encodeFrame({ ...session, toolUses: [] })
  const tail = frame.tail
  const prefix = EMPTY_TOOL_USES
  const matches = tail.length > prefix.length && prefix.every((byte, i) => tail[i] === byte) &&
    tail[tail.length - 1] === CLOSE[0]
  if (!matches) throw new Error("the session frame does not end with tool_uses and usage")
  return { head: frame.head, usage: tail.subarray(prefix.length, tail.length - 1) }
}

/** The file-store encoding of a session from its pieces, as chunks. */
const assemble = (
  head: Uint8Array,
  messages: ReadonlyArray<Uint8Array>,
  toolUses: ReadonlyArray<Uint8Array>,
  usage: Uint8Array
): ReadonlyArray<Uint8Array> => {
  const chunks: Array<Uint8Array> = [head]
  messages.forEach((bytes, i) => chunks.push(...(i === 0 ? [bytes] : [COMMA, bytes])))
  chunks.push(TOOL_USES_OPEN)
  toolUses.forEach((bytes, i) => chunks.push(...(i === 0 ? [bytes] : [COMMA, bytes])))
  chunks.push(USAGE_KEY, usage, CLOSE)
  return chunks
}

/** The size of the file-store encoding from the header's counts (bytes). */
const encodedSize = (header: HeaderRow): number => {
  const commas = (n: number) => Math.max(0, n - 1)
  return header.head.length + Number(header.message_bytes) + commas(header.message_count) + TOOL_USES_OPEN.length +
    Number(header.tool_use_bytes) + commas(header.tool_use_count) + USAGE_KEY.length + header.usage.length + CLOSE.length
}

/** `updated_at` as a string that sorts like the instant (`Timestamp.compare`), nanosecond precision. */
const sortKey = (ts: string): string => `${ts.slice(0, 19)}.${ts.length > 20 ? ts.slice(20, -1).padEnd(9, "0") : "000000000"}`

/** `text` cannot hold NUL: the query columns replace it (the bytes columns keep everything). */
const textColumn = (value: string | null): string | null => (value === null ? null : value.replaceAll("\u0000", "\uFFFD"))

/** The header row's columns of `session` (besides counts and revisions). */
const headerColumns = (session: Session, pieces: { readonly head: Uint8Array; readonly usage: Uint8Array }) => ({
  head: pieces.head,
  usage: pieces.usage,
  title: textColumn(session.title),
  createdAt: session.createdAt,
  updatedAt: session.updatedAt,
  updatedSort: sortKey(session.updatedAt),
  directory: textColumn(session.metadata.directory),
  directoryKey: session.metadata.directory === null ? null : directoryKey(session.metadata.directory),
  agent: textColumn(session.agent) ?? ""
})

/** The canonical directory a session belongs to, as the index key (4.5.7 canonicalises the workspace). */
const directoryKey = (directory: string): Uint8Array => encoder.encode(normalizeComponents(canonicalize(directory)))

/**
 * The advisory lock key of a session (64 bits of SHA-256 of the id), and its
 * two halves as `pg_locks` shows them (`classid`, `objid`).
 */
const lockKey = (id: string) => {
  const digest = NodeCrypto.createHash("sha256").update(`codetether/session/${id}`).digest()
  const key = digest.readBigInt64BE(0)
  return { key, hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) }
}
type LockKey = ReturnType<typeof lockKey>

// ---------------------------------------------------------------------------
// Row marks: which stored row an in-memory message is
// ---------------------------------------------------------------------------

/** "This object is row `seq` of the session, as written in rewrite epoch `epoch`; `bytes` long." */
interface Mark {
  readonly seq: number
  readonly epoch: bigint
  readonly bytes: number
}

/**
 * The marks of one array of a session (messages or tool uses), and the last
 * array written or loaded whole (held weakly): a value derived from it by
 * appending shares its items, so most saves compare pointers, not marks.
 */
interface ArrayMarks {
  readonly marks: WeakMap<object, Mark>
  last: { readonly items: WeakRef<ReadonlyArray<object>>; readonly epoch: bigint } | undefined
}

/** What is stored at `revision` (known from this store's last write or load of the session). */
interface StoredState {
  readonly revision: string
  readonly epoch: bigint
  readonly messageCount: number
  readonly toolUseCount: number
  readonly messageBytes: bigint
  readonly toolUseBytes: bigint
}

interface Marks {
  readonly messages: ArrayMarks
  readonly toolUses: ArrayMarks
  state: StoredState | undefined
}

/**
 * The number of leading items of `items` that are stored rows `0..n-1`
 * unchanged (the same objects as the last array stored in this epoch, or
 * marked with their own position and the stored epoch), at most `stored`.
 */
const unchangedPrefix = (
  marks: ArrayMarks | undefined,
  items: ReadonlyArray<object>,
  stored: number,
  epoch: bigint
): number => {
  const limit = Math.min(items.length, stored)
  if (marks === undefined) return 0
  let i = 0
  const last = marks.last?.epoch === epoch ? marks.last.items.deref() : undefined
  if (last !== undefined && last.length === stored) {
    while (i < limit && items[i] === last[i]) i++
  }
  for (; i < limit; i++) {
    const mark = marks.marks.get(items[i]!)
    if (mark === undefined || mark.seq !== i || mark.epoch !== epoch) return i
  }
  return limit
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

const HeaderRow = Schema.Struct({
  head: Schema.Uint8Array,
  usage: Schema.Uint8Array,
  updated_at: Schema.String,
  message_count: Schema.Int,
  tool_use_count: Schema.Int,
  message_bytes: Schema.BigInt,
  tool_use_bytes: Schema.BigInt,
  revision: Schema.BigInt,
  epoch: Schema.BigInt
})
type HeaderRow = typeof HeaderRow.Type

const BeginRow = Schema.Struct({
  free: Schema.Boolean,
  token: Schema.NullOr(Schema.String),
  next: Schema.BigInt,
  revision: Schema.NullOr(Schema.BigInt)
})
const decodeBeginRow = Schema.decodeUnknownEffect(BeginRow)
const decodeHeaderRow = Schema.decodeUnknownEffect(HeaderRow)

/** The first row of a write: the guard's outcome, the next revision and the header (when stored). */
const decodeBegin = (row: unknown) =>
  Effect.gen(function*() {
    const begin = yield* decodeBeginRow(row)
    const header = begin.revision === null ? undefined : yield* decodeHeaderRow(row)
    return { free: begin.free, token: begin.token, next: begin.next, header }
  })

const LeaseRow = Schema.Struct({
  token: Schema.String,
  host: Schema.String,
  pid: Schema.Int,
  started_at: Schema.String,
  backend_pid: Schema.Int,
  live: Schema.Boolean
})
type LeaseRow = typeof LeaseRow.Type

const LockHolderRow = Schema.Struct({
  application_name: Schema.NullOr(Schema.String),
  backend_start: Schema.NullOr(Schema.Date),
  mode: Schema.String,
  pid: Schema.Int
})

const ListRow = Schema.Struct({
  id: Schema.String,
  head: Schema.Uint8Array,
  usage: Schema.Uint8Array,
  message_count: Schema.Int
})

interface BytesRow {
  readonly seq: number
  readonly bytes: Uint8Array
}

/** A trashed copy: its own id, the session's id, when it was trashed (ms) and its header bytes. */
const TrashRow = Schema.Struct({
  trash_id: Schema.BigInt,
  session_id: Schema.String,
  deleted_ms: Schema.BigInt,
  head: Schema.Uint8Array,
  usage: Schema.Uint8Array,
  message_count: Schema.Int
})
type TrashRow = typeof TrashRow.Type

/** Most recently trashed first (copies of one id never share a time; the trash id breaks other ties). */
const newestTrashedFirst = (
  a: { readonly deleted_ms: bigint; readonly trash_id: bigint },
  b: { readonly deleted_ms: bigint; readonly trash_id: bigint }
): number => (a.deleted_ms === b.deleted_ms ? Number(b.trash_id - a.trash_id) : b.deleted_ms > a.deleted_ms ? 1 : -1)

/** The listing entry of a trashed copy: its summary from the header bytes, or why they do not decode. */
const trashedSession = (target: string, row: TrashRow): TrashedSession => {
  const entry = { id: row.session_id, deletedAt: deletedAtOf(Number(row.deleted_ms)) }
  const decoded = SessionJson.decode(SessionJson.concat([row.head, ...assembleEmpty(row.usage)]))
  if (Result.isFailure(decoded)) {
    return { ...entry, summary: undefined, problem: `trashed session ${row.session_id} in the PostgreSQL store at ${target} is not a valid session: ${decoded.failure.message}` }
  }
  if (decoded.success.id !== row.session_id) {
    return { ...entry, summary: undefined, problem: `trashed session ${row.session_id} in the PostgreSQL store at ${target} holds session ${decoded.success.id}` }
  }
  return { ...entry, summary: { ...SessionSummary_.fromSession(decoded.success), messageCount: row.message_count } }
}

/** The statements of the store, for one client (the pool, or a lease's own connection). */
const makeQueries = (sql: SqlClient.SqlClient) => {
  const header = SqlSchema.findOneOption({
    Request: Schema.String,
    Result: HeaderRow,
    execute: (id) =>
      sql`SELECT head, usage, updated_at, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch
          FROM codetether_sessions WHERE id = ${id}`
  })
  const leaseRow = SqlSchema.findOneOption({
    Request: Schema.Struct({ id: Schema.String, hi: Schema.Number, lo: Schema.Number }),
    Result: LeaseRow,
    execute: ({ hi, id, lo }) =>
      sql`SELECT l.token, l.host, l.pid, l.started_at, l.backend_pid,
            EXISTS (SELECT 1 FROM pg_locks k
                    WHERE k.locktype = 'advisory' AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND k.classid::bigint = ${hi} AND k.objid::bigint = ${lo} AND k.objsubid = 1
                      AND k.mode = 'ExclusiveLock' AND k.granted AND k.pid = l.backend_pid) AS live
          FROM codetether_leases l WHERE l.session_id = ${id}`
  })
  const lockHolder = SqlSchema.findOneOption({
    Request: Schema.Struct({ hi: Schema.Number, lo: Schema.Number }),
    Result: LockHolderRow,
    execute: ({ hi, lo }) =>
      sql`SELECT a.application_name, a.backend_start, k.mode, k.pid
          FROM pg_locks k LEFT JOIN pg_stat_activity a ON a.pid = k.pid
          WHERE k.locktype = 'advisory' AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND k.classid::bigint = ${hi} AND k.objid::bigint = ${lo} AND k.objsubid = 1 AND k.granted
          ORDER BY k.mode DESC LIMIT 1`
  })
  const rows = (table: "messages" | "tool_uses", id: string, from: number) =>
    Effect.map(
      table === "messages"
        ? sql<BytesRow>`SELECT seq, bytes FROM codetether_messages WHERE session_id = ${id} AND seq >= ${from} ORDER BY seq`
        : sql<BytesRow>`SELECT seq, bytes FROM codetether_tool_uses WHERE session_id = ${id} AND seq >= ${from} ORDER BY seq`,
      (result): ReadonlyArray<BytesRow> => result
    )
  const insertRows = (table: "messages" | "tool_uses", id: string, seqs: ReadonlyArray<number>, bytes: ReadonlyArray<Uint8Array>) =>
    table === "messages"
      ? sql`INSERT INTO codetether_messages (session_id, seq, bytes)
            SELECT ${id}, t.seq, t.bytes FROM unnest(${seqs}::integer[], ${bytes}::bytea[]) AS t(seq, bytes)`
      : sql`INSERT INTO codetether_tool_uses (session_id, seq, bytes)
            SELECT ${id}, t.seq, t.bytes FROM unnest(${seqs}::integer[], ${bytes}::bytea[]) AS t(seq, bytes)`
  const deleteRows = (table: "messages" | "tool_uses", id: string, from: number) =>
    table === "messages"
      ? sql`DELETE FROM codetether_messages WHERE session_id = ${id} AND seq >= ${from}`
      : sql`DELETE FROM codetether_tool_uses WHERE session_id = ${id} AND seq >= ${from}`
  /**
   * The first statement of a write: the guard (the shared lock, or the lease
   * row's token, locked), the next revision, and the header row locked, in
   * one round trip.
   */
  const beginWrite = (id: string, guard: { readonly key: bigint } | { readonly lease: true }) =>
    Effect.flatMap(
      "key" in guard
        ? sql`SELECT pg_try_advisory_xact_lock_shared(${guard.key}) AS free, NULL::text AS token,
                nextval('codetether_revision') AS next, h.*
              FROM (SELECT 1) AS one LEFT JOIN LATERAL (
                SELECT head, usage, updated_at, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch
                FROM codetether_sessions WHERE id = ${id} FOR UPDATE) AS h ON true`
        : sql`SELECT true AS free, l.token, nextval('codetether_revision') AS next, h.*
              FROM (SELECT 1) AS one
              LEFT JOIN LATERAL (SELECT token FROM codetether_leases WHERE session_id = ${id} FOR UPDATE) AS l ON true
              LEFT JOIN LATERAL (
                SELECT head, usage, updated_at, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch
                FROM codetether_sessions WHERE id = ${id} FOR UPDATE) AS h ON true`,
      (rows) => decodeBegin(rows[0])
    )
  return {
    sql,
    beginWrite,
    header,
    leaseRow,
    lockHolder,
    rows,
    insertRows,
    deleteRows,
    list: SqlSchema.findAll({
      Request: Schema.NullOr(Schema.Uint8Array),
      Result: ListRow,
      execute: (key) =>
        key === null
          ? sql`SELECT id, head, usage, message_count FROM codetether_sessions ORDER BY updated_sort DESC, id`
          : sql`SELECT id, head, usage, message_count FROM codetether_sessions WHERE directory_key = ${key}
                ORDER BY updated_sort DESC, id`
    }),
    lastIds: SqlSchema.findAll({
      Request: Schema.Struct({ key: Schema.Uint8Array, offset: Schema.Number }),
      Result: Schema.Struct({ id: Schema.String }),
      execute: ({ key, offset }) =>
        sql`SELECT id FROM codetether_sessions WHERE directory_key = ${key} ORDER BY revision DESC LIMIT 20 OFFSET ${offset}`
    }),
    trashList: SqlSchema.findAll({
      Request: Schema.Void,
      Result: TrashRow,
      execute: () =>
        sql`SELECT trash_id, session_id, deleted_ms, head, usage, message_count FROM codetether_trash
            ORDER BY deleted_ms DESC, trash_id DESC`
    })(undefined),
    /** The most recently trashed copy of `id`, locked. */
    newestTrashed: SqlSchema.findOneOption({
      Request: Schema.String,
      Result: TrashRow,
      execute: (id) =>
        sql`SELECT trash_id, session_id, deleted_ms, head, usage, message_count FROM codetether_trash
            WHERE session_id = ${id} ORDER BY deleted_ms DESC, trash_id DESC LIMIT 1 FOR UPDATE`
    }),
    tryLock: (key: bigint) =>
      Effect.map(sql<{ readonly got: boolean }>`SELECT pg_try_advisory_lock(${key}) AS got`, (rows) => rows[0]?.got === true),
    trySharedXactLock: (key: bigint) =>
      Effect.map(
        sql<{ readonly got: boolean }>`SELECT pg_try_advisory_xact_lock_shared(${key}) AS got`,
        (rows) => rows[0]?.got === true
      ),
    leaseToken: (id: string) =>
      Effect.map(
        sql<{ readonly token: string }>`SELECT token FROM codetether_leases WHERE session_id = ${id} FOR UPDATE`,
        (rows) => rows[0]?.token
      )
  }
}
type Queries = ReturnType<typeof makeQueries>

const queriesCache = new WeakMap<SqlClient.SqlClient, Queries>()
/** The statements for `sql`, made once per client. */
const queriesOf = (sql: SqlClient.SqlClient): Queries => {
  let queries = queriesCache.get(sql)
  if (queries === undefined) queriesCache.set(sql, queries = makeQueries(sql))
  return queries
}

/**
 * Decodes a session from its header row and its (last) message and tool use
 * rows with the file store's decoder over the same bytes; `label` names it in
 * messages (`Session`, `Trashed session`). Fails with `Corrupt` or
 * `IdMismatch`.
 */
const decodeRows = (
  target: string,
  label: string,
  id: string,
  read: {
    readonly header: Pick<HeaderRow, "head" | "usage" | "message_count" | "tool_use_count">
    readonly messages: ReadonlyArray<BytesRow>
    readonly toolUses: ReadonlyArray<BytesRow>
  }
): Effect.Effect<Session, SessionStoreError> =>
  Effect.suspend(() => {
    const { header, messages, toolUses } = read
    const corrupt = (detail: string) =>
      new SessionStoreError({
        reason: "Corrupt",
        message: `${label} ${id} in the PostgreSQL store at ${target} is not a valid session: ${detail}`,
        sessionId: id
      })
    const contiguous = (rows: ReadonlyArray<BytesRow>, count: number) => rows.every((row, i) => row.seq === count - rows.length + i)
    if (!contiguous(messages, header.message_count) || !contiguous(toolUses, header.tool_use_count)) {
      return Effect.fail(corrupt("its message or tool use rows do not match the counts in its header row"))
    }
    const parse = (bytes: Uint8Array, what: string): unknown => {
      try {
        return JSON.parse(utf8.decode(bytes))
      } catch (e) {
        throw new Error(`${what} is not valid JSON: ${(e as Error).message}`)
      }
    }
    let value: Record<string, unknown>
    try {
      value = parse(SessionJson.concat([header.head, ...assembleEmpty(header.usage)]), "its header row") as Record<string, unknown>
      value.messages = messages.map((row) => parse(row.bytes, `message row ${row.seq}`))
      value.tool_uses = toolUses.map((row) => parse(row.bytes, `tool use row ${row.seq}`))
    } catch (e) {
      return Effect.fail(corrupt((e as Error).message))
    }
    const decoded = SessionJson.decodeValue(value)
    if (Result.isFailure(decoded)) return Effect.fail(corrupt(decoded.failure.message))
    if (decoded.success.id !== id) {
      return Effect.fail(
        new SessionStoreError({
          reason: "IdMismatch",
          message: `${label} ${id} in the PostgreSQL store at ${target} is not loaded: its header row holds session ${decoded.success.id}`,
          sessionId: id
        })
      )
    }
    return Effect.succeed(decoded.success)
  })

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

/** A write found the session's lock held by someone else: wait or report them (outside the transaction). */
class Blocked extends Data.TaggedError("Blocked")<{}> {}

/** How a write is allowed: as an ordinary writer (shared lock), or under the lease with this token. */
type Guard = { readonly _tag: "Shared" } | { readonly _tag: "Lease"; readonly token: string }

/** What a write does with the stored revision: require it (conditional) or compare ages (imports). */
type Condition =
  | { readonly _tag: "Revision"; readonly expected: string | undefined }
  | { readonly _tag: "IfOlder"; readonly updatedAt: Timestamp.Timestamp }

/** Where the messages of a write come from. */
type Source<E, R> =
  | { readonly _tag: "Array" }
  | { readonly _tag: "Stream"; readonly messages: Stream.Stream<Message, E, R> }

/** What a committed write changed, applied to the row marks after the commit. */
interface Written {
  readonly revision: bigint
  readonly epoch: bigint
  /** Mark the session's messages and tool uses from these positions on (all of them after a rewrite). */
  readonly markMessagesFrom: number
  readonly markToolUsesFrom: number
  readonly messageBytes: ReadonlyArray<Uint8Array>
  readonly toolUseBytes: ReadonlyArray<Uint8Array>
  /** The messages were streamed: the value's own messages are not what was stored. */
  readonly streamed: boolean
  /** What is stored now. */
  readonly messageCount: number
  readonly toolUseCount: number
  readonly storedMessageBytes: bigint
  readonly storedToolUseBytes: bigint
}

/**
 * The store over `db` (see the module documentation).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (db: Postgres.Database, options: Pick<PostgresOptions, "retryMs" | "recoveryDir"> = {}): SessionStore["Service"] => {
  const retryMs = options.retryMs ?? 30_000
  const pool = queriesOf(db.sql)
  const localHost = hostName()

  // --- errors ----------------------------------------------------------------

  const ioError = (id: string | undefined) => (e: Postgres.PostgresError): SessionStoreError =>
    new SessionStoreError({ reason: "Io", message: e.message, cause: e, ...(id === undefined ? {} : { sessionId: id }) })
  const ready = (id?: string) => Effect.mapError(db.ready, ioError(id))
  /** Maps the failures of a statement sequence to the store's errors (connection losses kept apart for retries). */
  const sqlFailure = (what: string) => (e: SqlError | Schema.SchemaError): Postgres.PostgresError =>
    db.fail(what)(e)

  // --- marks -----------------------------------------------------------------

  const marked = new Map<string, Marks>()
  const marksOf = (id: string, create: boolean): Marks | undefined => {
    let marks = marked.get(id)
    if (marks !== undefined) {
      marked.delete(id)
      marked.set(id, marks) // most recently used last
    } else if (create) {
      marks = {
        messages: { marks: new WeakMap(), last: undefined },
        toolUses: { marks: new WeakMap(), last: undefined },
        state: undefined
      }
      marked.set(id, marks)
      if (marked.size > MARKED_SESSIONS) marked.delete(marked.keys().next().value!)
    }
    return marks
  }
  const markLoaded = (
    id: string,
    header: HeaderRow,
    messages: ReadonlyArray<object>,
    messageRows: ReadonlyArray<BytesRow>,
    toolUses: ReadonlyArray<object>,
    toolRows: ReadonlyArray<BytesRow>
  ) => {
    const marks = marksOf(id, true)!
    const epoch = header.epoch
    marks.state = {
      revision: String(header.revision),
      epoch,
      messageCount: header.message_count,
      toolUseCount: header.tool_use_count,
      messageBytes: header.message_bytes,
      toolUseBytes: header.tool_use_bytes
    }
    const mark = (target: ArrayMarks, items: ReadonlyArray<object>, rows: ReadonlyArray<BytesRow>) => {
      items.forEach((item, i) => target.marks.set(item, { seq: rows[i]!.seq, epoch, bytes: rows[i]!.bytes.length }))
      // a whole array (not a tail) is what the next save is compared with
      if (rows.length === 0 || rows[0]!.seq === 0) target.last = { items: new WeakRef(items), epoch }
    }
    mark(marks.messages, messages, messageRows)
    mark(marks.toolUses, toolUses, toolRows)
  }
  const markWritten = (session: Session, written: Written) => {
    const marks = marksOf(session.id, true)!
    marks.state = {
      revision: String(written.revision),
      epoch: written.epoch,
      messageCount: written.messageCount,
      toolUseCount: written.toolUseCount,
      messageBytes: written.storedMessageBytes,
      toolUseBytes: written.storedToolUseBytes
    }
    const rewrote = written.epoch === written.revision
    const apply = (target: ArrayMarks, items: ReadonlyArray<object>, from: number, bytes: ReadonlyArray<Uint8Array>) => {
      const map = target.marks
      // after a rewrite every row has the new epoch; after an append only the new rows are new
      for (let i = rewrote ? 0 : from; i < items.length; i++) {
        const length = i >= from ? bytes[i - from]!.length : map.get(items[i]!)!.bytes
        map.set(items[i]!, { seq: i, epoch: written.epoch, bytes: length })
      }
      target.last = { items: new WeakRef(items), epoch: written.epoch }
    }
    if (written.streamed) {
      // the stored messages are not the value's: forget them (their epoch is new anyway)
      marks.messages.last = undefined
    } else {
      apply(marks.messages, session.messages, written.markMessagesFrom, written.messageBytes)
    }
    apply(marks.toolUses, session.toolUses, written.markToolUsesFrom, written.toolUseBytes)
  }

  // --- holders -----------------------------------------------------------------

  const busy = (id: string, holder: LeaseHolder) =>
    new SessionBusy({ sessionId: id, holder, message: busyMessage(id, holder, localHost) })

  const holderOfRow = (row: LeaseRow): LeaseHolder => ({
    pid: row.pid,
    host: row.host,
    startedAt: row.started_at,
    purpose: "prompt"
  })

  /** Who holds the lock when no lease row names them (a short write, or a lease being taken). */
  const lockHolder = (key: LockKey) =>
    Effect.map(pool.lockHolder({ hi: key.hi, lo: key.lo }), Option.map((row): LeaseHolder => {
      const parts = /^codetether (\S+) (\d+)$/.exec(row.application_name ?? "")
      return {
        pid: parts === null ? row.pid : Number(parts[2]),
        host: parts === null ? `database backend ${row.pid}` : parts[1]!,
        startedAt: (row.backend_start ?? new Date()).toISOString(),
        purpose: row.mode === "ExclusiveLock" ? "prompt" : "save"
      }
    }))

  /**
   * After a write found the lock taken: fails with `SessionBusy` when a live
   * lease holds it, or when the short writer holding it has not finished
   * within {@link SHORT_WAIT_MS}; otherwise waits a moment (the caller retries).
   */
  const waitOrBusy = (id: string, key: LockKey, started: number) =>
    Effect.gen(function*() {
      const row = yield* pool.leaseRow({ id, hi: key.hi, lo: key.lo })
      if (Option.isSome(row) && row.value.live) return yield* busy(id, holderOfRow(row.value))
      if (Date.now() - started > SHORT_WAIT_MS) {
        const holder = Option.isSome(row) ? Option.some(holderOfRow(row.value)) : yield* lockHolder(key)
        return yield* busy(id, Option.getOrElse(holder, () => ({
          pid: 0,
          host: "an unknown host",
          startedAt: new Date().toISOString(),
          purpose: "save" as const
        })))
      }
      yield* sleep(10)
    })

  /**
   * Who holds the session's lease now, without taking it: the holder a
   * refused lease would name (a live lease row, or the backend holding the
   * advisory lock for a short write), `none` when it is free. A row whose
   * holder's backend no longer holds the lock is `none`: the next `lease`
   * takes it over.
   */
  const holder = Effect.fn("SessionStore.holder")(function*(id: string) {
    yield* validateId(id)
    yield* ready(id)
    const key = lockKey(id)
    return yield* Effect.gen(function*() {
      const row = yield* pool.leaseRow({ id, hi: key.hi, lo: key.lo })
      if (Option.isSome(row) && row.value.live) return Option.some(holderOfRow(row.value))
      return yield* lockHolder(key)
    }).pipe(
      Effect.mapError((e) => (isSqlFailure(e) ? sqlFailure(`Cannot read the lease of session ${id}`)(e) : e)),
      Effect.mapError(ioError(id))
    )
  })

  // --- retries and recovery --------------------------------------------------

  /**
   * Runs `attempt` again, with backoff (0.1 s doubling to 2 s), while it fails
   * because the connection was lost, for up to `windowMs`.
   */
  const retrying = <A, E, R>(
    attempt: Effect.Effect<A, E | Postgres.PostgresError, R>,
    windowMs: number
  ): Effect.Effect<A, E | Postgres.PostgresError, R> =>
    Effect.gen(function*() {
      const started = Date.now()
      let delay = 100
      for (;;) {
        const result = yield* Effect.result(attempt)
        if (Result.isSuccess(result)) return result.success
        const error = result.failure
        const lost = error instanceof Postgres.PostgresError && error.connectionLost
        if (!lost || Date.now() - started + delay > windowMs) return yield* Effect.fail(error)
        yield* Effect.logWarning(`${(error as Postgres.PostgresError).message}; retrying`)
        yield* sleep(delay)
        delay = Math.min(delay * 2, 2_000)
      }
    })

  /**
   * The save of `session` failed for good because the database is gone:
   * writes the session to `<recoveryDir>/<id>.json` (when set) and returns
   * the error that says where it is.
   */
  const recover = (session: Session, error: Postgres.PostgresError) =>
    Effect.gen(function*() {
      const seconds = Math.round(retryMs / 1000)
      const prefix = `Cannot save session ${session.id}`
      const base = `${error.message.startsWith(prefix) ? error.message : `${prefix}: ${error.message}`} (retried for ${seconds} s)`
      if (options.recoveryDir === undefined) {
        return new SessionStoreError({ reason: "Io", message: base, sessionId: session.id, cause: error })
      }
      const path = NodePath.join(options.recoveryDir, `${session.id}.json`)
      const written = yield* Effect.try({
        try: () => SafeFs.ensureDirSync(options.recoveryDir!),
        catch: (e) => new AtomicWriteError("open", e instanceof SafeFs.SafeFsError ? e.detail : String(e), e)
      }).pipe(
        Effect.andThen(writeFileAtomic(path, SessionJson.encodeChunks(session), { sync: true })),
        Effect.result
      )
      const message = Result.isSuccess(written)
        ? `${base}; the session as it stood is in ${path} (\`codetether sessions migrate --to <database url>\` copies it into the database)`
        : `${base}; writing it to ${path} failed too: ${written.failure.message}`
      yield* Effect.logError(message)
      return new SessionStoreError({ reason: "Io", message, sessionId: session.id, path, cause: error })
    })

  // --- the write transaction -------------------------------------------------

  /** Inserts rows `from..` of `bytes` (positions `from + i`) in batches. */
  const insertAll = (q: Queries, table: "messages" | "tool_uses", id: string, from: number, bytes: ReadonlyArray<Uint8Array>) =>
    Effect.gen(function*() {
      let seqs: Array<number> = []
      let batch: Array<Uint8Array> = []
      let size = 0
      for (let i = 0; i < bytes.length; i++) {
        seqs.push(from + i)
        batch.push(bytes[i]!)
        size += bytes[i]!.length
        if (batch.length >= BATCH_ROWS || size >= BATCH_BYTES) {
          yield* q.insertRows(table, id, seqs, batch)
          seqs = []
          batch = []
          size = 0
        }
      }
      if (batch.length > 0) yield* q.insertRows(table, id, seqs, batch)
    })

  /** Encodes `items` (cached per object); a value the format cannot hold is `Corrupt`. */
  const encodeItems = <A>(id: string, items: ReadonlyArray<A>, encode: (a: A) => Uint8Array) =>
    Effect.try({
      try: () => items.map(encode),
      catch: (e) =>
        new SessionStoreError({
          reason: "Corrupt",
          message: `Session ${id} cannot be encoded: ${(e as Error).message ?? String(e)}`,
          sessionId: id,
          cause: e
        })
    })

  const encodePieces = (session: Session) =>
    Effect.try({
      try: () => framePieces(session),
      catch: (e) =>
        new SessionStoreError({
          reason: "Corrupt",
          message: `Session ${session.id} cannot be encoded: ${(e as Error).message ?? String(e)}`,
          sessionId: session.id,
          cause: e
        })
    })

  /**
   * One write of `session` in one transaction on `q`'s client: the guard,
   * the header row locked, the condition, then only the rows that changed,
   * then the header. Returns `undefined` when an `IfOlder` write found a copy
   * at least as new (nothing written).
   */
  const writeTransaction = <E, R>(
    q: Queries,
    session: Session,
    guard: Guard,
    condition: Condition,
    source: Source<E, R>,
    key: LockKey
  ) =>
    q.sql.withTransaction(Effect.gen(function*() {
      const id = session.id
      const begin = yield* q.beginWrite(id, guard._tag === "Shared" ? { key: key.key } : { lease: true })
      if (guard._tag === "Shared") {
        if (!begin.free) return yield* new Blocked()
      } else if (begin.token !== guard.token) {
        return yield* conflict(id, "LeaseLost")
      }
      const stored = begin.header
      if (condition._tag === "Revision") {
        const problem = checkRevision(id, condition.expected, stored === undefined ? undefined : String(stored.revision))
        if (problem !== undefined) return yield* problem
      } else if (stored !== undefined) {
        const storedAt = Timestamp.fromString(stored.updated_at)
        if (storedAt !== undefined && Timestamp.compare(storedAt, condition.updatedAt) >= 0) return undefined
      }
      const pieces = yield* encodePieces(session)
      const next = begin.next
      const marks = marksOf(id, false)
      const streamed = source._tag === "Stream"
      // Positions from which rows change (everything for a stream, or with no stored copy).
      const messagesFrom = stored === undefined || streamed
        ? 0
        : unchangedPrefix(marks?.messages, session.messages, stored.message_count, stored.epoch)
      const toolUsesFrom = stored === undefined
        ? 0
        : unchangedPrefix(marks?.toolUses, session.toolUses, stored.tool_use_count, stored.epoch)
      const rewrite = stored === undefined || messagesFrom < stored.message_count || toolUsesFrom < stored.tool_use_count
      const epoch = rewrite ? next : stored.epoch
      const newToolUses = yield* encodeItems(id, session.toolUses.slice(toolUsesFrom), SessionJson.encodeToolUseBytes)
      const newMessages = streamed ? [] : yield* encodeItems(id, session.messages.slice(messagesFrom), SessionJson.encodeMessageBytes)
      const keptBytes = (target: ArrayMarks | undefined, items: ReadonlyArray<object>, upTo: number, storedCount: number, storedBytes: bigint) => {
        if (stored !== undefined && upTo === storedCount) return storedBytes
        let total = 0n
        for (let i = 0; i < upTo; i++) total += BigInt(target!.marks.get(items[i]!)!.bytes)
        return total
      }
      const sum = (bytes: ReadonlyArray<Uint8Array>) => bytes.reduce((n, b) => n + BigInt(b.length), 0n)
      let messageCount = session.messages.length
      let messageBytes = streamed ? 0n : keptBytes(marks?.messages, session.messages, messagesFrom, stored?.message_count ?? 0, stored?.message_bytes ?? 0n) + sum(newMessages)
      const toolUseBytes = keptBytes(marks?.toolUses, session.toolUses, toolUsesFrom, stored?.tool_use_count ?? 0, stored?.tool_use_bytes ?? 0n) + sum(newToolUses)

      const columns = headerColumns(session, pieces)
      const writeHeader = (counts: { readonly messages: number; readonly messageBytes: bigint }) =>
        q.sql`UPDATE codetether_sessions SET head = ${columns.head}, usage = ${columns.usage}, title = ${columns.title},
                created_at = ${columns.createdAt}, updated_at = ${columns.updatedAt}, updated_sort = ${columns.updatedSort},
                directory = ${columns.directory}, directory_key = ${columns.directoryKey}, agent = ${columns.agent},
                message_count = ${counts.messages}, tool_use_count = ${session.toolUses.length},
                message_bytes = ${counts.messageBytes}, tool_use_bytes = ${toolUseBytes},
                revision = ${next}, epoch = ${epoch}, written_at = now()
              WHERE id = ${id}`
      if (stored === undefined) {
        const inserted = yield* q.sql`INSERT INTO codetether_sessions (id, head, usage, title, created_at, updated_at, updated_sort,
                directory, directory_key, agent, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch)
              VALUES (${id}, ${columns.head}, ${columns.usage}, ${columns.title}, ${columns.createdAt}, ${columns.updatedAt},
                ${columns.updatedSort}, ${columns.directory}, ${columns.directoryKey}, ${columns.agent}, ${messageCount},
                ${session.toolUses.length}, ${messageBytes}, ${toolUseBytes}, ${next}, ${epoch})
              ON CONFLICT (id) DO NOTHING RETURNING id`
        // another writer created it since this transaction looked
        if (inserted.length === 0) return yield* (condition._tag === "Revision" ? conflict(id, "Exists") : new Blocked())
      } else {
        if (messagesFrom < stored.message_count) yield* q.deleteRows("messages", id, messagesFrom)
        if (toolUsesFrom < stored.tool_use_count) yield* q.deleteRows("tool_uses", id, toolUsesFrom)
        if (!streamed) yield* writeHeader({ messages: messageCount, messageBytes })
      }
      yield* insertAll(q, "tool_uses", id, toolUsesFrom, newToolUses)
      if (source._tag === "Stream") {
        messageCount = 0
        messageBytes = 0n
        let seqs: Array<number> = []
        let batch: Array<Uint8Array> = []
        let size = 0
        const flush = Effect.suspend(() => {
          if (batch.length === 0) return Effect.void
          const write = q.insertRows("messages", id, seqs, batch)
          seqs = []
          batch = []
          size = 0
          return Effect.asVoid(write)
        })
        yield* Stream.runForEach(source.messages, (message) =>
          Effect.flatMap(encodeItems(id, [message], SessionJson.encodeMessageBytes), ([bytes]) => {
            seqs.push(messageCount++)
            batch.push(bytes!)
            size += bytes!.length
            messageBytes += BigInt(bytes!.length)
            return batch.length >= BATCH_ROWS || size >= BATCH_BYTES ? flush : Effect.void
          }))
        yield* flush
        yield* writeHeader({ messages: messageCount, messageBytes })
      } else {
        yield* insertAll(q, "messages", id, messagesFrom, newMessages)
      }
      return {
        revision: next,
        epoch,
        markMessagesFrom: messagesFrom,
        markToolUsesFrom: toolUsesFrom,
        messageBytes: newMessages,
        toolUseBytes: newToolUses,
        streamed,
        messageCount,
        toolUseCount: session.toolUses.length,
        storedMessageBytes: messageBytes,
        storedToolUseBytes: toolUseBytes
      } satisfies Written
    }))

  /**
   * The common save in one statement (one round trip, no explicit
   * transaction): when this store knows what is stored at the value's
   * revision and the value only appends to it, the guard, the header update
   * (conditional on the revision) and the new rows go in one statement of
   * data-modifying CTEs. Returns `undefined` when that does not apply or the
   * statement changed nothing (busy, stale, gone): the caller then runs the
   * full {@link writeTransaction}, which says why.
   */
  const appendStatement = (q: Queries, session: Session, guard: Guard, key: LockKey) =>
    Effect.gen(function*() {
      const id = session.id
      const expected = Session_.revisionOf(session)
      const marks = marksOf(id, false)
      const state = marks?.state
      if (expected === undefined || state === undefined || state.revision !== expected) return undefined
      const messagesFrom = unchangedPrefix(marks!.messages, session.messages, state.messageCount, state.epoch)
      const toolUsesFrom = unchangedPrefix(marks!.toolUses, session.toolUses, state.toolUseCount, state.epoch)
      if (messagesFrom !== state.messageCount || toolUsesFrom !== state.toolUseCount) return undefined
      const newMessages = yield* encodeItems(id, session.messages.slice(messagesFrom), SessionJson.encodeMessageBytes)
      const newToolUses = yield* encodeItems(id, session.toolUses.slice(toolUsesFrom), SessionJson.encodeToolUseBytes)
      const size = (bytes: ReadonlyArray<Uint8Array>) => bytes.reduce((n, b) => n + b.length, 0)
      if (newMessages.length + newToolUses.length > BATCH_ROWS || size(newMessages) + size(newToolUses) > BATCH_BYTES) return undefined
      const pieces = yield* encodePieces(session)
      const messageBytes = state.messageBytes + BigInt(size(newMessages))
      const toolUseBytes = state.toolUseBytes + BigInt(size(newToolUses))
      const c = headerColumns(session, pieces)
      const seqs = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)
      const ok = guard._tag === "Shared"
        ? q.sql`pg_try_advisory_xact_lock_shared(${key.key})`
        : q.sql`EXISTS (SELECT 1 FROM codetether_leases WHERE session_id = ${id} AND token = ${guard.token} FOR UPDATE)`
      const rows = yield* q.sql<{ readonly revision: bigint | null }>`
        WITH g AS (SELECT ${ok} AS ok),
        u AS (UPDATE codetether_sessions SET head = ${c.head}, usage = ${c.usage}, title = ${c.title},
                created_at = ${c.createdAt}, updated_at = ${c.updatedAt}, updated_sort = ${c.updatedSort},
                directory = ${c.directory}, directory_key = ${c.directoryKey}, agent = ${c.agent},
                message_count = ${session.messages.length}, tool_use_count = ${session.toolUses.length},
                message_bytes = ${messageBytes}, tool_use_bytes = ${toolUseBytes},
                revision = nextval('codetether_revision'), written_at = now()
              WHERE id = ${id} AND revision = ${BigInt(expected)} AND (SELECT ok FROM g) RETURNING revision),
        m AS (INSERT INTO codetether_messages (session_id, seq, bytes)
              SELECT ${id}, t.seq, t.bytes FROM unnest(${seqs(messagesFrom, newMessages.length)}::integer[], ${newMessages}::bytea[]) AS t(seq, bytes)
              WHERE EXISTS (SELECT 1 FROM u)),
        t AS (INSERT INTO codetether_tool_uses (session_id, seq, bytes)
              SELECT ${id}, t.seq, t.bytes FROM unnest(${seqs(toolUsesFrom, newToolUses.length)}::integer[], ${newToolUses}::bytea[]) AS t(seq, bytes)
              WHERE EXISTS (SELECT 1 FROM u))
        SELECT (SELECT revision FROM u) AS revision`
      const revision = rows[0]?.revision
      if (revision === null || revision === undefined) return undefined
      return {
        revision: BigInt(revision),
        epoch: state.epoch,
        markMessagesFrom: messagesFrom,
        markToolUsesFrom: toolUsesFrom,
        messageBytes: newMessages,
        toolUseBytes: newToolUses,
        streamed: false,
        messageCount: session.messages.length,
        toolUseCount: session.toolUses.length,
        storedMessageBytes: messageBytes,
        storedToolUseBytes: toolUseBytes
      } satisfies Written
    })

  /** A save of an array-sourced, revision-conditional write: the one-statement append, else the transaction. */
  const saveRows = (q: Queries, session: Session, guard: Guard, expected: string | undefined, key: LockKey) =>
    Effect.flatMap(
      appendStatement(q, session, guard, key),
      (fast) =>
        fast !== undefined
          ? Effect.succeed(fast)
          : writeTransaction<never, never>(q, session, guard, { _tag: "Revision", expected }, { _tag: "Array" }, key)
    )

  /**
   * A write as an ordinary writer (not under a lease): waits for short
   * writers and fails with `SessionBusy` while a lease is held; retries on a
   * lost connection and writes the recovery file when that does not help.
   */
  const sharedWrite = <E, R>(session: Session, condition: Condition, source: Source<E, R>, what: string) =>
    Effect.gen(function*() {
      const id = yield* validateId(session.id)
      yield* ready(id)
      const key = lockKey(id)
      const started = Date.now()
      const attempt = Effect.gen(function*() {
        for (;;) {
          const result = yield* Effect.result(
            source._tag === "Array" && condition._tag === "Revision"
              ? saveRows(pool, session, { _tag: "Shared" }, condition.expected, key)
              : writeTransaction(pool, session, { _tag: "Shared" }, condition, source, key)
          )
          if (Result.isSuccess(result)) return result.success
          const error = result.failure
          if (!(error instanceof Blocked)) return yield* Effect.fail(error)
          yield* waitOrBusy(id, key, started)
        }
      }).pipe(Effect.mapError((e) => (isSqlFailure(e) ? sqlFailure(`Cannot ${what} session ${id}`)(e) : e)))
      const written = yield* retrying(attempt, retryMs).pipe(
        Effect.catchIf(
          (e): e is Postgres.PostgresError => e instanceof Postgres.PostgresError,
          (e) => (e.connectionLost && source._tag === "Array" ? Effect.flatMap(recover(session, e), Effect.fail) : Effect.fail(ioError(id)(e)))
        )
      )
      if (written !== undefined) markWritten(session, written)
      return written
    })

  const save = Effect.fn("SessionStore.save")(function*(session: Session) {
    const written = yield* sharedWrite<never, never>(
      session,
      { _tag: "Revision", expected: Session_.revisionOf(session) },
      { _tag: "Array" },
      "save"
    )
    return Session_.withRevision(session, String(written!.revision))
  })

  const saveStream = <E, R>(session: Session, messages: Stream.Stream<Message, E, R>) =>
    Effect.map(
      sharedWrite(session, { _tag: "Revision", expected: Session_.revisionOf(session) }, { _tag: "Stream", messages }, "save"),
      (written) => Session_.withRevision(session, String(written!.revision))
    ).pipe(Effect.withSpan("SessionStore.saveStream"))

  const replaceIfOlder = <E = never, R = never>(session: Session, messages?: Stream.Stream<Message, E, R>) =>
    Effect.map(
      sharedWrite(
        session,
        { _tag: "IfOlder", updatedAt: session.updatedAt },
        messages === undefined ? { _tag: "Array" } : { _tag: "Stream", messages },
        "import"
      ),
      (written) => written !== undefined
    ).pipe(
      // an age comparison never conflicts (a concurrent creation is retried as Blocked)
      Effect.catchTag("SessionConflict", Effect.die),
      Effect.withSpan("SessionStore.replaceIfOlder")
    )

  // --- reads -------------------------------------------------------------------

  /** Reads the header and the last `window` rows of each array in one snapshot. */
  const readTail = (id: string, window: number) =>
    db.sql.withTransaction(Effect.gen(function*() {
      const header = yield* pool.header(id)
      if (Option.isNone(header)) return undefined
      const h = header.value
      const from = (count: number) => (window >= count ? 0 : count - window)
      const messages = yield* pool.rows("messages", id, from(h.message_count))
      const toolUses = yield* pool.rows("tool_uses", id, from(h.tool_use_count))
      return { header: h, messages, toolUses }
    })).pipe(
      Effect.provideService(SqlClient.BeginTransaction, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
      Effect.mapError(sqlFailure(`Cannot load session ${id}`))
    )

  /** Decodes what {@link readTail} read into a session (the file-store decoder over the same bytes). */
  const decodeTail = (
    id: string,
    read: { readonly header: HeaderRow; readonly messages: ReadonlyArray<BytesRow>; readonly toolUses: ReadonlyArray<BytesRow> }
  ): Effect.Effect<TailLoad, SessionStoreError> =>
    Effect.map(decodeRows(db.target, "Session", id, read), (session) => {
      const { header, messages, toolUses } = read
      markLoaded(id, header, session.messages, messages, session.toolUses, toolUses)
      return {
        session: Session_.withRevision(session, String(header.revision)),
        dropped: header.message_count - messages.length + header.tool_use_count - toolUses.length,
        fileBytes: encodedSize(header)
      }
    })

  const tailOf = (id: string, window: number) =>
    Effect.gen(function*() {
      const read = yield* retrying(readTail(id, window), Math.min(retryMs, 2_000)).pipe(Effect.mapError(ioError(id)))
      if (read === undefined) {
        return yield* new SessionStoreError({ reason: "NotFound", message: `Session not found: ${id}`, sessionId: id })
      }
      return yield* decodeTail(id, read)
    })

  const load = Effect.fn("SessionStore.load")(function*(id: string) {
    yield* validateId(id)
    yield* ready(id)
    return (yield* tailOf(id, Number.POSITIVE_INFINITY)).session
  })

  const loadTail = Effect.fn("SessionStore.loadTail")(function*(id: string, window: number) {
    yield* validateId(id)
    yield* checkWindow(window)
    yield* ready(id)
    return yield* tailOf(id, window)
  })

  // --- delete and the trash ------------------------------------------------------

  /**
   * Runs `body` in one transaction on the pool as an ordinary writer of
   * session `id`, as `delete` does: under the shared lock, so it fails with
   * `SessionBusy` while a lease is held (short writers are waited for),
   * unless `force`, which removes the lease row (the holder's next save is
   * then `LeaseLost`); retried for a few seconds while the connection is lost.
   */
  const writeAsOther = <A, E>(
    id: string,
    options: { readonly force: boolean; readonly what: string; readonly forcing: string },
    body: Effect.Effect<A, E | SqlError | Schema.SchemaError>
  ): Effect.Effect<A, Exclude<E, SqlError | Schema.SchemaError> | SessionBusy | SessionStoreError> =>
    Effect.gen(function*() {
      const key = lockKey(id)
      const started = Date.now()
      const attempt = Effect.gen(function*() {
        for (;;) {
          const result = yield* Effect.result(db.sql.withTransaction(Effect.gen(function*() {
            const free = yield* pool.trySharedXactLock(key.key)
            if (!free && !options.force) return yield* new Blocked()
            if (options.force) {
              const row = yield* pool.leaseRow({ id, hi: key.hi, lo: key.lo })
              if (Option.isSome(row) && row.value.live) {
                yield* Effect.logWarning(`${busyMessage(id, holderOfRow(row.value), localHost)}; ${options.forcing} anyway (--force)`)
              }
              yield* db.sql`DELETE FROM codetether_leases WHERE session_id = ${id}`
            }
            return yield* body
          })))
          if (Result.isSuccess(result)) return result.success
          if (!(result.failure instanceof Blocked)) return yield* Effect.fail(result.failure)
          yield* waitOrBusy(id, key, started)
        }
      }).pipe(Effect.mapError((e) =>
        isSqlFailure(e) ? sqlFailure(`Cannot ${options.what} session ${id}`)(e) : e as Exclude<typeof e, SqlError | Schema.SchemaError>
      ))
      return yield* retrying(attempt, Math.min(retryMs, 5_000)).pipe(
        Effect.catchIf((e): e is Postgres.PostgresError => e instanceof Postgres.PostgresError, (e) => Effect.fail(ioError(id)(e)))
      )
    })

  const delete_ = Effect.fn("SessionStore.delete")(function*(id: string, options?: ForceOptions) {
    yield* validateId(id)
    yield* ready(id)
    const deleted = yield* writeAsOther(
      id,
      { force: options?.force === true, what: "delete", forcing: "deleting it" },
      Effect.map(db.sql`DELETE FROM codetether_sessions WHERE id = ${id} RETURNING id`, (rows) => rows.length > 0)
    )
    marked.delete(id)
    return deleted
  })

  /**
   * Trashing moves the header row (revision and epoch included) and the
   * message and tool use rows into the trash tables, unchanged, in one
   * transaction; the deletion time is the `Clock`'s, one millisecond later
   * than the id's newest trashed copy when that is not earlier (so copies of
   * one id never share a time, as in the file store).
   */
  const trash = Effect.fn("SessionStore.trash")(function*(id: string, options?: ForceOptions) {
    yield* validateId(id)
    yield* ready(id)
    const now = Math.floor(yield* Clock.currentTimeMillis)
    const trashed = yield* writeAsOther(
      id,
      { force: options?.force === true, what: "trash", forcing: "trashing it" },
      Effect.gen(function*() {
        // the header locked first: no save changes the rows while they are copied
        const live = yield* db.sql`SELECT 1 FROM codetether_sessions WHERE id = ${id} FOR UPDATE`
        if (live.length === 0) return false
        yield* db.sql`
          WITH t AS (
            INSERT INTO codetether_trash (session_id, deleted_ms, head, usage, title, created_at, updated_at, updated_sort,
              directory, directory_key, agent, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch)
            SELECT id, GREATEST(${now}::bigint, COALESCE((SELECT max(deleted_ms) + 1 FROM codetether_trash WHERE session_id = ${id}), 0)),
              head, usage, title, created_at, updated_at, updated_sort, directory, directory_key, agent, message_count,
              tool_use_count, message_bytes, tool_use_bytes, revision, epoch
            FROM codetether_sessions WHERE id = ${id}
            RETURNING trash_id),
          m AS (INSERT INTO codetether_trash_messages (trash_id, seq, bytes)
            SELECT t.trash_id, m.seq, m.bytes FROM t, codetether_messages m WHERE m.session_id = ${id}),
          u AS (INSERT INTO codetether_trash_tool_uses (trash_id, seq, bytes)
            SELECT t.trash_id, u.seq, u.bytes FROM t, codetether_tool_uses u WHERE u.session_id = ${id})
          SELECT trash_id FROM t`
        yield* db.sql`DELETE FROM codetether_sessions WHERE id = ${id}`
        return true
      })
    )
    marked.delete(id)
    return trashed
  })

  /**
   * Restoring moves the newest trashed copy's rows back, revision and epoch
   * included: the restored session is exactly the stored state that was
   * trashed (a value loaded before the trash can be saved over it, as with
   * the file store, whose restore keeps the file).
   */
  const restore = Effect.fn("SessionStore.restore")(function*(id: string) {
    yield* validateId(id)
    yield* ready(id)
    return yield* writeAsOther(id, { force: false, what: "restore", forcing: "restoring it" }, Effect.gen(function*() {
      const found = yield* pool.newestTrashed(id)
      if (Option.isNone(found)) return yield* notInTrash(id)
      const entry = found.value
      const restored = yield* db.sql`
        INSERT INTO codetether_sessions (id, head, usage, title, created_at, updated_at, updated_sort, directory, directory_key,
          agent, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch)
        SELECT session_id, head, usage, title, created_at, updated_at, updated_sort, directory, directory_key, agent,
          message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch
        FROM codetether_trash WHERE trash_id = ${entry.trash_id}
        ON CONFLICT (id) DO NOTHING RETURNING id`
      if (restored.length === 0) return yield* restoreConflict(id)
      yield* db.sql`
        WITH m AS (INSERT INTO codetether_messages (session_id, seq, bytes)
          SELECT ${id}, seq, bytes FROM codetether_trash_messages WHERE trash_id = ${entry.trash_id}),
        u AS (INSERT INTO codetether_tool_uses (session_id, seq, bytes)
          SELECT ${id}, seq, bytes FROM codetether_trash_tool_uses WHERE trash_id = ${entry.trash_id})
        DELETE FROM codetether_trash WHERE trash_id = ${entry.trash_id}`
      return trashedSession(db.target, entry)
    }))
  })

  const listTrash = Effect.gen(function*() {
    yield* ready()
    const rows = yield* retrying(
      pool.trashList.pipe(Effect.mapError(sqlFailure("Cannot read the trash"))),
      Math.min(retryMs, 2_000)
    ).pipe(Effect.mapError(ioError(undefined)))
    return rows.map((row) => trashedSession(db.target, row))
  }).pipe(Effect.withSpan("SessionStore.listTrash"))

  const purge = Effect.fn("SessionStore.purge")(function*(options?: PurgeOptions) {
    const cutoff = yield* purgeCutoff(options)
    yield* ready()
    const before = Number.isFinite(cutoff) ? BigInt(Math.floor(cutoff)) : null
    const only = options?.id ?? null
    // the rows go with their entries (ON DELETE CASCADE)
    const rows = yield* retrying(
      db.sql<{ readonly trash_id: bigint; readonly session_id: string; readonly deleted_ms: bigint }>`
        DELETE FROM codetether_trash
        WHERE (${before}::bigint IS NULL OR deleted_ms <= ${before}::bigint) AND (${only}::text IS NULL OR session_id = ${only}::text)
        RETURNING trash_id, session_id, deleted_ms`.pipe(Effect.mapError(sqlFailure("Cannot purge the trash"))),
      Math.min(retryMs, 5_000)
    ).pipe(Effect.mapError(ioError(undefined)))
    return [...rows]
      .sort((a, b) => newestTrashedFirst(a, b))
      .map((row): TrashEntry => ({ id: row.session_id, deletedAt: deletedAtOf(Number(row.deleted_ms)) }))
  })

  // --- the lease -----------------------------------------------------------------

  const lease = Effect.fn("SessionStore.lease")(function*(session: Session, options?: ForceOptions) {
    const id = yield* validateId(session.id)
    yield* ready(id)
    const key = lockKey(id)
    const force = options?.force === true
    const token = NodeCrypto.randomUUID()
    const holder: LeaseHolder = { pid: process.pid, host: localHost, startedAt: new Date().toISOString(), purpose: "prompt" }
    const fail = (what: string) => (e: SqlError | Schema.SchemaError | Postgres.PostgresError) =>
      e instanceof Postgres.PostgresError ? e : sqlFailure(what)(e)

    /** The lease's own connection (replaced after it is lost), given back when the lease ends. */
    let connection: { readonly conn: Postgres.LeaseConnection; readonly queries: Queries } | undefined
    let holdsLock = false
    /** Gives the connection back (its locks freed) or, after a failure, closes it. */
    const dropConnection = (reusable: boolean) =>
      Effect.suspend(() => {
        const current = connection
        connection = undefined
        holdsLock = false
        return current === undefined ? Effect.void : reusable ? current.conn.release : current.conn.discard
      })
    const connect = Effect.gen(function*() {
      if (connection !== undefined) return connection.queries
      const conn = yield* db.leaseConnection
      connection = { conn, queries: queriesOf(conn.client) }
      return connection.queries
    })
    /** Takes the lock on the lease's connection if it is free, and records that connection as the holder's. */
    const takeLock = Effect.gen(function*() {
      const q = yield* connect
      if (!holdsLock && (yield* q.tryLock(key.key))) {
        holdsLock = true
        yield* q.sql`UPDATE codetether_leases SET backend_pid = pg_backend_pid() WHERE session_id = ${id} AND token = ${token}`
      }
      return holdsLock
    })

    // Release: the row (if still ours) and the lock in one statement on the lease's connection,
    // which is then kept for the next lease; if that connection failed, the row through the pool.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        const current = connection
        connection = undefined
        holdsLock = false
        const viaPool = db.sql`DELETE FROM codetether_leases WHERE session_id = ${id} AND token = ${token}`.pipe(
          Effect.timeout("3 seconds"),
          Effect.ignore
        )
        if (current === undefined) return viaPool
        return current.conn.client`WITH d AS (DELETE FROM codetether_leases WHERE session_id = ${id} AND token = ${token})
                                   SELECT pg_advisory_unlock_all()`.pipe(
          Effect.timeout("3 seconds"),
          Effect.matchEffect({
            onSuccess: () => current.conn.keep,
            onFailure: () => Effect.andThen(current.conn.discard, viaPool)
          })
        )
      })
    )

    const checkCurrent = (q: Queries) =>
      Effect.gen(function*() {
        const stored = yield* q.header(id)
        const problem = checkRevision(
          id,
          Session_.revisionOf(session),
          Option.isSome(stored) ? String(stored.value.revision) : undefined
        )
        if (problem !== undefined) return yield* problem
      })

    const acquire = Effect.gen(function*() {
      const started = Date.now()
      // a connection kept idle since an earlier lease may have died meanwhile: then a new one
      const tryLock = Effect.flatMap(connect, (q) => q.tryLock(key.key))
      for (;;) {
        const locked = yield* tryLock.pipe(
          Effect.catchIf(
            (e) => e._tag === "SqlError" && Postgres.isConnectionLoss(e),
            () => Effect.andThen(dropConnection(false), tryLock)
          )
        )
        const q = yield* connect
        if (locked) {
          holdsLock = true
          // Holding the lock (no other writer can change the session now; this statement's snapshot
          // is taken after the lock, so it sees every write that finished before): any row left is
          // stale. Record ourselves if the value is current, in one statement.
          const expected = Session_.revisionOf(session)
          const taken = expected === undefined || /^\d+$/.test(expected)
            ? yield* q.sql`INSERT INTO codetether_leases (session_id, token, host, pid, started_at, backend_pid)
                SELECT ${id}, ${token}, ${holder.host}, ${holder.pid}, ${holder.startedAt}, pg_backend_pid()
                WHERE (SELECT revision FROM codetether_sessions WHERE id = ${id})
                  IS NOT DISTINCT FROM ${expected === undefined ? null : BigInt(expected)}::bigint
                ON CONFLICT (session_id) DO UPDATE SET token = EXCLUDED.token, host = EXCLUDED.host,
                  pid = EXCLUDED.pid, started_at = EXCLUDED.started_at, backend_pid = EXCLUDED.backend_pid
                RETURNING token`
            : []
          if (taken.length === 0) {
            // not current: say how, and hold nothing
            const refused = yield* Effect.result(checkCurrent(q))
            yield* dropConnection(true)
            return yield* Effect.fail(
              Result.isFailure(refused) ? refused.failure : conflict(id, "Stale")
            )
          }
          return
        }
        const row = yield* pool.leaseRow({ id, hi: key.hi, lo: key.lo })
        if (Option.isSome(row) && row.value.live) {
          if (!force) return yield* busy(id, holderOfRow(row.value))
          yield* takeOver(row.value)
          return
        }
        yield* waitOrBusy(id, key, started)
      }
    })

    /**
     * `--force` over a live lease: the row becomes ours (the holder's next
     * save fails with `LeaseLost`), the holder's connection is terminated,
     * and the lock is taken once it is free (a role that may not terminate
     * it holds the lease by its row until the lock frees).
     */
    const takeOver = (previous: LeaseRow) =>
      Effect.gen(function*() {
        yield* checkCurrent(pool)
        yield* Effect.logWarning(`${busyMessage(id, holderOfRow(previous), localHost)}; taking it over (--force)`)
        yield* db.sql`UPDATE codetether_leases SET token = ${token}, host = ${holder.host}, pid = ${holder.pid},
                        started_at = ${holder.startedAt}
                      WHERE session_id = ${id}`
        yield* db.sql`SELECT pg_terminate_backend(${previous.backend_pid})`.pipe(
          Effect.catch((e) => Effect.logWarning(`cannot end the previous holder's connection: ${db.fail("takeover")(e).message}`))
        )
        const started = Date.now()
        while (!(yield* takeLock) && Date.now() - started < TAKEOVER_WAIT_MS) yield* sleep(20)
      })

    yield* acquire.pipe(Effect.mapError((e) => isSqlFailure(e) || e instanceof Postgres.PostgresError ? ioError(id)(fail(`Cannot take the lease of session ${id}`)(e)) : e))

    let current = Session_.revisionOf(session)
    let broken: Postgres.PostgresError | undefined
    const writes = Semaphore.makeUnsafe(1)

    /** After a lost connection: a new one, the lock again, and the row still ours (else `LeaseLost`). */
    const reconnect = Effect.gen(function*() {
      yield* dropConnection(false)
      const q = yield* connect
      if (!(yield* q.tryLock(key.key))) {
        // The lock may still be held by our own dropped backend (the server has not noticed yet).
        const row = yield* pool.leaseRow({ id, hi: key.hi, lo: key.lo })
        if (Option.isNone(row) || row.value.token !== token) return yield* conflict(id, "LeaseLost")
        yield* db.sql`SELECT pg_terminate_backend(${row.value.backend_pid}) WHERE ${row.value.backend_pid} <> pg_backend_pid()`
        const started = Date.now()
        while (!(yield* q.tryLock(key.key))) {
          if (Date.now() - started > TAKEOVER_WAIT_MS) return yield* conflict(id, "LeaseLost")
          yield* sleep(20)
        }
      }
      holdsLock = true
      const owner = yield* q.leaseToken(id)
      if (owner !== token) return yield* conflict(id, "LeaseLost")
      yield* q.sql`UPDATE codetether_leases SET backend_pid = pg_backend_pid() WHERE session_id = ${id} AND token = ${token}`
    })

    const leaseSave = (next: Session) =>
      writes.withPermits(1)(Effect.gen(function*() {
        if (next.id !== id) {
          return yield* new SessionStoreError({
            reason: "InvalidId",
            message: `the lease of session ${id} cannot save session ${next.id}`,
            sessionId: id
          })
        }
        if (broken !== undefined) return yield* Effect.flatMap(recover(next, broken), Effect.fail)
        let lost = false
        const attempt = Effect.gen(function*() {
          if (lost || connection === undefined) {
            lost = false
            yield* reconnect
          } else if (!holdsLock) {
            yield* takeLock
          }
          const q = connection!.queries
          return yield* saveRows(q, next, { _tag: "Lease", token }, current, key)
        }).pipe(Effect.mapError((e) => {
          if (e instanceof Blocked) return conflict(id, "LeaseLost")
          if (isSqlFailure(e) || e instanceof Postgres.PostgresError) {
            const failure = fail(`Cannot save session ${id}`)(e)
            if (failure.connectionLost) lost = true
            return failure
          }
          return e
        }))
        const written = yield* retrying(attempt, retryMs).pipe(
          Effect.catchIf(
            (e): e is Postgres.PostgresError => e instanceof Postgres.PostgresError,
            (e) => {
              if (!e.connectionLost) return Effect.fail(ioError(id)(e))
              broken = e
              return Effect.flatMap(recover(next, e), Effect.fail)
            }
          )
        )
        markWritten(next, written!)
        current = String(written!.revision)
        return Session_.withRevision(next, current)
      })).pipe(Effect.withSpan("SessionStore.Lease.save"))

    return { sessionId: id, holder, save: leaseSave } satisfies Lease
  })

  // --- listing and resume --------------------------------------------------------

  const summaries = (key: Uint8Array | null) =>
    Effect.gen(function*() {
      yield* ready()
      const rows = yield* retrying(
        pool.list(key).pipe(Effect.mapError(sqlFailure("Cannot list sessions"))),
        Math.min(retryMs, 2_000)
      ).pipe(Effect.mapError(ioError(undefined)))
      const result: Array<SessionSummary> = []
      for (const row of rows) {
        const decoded = SessionJson.decode(SessionJson.concat([row.head, ...assembleEmpty(row.usage)]))
        if (Result.isFailure(decoded) || decoded.success.id !== row.id) {
          const detail = Result.isFailure(decoded) ? decoded.failure.message : `its header row holds session ${decoded.success.id}`
          yield* Effect.logWarning(`skipping session ${row.id} in the PostgreSQL store at ${db.target}: ${detail}`)
          continue
        }
        result.push({ ...SessionSummary_.fromSession(decoded.success), messageCount: row.message_count })
      }
      return result.sort(SessionSummary_.byUpdatedAtDesc)
    })

  const list = summaries(null).pipe(Effect.withSpan("SessionStore.list"))

  const listForDirectory = Effect.fn("SessionStore.listForDirectory")(function*(directory: string) {
    return yield* summaries(directoryKey(directory))
  })

  const lastForDirectory = Effect.fn("SessionStore.lastForDirectory")(function*(directory: string, options?: LastOptions) {
    const window = yield* checkWindow(options?.window ?? Number.POSITIVE_INFINITY)
    yield* ready()
    const key = directoryKey(directory)
    for (let offset = 0;; offset += 20) {
      const ids = yield* retrying(
        pool.lastIds({ key, offset }).pipe(Effect.mapError(sqlFailure("Cannot find the last session"))),
        Math.min(retryMs, 2_000)
      ).pipe(Effect.mapError(ioError(undefined)))
      if (ids.length === 0) return yield* noSessions()
      for (const { id } of ids) {
        const loaded = yield* Effect.result(tailOf(id, window))
        if (Result.isSuccess(loaded)) return loaded.success
        if (loaded.failure.reason === "NotFound") continue // deleted meanwhile
        if (loaded.failure.reason === "Io") return yield* loaded.failure
        yield* Effect.logWarning(`skipping session ${id}: ${loaded.failure.message}`)
      }
    }
  })

  return SessionStore.of({
    save,
    saveStream,
    replaceIfOlder,
    load,
    loadTail,
    delete: delete_,
    trash,
    restore,
    listTrash,
    purge,
    lease,
    holder,
    list,
    listForDirectory,
    lastForDirectory
  })
}

/** The frame after the messages for a header-only decode: no messages, no tool uses, the usage. */
const assembleEmpty = (usage: Uint8Array): ReadonlyArray<Uint8Array> => [EMPTY_TOOL_USES_AFTER_HEAD, usage, CLOSE]
const EMPTY_TOOL_USES_AFTER_HEAD = EMPTY_TOOL_USES

const isSqlFailure = (e: unknown): e is SqlError | Schema.SchemaError =>
  typeof e === "object" && e !== null && "_tag" in e && (e._tag === "SqlError" || e._tag === "SchemaError")

/**
 * The ids of every stored session, oldest write first (for migrations: the
 * listing skips sessions that do not decode, a migration counts them).
 *
 * @since 0.1.0
 * @category queries
 */
export const ids = (db: Postgres.Database): Effect.Effect<ReadonlyArray<string>, Postgres.PostgresError> =>
  Effect.andThen(
    db.ready,
    db.sql<{ readonly id: string }>`SELECT id FROM codetether_sessions ORDER BY revision`.pipe(
      Effect.map((rows) => rows.map((row) => row.id)),
      Effect.mapError(db.fail("Cannot list sessions"))
    )
  )

/**
 * The file-store encoding of stored session `id`, assembled from its header
 * row and its message and tool use rows without decoding anything: the bytes
 * `sessions show --json` prints and a re-save into the data dir writes
 * (`undefined` when the session is not stored).
 *
 * @since 0.1.0
 * @category queries
 */
export const storedBytes = (db: Postgres.Database, id: string): Effect.Effect<Uint8Array | undefined, Postgres.PostgresError> =>
  Effect.andThen(
    db.ready,
    db.sql.withTransaction(Effect.gen(function*() {
      const q = queriesOf(db.sql)
      const header = yield* q.header(id)
      if (Option.isNone(header)) return undefined
      const messages = yield* q.rows("messages", id, 0)
      const toolUses = yield* q.rows("tool_uses", id, 0)
      return SessionJson.concat(
        assemble(header.value.head, messages.map((r) => r.bytes), toolUses.map((r) => r.bytes), header.value.usage)
      )
    })).pipe(
      Effect.provideService(SqlClient.BeginTransaction, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
      Effect.mapError(db.fail(`Cannot read session ${id}`))
    )
  )

/**
 * A trashed copy in the database (for migrations): its own `trashId`, the
 * session's `id` and the deletion time in ms since the epoch.
 *
 * @since 0.1.0
 * @category models
 */
export interface TrashedCopy {
  readonly trashId: bigint
  readonly id: string
  readonly ms: number
}

/**
 * Every trashed copy in the database, newest deletion first.
 *
 * @since 0.1.0
 * @category queries
 */
export const trashedCopies = (db: Postgres.Database): Effect.Effect<ReadonlyArray<TrashedCopy>, Postgres.PostgresError> =>
  Effect.andThen(
    db.ready,
    db.sql<{ readonly trash_id: bigint; readonly session_id: string; readonly deleted_ms: bigint }>`
      SELECT trash_id, session_id, deleted_ms FROM codetether_trash ORDER BY deleted_ms DESC, trash_id DESC`.pipe(
      Effect.map((rows) => rows.map((row): TrashedCopy => ({ trashId: BigInt(row.trash_id), id: row.session_id, ms: Number(row.deleted_ms) }))),
      Effect.mapError(db.fail("Cannot read the trash"))
    )
  )

/**
 * The session of a trashed copy, decoded from its rows in one snapshot
 * (without a revision: it is not a stored live copy). Fails with `NotFound`
 * (purged or restored meanwhile), `Corrupt`, `IdMismatch` or `Io`.
 *
 * @since 0.1.0
 * @category queries
 */
export const loadTrashed = (db: Postgres.Database, copy: TrashedCopy): Effect.Effect<Session, SessionStoreError> =>
  Effect.gen(function*() {
    const read = yield* db.sql.withTransaction(Effect.gen(function*() {
      const headers = yield* db.sql<{ readonly head: Uint8Array; readonly usage: Uint8Array; readonly message_count: number; readonly tool_use_count: number }>`
        SELECT head, usage, message_count, tool_use_count FROM codetether_trash WHERE trash_id = ${copy.trashId}`
      if (headers.length === 0) return undefined
      const messages = yield* db.sql<BytesRow>`SELECT seq, bytes FROM codetether_trash_messages WHERE trash_id = ${copy.trashId} ORDER BY seq`
      const toolUses = yield* db.sql<BytesRow>`SELECT seq, bytes FROM codetether_trash_tool_uses WHERE trash_id = ${copy.trashId} ORDER BY seq`
      return { header: headers[0]!, messages, toolUses }
    })).pipe(
      Effect.provideService(SqlClient.BeginTransaction, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
      Effect.mapError((e) => {
        const failure = db.fail(`Cannot read trashed session ${copy.id}`)(e)
        return new SessionStoreError({ reason: "Io", message: failure.message, sessionId: copy.id, cause: failure })
      })
    )
    if (read === undefined) {
      return yield* new SessionStoreError({ reason: "NotFound", message: `No trashed session ${copy.id}`, sessionId: copy.id })
    }
    return yield* decodeRows(db.target, "Trashed session", copy.id, read)
  })

/**
 * Puts `session` in the trash as deleted at `ms` (ms since the epoch), as
 * its own rows in one transaction, unless the trash already holds a copy of
 * that id deleted at that time; returns whether it wrote. Fails with
 * `InvalidId`, `Corrupt` (a value the format cannot hold) or `Io`.
 *
 * @since 0.1.0
 * @category queries
 */
export const insertTrashed = (db: Postgres.Database, session: Session, ms: number): Effect.Effect<boolean, SessionStoreError> =>
  Effect.gen(function*() {
    const id = yield* validateId(session.id)
    const encoded = yield* Effect.try({
      try: () => ({
        pieces: framePieces(session),
        messages: session.messages.map(SessionJson.encodeMessageBytes),
        toolUses: session.toolUses.map(SessionJson.encodeToolUseBytes)
      }),
      catch: (e) =>
        new SessionStoreError({
          reason: "Corrupt",
          message: `Session ${id} cannot be encoded: ${(e as Error).message ?? String(e)}`,
          sessionId: id,
          cause: e
        })
    })
    const c = headerColumns(session, encoded.pieces)
    const size = (bytes: ReadonlyArray<Uint8Array>) => bytes.reduce((n, b) => n + BigInt(b.length), 0n)
    const insertRows = (table: "messages" | "tool_uses", trashId: bigint, rows: ReadonlyArray<Uint8Array>) =>
      Effect.gen(function*() {
        for (let from = 0; from < rows.length;) {
          let to = from
          let bytes = 0
          while (to < rows.length && to - from < BATCH_ROWS && (to === from || bytes + rows[to]!.length <= BATCH_BYTES)) bytes += rows[to++]!.length
          const seqs = Array.from({ length: to - from }, (_, i) => from + i)
          const batch = rows.slice(from, to)
          yield* table === "messages"
            ? db.sql`INSERT INTO codetether_trash_messages (trash_id, seq, bytes)
                SELECT ${trashId}, t.seq, t.bytes FROM unnest(${seqs}::integer[], ${batch}::bytea[]) AS t(seq, bytes)`
            : db.sql`INSERT INTO codetether_trash_tool_uses (trash_id, seq, bytes)
                SELECT ${trashId}, t.seq, t.bytes FROM unnest(${seqs}::integer[], ${batch}::bytea[]) AS t(seq, bytes)`
          from = to
        }
      })
    yield* Effect.mapError(db.ready, (e) => new SessionStoreError({ reason: "Io", message: e.message, sessionId: id, cause: e }))
    return yield* db.sql.withTransaction(Effect.gen(function*() {
      const inserted = yield* db.sql<{ readonly trash_id: bigint }>`
        INSERT INTO codetether_trash (session_id, deleted_ms, head, usage, title, created_at, updated_at, updated_sort,
          directory, directory_key, agent, message_count, tool_use_count, message_bytes, tool_use_bytes, revision, epoch)
        SELECT ${id}, ${BigInt(Math.floor(ms))}::bigint, ${c.head}, ${c.usage}, ${c.title}, ${c.createdAt}, ${c.updatedAt},
          ${c.updatedSort}, ${c.directory}, ${c.directoryKey}, ${c.agent}, ${session.messages.length}, ${session.toolUses.length},
          ${size(encoded.messages)}, ${size(encoded.toolUses)}, n.r, n.r
        FROM (SELECT nextval('codetether_revision') AS r) AS n
        ON CONFLICT (session_id, deleted_ms) DO NOTHING RETURNING trash_id`
      if (inserted.length === 0) return false
      const trashId = BigInt(inserted[0]!.trash_id)
      yield* insertRows("messages", trashId, encoded.messages)
      yield* insertRows("tool_uses", trashId, encoded.toolUses)
      return true
    })).pipe(
      Effect.mapError((e) => {
        const failure = db.fail(`Cannot write trashed session ${id}`)(e)
        return new SessionStoreError({ reason: "Io", message: failure.message, sessionId: id, cause: failure })
      })
    )
  })

/**
 * The database of {@link layer}, for code that needs more than the store (a
 * migration, the durable sink sharing its pool).
 *
 * @since 0.1.0
 * @category services
 */
export class Database extends Context.Service<Database, Postgres.Database>()("codetether/SessionStorePostgres/Database") {}

/**
 * The connection pool for `options.url` (nothing connects until first use).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDatabase = (options: PostgresOptions): Layer.Layer<Database> =>
  Layer.effect(Database, Postgres.make(options))

/**
 * The store on PostgreSQL (`SessionStore.layerPostgres` loads this module).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: PostgresOptions): Layer.Layer<SessionStore> =>
  Layer.effect(SessionStore, storeOf(options)).pipe(Layer.provide(layerDatabase(options)))

const storeOf = (options: Pick<PostgresOptions, "retryMs" | "recoveryDir">) =>
  Effect.gen(function*() {
    return make(yield* Database, options)
  })

/**
 * The store and the durable sink over the {@link Database} of the context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServices = (
  options: Pick<PostgresOptions, "retryMs" | "recoveryDir"> = {}
): Layer.Layer<SessionStore | DurableSink.DurableSink, never, Database> =>
  Layer.mergeAll(
    Layer.effect(SessionStore, storeOf(options)),
    Layer.effect(
      DurableSink.DurableSink,
      Effect.gen(function*() {
        return DurableSinkPostgres.make(yield* Database)
      })
    )
  )

/**
 * The store and the durable sink on one PostgreSQL pool: what the CLI runs
 * with when a database URL is set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithSink = (options: PostgresOptions): Layer.Layer<SessionStore | DurableSink.DurableSink> =>
  layerServices(options).pipe(Layer.provide(layerDatabase(options)))
