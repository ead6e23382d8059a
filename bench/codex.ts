/**
 * Benchmark of the Codex import (issue 4): a ~100 MB rollout shaped like the
 * real Codex CLI 0.169 sample (session meta with base instructions, turn
 * contexts, user/assistant messages mirrored by `item_completed` events,
 * reasoning with encrypted content, `exec_command` calls whose output is
 * written twice — in the `CommandExecution` event and in the
 * `function_call_output` — token usage records and counts), imported by
 * `CodexImport.importOne` into a file-system store in a child process, so its
 * peak RSS is its own. The child is this file bundled with esbuild (as the
 * CLI is shipped), so Node's TypeScript stripping does not inflate its RSS.
 * Baselines, in child processes of the same bundle: a raw streaming read of
 * the file (64 KiB chunks), and the least any JSONL importer does (read,
 * split lines, `JSON.parse` each); for the re-import, the first import.
 *
 * Nothing is asserted here; figures are reported. The bound: peak RSS
 * of the import under 2x the size of the resulting session file.
 *
 * As the child (`CODETETHER_BENCH_CODEX_CHILD=idle|import|map|parse|raw`), this file
 * prints `{ms, ...}` for that mode.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { CODE_LINES, pick, prng, sentence, WORDS } from "./corpus.ts"
import { ms, type Row, runChild } from "./harness.ts"

const SESSION_ID = "019b0c1d-2e3f-7a4b-8c5d-6e7f8a9b0c1d"
const CWD = "/home/dev/orbit"
const TARGET_BYTES = 100 * 2 ** 20

const UNICODE_LINE = `// TODO: rename load_config to read_config — “smart quotes”, café, 日本語 🚀`

const base64 = (r: () => number, bytes: number): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  let out = ""
  for (let i = 0; i < bytes; i++) out += alphabet[Math.floor(r() * 64)]
  return out
}
const output = (r: () => number): string => {
  const lines: Array<string> = []
  const n = 5 + Math.floor(r() * r() * 400)
  const unicode = r() < 0.1
  for (let i = 0; i < n; i++) lines.push(unicode && i % 17 === 0 ? UNICODE_LINE : pick(r, CODE_LINES))
  return `${lines.join("\n")}\n`
}

/**
 * Writes a rollout of about `targetBytes` bytes (written in 1 MiB batches,
 * never held whole) and returns its size in bytes.
 */
export const writeRollout = (path: string, targetBytes: number, seed = 4): number => {
  const r = prng(seed)
  const fd = NodeFs.openSync(path, "w")
  let pending: Array<string> = []
  let pendingBytes = 0
  let written = 0
  let clock = Date.UTC(2026, 0, 5, 9, 0, 0)
  const flush = () => {
    const buffer = Buffer.from(pending.join(""))
    NodeFs.writeSync(fd, buffer)
    written += buffer.length
    pending = []
    pendingBytes = 0
  }
  const line = (type: string, payload: unknown, extra: Record<string, unknown> = {}) => {
    clock += 1 + Math.floor(r() * 900)
    const text = `${JSON.stringify({ timestamp: new Date(clock).toISOString(), ...extra, type, payload })}\n`
    pending.push(text)
    pendingBytes += text.length
    if (pendingBytes >= 1 << 20) flush()
  }
  line("session_meta", {
    session_id: SESSION_ID,
    id: SESSION_ID,
    timestamp: new Date(clock).toISOString(),
    cwd: CWD,
    originator: "codex_exec",
    cli_version: "0.169.0",
    source: "exec",
    model_provider: "openai",
    base_instructions: { text: sentence(r, 3000) }
  })
  let turn = 0
  let usage = 0
  while (written + pendingBytes < targetBytes) {
    turn++
    const turnId = `019b0c1d-${String(turn).padStart(4, "0")}-7000-8000-000000000000`
    line("turn_context", {
      turn_id: turnId,
      cwd: CWD,
      approval_policy: "never",
      model: "gpt-5.1-codex",
      sandbox_policy: { type: "workspace-write", network_access: false },
      permission_profile: { entries: Array.from({ length: 8 }, (_, i) => ({ path: `${CWD}/p${i}`, access: "read" })) }
    })
    line("event_msg", { type: "task_started", turn_id: turnId, model_context_window: 258400 })
    const ask = sentence(r, 20 + Math.floor(r() * 40))
    line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: ask }] })
    line("event_msg", { type: "item_completed", turn_id: turnId, item: { type: "UserMessage", content: [{ type: "text", text: ask }] } })
    for (let step = 0; step < 3; step++) {
      const callId = `call_${turn}_${step}`
      line("response_item", {
        type: "reasoning",
        summary: [{ type: "summary_text", text: sentence(r, 15 + Math.floor(r() * 25)) }],
        content: null,
        encrypted_content: base64(r, 800 + Math.floor(r() * 1200))
      })
      const cmd = `rg -n ${pick(r, WORDS)} src`
      line("response_item", { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd }), call_id: callId })
      usage += 2000 + Math.floor(r() * 4000)
      line("token_usage_record", {
        turn_id: turnId,
        usage: { input_tokens: usage, cached_input_tokens: 0, output_tokens: 40, total_tokens: usage + 40 }
      })
      const out = output(r)
      line("event_msg", {
        type: "item_completed",
        turn_id: turnId,
        item: { type: "CommandExecution", id: callId, command: ["/bin/bash", "-lc", cmd], aggregated_output: out, exit_code: 0 }
      })
      line("response_item", {
        type: "function_call_output",
        call_id: callId,
        output: `Chunk ID: ${turn}${step}\nWall time: 0.0100 seconds\nProcess exited with code 0\nOutput:\n${out}`
      })
      line("event_msg", {
        type: "token_count",
        info: {
          total_token_usage: { input_tokens: usage, cached_input_tokens: 0, output_tokens: turn * 40, total_tokens: usage + turn * 40 },
          last_token_usage: { input_tokens: 2000, output_tokens: 40, total_tokens: 2040 },
          model_context_window: 258400
        },
        rate_limits: { limit_id: "codex", primary: null, secondary: null }
      })
    }
    const answer = sentence(r, 30 + Math.floor(r() * 60))
    line("response_item", { type: "message", role: "assistant", content: [{ type: "output_text", text: answer }] })
    line("event_msg", { type: "item_completed", turn_id: turnId, item: { type: "AgentMessage", content: [{ type: "Text", text: answer }] } })
    line("event_msg", { type: "task_complete", turn_id: turnId, last_agent_message: answer })
  }
  flush()
  NodeFs.closeSync(fd)
  return written
}

interface ChildReport {
  readonly ms: number
  readonly status?: string
}

const inChild = async (bundle: string, mode: "idle" | "import" | "map" | "parse" | "raw", args: ReadonlyArray<string>) => {
  const child = await runChild([bundle, ...args], { env: { CODETETHER_BENCH_CODEX_CHILD: mode } })
  if (child.code !== 0) throw new Error(`codex bench child ${mode} failed (${child.code}): ${child.stdout}`)
  return { ...child, report: JSON.parse(child.stdout.trim().split("\n").at(-1)!) as ChildReport }
}

/**
 * Generates a ~100 MB rollout under `workDir`, imports it in a child process
 * (and a second time, unchanged), reads it raw in another, and reports time
 * (ms), peak RSS (MiB), sizes (MiB) and the RSS / session-size ratio.
 */
export async function benchCodexImport(
  workDir: string
): Promise<ReadonlyArray<Row>> {
  const home = NodePath.join(workDir, "codex-home")
  const day = NodePath.join(home, "sessions/2026/01/05")
  NodeFs.mkdirSync(day, { recursive: true })
  const rollout = NodePath.join(day, `rollout-2026-01-05T09-00-00-${SESSION_ID}.jsonl`)
  const rolloutBytes = writeRollout(rollout, TARGET_BYTES)
  const dataDir = NodePath.join(workDir, "data")
  const bundle = NodePath.join(workDir, "codex-child.mjs")
  const { build } = await import("esbuild")
  await build({
    entryPoints: [import.meta.filename],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outfile: bundle,
    logLevel: "warning",
    external: ["esbuild"],
    banner: { js: "import { createRequire as __cr } from \"node:module\"; const require = __cr(import.meta.url);" }
  })

  const idle = await inChild(bundle, "idle", [])
  const raw = await inChild(bundle, "raw", [rollout])
  const parse = await inChild(bundle, "parse", [rollout])
  const map = await inChild(bundle, "map", [rollout])
  const first = await inChild(bundle, "import", [home, dataDir, SESSION_ID])
  const sessionFile = NodePath.join(dataDir, "sessions", `${SESSION_ID}.json`)
  const sessionBytes = NodeFs.statSync(sessionFile).size
  const again = await inChild(bundle, "import", [home, dataDir, SESSION_ID])
  const MiB = 2 ** 20
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`
  return [
    {
      name: `import of a ${mib(rolloutBytes)} rollout (session file ${mib(sessionBytes)})`,
      value: `${ms(first.report.ms)}, peak RSS ${mib(first.maxRssBytes)}`,
      baseline: `read + split + JSON.parse of every line ${ms(parse.report.ms)} (peak RSS ${mib(parse.maxRssBytes)})`,
      ratio: first.report.ms / parse.report.ms
    },
    {
      name: "  import peak RSS / session file size",
      value: `${(first.maxRssBytes / sessionBytes).toFixed(2)}x`,
      baseline: `a raw streaming read of the rollout: ${mib(raw.maxRssBytes)} = ${(raw.maxRssBytes / sessionBytes).toFixed(2)}x`,
      target: "< 2x",
      ok: first.maxRssBytes < 2 * sessionBytes,
      note: "two passes, messages streamed into the atomic save: the session is never built in memory"
    },
    {
      name: "  import peak RSS above the idle child process (Node + this bundle, no work)",
      value: `${mib(first.maxRssBytes - idle.maxRssBytes)} = ${((first.maxRssBytes - idle.maxRssBytes) / sessionBytes).toFixed(2)}x the session file`,
      baseline: `idle child ${mib(idle.maxRssBytes)}; raw streaming read above idle ${mib(raw.maxRssBytes - idle.maxRssBytes)}`
    },
    {
      name: "  for comparison: building the whole Session in memory (no save)",
      value: `peak RSS ${mib(map.maxRssBytes)}, ${ms(map.report.ms)}`
    },
    {
      name: "re-import of the unchanged session (nothing written)",
      value: `${ms(again.report.ms)}, peak RSS ${mib(again.maxRssBytes)}`,
      baseline: `first import ${ms(first.report.ms)}`,
      ratio: again.report.ms / first.report.ms,
      note: `status ${again.report.status}`
    }
  ]
}

const childMode = process.env.CODETETHER_BENCH_CODEX_CHILD
if (childMode === "idle") console.log(JSON.stringify({ ms: 0 }))
if (childMode === "raw" || childMode === "parse") {
  const [path] = process.argv.slice(2) as [string]
  const start = performance.now()
  let bytes = 0
  let lines = 0
  let rest = ""
  for await (const chunk of NodeFs.createReadStream(path, { highWaterMark: 64 * 1024, encoding: childMode === "parse" ? "utf8" : undefined })) {
    if (childMode === "raw") {
      bytes += (chunk as Buffer).length
      continue
    }
    const text = rest + (chunk as string)
    let from = 0
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", from)) {
      if (end > from) {
        JSON.parse(text.slice(from, end))
        lines++
      }
      from = end + 1
    }
    rest = text.slice(from)
  }
  if (rest.trim().length > 0) JSON.parse(rest)
  console.log(JSON.stringify({ ms: performance.now() - start, bytes, lines }))
}

if (childMode === "map") {
  const [path] = process.argv.slice(2) as [string]
  const { Effect, Stream } = await import("effect")
  const CodexImport = await import("../services/CodexImport.ts")
  const CodexRollout = await import("../schemas/CodexRollout.ts")
  const Timestamp = await import("../schemas/Timestamp.ts")
  const start = performance.now()
  const reader = CodexRollout.makeReader()
  await Effect.runPromise(Stream.runForEach(CodexImport.lines(path), (line) => Effect.sync(() => void (line._tag === "Line" && reader.push(line.text)))))
  const now = await Effect.runPromise(Timestamp.now)
  const session = CodexRollout.build(reader.builder, { provenanceUuid: globalThis.crypto.randomUUID(), now })!
  console.log(JSON.stringify({ ms: performance.now() - start, messages: session.messages.length }))
}

if (childMode === "import") {
  const [home, dataDir, id] = process.argv.slice(2) as [string, string, string]
  const { Effect, Layer } = await import("effect")
  const CodexImport = await import("../services/CodexImport.ts")
  const DataDir = await import("../services/DataDir.ts")
  const SessionStore = await import("../services/SessionStore.ts")
  const start = performance.now()
  const report = await Effect.runPromise(
    Effect.gen(function*() {
      const codex = yield* CodexImport.CodexImport
      const outcome = yield* codex.importOne(id)
      return { status: outcome.status }
    }).pipe(
      Effect.provide(
        CodexImport.layerHome(home).pipe(
          Layer.provide(SessionStore.layerFileSystem),
          Layer.provide(DataDir.layerPath(dataDir))
        )
      )
    )
  )
  console.log(JSON.stringify({ ms: performance.now() - start, ...report }))
}
