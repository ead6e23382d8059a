/**
 * Benchmark plumbing: medians of interleaved runs, child processes for peak
 * RSS, and result rows printed as ratios against a baseline measured in the
 * same run (machines here are shared and noisy: only ratios mean anything).
 */
import * as NodeChild from "node:child_process"
import * as NodePath from "node:path"

export interface Row {
  readonly name: string
  /** what was measured, e.g. "12.3 ms" */
  readonly value: string
  /** the baseline, e.g. "fs.readFile 10.1 ms" */
  readonly baseline?: string
  readonly ratio?: number
  /** e.g. "<= 1.2x" */
  readonly target?: string
  readonly ok?: boolean
  readonly note?: string
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const gc = (globalThis as { gc?: () => void }).gc

/** Runs `subject` and `baseline` alternately `runs` times (after one warm-up each); returns the medians in ms. */
export const compare = async (
  runs: number,
  subject: () => Promise<unknown>,
  baseline: () => Promise<unknown>
): Promise<{ readonly subject: number; readonly baseline: number; readonly ratio: number }> => {
  await subject()
  await baseline()
  const s: Array<number> = []
  const b: Array<number> = []
  for (let i = 0; i < runs; i++) {
    for (const [f, out] of i % 2 === 0 ? [[subject, s], [baseline, b]] as const : [[baseline, b], [subject, s]] as const) {
      gc?.()
      const start = performance.now()
      await f()
      out.push(performance.now() - start)
    }
  }
  const ms = { subject: median(s), baseline: median(b) }
  return { ...ms, ratio: ms.subject / ms.baseline }
}

export const ms = (value: number): string => (value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`)
export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`

export interface ChildResult {
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssBytes: number
  readonly stdout: string
  readonly code: number | null
}

const reporter = NodePath.join(import.meta.dirname, "child/report-usage.mjs")

/**
 * Runs `node <args>` and measures wall time (from the parent), CPU time
 * (user + system) and peak RSS (reported by the child itself on exit).
 */
export const runChild = (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Record<string, string>; readonly input?: string } = {}
): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = NodeChild.spawn(process.execPath, ["--import", reporter, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => {
      const wallMs = performance.now() - start
      const m = /__USAGE__ (\d+) (\d+) (\d+)/.exec(stderr)
      if (m === null) return reject(new Error(`no usage report from child (exit ${code}): ${stderr}`))
      resolve({
        wallMs,
        cpuMs: (Number(m[1]) + Number(m[2])) / 1000,
        maxRssBytes: Number(m[3]) * 1024,
        stdout,
        code
      })
    })
    child.stdin.end(options.input ?? "")
  })

export const repo = NodePath.resolve(import.meta.dirname, "..")

/** A `codetether serve` started by {@link startServe}. */
export interface Served {
  readonly child: NodeChild.ChildProcess
  /** The URL it printed (`listening on URL`); rejects if it exits first. */
  readonly url: Promise<string>
  /** Its exit code, once it has exited. */
  readonly exited: Promise<number | null>
  /** What it wrote on stderr so far. */
  readonly stderr: () => string
}

/**
 * Starts `node [--import report-usage] <bin> serve <args>` (the peak-RSS
 * report of {@link runChild} when `reportUsage`); the caller stops it.
 */
export const startServe = (
  bin: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env: Record<string, string>; readonly reportUsage?: boolean }
): Served => {
  const child = NodeChild.spawn(
    process.execPath,
    [...(options.reportUsage === true ? ["--import", reporter] : []), bin, "serve", ...args],
    { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] }
  )
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (d) => (stdout += d))
  child.stderr!.on("data", (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
  const url = new Promise<string>((resolve, reject) => {
    const check = setInterval(() => {
      const match = /^listening on (\S+)$/m.exec(stdout)
      if (match !== null) {
        clearInterval(check)
        resolve(match[1]!)
      }
    }, 10)
    void exited.then(() => {
      clearInterval(check)
      reject(new Error(`serve exited: ${stderr}`))
    })
  })
  url.catch(() => undefined)
  return { child, url, exited, stderr: () => stderr }
}

export const print = (title: string, rows: ReadonlyArray<Row>): void => {
  console.log(`\n## ${title}`)
  for (const row of rows) {
    const parts = [`- ${row.name}: ${row.value}`]
    if (row.baseline !== undefined) parts.push(`vs ${row.baseline}`)
    if (row.ratio !== undefined) parts.push(`ratio ${row.ratio.toFixed(2)}x`)
    if (row.target !== undefined) parts.push(`target ${row.target} ${row.ok === true ? "(ok)" : "(MISSED)"}`)
    if (row.note !== undefined) parts.push(`(${row.note})`)
    console.log(parts.join("  "))
  }
}
