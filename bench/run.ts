/**
 * `npm run bench`: every benchmark of the project, printed as ratios against
 * baselines measured in the same run.
 *
 * Options: `--quick` (small corpora, for a smoke run; the figures in the
 * issues' notes come from full runs), `--only <suite>` (the suite names below).
 * Corpora are generated under $TMPDIR/codetether-bench-<pid> and removed.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { print, type Row } from "./harness.ts"
import { benchAgent } from "./agent.ts"
import { benchClaude } from "./claude.ts"
import { benchCodexImport } from "./codex.ts"
import { benchLargeSession } from "./large.ts"
import { benchSearch } from "./search.ts"
import { benchServe } from "./serve.ts"
import { benchPostgres, benchPostgresSearch } from "./postgres.ts"
import { benchStore } from "./store.ts"
import { benchWeb } from "./web.ts"
import { benchWriters } from "./writers.ts"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined

const suites: ReadonlyArray<readonly [string, string, (work: string) => Promise<ReadonlyArray<Row>>]> = [
  ["store", "Session store (issue 2)", (work) => benchStore(work, quick)],
  ["writers", "Several writers: leases and conditional saves (issue 8)", (work) => benchWriters(work, quick)],
  ["codex", "Codex import (issue 4)", (work) => benchCodexImport(work)],
  ["run", "codetether run (issue 3)", (work) => benchAgent(work)],
  ["large", "codetether run --session on a 1 GiB session (issue 8)", (work) => benchLargeSession(work, quick)],
  ["claude", "Claude Code import and redaction (issue 13)", (work) => benchClaude(work, quick)],
  ["search", "sessions search (issue 13)", (work) => benchSearch(work, quick)],
  ["serve", "codetether serve under load (issue 10)", (work) => benchServe(work, quick)],
  ["postgres", "PostgreSQL store (issue 9)", (work) => benchPostgres(work, quick)],
  ["postgres-search", "sessions search on PostgreSQL (issue 13)", (work) => benchPostgresSearch(work, quick)],
  ["web", "The web page of codetether serve (issue 14)", (work) => benchWeb(work, quick)],
]

const work = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), `codetether-bench-${process.pid}-`))
console.log(`# codetether benchmarks${quick ? " (quick)" : ""}`)
console.log(`node ${process.version}, ${NodeOs.cpus().length} cores, ${NodeOs.cpus()[0]?.model ?? "unknown cpu"}`)
try {
  for (const [key, title, suite] of suites) {
    if (only !== undefined && only !== key) continue
    const dir = NodePath.join(work, key)
    NodeFs.mkdirSync(dir)
    print(title, await suite(dir))
    NodeFs.rmSync(dir, { recursive: true, force: true })
  }
} finally {
  NodeFs.rmSync(work, { recursive: true, force: true })
}
