/**
 * Where durable session events go before they are broadcast (4.5.7
 * `DurableSink`; 4.5.7 ships only the contract and a no-op sink).
 *
 * `layerJsonl` appends one JSON line per event to
 * `<data_dir>/events/<session id>.jsonl` (directory 0700, file 0600; never
 * through a symlink, never to a FIFO or device: a repository that plants
 * `events/<id>.jsonl -> ~/.bashrc` gets a sink error, not an append), the
 * record format SESSION_FORMAT §11 recommends:
 *
 * ```json
 * {"ts":"2026-02-03T08:13:10.004512990Z","session_id":"7d0c…","seq":3,"kind":"token_usage","payload":{"source":"root","model":"gpt-4o","prompt_tokens":1200,"completion_tokens":340,"duration_ms":2140}}
 * ```
 *
 * `ts` is the time the event was written (RFC 3339, UTC); `seq` numbers the
 * records of one session from 1, in the order they were written (a reader
 * that saw record N asks for those after N); `kind` is the event
 * variant in snake_case (`token_usage`, `rlm_complete`, `compaction_started`,
 * `compaction_completed`, `compaction_failed`, `context_truncated`,
 * `rlm_subcall_fallback`, and codetether's `secrets_redacted`); `payload` is
 * the variant's payload struct in its 4.5.7 serde shape (BEHAVIOUR §7), or
 * for `secrets_redacted` `{target, index, counts, total}` (`Redaction.Report`).
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { SessionEvent } from "../schemas/SessionEvent.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as DataDir from "./DataDir.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as LazyModule from "./internal/LazyModule.ts"
import { idProblem, type PostgresOptions } from "./SessionStore.ts"

/**
 * Writing an event failed (`Io`: the file system refused; `InvalidId`: the
 * session id cannot name a file).
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableSinkError extends Schema.TaggedError<DurableSinkError>()("DurableSinkError", {
  reason: Schema.Literals(["Io", "InvalidId"]),
  message: Schema.String,
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * One line of the JSONL sink (see the module documentation).
 *
 * @since 0.1.0
 * @category models
 */
export interface DurableRecord {
  readonly ts: string
  readonly session_id: string
  /** Position in the session's durable log, from 1. */
  readonly seq: number
  readonly kind: string
  readonly payload: unknown
}

/**
 * @since 0.1.0
 * @category services
 */
export class DurableSink extends Context.Service<DurableSink, {
  /**
   * Persists (or enqueues) `event` of session `sessionId` before returning,
   * as the next record of the session's log, and returns that record (with
   * its `seq`). Fails with {@link DurableSinkError}; the bus logs such
   * failures and goes on (a sink never fails a prompt).
   */
  readonly write: (sessionId: string, event: SessionEvent) => Effect.Effect<DurableRecord, DurableSinkError>
  /**
   * The records of session `sessionId` whose `seq` is greater than `after`
   * (default 0: all), in order, as stored now. A session without records has
   * none. Fails with {@link DurableSinkError} when the log cannot be read.
   */
  readonly read: (
    sessionId: string,
    options?: { readonly after?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<DurableRecord>, DurableSinkError>
}>()("codetether/DurableSink") {}

const encodeEvent = Schema.encodeSync(SessionEvent)

const snake = (tag: string): string => tag.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c : `_${c}`).toLowerCase())

/**
 * The record of `event` written at `ts`: payload variants keep their payload
 * struct, other variants their fields (without the `type` tag).
 *
 * @since 0.1.0
 * @category encoding
 */
export const toRecord = (sessionId: string, event: SessionEvent, ts: Timestamp.Timestamp, seq: number): DurableRecord => {
  const { type: _, ...fields } = encodeEvent(event) as { readonly type: string } & Record<string, unknown>
  return {
    ts,
    session_id: sessionId,
    seq,
    kind: snake(event._tag),
    payload: "payload" in fields ? fields.payload : fields
  }
}

/**
 * Parses one line of a JSONL log into a record; `undefined` for a line that
 * is not one (torn, blank, or written by something else). Records written
 * before `seq` existed get their line number.
 *
 * @since 0.1.0
 * @category encoding
 */
export const parseRecord = (line: string, lineNumber: number): DurableRecord | undefined => {
  if (line.trim().length === 0) return undefined
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v.ts !== "string" || typeof v.session_id !== "string" || typeof v.kind !== "string") return undefined
  return {
    ts: v.ts,
    session_id: v.session_id,
    seq: typeof v.seq === "number" && Number.isSafeInteger(v.seq) ? v.seq : lineNumber,
    kind: v.kind,
    payload: v.payload
  }
}

/** Cap of a JSONL log read (bytes): logs hold one record per step or compaction. */
const LOG_READ_CAP = 256 * SafeFs.MiB

/**
 * Accepts and drops everything (4.5.7 `NoopSink`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNoop: Layer.Layer<DurableSink> = Layer.succeed(
  DurableSink,
  DurableSink.of({
    write: (sessionId, event) => Effect.map(Timestamp.now, (ts) => toRecord(sessionId, event, ts, 0)),
    read: () => Effect.succeed([])
  })
)

/**
 * Appends records to `<dir>/<session id>.jsonl`. The next `seq` of a session
 * is read from its log the first time this sink writes to it, then counted in
 * memory (one prompt writes a session's durable events at a time: the lease).
 *
 * With `gitignore`, creating the data dir (the parent of `dir`) also writes
 * `<data_dir>/.gitignore` holding `*`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeJsonl = (dir: string, options: { readonly gitignore?: boolean | undefined } = {}): DurableSink["Service"] => {
  const dirOptions: SafeFs.EnsureDirOptions = options.gitignore === true ? { gitignoreIn: NodePath.dirname(dir) } : {}
  const last = new Map<string, number>()
  const pathOf = (sessionId: string) =>
    Effect.gen(function*() {
      const problem = idProblem(sessionId)
      if (problem !== undefined) {
        return yield* new DurableSinkError({ reason: "InvalidId", message: `Invalid session id ${JSON.stringify(sessionId)}: ${problem}` })
      }
      return NodePath.join(dir, `${sessionId}.jsonl`)
    })
  const ioError = (path: string) => (cause: unknown) =>
    new DurableSinkError({
      reason: "Io",
      message: `Cannot write ${path}: ${cause instanceof SafeFs.SafeFsError ? cause.detail : (cause as Error).message}`,
      path,
      cause
    })
  const readLog = (path: string) =>
    Effect.tryPromise({
      try: async () => {
        const bytes = await SafeFs.readFile(path, { maxBytes: LOG_READ_CAP })
        if (bytes === undefined) return []
        const records: Array<DurableRecord> = []
        bytes.toString("utf8").split("\n").forEach((line, i) => {
          const record = parseRecord(line, i + 1)
          if (record !== undefined) records.push(record)
        })
        return records
      },
      catch: (cause) =>
        new DurableSinkError({
          reason: "Io",
          message: `Cannot read ${path}: ${cause instanceof SafeFs.SafeFsError ? cause.detail : (cause as Error).message}`,
          path,
          cause
        })
    })
  return DurableSink.of({
    write: Effect.fn("DurableSink.write")(function*(sessionId: string, event: SessionEvent) {
      const path = yield* pathOf(sessionId)
      let previous = last.get(sessionId)
      if (previous === undefined) {
        const existing = yield* readLog(path).pipe(Effect.orElseSucceed(() => []))
        previous = existing.reduce((max, r) => Math.max(max, r.seq), 0)
      }
      const record = toRecord(sessionId, event, yield* Timestamp.now, previous + 1)
      const line = `${JSON.stringify(record)}\n`
      yield* Effect.tryPromise({
        // <data_dir>/events/ is created 0700 when missing and must be a real
        // directory (a repository may have planted a symlink there)
        try: () => SafeFs.ensureDir(dir, 0o700, dirOptions).then(() => SafeFs.appendFile(path, line)),
        catch: ioError(path)
      })
      last.set(sessionId, record.seq)
      return record
    }),
    read: Effect.fn("DurableSink.read")(function*(sessionId: string, options?: { readonly after?: number | undefined }) {
      const path = yield* pathOf(sessionId)
      const after = options?.after ?? 0
      return (yield* readLog(path)).filter((r) => r.seq > after)
    })
  })
}

/**
 * The JSONL sink in `<data_dir>/events/`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerJsonl: Layer.Layer<DurableSink, never, DataDir.DataDir> = Layer.effect(
  DurableSink,
  Effect.gen(function*() {
    const dataDir = yield* DataDir.DataDir
    return makeJsonl(NodePath.join(dataDir.path, "events"), { gitignore: DataDir.isDefault(dataDir) })
  })
)

/**
 * An in-memory sink, for tests and embedders: `records` holds what was
 * written (see {@link layerMemory} for the layer).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = Effect.gen(function*() {
  const records = yield* Ref.make<ReadonlyArray<DurableRecord>>([])
  const sink = DurableSink.of({
    write: (sessionId, event) =>
      Effect.flatMap(Timestamp.now, (ts) =>
        Ref.modify(records, (all) => {
          const seq = all.reduce((max, r) => (r.session_id === sessionId ? Math.max(max, r.seq) : max), 0) + 1
          const record = toRecord(sessionId, event, ts, seq)
          return [record, [...all, record]]
        })),
    read: (sessionId, options) =>
      Effect.map(Ref.get(records), (all) => all.filter((r) => r.session_id === sessionId && r.seq > (options?.after ?? 0)))
  })
  return { sink, records: Ref.get(records) }
})

/**
 * What the sink of {@link layerMemory} holds: `all` is every record written
 * so far, of every session, in the order written (each with its per-session
 * `seq`).
 *
 * @since 0.1.0
 * @category services
 */
export class MemoryRecords extends Context.Service<MemoryRecords, {
  readonly all: Effect.Effect<ReadonlyArray<DurableRecord>>
}>()("codetether/DurableSink/MemoryRecords") {}

/**
 * An in-memory {@link DurableSink} (nothing is written to disk), with its
 * records readable as the {@link MemoryRecords} service: in a test,
 * `const records = yield* (yield* DurableSink.MemoryRecords).all`. Each layer
 * build starts empty.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<DurableSink | MemoryRecords> = Layer.effectContext(
  Effect.map(makeMemory, ({ records, sink }) =>
    Context.make(DurableSink, sink).pipe(Context.add(MemoryRecords, MemoryRecords.of({ all: records }))))
)

/**
 * The sink on PostgreSQL (see `DurableSinkPostgres.ts`): the records of
 * every machine in one `codetether_events` table, same record shape as the
 * JSONL sink, `read` by session and `after`. Loads `@effect/sql-pg` on first
 * use (a dynamic import) and connects on the first write or read; a database
 * that cannot be reached fails that call with `Io` naming `host:port`. Fails
 * to build with `Io` when `@effect/sql-pg` is not installed.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPostgres = (options: PostgresOptions): Layer.Layer<DurableSink, DurableSinkError> =>
  Layer.unwrap(Effect.map(
    Effect.tryPromise({
      // through LazyModule: a literal import() would carry the driver into every app's bundle
      try: LazyModule.durableSinkPostgres,
      catch: (cause) =>
        new DurableSinkError({
          reason: "Io",
          message: `The PostgreSQL durable sink needs the @effect/sql-pg package (npm install @effect/sql-pg@4.0): ${
            (cause as Error)?.message ?? String(cause)
          }`,
          cause
        })
    }),
    (module) => module.layer(options)
  ))
