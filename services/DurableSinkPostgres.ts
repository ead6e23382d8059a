/**
 * The durable sink on PostgreSQL (`DurableSink.layerPostgres`): records in
 * `codetether_events`, one row per record, keyed by (session, seq), with the
 * JSONL sink's record shape (`ts`, `session_id`, `seq`, `kind`, `payload`;
 * the payload kept as its JSON text). Every machine writing a session's
 * events appends to the same log; `seq` is the next one of the session's
 * log in the database (a concurrent writer that took the same one makes the
 * insert retry).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlSchema from "effect/sql/SqlSchema"
import type { SessionEvent } from "../schemas/SessionEvent.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import { type DurableRecord, DurableSink, DurableSinkError, toRecord } from "./DurableSink.ts"
import * as Postgres from "./internal/Postgres.ts"
import { idProblem, type PostgresOptions } from "./SessionStore.ts"

const EventRow = Schema.Struct({
  ts: Schema.String,
  seq: Schema.BigInt,
  kind: Schema.String,
  payload: Schema.String
})

/** A payload that is not JSON (written by something else) is returned as its text. */
const parsePayload = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const ioError = (e: Postgres.PostgresError) => new DurableSinkError({ reason: "Io", message: e.message, cause: e })

const checkId = (sessionId: string) => {
  const problem = idProblem(sessionId)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new DurableSinkError({ reason: "InvalidId", message: `Invalid session id ${JSON.stringify(sessionId)}: ${problem}` }))
}

/**
 * Inserts records as they are (`seq` and `ts` kept; a record whose
 * (session, seq) is already stored is skipped): what a migration copies.
 * Returns how many were inserted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const insertRecords = (
  db: Postgres.Database,
  records: ReadonlyArray<DurableRecord>
): Effect.Effect<number, DurableSinkError> =>
  Effect.gen(function*() {
    if (records.length === 0) return 0
    yield* Effect.mapError(db.ready, ioError)
    let inserted = 0
    for (let i = 0; i < records.length; i += 1_000) {
      const batch = records.slice(i, i + 1_000)
      const rows = yield* db.sql`INSERT INTO codetether_events (session_id, seq, ts, kind, payload)
          SELECT * FROM unnest(${batch.map((r) => r.session_id)}::text[], ${batch.map((r) => BigInt(r.seq))}::bigint[],
            ${batch.map((r) => r.ts)}::text[], ${batch.map((r) => r.kind)}::text[],
            ${batch.map((r) => JSON.stringify(r.payload ?? null))}::text[])
          ON CONFLICT (session_id, seq) DO NOTHING RETURNING seq`.pipe(Effect.mapError((e) => ioError(db.fail("Cannot copy durable events")(e))))
      inserted += rows.length
    }
    return inserted
  })

/**
 * The sink over `db`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (db: Postgres.Database): DurableSink["Service"] => {
  const read = SqlSchema.findAll({
    Request: Schema.Struct({ sessionId: Schema.String, after: Schema.Number }),
    Result: EventRow,
    execute: ({ after, sessionId }) =>
      db.sql`SELECT ts, seq, kind, payload FROM codetether_events WHERE session_id = ${sessionId} AND seq > ${after} ORDER BY seq`
  })
  return DurableSink.of({
    write: Effect.fn("DurableSink.write")(function*(sessionId: string, event: SessionEvent) {
      yield* checkId(sessionId)
      yield* Effect.mapError(db.ready, ioError)
      const ts = yield* Timestamp.now
      const draft = toRecord(sessionId, event, ts, 0)
      const payload = JSON.stringify(draft.payload ?? null)
      for (let attempt = 0;; attempt++) {
        const rows = yield* db.sql<{ readonly seq: bigint }>`INSERT INTO codetether_events (session_id, seq, ts, kind, payload)
            SELECT ${sessionId}, COALESCE(MAX(seq), 0) + 1, ${ts}, ${draft.kind}, ${payload}
            FROM codetether_events WHERE session_id = ${sessionId}
            ON CONFLICT (session_id, seq) DO NOTHING RETURNING seq`.pipe(
          Effect.mapError((e) => ioError(db.fail(`Cannot write an event of session ${sessionId}`)(e)))
        )
        if (rows.length > 0) return { ...draft, seq: Number(rows[0]!.seq) }
        // another writer took that seq: take the next one
        if (attempt >= 50) {
          return yield* new DurableSinkError({ reason: "Io", message: `Cannot write an event of session ${sessionId}: too many concurrent writers` })
        }
      }
    }),
    read: Effect.fn("DurableSink.read")(function*(sessionId: string, options?: { readonly after?: number | undefined }) {
      yield* checkId(sessionId)
      yield* Effect.mapError(db.ready, ioError)
      const rows = yield* read({ sessionId, after: options?.after ?? 0 }).pipe(
        Effect.mapError((e) => ioError(db.fail(`Cannot read the events of session ${sessionId}`)(e)))
      )
      return rows.map((row): DurableRecord => ({
        ts: row.ts,
        session_id: sessionId,
        seq: Number(row.seq),
        kind: row.kind,
        payload: parsePayload(row.payload)
      }))
    })
  })
}

/**
 * The sink on PostgreSQL at `options.url`, on a pool of its own (the CLI
 * shares one pool between the store and the sink).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: PostgresOptions): Layer.Layer<DurableSink> =>
  Layer.effect(DurableSink, Effect.map(Postgres.make({ ...options, maxConnections: options.maxConnections ?? 2 }), make))
