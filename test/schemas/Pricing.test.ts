/**
 * Prices and costs: the formula (cached tokens apart), lookup by model id or
 * provider/model selector, unknown prices, formatting.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Pricing from "../../schemas/Pricing.ts"

describe("Pricing", () => {
  it("prices uncached prompt, cache reads, cache writes and completion tokens apart (USD per million)", () => {
    const price = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }
    // 1M prompt tokens of which 600k read from the cache and 100k written to it; 200k completion
    const usd = Pricing.cost(price, { promptTokens: 1_000_000, completionTokens: 200_000, cacheReadTokens: 600_000, cacheWriteTokens: 100_000 })
    expect(usd).toBeCloseTo(300_000 * 3 / 1e6 + 600_000 * 0.3 / 1e6 + 100_000 * 3.75 / 1e6 + 200_000 * 15 / 1e6, 10)
    // without cache prices, cached tokens cost the input price
    expect(Pricing.cost({ input: 2, output: 8 }, { promptTokens: 1000, completionTokens: 500, cacheReadTokens: 400 })).toBeCloseTo(
      (1000 * 2 + 500 * 8) / 1e6,
      12
    )
  })

  it("finds a price by model id or by the model of a provider/model selector; unknown models have none", () => {
    const table = Pricing.merge(Pricing.builtIn, { "my-model": { input: 1, output: 2 } })
    expect(Pricing.priceOf(table, "gpt-4o")).toEqual(Pricing.builtIn["gpt-4o"])
    expect(Pricing.priceOf(table, "openai/gpt-4o")).toEqual(Pricing.builtIn["gpt-4o"])
    expect(Pricing.priceOf(table, "anthropic/claude-sonnet-4-20250514")?.cacheWrite).toBe(3.75)
    expect(Pricing.priceOf(table, "openrouter/z-ai/glm-5")).toEqual(Pricing.builtIn["z-ai/glm-5"])
    expect(Pricing.priceOf(table, "local/my-model")).toEqual({ input: 1, output: 2 })
    expect(Pricing.priceOf(table, "qwen3.5-9b")).toBeUndefined()
    expect(Pricing.priceOf(table, null)).toBeUndefined()
    expect(Pricing.costOf(table, "qwen3.5-9b", { promptTokens: 10, completionTokens: 1 })).toBeUndefined()
    // nothing used costs nothing, priced or not
    expect(Pricing.costOf(table, "qwen3.5-9b", { promptTokens: 0, completionTokens: 0 })).toBe(0)
  })

  it("the built-in table prices the default models of the openai, anthropic and preset providers it can source", () => {
    for (const model of ["gpt-4o", "claude-sonnet-4-20250514", "gemini-2.5-pro", "glm-5", "z-ai/glm-5", "kimi-k2.5", "deepseek-chat", "grok-4", "llama-3.3-70b-versatile", "mistral-large-latest"]) {
      const price = Pricing.priceOf(Pricing.builtIn, model)
      expect(price, model).toBeDefined()
      expect(price!.output).toBeGreaterThan(0)
    }
  })

  it("formats unknown costs as ?, never 0", () => {
    expect(Pricing.format(undefined)).toBe("?")
    expect(Pricing.format(null)).toBe("?")
    expect(Pricing.format(0)).toBe("$0.0000")
    expect(Pricing.format(0.01234)).toBe("$0.0123")
    expect(Pricing.format(12.345)).toBe("$12.35")
  })
})
