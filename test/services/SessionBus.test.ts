import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Fiber, Layer, Stream } from "effect"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as Logs from "../utils/Logs.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const usage = SessionEvent.make.tokenUsage({ source: "root", model: "m", promptTokens: 3, completionTokens: 4, durationMs: 5 })

/** A bus living as long as the test's scope (its PubSub shuts down with the layer). */
const busWith = (sink: DurableSink.DurableSink["Service"], capacity?: number) =>
  Effect.flatMap(
    Layer.build(
      SessionBus.layer(capacity === undefined ? {} : { capacity }).pipe(Layer.provide(Layer.succeed(DurableSink.DurableSink, sink)))
    ),
    (context) => SessionBus.SessionBus.pipe(Effect.provide(context))
  )

describe("SessionBus", () => {
  it.effect("durable events reach the sink before subscribers see them; ephemeral ones never reach the sink", () =>
    Effect.gen(function*() {
      const order: Array<string> = []
      const sink = DurableSink.DurableSink.of({
        write: (sessionId, event) =>
          Effect.sync(() => {
            order.push(`sink ${event._tag}`)
            return DurableSink.toRecord(sessionId, event, Sessions.at(0), 7)
          }),
        read: () => Effect.succeed([])
      })
      const bus = yield* busWith(sink)
      const stream = yield* bus.subscribe
      const fiber = yield* stream.pipe(
        Stream.take(3),
        Stream.runForEach((e) => Effect.sync(() => order.push(`subscriber ${e.event._tag}${e.seq === undefined ? "" : ` ${e.seq}`}`))),
        Effect.forkChild
      )
      yield* bus.publish("s1", SessionEvent.make.thinking())
      yield* bus.publish("s1", usage)
      yield* bus.publish("s1", SessionEvent.make.done())
      yield* Fiber.join(fiber)
      expect(order.indexOf("sink TokenUsage")).toBeLessThan(order.indexOf("subscriber TokenUsage 7"))
      expect(order.filter((o) => o.startsWith("sink"))).toEqual(["sink TokenUsage"])
      // the durable event carries its record's seq
      expect(order.filter((o) => o.startsWith("subscriber"))).toEqual(["subscriber Thinking", "subscriber TokenUsage 7", "subscriber Done"])
    }))

  it.effect("a failing sink is logged and never fails the publisher; the event is still broadcast", () =>
    Effect.gen(function*() {
      const sink = DurableSink.DurableSink.of({
        write: () => Effect.fail(new DurableSink.DurableSinkError({ reason: "Io", message: "disk full" })),
        read: () => Effect.succeed([])
      })
      const bus = yield* busWith(sink)
      const stream = yield* bus.subscribe
      const fiber = yield* stream.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      const { logs } = yield* Logs.capture(bus.publish("s1", usage))
      expect(logs.some((l) => l.level === "Warn" && l.message.includes("disk full"))).toBe(true)
      expect(Array.from(yield* Fiber.join(fiber)).map((e) => e.event._tag)).toEqual(["TokenUsage"])
    }))

  it.effect("publishing never waits for a slow subscriber: it loses the oldest events instead", () =>
    Effect.gen(function*() {
      const bus = yield* busWith(Effect.runSync(DurableSink.makeMemory).sink, 4)
      const stream = yield* bus.subscribe // subscribed, never read while publishing
      for (let i = 0; i < 100; i++) yield* bus.publish("s1", SessionEvent.make.textChunk(String(i)))
      const got = Array.from(yield* stream.pipe(Stream.take(4), Stream.runCollect))
      expect(got.map((e) => (e.event._tag === "TextChunk" ? e.event.text : ""))).toEqual(["96", "97", "98", "99"])
    }))

  it.effect("a subscriber sees only what is published after it subscribed", () =>
    Effect.gen(function*() {
      const bus = yield* busWith(Effect.runSync(DurableSink.makeMemory).sink)
      yield* bus.publish("s1", SessionEvent.make.textChunk("before"))
      const stream = yield* bus.subscribe
      yield* bus.publish("s1", SessionEvent.make.textChunk("after"))
      const got = Array.from(yield* stream.pipe(Stream.take(1), Stream.runCollect))
      expect(got[0]?.event).toEqual({ _tag: "TextChunk", text: "after" })
    }))
})

describe("DurableSink", () => {
  it.effect("the JSONL sink appends one record per event to <data_dir>/events/<id>.jsonl, 0600", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const sink = DurableSink.makeJsonl(NodePath.join(dir, "events"))
      yield* sink.write("abc", usage)
      const truncated = { _tag: "ContextTruncated", payload: { traceId: "t", droppedTokens: 10, keptMessages: 4, archiveRef: null } } as const
      yield* sink.write("abc", truncated)
      const path = NodePath.join(dir, "events", "abc.jsonl")
      const lines = NodeFs.readFileSync(path, "utf8").split("\n")
      expect(lines).toHaveLength(3)
      expect(lines[2]).toBe("")
      const [first, second] = lines.slice(0, 2).map((l) => JSON.parse(l))
      expect(Object.keys(first)).toEqual(["ts", "session_id", "seq", "kind", "payload"])
      expect([first.seq, second.seq]).toEqual([1, 2])
      expect(first).toMatchObject({
        session_id: "abc",
        kind: "token_usage",
        payload: { source: "root", model: "m", prompt_tokens: 3, completion_tokens: 4, duration_ms: 5 }
      })
      expect(second.payload).toEqual({ trace_id: "t", dropped_tokens: 10, kept_messages: 4, archive_ref: null })
      expect(second.kind).toBe("context_truncated")
      expect(NodeFs.statSync(path).mode & 0o777).toBe(0o600)
      const bad = yield* Effect.flip(sink.write("../escape", usage))
      expect(bad.reason).toBe("InvalidId")
      // reading back, and a later writer (a new process) continuing the numbering
      expect((yield* sink.read("abc")).map((r) => [r.seq, r.kind])).toEqual([[1, "token_usage"], [2, "context_truncated"]])
      expect((yield* sink.read("abc", { after: 1 })).map((r) => r.seq)).toEqual([2])
      expect(yield* sink.read("nothing-yet")).toEqual([])
      const later = DurableSink.makeJsonl(NodePath.join(dir, "events"))
      expect((yield* later.write("abc", usage)).seq).toBe(3)
      // a torn last line (a killed writer) is skipped by readers
      NodeFs.appendFileSync(path, "{\"ts\":\"2026")
      expect((yield* later.read("abc")).map((r) => r.seq)).toEqual([1, 2, 3])
    }))

  it("isDurable is true for exactly the seven 4.5.7 variants and codetether's SecretsRedacted, SessionForked and ModelFallback", () => {
    expect([...SessionEvent.durableTags].sort()).toEqual([
      "CompactionCompleted",
      "CompactionFailed",
      "CompactionStarted",
      "ContextTruncated",
      "ModelFallback",
      "RlmComplete",
      "RlmSubcallFallback",
      "SecretsRedacted",
      "SessionForked",
      "TokenUsage"
    ])
    expect(SessionEvent.isDurable(SessionEvent.make.stepLimitReached(2, 2))).toBe(false)
    expect(SessionEvent.isDurable(usage)).toBe(true)
    expect(SessionEvent.isDurable(SessionEvent.make.textChunk("x"))).toBe(false)
    expect(SessionEvent.isDurable(SessionEvent.make.done())).toBe(false)
  })

  it.effect("subscriberCount counts live subscriptions until their scope closes (4.5.7 subscriber_count)", () =>
    Effect.gen(function*() {
      const bus = yield* busWith(DurableSink.DurableSink.of({
        write: (sessionId, event) => Effect.succeed(DurableSink.toRecord(sessionId, event, Sessions.at(0), 1)),
        read: () => Effect.succeed([])
      }))
      expect(yield* bus.subscriberCount).toBe(0)
      yield* Effect.scoped(Effect.gen(function*() {
        yield* bus.subscribe
        yield* bus.subscribe
        expect(yield* bus.subscriberCount).toBe(2)
        yield* Effect.scoped(bus.subscribe)
        expect(yield* bus.subscriberCount).toBe(2)
      }))
      expect(yield* bus.subscriberCount).toBe(0)
    }))

  it("events encode to one JSON line with a type tag and snake_case fields", () => {
    expect(SessionEvent.toJsonLine(SessionEvent.make.toolCallComplete("bash", "ok", true, 12.4))).toBe(
      "{\"type\":\"ToolCallComplete\",\"name\":\"bash\",\"output\":\"ok\",\"success\":true,\"duration_ms\":12}"
    )
    expect(SessionEvent.toJsonLine(usage)).toBe(
      "{\"type\":\"TokenUsage\",\"payload\":{\"source\":\"root\",\"model\":\"m\",\"prompt_tokens\":3,\"completion_tokens\":4,\"duration_ms\":5}}"
    )
  })
})
