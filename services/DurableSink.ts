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
 * {"ts":"2026-02-03T08:13:10.004512990Z","session_id":"7d0c…","kind":"token_usage","payload":{"source":"root","model":"gpt-4o","prompt_tokens":1200,"completion_tokens":340,"duration_ms":2140}}
 * ```
 *
 * `ts` is the time the event was written (RFC 3339, UTC); `kind` is the event
 * variant in snake_case (`token_usage`, `rlm_complete`, `compaction_started`,
 * `compaction_completed`, `compaction_failed`, `context_truncated`,
 * `rlm_subcall_fallback`); `payload` is the variant's payload struct in its
 * 4.5.7 serde shape (BEHAVIOUR §7).
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
import { idProblem } from "./SessionStore.ts"

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
  readonly kind: string
  readonly payload: unknown
}

/**
 * @since 0.1.0
 * @category services
 */
export class DurableSink extends Context.Service<DurableSink, {
  /**
   * Persists (or enqueues) `event` of session `sessionId` before returning.
   * Fails with {@link DurableSinkError}; the bus logs such failures and goes
   * on (a sink never fails a prompt).
   */
  readonly write: (sessionId: string, event: SessionEvent) => Effect.Effect<void, DurableSinkError>
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
export const toRecord = (sessionId: string, event: SessionEvent, ts: Timestamp.Timestamp): DurableRecord => {
  const { type: _, ...fields } = encodeEvent(event) as { readonly type: string } & Record<string, unknown>
  return {
    ts,
    session_id: sessionId,
    kind: snake(event._tag),
    payload: "payload" in fields ? fields.payload : fields
  }
}

/**
 * Accepts and drops everything (4.5.7 `NoopSink`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNoop: Layer.Layer<DurableSink> = Layer.succeed(DurableSink, DurableSink.of({ write: () => Effect.void }))

/**
 * Appends records to `<dir>/<session id>.jsonl`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeJsonl = (dir: string): DurableSink["Service"] =>
  DurableSink.of({
    write: Effect.fn("DurableSink.write")(function*(sessionId: string, event: SessionEvent) {
      const problem = idProblem(sessionId)
      if (problem !== undefined) {
        return yield* new DurableSinkError({ reason: "InvalidId", message: `Invalid session id ${JSON.stringify(sessionId)}: ${problem}` })
      }
      const path = NodePath.join(dir, `${sessionId}.jsonl`)
      const line = `${JSON.stringify(toRecord(sessionId, event, yield* Timestamp.now))}\n`
      yield* Effect.tryPromise({
        // <data_dir>/events/ is created 0700 when missing and must be a real
        // directory (a repository may have planted a symlink there)
        try: () => SafeFs.ensureDir(dir).then(() => SafeFs.appendFile(path, line)),
        catch: (cause) =>
          new DurableSinkError({
            reason: "Io",
            message: `Cannot write ${path}: ${cause instanceof SafeFs.SafeFsError ? cause.detail : (cause as Error).message}`,
            path,
            cause
          })
      })
    })
  })

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
    return makeJsonl(NodePath.join(dataDir.path, "events"))
  })
)

/**
 * An in-memory sink, for tests and embedders: `records` holds what was written.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = Effect.gen(function*() {
  const records = yield* Ref.make<ReadonlyArray<DurableRecord>>([])
  const sink = DurableSink.of({
    write: (sessionId, event) =>
      Effect.flatMap(Timestamp.now, (ts) => Ref.update(records, (all) => [...all, toRecord(sessionId, event, ts)]))
  })
  return { sink, records: Ref.get(records) }
})
