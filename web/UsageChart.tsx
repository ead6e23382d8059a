/**
 * Where the tokens went: one stacked bar per model round trip (prompt tokens
 * not cached, read from the cache, written to it; completion tokens) and the
 * running cost as a line. Hand-drawn SVG. Clicking a bar opens its message.
 */
import * as Format from "./format.ts"
import type { UsageStep } from "./wire.ts"

interface Props {
  readonly steps: ReadonlyArray<UsageStep>
  readonly onSelect: (messageIndex: number) => void
}

const WIDTH = 640
const HEIGHT = 132
const TOP = 10
const BOTTOM = 18
const LEFT = 44
const RIGHT = 52

const SERIES = [
  { key: "uncached", label: "prompt", className: "s-prompt" },
  { key: "cacheRead", label: "cache read", className: "s-cache-read" },
  { key: "cacheWrite", label: "cache write", className: "s-cache-write" },
  { key: "completion", label: "completion", className: "s-completion" }
] as const

const partsOf = (step: UsageStep) => {
  const cacheRead = step.cache_read_tokens ?? 0
  const cacheWrite = step.cache_write_tokens ?? 0
  return {
    uncached: Math.max(0, step.prompt_tokens - cacheRead - cacheWrite),
    cacheRead,
    cacheWrite,
    completion: step.completion_tokens
  }
}

export function UsageChart({ onSelect, steps }: Props) {
  if (steps.length === 0) return <p class="empty">No per-step usage recorded for this session.</p>
  const plotW = WIDTH - LEFT - RIGHT
  const plotH = HEIGHT - TOP - BOTTOM
  const max = Math.max(1, ...steps.map((s) => s.prompt_tokens + s.completion_tokens))
  const slot = plotW / steps.length
  const barW = Math.max(1, Math.min(28, slot * 0.75))
  // the running cost, while every step so far has one
  const running: Array<number> = []
  let total = 0
  for (const step of steps) {
    if (step.cost_usd === null || Number.isNaN(total)) total = Number.NaN
    else total += step.cost_usd
    running.push(total)
  }
  const known = running.filter((c) => !Number.isNaN(c))
  const maxCost = known.length === 0 ? 0 : Math.max(...known)
  const y = (tokens: number) => TOP + plotH - (tokens / max) * plotH
  const yCost = (usd: number) => TOP + plotH - (maxCost === 0 ? 0 : (usd / maxCost) * plotH)
  const line = running
    .map((c, i) => (Number.isNaN(c) ? undefined : `${(LEFT + slot * (i + 0.5)).toFixed(1)},${yCost(c).toFixed(1)}`))
    .filter((p) => p !== undefined)
  return (
    <figure class="usage-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Tokens per step, ${steps.length} steps`}>
        <line class="axis" x1={LEFT} y1={TOP + plotH} x2={WIDTH - RIGHT} y2={TOP + plotH} />
        <text class="tick" x={LEFT - 6} y={TOP + 4} text-anchor="end">{Format.tokens(max)}</text>
        <text class="tick" x={LEFT - 6} y={TOP + plotH} text-anchor="end">0</text>
        {maxCost > 0 && <text class="tick cost" x={WIDTH - RIGHT + 6} y={TOP + 4}>{Format.cost(maxCost)}</text>}
        {steps.map((step, i) => {
          const parts = partsOf(step)
          let base = 0
          const x = LEFT + slot * i + (slot - barW) / 2
          return (
            <g
              key={step.seq}
              class="bar"
              data-seq={step.seq}
              onClick={() => step.message_index !== null && onSelect(step.message_index)}
            >
              <title>
                {`step ${i + 1} · ${step.model}\n${Format.tokens(step.prompt_tokens)} prompt (${Format.tokens(parts.cacheRead)} cache read, ${
                  Format.tokens(parts.cacheWrite)
                } cache write) · ${Format.tokens(step.completion_tokens)} completion · ${Format.duration(step.duration_ms)} · ${
                  Format.cost(step.cost_usd)
                }${step.message_index === null ? "" : `\nmessage #${step.message_index}`}`}
              </title>
              {SERIES.map((series) => {
                const value = parts[series.key]
                if (value === 0) return null
                const top = y(base + value)
                const height = y(base) - top
                base += value
                return <rect key={series.key} class={series.className} x={x} y={top} width={barW} height={Math.max(0.5, height)} />
              })}
            </g>
          )
        })}
        {line.length > 1 && <polyline class="cost-line" points={line.join(" ")} />}
        <text class="tick" x={LEFT} y={HEIGHT - 4}>step 1</text>
        {steps.length > 1 && <text class="tick" x={WIDTH - RIGHT} y={HEIGHT - 4} text-anchor="end">{`step ${steps.length}`}</text>}
      </svg>
      <figcaption class="legend">
        {SERIES.map((s) => (
          <span key={s.key} class="legend-item">
            <span class={`swatch ${s.className}`} />
            {s.label}
          </span>
        ))}
        <span class="legend-item"><span class="swatch s-cost" />running cost</span>
      </figcaption>
    </figure>
  )
}
