/**
 * Costs in the `sessions` commands: the price table and default model from
 * the configuration (read leniently: a broken config file costs a warning
 * and the built-in prices, never the command), the `TOKENS`/`COST` columns
 * of `sessions list`, its `--json --usage` rows, and the per-step breakdown
 * of `sessions show`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Pricing from "../../schemas/Pricing.ts"
import { SessionSummary } from "../../schemas/SessionSummary.ts"
import type { Usage } from "../../schemas/Usage.ts"
import * as Usage_ from "../../schemas/Usage.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as SessionCost from "../../services/SessionCost.ts"
import * as Style from "../render/Style.ts"

/**
 * The prices and default model of the configuration; the built-in prices
 * (with a warning) when the configuration cannot be loaded.
 *
 * @since 0.1.0
 * @category pricing
 */
export const costOptions: Effect.Effect<SessionCost.Options> = CodetetherConfig.make().pipe(
  Effect.map((config): SessionCost.Options => ({ prices: config.pricing, defaultModel: config.model })),
  Effect.catch((e) =>
    Effect.as(Effect.logWarning(`using the built-in prices: ${e.message}`), { prices: Pricing.builtIn, defaultModel: null })
  )
)

const encodeSummary = Schema.encodeSync(SessionSummary)
const encodeUsage = Schema.encodeSync(Usage_.Usage)

/**
 * One `sessions list --json --usage` row: the 4.5.7 `SessionSummary` keys,
 * then `usage` (the session's usage, `null` when unknown, e.g. a Codex
 * session not imported yet) and `cost_usd` (US dollars, `null` when unknown).
 *
 * @since 0.1.0
 * @category rendering
 */
export const usageRow = (summary: SessionSummary, report: SessionCost.Report | undefined) => ({
  ...encodeSummary(summary),
  usage: report === undefined ? null : encodeUsage(report.usage),
  cost_usd: report?.costUsd ?? null
})

/**
 * Token count for tables: `12,345`, `1.2M`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const tokens = (n: number): string => (n >= 10_000_000 ? `${(n / 1e6).toFixed(1)}M` : n.toLocaleString("en-US"))

/**
 * The `TOKENS` and `COST` cells of a session (`-` when unknown).
 *
 * @since 0.1.0
 * @category rendering
 */
export const cells = (report: SessionCost.Report | undefined): readonly [string, string] =>
  report === undefined ? ["-", "-"] : [tokens(Pricing.totalTokens(report.usage)), Pricing.format(report.costUsd)]

const cacheCell = (n: number | null) => (n === null ? "-" : tokens(n))

/**
 * The per-step usage of a session as text: one row per `token_usage`
 * record (step, message index, model, tokens, cost) and a total; a session
 * whose records do not account for its usage shows its total priced at its
 * model (and the records it has, if any).
 *
 * @since 0.1.0
 * @category rendering
 */
export const breakdown = (report: SessionCost.Report): string => {
  const u: Usage = report.usage
  const lines: Array<string> = ["", Style.bold("Usage")]
  if (report.steps.length > 0) {
    const header = ["STEP", "MSG", "MODEL", "PROMPT", "CACHE R", "CACHE W", "COMPLETION", "COST"]
    const rows = report.steps.map((s, i) => [
      String(i + 1),
      s.messageIndex === null ? "-" : `#${s.messageIndex}`,
      s.model,
      tokens(s.promptTokens),
      cacheCell(s.cacheReadTokens),
      cacheCell(s.cacheWriteTokens),
      tokens(s.completionTokens),
      Pricing.format(s.costUsd)
    ])
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
    lines.push(Style.dim(line(header)), ...rows.map(line))
    if (!report.fromSteps) {
      lines.push(Style.dim("(these records do not add up to the session's usage: its total is priced at its model)"))
    }
  } else {
    lines.push(Style.dim("no per-step records: the total is priced at the session's model"))
  }
  lines.push(
    `total ${tokens(u.promptTokens)} prompt${u.cacheReadTokens === null ? "" : ` (${tokens(u.cacheReadTokens)} cache read)`}, ${
      tokens(u.completionTokens)
    } completion${report.fromSteps ? "" : `, model ${report.model ?? "unknown"}`}: ${Pricing.format(report.costUsd)}`
  )
  return lines.join("\n")
}
