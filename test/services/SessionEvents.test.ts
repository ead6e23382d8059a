import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionEvents from "../../services/SessionEvents.ts"
import * as Sessions from "../utils/Sessions.ts"

const usage = (n: number) =>
  SessionEvent.make.tokenUsage({ source: "root", model: "m", promptTokens: n, completionTokens: 1, durationMs: 2 })

/** A bus of `capacity` over a memory sink, and the follower service over both. */
const setup = (capacity = 1024) =>
  Effect.gen(function*() {
    const memory = yield* DurableSink.makeMemory
    const context = yield* Layer.build(
      SessionEvents.layer.pipe(
        Layer.provideMerge(SessionBus.layer({ capacity })),
        Layer.provideMerge(Layer.succeed(DurableSink.DurableSink, memory.sink))
      )
    )
    const bus = yield* SessionBus.SessionBus.pipe(Effect.provide(context))
    const events = yield* SessionEvents.SessionEvents.pipe(Effect.provide(context))
    return { bus, events, sink: memory.sink }
  })

const describeItem = (item: SessionEvents.Item) =>
  item.event._tag === "TokenUsage" ? `usage ${item.event.payload.promptTokens}#${item.seq}` : item.event._tag

describe("SessionEvents", () => {
  it.effect("fromRecord turns durable records back into their events; other records are skipped", () =>
    Effect.sync(() => {
      const record = DurableSink.toRecord("s", usage(3), Sessions.at(0), 1)
      expect(record.kind).toBe("token_usage")
      expect(SessionEvents.fromRecord(record)).toEqual(usage(3))
      const compaction: SessionEvent.SessionEvent = {
        _tag: "CompactionCompleted",
        payload: { traceId: "t", strategy: "truncate", beforeTokens: 9, afterTokens: 3, keptMessages: 4 }
      }
      expect(SessionEvents.fromRecord(DurableSink.toRecord("s", compaction, Sessions.at(0), 2))).toEqual(compaction)
      expect(SessionEvents.fromRecord({ ts: "x", session_id: "s", seq: 3, kind: "something_else", payload: {} })).toBeUndefined()
      expect(SessionEvents.fromRecord({ ts: "x", session_id: "s", seq: 4, kind: "token_usage", payload: { nope: 1 } }))
        .toBeUndefined()
    }))

  it.live("follows live events of the session only; `after` replays the durable records after it first", () =>
    Effect.gen(function*() {
      const { bus, events } = yield* setup()
      yield* bus.publish("s1", usage(1))
      yield* bus.publish("s1", usage(2))
      const stream = yield* events.follow("s1", { after: 1 })
      const fiber = yield* stream.pipe(Stream.take(4), Stream.runCollect, Effect.forkChild)
      yield* bus.publish("other", usage(99))
      yield* bus.publish("s1", SessionEvent.make.textChunk("hi"))
      yield* bus.publish("s1", usage(3))
      yield* bus.publish("s1", SessionEvent.make.done())
      const got = Array.from(yield* Fiber.join(fiber)).map(describeItem)
      expect(got).toEqual(["usage 2#2", "TextChunk", "usage 3#3", "Done"])
    }))

  it.live("without `after` it starts at the end of the durable log", () =>
    Effect.gen(function*() {
      const { bus, events } = yield* setup()
      yield* bus.publish("s1", usage(1))
      const stream = yield* events.follow("s1")
      const fiber = yield* stream.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      yield* bus.publish("s1", usage(2))
      expect(Array.from(yield* Fiber.join(fiber)).map(describeItem)).toEqual(["usage 2#2"])
    }))

  it.live("a slow follower loses ephemeral events but gets every durable one, once, in order", () =>
    Effect.gen(function*() {
      const { bus, events } = yield* setup(4)
      const stream = yield* events.follow("s1", { pollInterval: "1 hour" })
      // nothing is read while 200 events are published
      for (let i = 1; i <= 100; i++) {
        yield* bus.publish("s1", SessionEvent.make.textChunk(String(i)))
        yield* bus.publish("s1", usage(i))
      }
      yield* bus.publish("s1", SessionEvent.make.done())
      const got = Array.from(yield* stream.pipe(Stream.takeUntil((item) => item.event._tag === "Done"), Stream.runCollect))
      const durable = got.filter((item) => item.seq !== undefined)
      expect(durable.map((item) => item.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
      expect(durable.map(describeItem).slice(0, 2)).toEqual(["usage 1#1", "usage 2#2"])
      const chunks = got.filter((item) => item.event._tag === "TextChunk")
      expect(chunks.length).toBeLessThan(100)
    }))

  it.live("records written by another process (straight to the sink) arrive by polling", () =>
    Effect.gen(function*() {
      const { events, sink } = yield* setup()
      const stream = yield* events.follow("s1", { pollInterval: "20 millis" })
      const fiber = yield* stream.pipe(Stream.take(2), Stream.runCollect, Effect.forkChild)
      yield* sink.write("s1", usage(1))
      yield* sink.write("s1", usage(2))
      expect(Array.from(yield* Fiber.join(fiber)).map(describeItem)).toEqual(["usage 1#1", "usage 2#2"])
    }))

  it.live("a follower more than maxLag durable records behind is disconnected (its stream ends)", () =>
    Effect.gen(function*() {
      const { bus, events, sink } = yield* setup()
      const polled = yield* events.follow("s1", { pollInterval: "20 millis", maxLag: 5 })
      for (let i = 1; i <= 10; i++) yield* sink.write("s1", usage(i))
      expect(Array.from(yield* Stream.runCollect(polled))).toEqual([])
      // the same through the bus: a record 6 beyond the last delivered one
      const live = yield* events.follow("s1", { pollInterval: "1 hour", maxLag: 5 })
      const fiber = yield* Stream.runCollect(live).pipe(Effect.forkChild)
      for (let i = 11; i <= 16; i++) yield* sink.write("s1", usage(i))
      yield* bus.publish("s1", usage(17))
      expect(Array.from(yield* Fiber.join(fiber))).toEqual([])
      // resuming from the last seq seen replays everything after it
      const resumed = yield* events.follow("s1", { after: 10, pollInterval: "1 hour" })
      const replay = Array.from(yield* resumed.pipe(Stream.take(7), Stream.runCollect))
      expect(replay.map((item) => item.seq)).toEqual([11, 12, 13, 14, 15, 16, 17])
    }))
})
