/**
 * Session costs from the durable log's token_usage records, or the total at
 * the session's model; compactions and unknown prices.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Pricing from "../../schemas/Pricing.ts"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as SessionCost from "../../services/SessionCost.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Sessions from "../utils/Sessions.ts"

const usageRecord = (seq: number, delta: Partial<SessionEvent.TokenDelta> & { readonly model: string }) =>
  DurableSink.toRecord("s", SessionEvent.make.tokenUsage({
    source: "root",
    promptTokens: 0,
    completionTokens: 0,
    durationMs: 5,
    ...delta
  }), Sessions.at(0), seq)

const prices: Pricing.PriceTable = { a: { input: 1, output: 2, cacheRead: 0.5 }, b: { input: 10, output: 20 } }

describe("SessionCost", () => {
  it("sums the priced steps when the records add up to the session's usage", () => {
    const session = {
      ...Sessions.make({ messages: 4 }),
      usage: { promptTokens: 3000, completionTokens: 300, totalTokens: 3300, cacheReadTokens: 1000, cacheWriteTokens: null }
    }
    const records = [
      usageRecord(1, { model: "a", promptTokens: 2000, completionTokens: 100, cacheReadTokens: 1000, messageIndex: 1 }),
      usageRecord(2, { model: "b", promptTokens: 1000, completionTokens: 200, messageIndex: 3 })
    ]
    const report = SessionCost.report(session, records, prices)
    expect(report.fromSteps).toBe(true)
    expect(report.steps.map((s) => [s.model, s.messageIndex, s.cacheReadTokens])).toEqual([["a", 1, 1000], ["b", 3, null]])
    const first = (1000 * 1 + 1000 * 0.5 + 100 * 2) / 1e6
    const second = (1000 * 10 + 200 * 20) / 1e6
    expect(report.steps[0]!.costUsd).toBeCloseTo(first, 12)
    expect(report.costUsd).toBeCloseTo(first + second, 12)
  })

  it("prices the whole usage at the session's model when records are missing or incomplete; null when unpriced", () => {
    const base = { ...Sessions.make(), usage: { promptTokens: 1000, completionTokens: 100, totalTokens: 1100, cacheReadTokens: null, cacheWriteTokens: null } }
    const withModel = { ...base, metadata: { ...base.metadata, model: "provider/b" } }
    const partial = [usageRecord(1, { model: "a", promptTokens: 10, completionTokens: 1 })]
    const report = SessionCost.report(withModel, partial, prices)
    expect(report.fromSteps).toBe(false)
    expect(report.steps).toHaveLength(1)
    expect(report.costUsd).toBeCloseTo((1000 * 10 + 100 * 20) / 1e6, 12)
    // no model in the session: the configured default model; none: unknown
    expect(SessionCost.report(base, [], prices, "a").costUsd).toBeCloseTo((1000 + 200) / 1e6, 12)
    expect(SessionCost.report(base, [], prices).costUsd).toBeNull()
    // a step with an unpriced model makes the total unknown, never a partial sum
    const unpriced = [
      usageRecord(1, { model: "a", promptTokens: 500, completionTokens: 50 }),
      usageRecord(2, { model: "mystery", promptTokens: 500, completionTokens: 50 })
    ]
    const mixed = SessionCost.report(base, unpriced, prices)
    expect(mixed.fromSteps).toBe(true)
    expect(mixed.steps[1]!.costUsd).toBeNull()
    expect(mixed.costUsd).toBeNull()
  })

  it("a compaction moves the earlier steps to message 0 (its summary stands for them)", () => {
    const records = [
      usageRecord(1, { model: "a", promptTokens: 1, messageIndex: 5 }),
      DurableSink.toRecord("s", {
        _tag: "CompactionCompleted",
        payload: { traceId: "t", strategy: "chunk_compress", beforeTokens: 10, afterTokens: 5, keptMessages: 3 }
      }, Sessions.at(1), 2),
      usageRecord(3, { model: "a", promptTokens: 1, messageIndex: 3 })
    ]
    expect(SessionCost.steps(records, prices).map((s) => s.messageIndex)).toEqual([0, 3])
  })

  it.effect("ofSession reads the header and usage from any store and the durable log from the sink", () =>
    Effect.gen(function*() {
      const store = SessionStore.makeMemory()
      const sink = yield* DurableSink.makeMemory
      const session = { ...Sessions.make({ messages: 2 }), usage: { promptTokens: 100, completionTokens: 10, totalTokens: 110, cacheReadTokens: null, cacheWriteTokens: null } }
      yield* store.save(session)
      yield* sink.sink.write(session.id, SessionEvent.make.tokenUsage({ source: "root", model: "gpt-4o", promptTokens: 100, completionTokens: 10, durationMs: 1, messageIndex: 1 }))
      const report = yield* SessionCost.ofSession(session.id).pipe(
        Effect.provide(Layer.merge(Layer.succeed(SessionStore.SessionStore, store), Layer.succeed(DurableSink.DurableSink, sink.sink)))
      )
      expect(report.fromSteps).toBe(true)
      expect(report.costUsd).toBeCloseTo((100 * 2.5 + 10 * 10) / 1e6, 12)
    }))
})
