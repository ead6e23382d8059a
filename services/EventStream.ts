/**
 * The event-stream audit files of codetether-agent 4.5.7 (FEATURES row 87,
 * SESSION_FORMAT §10): when `CODETETHER_EVENT_STREAM_PATH` is set, every
 * executed tool call appends one JSON line to
 *
 * ```
 * $CODETETHER_EVENT_STREAM_PATH/<session id>/<UTC yyyyMMdd'T'HHmmss'Z'>-chat-events-<A>-<B>.jsonl
 * ```
 *
 * where `seq` is the number of messages in the session before the tool result
 * is appended, `A = seq * 10000` and `B = (seq + 1) * 10000`, both padded with
 * zeros to 20 digits, e.g.
 * `20260106T091640Z-chat-events-00000000000000040000-00000000000000050000.jsonl`.
 * The record is 4.5.7's `tool_result` line (keys in this order, `timestamp`
 * in Unix seconds, `result` the output as shown to the model):
 *
 * ```json
 * {"type":"tool_result","tool_name":"read","result":"…","success":true,"timestamp":1767690000}
 * ```
 *
 * Calls that do not run (the blocked `question` tool, a call whose arguments
 * were cut off) write nothing, as in 4.5.7. A failed write never fails the
 * prompt: 4.5.7 ignored such errors; codetether logs one warning per
 * session. The session directory is created 0700 and must be a real
 * directory; files are created 0600 and never written through a symlink.
 * 4.5.7's upload of these files to S3 is not done.
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SafeFs from "./internal/SafeFs.ts"
import { idProblem } from "./SessionStore.ts"

/**
 * One executed tool call, as the record says it: the tool's name, the output
 * shown to the model, and whether it succeeded.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolResultRecord {
  readonly toolName: string
  readonly result: string
  readonly success: boolean
}

/**
 * The audit-file writer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Writer {
  /** The directory written to (`CODETETHER_EVENT_STREAM_PATH`), or `undefined` when off. */
  readonly path: string | undefined
  /**
   * Appends the `tool_result` record of one executed call of session
   * `sessionId`, made when the session had `seq` messages. Never fails.
   */
  readonly toolResult: (sessionId: string, seq: number, record: ToolResultRecord) => Effect.Effect<void>
}

/**
 * The writer in effect: off unless provided ({@link layerConfig} reads
 * `CODETETHER_EVENT_STREAM_PATH`; the CLI provides it). A `Context.Reference`,
 * so embedders that do not want audit files need nothing.
 *
 * @since 0.1.0
 * @category references
 */
export const EventStream = Context.Reference<Writer>("codetether/EventStream", {
  defaultValue: () => make(undefined)
})

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/**
 * The file name of a record made at `epochMs` for a session with `seq`
 * messages (see the module docs).
 *
 * @since 0.1.0
 * @category naming
 */
export const fileName = (epochMs: number, seq: number): string => {
  const d = new Date(epochMs)
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}${
    pad(d.getUTCMinutes(), 2)
  }${pad(d.getUTCSeconds(), 2)}Z`
  return `${stamp}-chat-events-${pad(seq * 10000, 20)}-${pad((seq + 1) * 10000, 20)}.jsonl`
}

/**
 * The JSON line (with its newline) of one record made at `epochMs`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const line = (record: ToolResultRecord, epochMs: number): string =>
  `${
    JSON.stringify({
      type: "tool_result",
      tool_name: record.toolName,
      result: record.result,
      success: record.success,
      timestamp: Math.floor(epochMs / 1000)
    })
  }\n`

/**
 * Audit files under `path`; `undefined` turns them off.
 *
 * @since 0.1.0
 * @category constructors
 */
export function make(path: string | undefined): Writer {
  const warned = new Set<string>()
  return {
    path,
    toolResult: (sessionId, seq, record) =>
      path === undefined || idProblem(sessionId) !== undefined
        ? Effect.void
        : Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const dir = NodePath.join(path, sessionId)
          const file = NodePath.join(dir, fileName(now, seq))
          yield* Effect.tryPromise(() => SafeFs.ensureDir(dir).then(() => SafeFs.appendFile(file, line(record, now)))).pipe(
            Effect.catch((e) => {
              if (warned.has(sessionId)) return Effect.void
              warned.add(sessionId)
              const cause = e.cause instanceof SafeFs.SafeFsError ? e.cause.message : String(e.cause)
              return Effect.logWarning(`event-stream file not written (${file}): ${cause}`)
            })
          )
        }).pipe(Effect.withSpan("EventStream.toolResult"))
  }
}

/**
 * No audit files.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNoop: Layer.Layer<never> = Layer.succeed(EventStream, make(undefined))

/**
 * Audit files when `CODETETHER_EVENT_STREAM_PATH` is set (not blank), read
 * through `Config`; off otherwise. A relative path is taken from the current
 * directory.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<never, Config.ConfigError> = Layer.effect(
  EventStream,
  Effect.map(Config.option(Config.String("CODETETHER_EVENT_STREAM_PATH")), (value) =>
    make(Option.isSome(value) && value.value.trim().length > 0 ? NodePath.resolve(value.value.trim()) : undefined))
)
