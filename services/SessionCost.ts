/**
 * What a session cost: its token usage priced per model (`schemas/Pricing.ts`),
 * step by step from the `token_usage` records of its durable log when they
 * account for its usage, else its total priced at its model (a codetether
 * addition; 4.5.7 never priced usage).
 *
 * The per-step records are the durable `TokenUsage` events the loop writes
 * once per model round trip (`SessionEvent.TokenDelta`: model, prompt and
 * completion tokens, and, since codetether added them, the cache counters
 * and the index of the step's assistant message). A session continued by
 * 4.5.7, imported from Codex, or written before records existed has usage
 * the records do not cover: its cost is then its whole `usage` priced at its
 * model (`metadata.model`, else the configured default model).
 *
 * Works on any store: it needs only `SessionStore.loadTail(id, 0)` (header
 * and usage, no messages) and `DurableSink.read`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Pricing from "../schemas/Pricing.ts"
import type { Session } from "../schemas/Session.ts"
import { TokenDelta, type TokenSource } from "../schemas/SessionEvent.ts"
import type { Usage } from "../schemas/Usage.ts"
import * as DurableSink from "./DurableSink.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * One model round trip of a session, from a `token_usage` record (tokens;
 * `costUsd` in US dollars, `null` when the model has no price).
 * `messageIndex` is the index of the step's assistant message in the
 * session's current transcript (`null` for records written before
 * codetether recorded it); a step before a compaction of the transcript is
 * given index 0 (the compaction's summary message stands for it).
 *
 * @since 0.1.0
 * @category models
 */
export interface Step {
  readonly seq: number
  readonly ts: string
  readonly source: TokenSource
  readonly model: string
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cacheReadTokens: number | null
  readonly cacheWriteTokens: number | null
  readonly messageIndex: number | null
  readonly durationMs: number
  readonly costUsd: number | null
}

/**
 * The cost of one session:
 * - `usage`: its recorded total (`session.usage`);
 * - `model`: the model its total is priced at when the steps do not
 *   account for it (`metadata.model`, else the default model given);
 * - `steps`: its `token_usage` records, priced (maybe empty);
 * - `fromSteps`: the steps add up to `usage` (prompt and completion), so
 *   `costUsd` is their sum;
 * - `costUsd`: US dollars, `null` when a model involved has no price.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly sessionId: string
  readonly usage: Usage
  readonly model: string | null
  readonly steps: ReadonlyArray<Step>
  readonly fromSteps: boolean
  readonly costUsd: number | null
}

const decodeDelta = Schema.decodeUnknownOption(TokenDelta)

/**
 * The usage steps of a durable log, in log order, priced with `prices`.
 * Records that are not well-formed `token_usage` records are skipped. A
 * `compaction_completed` record moves every earlier step to message index 0.
 *
 * @since 0.1.0
 * @category steps
 */
export const steps = (
  records: ReadonlyArray<DurableSink.DurableRecord>,
  prices: Pricing.PriceTable
): ReadonlyArray<Step> => {
  const out: Array<Step> = []
  for (const record of records) {
    if (record.kind === "compaction_completed") {
      for (let i = 0; i < out.length; i++) {
        const step = out[i]!
        if (step.messageIndex !== null && step.messageIndex !== 0) out[i] = { ...step, messageIndex: 0 }
      }
      continue
    }
    if (record.kind !== "token_usage") continue
    const delta = decodeDelta(record.payload)
    if (Option.isNone(delta)) continue
    const d = delta.value
    const tokens = {
      promptTokens: d.promptTokens,
      completionTokens: d.completionTokens,
      cacheReadTokens: d.cacheReadTokens ?? null,
      cacheWriteTokens: d.cacheWriteTokens ?? null
    }
    out.push({
      seq: record.seq,
      ts: record.ts,
      source: d.source,
      model: d.model,
      ...tokens,
      messageIndex: d.messageIndex ?? null,
      durationMs: d.durationMs,
      costUsd: Pricing.costOf(prices, d.model, tokens) ?? null
    })
  }
  return out
}

/**
 * Whether `steps` add up to `usage` (prompt and completion tokens), i.e.
 * every round trip that produced the usage has its record.
 *
 * @since 0.1.0
 * @category steps
 */
export const stepsAccountFor = (list: ReadonlyArray<Step>, usage: Usage): boolean => {
  if (list.length === 0) return false
  let prompt = 0
  let completion = 0
  for (const step of list) {
    prompt += step.promptTokens
    completion += step.completionTokens
  }
  return prompt === usage.promptTokens && completion === usage.completionTokens
}

/**
 * Prices a session from its header and usage and its durable records (pure;
 * see {@link Report}). `defaultModel` is the model a session without
 * `metadata.model` ran with (the configured `default_model`), if known.
 *
 * @since 0.1.0
 * @category cost
 */
export const report = (
  session: Pick<Session, "id" | "usage" | "metadata">,
  records: ReadonlyArray<DurableSink.DurableRecord>,
  prices: Pricing.PriceTable,
  defaultModel: string | null = null
): Report => {
  const list = steps(records, prices)
  const model = session.metadata.model ?? defaultModel
  const fromSteps = stepsAccountFor(list, session.usage)
  let costUsd: number | null
  if (fromSteps) {
    costUsd = 0
    for (const step of list) {
      if (step.costUsd === null) {
        costUsd = null
        break
      }
      costUsd += step.costUsd
    }
  } else {
    costUsd = Pricing.costOf(prices, model, session.usage) ?? null
  }
  return { sessionId: session.id, usage: session.usage, model, steps: list, fromSteps, costUsd }
}

/**
 * Options of {@link ofSession}: the price table (e.g. `CodetetherConfig`'s
 * `pricing`, default {@link Pricing.builtIn}) and the default model.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly prices?: Pricing.PriceTable | undefined
  readonly defaultModel?: string | null | undefined
}

/**
 * The cost {@link Report} of stored session `id`: reads its header and
 * usage (`loadTail(id, 0)`: no message is materialised) and its durable log.
 * A durable log that cannot be read counts as empty (logged as a warning).
 * Fails with `SessionStoreError` (`NotFound`, `Corrupt`, ...).
 *
 * @since 0.1.0
 * @category cost
 */
export const ofSession = Effect.fn("SessionCost.ofSession")(function*(id: string, options: Options = {}) {
  const store = yield* SessionStore.SessionStore
  const sink = yield* DurableSink.DurableSink
  const { session } = yield* store.loadTail(id, 0)
  const records = yield* sink.read(id).pipe(
    Effect.catch((e) => Effect.as(Effect.logWarning(`cannot read the durable log of ${id}: ${e.message}`), []))
  )
  return report(session, records, options.prices ?? Pricing.builtIn, options.defaultModel ?? null)
})
