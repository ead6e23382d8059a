/**
 * Model prices and what token usage costs (a codetether addition; 4.5.7
 * records usage but never prices it).
 *
 * A price is in US dollars per million tokens, for four kinds of tokens:
 * uncached prompt tokens (`input`), completion tokens (`output`), prompt
 * tokens read from the provider's prompt cache (`cacheRead`) and prompt
 * tokens written to it (`cacheWrite`). codetether's providers report
 * `prompt_tokens` **including** the cached ones (OpenAI's convention; the
 * Anthropic provider adds its cache counters in), so a cost is
 *
 * ```
 * (prompt − cache_read − cache_write) × input + cache_read × cacheRead
 *   + cache_write × cacheWrite + completion × output   (all / 1e6)
 * ```
 *
 * A model without a price has no cost (`undefined` here, `?` in tables,
 * `null` in JSON): never 0.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { Usage } from "./Usage.ts"

const Dollars = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0))

/**
 * The price of one model, USD per million tokens. `cacheRead` and
 * `cacheWrite` default to `input` when a provider does not discount (or
 * surcharge) cached tokens.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModelPrice = Schema.Struct({
  input: Dollars,
  output: Dollars,
  cacheRead: Schema.optionalKey(Dollars),
  cacheWrite: Schema.optionalKey(Dollars)
}).pipe(Schema.encodeKeys({ cacheRead: "cache_read", cacheWrite: "cache_write" }))

/**
 * @since 0.1.0
 * @category models
 */
export type ModelPrice = typeof ModelPrice.Type

/**
 * Prices by model id (the id a provider is called with, e.g. `gpt-4o`,
 * `claude-sonnet-4-20250514`, `z-ai/glm-5`).
 *
 * @since 0.1.0
 * @category models
 */
export type PriceTable = { readonly [model: string]: ModelPrice }

/**
 * The built-in prices of the default models of codetether's providers and
 * presets, as their vendors published them (checked November 2026). Long
 * context tiers (Gemini above 200k tokens) and cache storage fees are not
 * modelled. Not built in, for want of a published price we could check:
 * `MiniMax-M2.5` (`minimax`) and `Qwen/Qwen3.5-35B-A3B` (`novita`): set them
 * in the config file (`[pricing."MiniMax-M2.5"]`).
 *
 * @since 0.1.0
 * @category constants
 */
export const builtIn: PriceTable = {
  // openai
  "gpt-4o": { input: 2.5, output: 10, cacheRead: 1.25 },
  // anthropic (5-minute cache writes)
  "claude-sonnet-4-20250514": { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  // google (prompts up to 200k tokens)
  "gemini-2.5-pro": { input: 1.25, output: 10, cacheRead: 0.125 },
  // zai, and openrouter's route to it
  "glm-5": { input: 1, output: 3.2, cacheRead: 0.2 },
  "z-ai/glm-5": { input: 1, output: 3.2, cacheRead: 0.2 },
  // moonshotai
  "kimi-k2.5": { input: 0.6, output: 3, cacheRead: 0.1 },
  // deepseek
  "deepseek-chat": { input: 0.28, output: 0.42, cacheRead: 0.028 },
  // xai
  "grok-4": { input: 3, output: 15, cacheRead: 0.75 },
  // groq
  "llama-3.3-70b-versatile": { input: 0.59, output: 0.79 },
  // mistral
  "mistral-large-latest": { input: 0.5, output: 1.5 }
}

/**
 * `overrides` over `base` (a model in both takes the override whole).
 *
 * @since 0.1.0
 * @category combinators
 */
export const merge = (base: PriceTable, overrides: PriceTable): PriceTable => ({ ...base, ...overrides })

/**
 * The price of `model` in `table`: the exact id first, then, for a
 * `provider/model` selector (`openai/gpt-4o`), the part after the first `/`.
 * `undefined` when neither is priced (or `model` is `null`).
 *
 * @since 0.1.0
 * @category lookup
 */
export const priceOf = (table: PriceTable, model: string | null | undefined): ModelPrice | undefined => {
  if (model === null || model === undefined || model.length === 0) return undefined
  if (Object.hasOwn(table, model)) return table[model]
  const slash = model.indexOf("/")
  if (slash > 0) {
    const rest = model.slice(slash + 1)
    if (Object.hasOwn(table, rest)) return table[rest]
  }
  return undefined
}

/**
 * The token counts a cost is computed from (a `Usage` fits).
 *
 * @since 0.1.0
 * @category models
 */
export interface Tokens {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cacheReadTokens?: number | null | undefined
  readonly cacheWriteTokens?: number | null | undefined
}

/**
 * What `tokens` cost at `price`, in US dollars (see the module docs for the
 * formula).
 *
 * @since 0.1.0
 * @category cost
 */
export const cost = (price: ModelPrice, tokens: Tokens): number => {
  const read = tokens.cacheReadTokens ?? 0
  const write = tokens.cacheWriteTokens ?? 0
  const uncached = Math.max(0, tokens.promptTokens - read - write)
  return (
    uncached * price.input +
    read * (price.cacheRead ?? price.input) +
    write * (price.cacheWrite ?? price.input) +
    tokens.completionTokens * price.output
  ) / 1e6
}

/**
 * What `tokens` used with `model` cost, or `undefined` when the model has no
 * price in `table`. Zero tokens cost 0 whatever the model.
 *
 * @since 0.1.0
 * @category cost
 */
export const costOf = (table: PriceTable, model: string | null | undefined, tokens: Tokens): number | undefined => {
  if (tokens.promptTokens === 0 && tokens.completionTokens === 0) return 0
  const price = priceOf(table, model)
  return price === undefined ? undefined : cost(price, tokens)
}

/**
 * A cost for people: `$0.0123` (4 decimals under a dollar, 2 from there),
 * `?` when unknown.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (usd: number | null | undefined): string => {
  if (usd === null || usd === undefined) return "?"
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`
}

/**
 * The total tokens of a usage (`total_tokens`, or prompt + completion when
 * it is 0).
 *
 * @since 0.1.0
 * @category formatting
 */
export const totalTokens = (usage: Usage): number =>
  usage.totalTokens > 0 ? usage.totalTokens : usage.promptTokens + usage.completionTokens
