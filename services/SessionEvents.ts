/**
 * Following one session's events, for UIs and servers: the live events of
 * this process's {@link SessionBus.SessionBus} merged with the durable records
 * of the {@link DurableSink.DurableSink}, so a follower misses no durable
 * event, whoever ran the prompt (this process, the CLI, another server on the
 * same store).
 *
 * - Ephemeral events (text snapshots, tool calls, ...) come from the bus,
 *   live; a follower that reads slowly loses the oldest ones (the bus is
 *   sliding) and never slows a prompt.
 * - Durable events carry their record's `seq`. They are delivered in `seq`
 *   order, each once: from the bus when it brings the next one, otherwise
 *   read from the sink (a gap the bus dropped, or records another process
 *   wrote, found by polling the sink every `pollInterval`, 500 ms by
 *   default).
 * - `after` replays the durable records after that `seq` first (an SSE
 *   `Last-Event-ID`); without it the stream starts at the end of the log.
 * - A follower more than `maxLag` (10,000) durable records behind ends its
 *   stream; it resumes with `after` = the last `seq` it saw.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SessionEvent from "../schemas/SessionEvent.ts"
import * as DurableSink from "./DurableSink.ts"
import * as SessionBus from "./SessionBus.ts"

/**
 * One event of the followed session; `seq` is set for durable events (their
 * position in the session's durable log).
 *
 * @since 0.1.0
 * @category models
 */
export interface Item {
  readonly event: SessionEvent.SessionEvent
  readonly seq?: number | undefined
}

/**
 * Options of {@link SessionEvents} `follow`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FollowOptions {
  /** Replay the durable records after this `seq` first (default: start at the end of the log). */
  readonly after?: number | undefined
  /** How often the sink is read for records written elsewhere (default 500 ms). */
  readonly pollInterval?: Duration.Input | undefined
  /** End the stream when this many durable records are undelivered (default 10,000). */
  readonly maxLag?: number | undefined
}

/**
 * @since 0.1.0
 * @category services
 */
export class SessionEvents extends Context.Service<SessionEvents, {
  /**
   * Subscribes now (the subscription lives as long as the scope) and returns
   * the events of session `sessionId` from this point (or from `after`), as
   * the module documentation describes. The stream never fails; it ends
   * only when the follower falls more than `maxLag` durable records behind.
   */
  readonly follow: (
    sessionId: string,
    options?: FollowOptions
  ) => Effect.Effect<Stream.Stream<Item>, never, Scope.Scope>
}>()("codetether/SessionEvents") {}

/**
 * Default poll interval of the durable sink.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_POLL_INTERVAL = Duration.millis(500)

/**
 * Default number of undelivered durable records after which a follower is
 * dropped.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_LAG = 10_000

const decodeEvent = Schema.decodeUnknownResult(SessionEvent.SessionEvent)

const pascal = (kind: string): string =>
  kind.split("_").map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("")

/**
 * The event a durable record was written from (`kind` `token_usage` and its
 * payload become `TokenUsage`), or `undefined` for a record that is not one.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromRecord = (record: DurableSink.DurableRecord): SessionEvent.SessionEvent | undefined => {
  const decoded = decodeEvent({ type: pascal(record.kind), payload: record.payload })
  return Result.isSuccess(decoded) && SessionEvent.isDurable(decoded.success) ? decoded.success : undefined
}

type Input =
  | { readonly _tag: "Live"; readonly envelope: SessionBus.Envelope }
  | { readonly _tag: "Poll" }

type Output = Item | { readonly _tag: "Lagged" }

const LAGGED: Output = { _tag: "Lagged" }

/**
 * Follows sessions on the bus and sink of the environment.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const bus = yield* SessionBus.SessionBus
  const sink = yield* DurableSink.DurableSink

  const read = (sessionId: string, after: number) =>
    sink.read(sessionId, { after }).pipe(
      Effect.catch((e) =>
        Effect.as(Effect.logWarning(`cannot read the durable events of session ${sessionId}: ${e.message}`), [])
      )
    )

  const items = (records: ReadonlyArray<DurableSink.DurableRecord>): Array<Item> => {
    const out: Array<Item> = []
    for (const record of records) {
      const event = fromRecord(record)
      if (event !== undefined) out.push({ event, seq: record.seq })
    }
    return out
  }

  const follow = Effect.fn("SessionEvents.follow")(function*(sessionId: string, options: FollowOptions = {}) {
    const maxLag = Math.max(1, options.maxLag ?? DEFAULT_MAX_LAG)
    const live = yield* bus.subscribe
    let last = 0
    let replay: ReadonlyArray<Item> = []
    if (options.after !== undefined) {
      const records = yield* read(sessionId, options.after)
      replay = items(records)
      last = records.reduce((max, r) => Math.max(max, r.seq), options.after)
    } else {
      last = (yield* read(sessionId, 0)).reduce((max, r) => Math.max(max, r.seq), 0)
    }

    /** The durable records after `last`, delivered in order (or `Lagged` when too many). */
    const catchUp = () =>
      Effect.map(read(sessionId, last), (records): Array<Output> => {
        if (records.length > maxLag) return [LAGGED]
        const out: Array<Output> = []
        for (const item of items(records)) {
          if (item.seq! <= last) continue
          out.push(item)
          last = item.seq!
        }
        for (const record of records) last = Math.max(last, record.seq)
        return out
      })

    const step = (input: Input): Effect.Effect<ReadonlyArray<Output>> => {
      if (input._tag === "Poll") return catchUp()
      const { event, seq } = input.envelope
      if (seq === undefined || seq <= 0) return Effect.succeed([{ event, seq: undefined }])
      if (seq <= last) return Effect.succeed([])
      if (seq - last > maxLag) return Effect.succeed([LAGGED])
      if (seq === last + 1) {
        last = seq
        return Effect.succeed([{ event, seq }])
      }
      // a gap: the bus dropped records (a slow follower) or another process wrote some
      return Effect.map(catchUp(), (out) => {
        if (seq <= last) return out
        last = seq
        return [...out, { event, seq }]
      })
    }

    const inputs = Stream.merge(
      live.pipe(
        Stream.filter((envelope) => envelope.sessionId === sessionId),
        Stream.map((envelope): Input => ({ _tag: "Live", envelope }))
      ),
      Stream.tick(options.pollInterval ?? DEFAULT_POLL_INTERVAL).pipe(Stream.map((): Input => ({ _tag: "Poll" })))
    )
    return Stream.concat(
      Stream.fromIterable(replay),
      inputs.pipe(
        Stream.mapEffect(step),
        Stream.flattenIterable,
        Stream.takeWhile((output): output is Item => !("_tag" in output)),
        Stream.map((output) => output as Item)
      )
    )
  })

  return SessionEvents.of({ follow })
})

/**
 * Followers over the bus and sink of the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SessionEvents, never, SessionBus.SessionBus | DurableSink.DurableSink> = Layer.effect(
  SessionEvents,
  make
)
