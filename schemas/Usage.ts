/**
 * Token usage (`provider::Usage` in codetether-agent 4.5.7).
 *
 * Wire: `{"prompt_tokens","completion_tokens","total_tokens","cache_read_tokens","cache_write_tokens"}`;
 * the cache counters are written as `null` when absent. All counts are tokens.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const NullableCount = Schema.NullOr(Count).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))

/**
 * Token counts for one request or a whole session (tokens).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Usage = Schema.Struct({
  promptTokens: Count,
  completionTokens: Count,
  totalTokens: Count,
  cacheReadTokens: NullableCount,
  cacheWriteTokens: NullableCount
}).pipe(Schema.encodeKeys({
  promptTokens: "prompt_tokens",
  completionTokens: "completion_tokens",
  totalTokens: "total_tokens",
  cacheReadTokens: "cache_read_tokens",
  cacheWriteTokens: "cache_write_tokens"
}))

/**
 * @since 0.1.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * All zero, cache counters `null` (4.5.7 `Usage::default()`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Usage = {
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  cacheReadTokens: null,
  cacheWriteTokens: null
}

const addNullable = (a: number | null, b: number | null): number | null =>
  a === null && b === null ? null : (a ?? 0) + (b ?? 0)

/**
 * Sums two usages field by field; a cache counter stays `null` only when both
 * sides are `null`. Used to aggregate every round trip into `session.usage`
 * (4.5.7 never did: BEHAVIOUR §12.9).
 *
 * @since 0.1.0
 * @category combinators
 */
export const add = (a: Usage, b: Usage): Usage => ({
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
  totalTokens: a.totalTokens + b.totalTokens,
  cacheReadTokens: addNullable(a.cacheReadTokens, b.cacheReadTokens),
  cacheWriteTokens: addNullable(a.cacheWriteTokens, b.cacheWriteTokens)
})
