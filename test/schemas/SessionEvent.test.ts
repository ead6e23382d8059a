/**
 * The payload helpers of 4.5.7's event structs (BEHAVIOUR §8, FEATURES row 55).
 */
import { describe, expect, it } from "vitest"
import * as SessionEvent from "../../schemas/SessionEvent.ts"

describe("SessionEvent payload helpers", () => {
  it("TokenSource.is_rlm: only the two rlm_* sources", () => {
    expect(SessionEvent.isRlmSource("rlm_iteration")).toBe(true)
    expect(SessionEvent.isRlmSource("rlm_subcall")).toBe(true)
    expect(SessionEvent.isRlmSource("root")).toBe(false)
    expect(SessionEvent.isRlmSource("tool_embedded")).toBe(false)
  })

  it("TokenDelta.total = prompt + completion", () => {
    const delta = { source: "root", model: "m", promptTokens: 1200, completionTokens: 340, durationMs: 9 } as const
    expect(SessionEvent.totalTokens(delta)).toBe(1540)
  })

  it("TokenEstimate.fraction = request / budget (0 for a 0 budget); is_over_budget is strict", () => {
    const estimate = (requestTokens: number, budget: number) => ({ model: "m", requestTokens, budget })
    expect(SessionEvent.estimateFraction(estimate(50, 200))).toBe(0.25)
    expect(SessionEvent.estimateFraction(estimate(50, 0))).toBe(0)
    expect(SessionEvent.isOverBudget(estimate(200, 200))).toBe(false)
    expect(SessionEvent.isOverBudget(estimate(201, 200))).toBe(true)
  })

  it("RlmProgressEvent.fraction = iteration / max, clamped to [0, 1], 0 when max is 0", () => {
    const progress = (iteration: number, maxIterations: number) => ({ traceId: "t", iteration, maxIterations, status: "running" })
    expect(SessionEvent.progressFraction(progress(3, 12))).toBe(0.25)
    expect(SessionEvent.progressFraction(progress(20, 12))).toBe(1)
    expect(SessionEvent.progressFraction(progress(3, 0))).toBe(0)
  })

  it("RlmOutcome.is_success: only converged", () => {
    expect(SessionEvent.RlmOutcome.literals.filter(SessionEvent.isSuccess)).toEqual(["converged"])
  })

  it("RlmCompletion.compression_ratio = output / input, 0 when input is 0", () => {
    const completion = (inputTokens: number, outputTokens: number): SessionEvent.RlmCompletion => ({
      traceId: "t",
      outcome: "converged",
      iterations: 2,
      subcalls: 1,
      inputTokens,
      outputTokens,
      elapsedMs: 10,
      reason: null,
      rootModel: "m"
    })
    expect(SessionEvent.compressionRatio(completion(1000, 250))).toBe(0.25)
    expect(SessionEvent.compressionRatio(completion(0, 250))).toBe(0)
  })

  it("FallbackStrategy.is_terminal: only truncate", () => {
    expect(SessionEvent.FallbackStrategy.literals.filter(SessionEvent.isTerminal)).toEqual(["truncate"])
  })

  it("CompactionOutcome.reduction = clamp(1 - after / before, 0, 1), 0 when before is 0", () => {
    const outcome = (beforeTokens: number, afterTokens: number): SessionEvent.CompactionOutcome => ({
      traceId: "t",
      strategy: "chunk_compress",
      beforeTokens,
      afterTokens,
      keptMessages: 4
    })
    expect(SessionEvent.reduction(outcome(1000, 250))).toBe(0.75)
    expect(SessionEvent.reduction(outcome(1000, 1500))).toBe(0)
    expect(SessionEvent.reduction(outcome(0, 10))).toBe(0)
  })
})
