/**
 * The cost line `codetether run` prints on a TTY after a prompt.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Pricing from "../../schemas/Pricing.ts"
import type * as SessionEvent from "../../schemas/SessionEvent.ts"
import { costLine } from "../../src/commands/run.ts"

const step = (model: string, promptTokens: number, completionTokens: number, cacheReadTokens?: number): SessionEvent.TokenDelta => ({
  source: "root",
  model,
  promptTokens,
  completionTokens,
  durationMs: 1,
  ...(cacheReadTokens === undefined ? {} : { cacheReadTokens })
})

describe("run cost line", () => {
  it("sums the priced steps of the prompt, cache reads at their price", () => {
    const line = costLine([step("gpt-4o", 1000, 100, 400), step("gpt-4o", 2000, 50)], Pricing.builtIn)
    const usd = (600 * 2.5 + 400 * 1.25 + 100 * 10 + 2000 * 2.5 + 50 * 10) / 1e6
    expect(line).toBe(`cost ${Pricing.format(usd)} (3,000 prompt + 150 completion tokens in 2 steps)`)
  })

  it("says ? and which model has no price, never 0", () => {
    expect(costLine([step("gpt-4o", 10, 1), step("qwen3.5-9b", 10, 1)], Pricing.builtIn)).toBe(
      "cost ? (20 prompt + 2 completion tokens in 2 steps; no price for qwen3.5-9b: set [pricing.\"<model>\"] in the config)"
    )
  })
})
