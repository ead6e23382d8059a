/**
 * Benchmarks of issue 13's write-side features:
 *
 * - Claude Code import: a ~100 MB transcript shaped like Claude Code 2.1's
 *   (queue operations, attachments, api-request records, one assistant record
 *   per content block, Bash tool results with code output, edited-message
 *   branches), imported by `ClaudeImport.importOne` into a file store, in this
 *   process. Baseline: the least any JSONL importer does (read the file, split
 *   lines, `JSON.parse` each).
 * - Redaction at write time: redacting every message and tool use a long
 *   session appends (code output, commands, a few secrets), against encoding
 *   the same messages (`SessionJson.encodeChunks`, what every save does).
 *
 * Nothing is asserted; figures are reported as ratios.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Message from "../schemas/Message.ts"
import * as Redaction from "../schemas/Redaction.ts"
import * as Session from "../schemas/Session.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as ClaudeImport from "../services/ClaudeImport.ts"
import * as SessionStore from "../services/SessionStore.ts"
import { CODE_LINES, pick, prng, sentence } from "./corpus.ts"
import { compare, ms, type Row } from "./harness.ts"

const SESSION_ID = "7c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"
const CWD = "/home/dev/orbit"
const MiB = 2 ** 20

const output = (r: () => number): string => {
  const lines: Array<string> = []
  const n = 5 + Math.floor(r() * r() * 300)
  for (let i = 0; i < n; i++) lines.push(pick(r, CODE_LINES))
  return lines.join("\n")
}

/** Writes a transcript of about `targetBytes` bytes in 1 MiB batches; returns its size. */
export const writeTranscript = (path: string, targetBytes: number): number => {
  const r = prng(13)
  const fd = NodeFs.openSync(path, "w")
  let pending: Array<string> = []
  let pendingBytes = 0
  let written = 0
  let clock = Date.UTC(2026, 10, 22, 9, 0, 0)
  let parent: string | null = null
  let n = 0
  const flush = () => {
    const buffer = Buffer.from(pending.join(""))
    NodeFs.writeSync(fd, buffer)
    written += buffer.length
    pending = []
    pendingBytes = 0
  }
  const emit = (record: Record<string, unknown>) => {
    const text = `${JSON.stringify(record)}\n`
    pending.push(text)
    pendingBytes += text.length
    if (pendingBytes >= MiB) flush()
  }
  const node = (type: string, fields: Record<string, unknown>) => {
    clock += 1 + Math.floor(r() * 500)
    const uuid = `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, "0")}`
    emit({
      parentUuid: parent,
      isSidechain: false,
      type,
      ...fields,
      uuid,
      timestamp: new Date(clock).toISOString(),
      userType: "external",
      cwd: CWD,
      sessionId: SESSION_ID,
      version: "2.1.330",
      gitBranch: "main"
    })
    parent = uuid
    return uuid
  }
  const usage = () => ({ input_tokens: 2000 + Math.floor(r() * 9000), cache_read_input_tokens: 30000, cache_creation_input_tokens: 200, output_tokens: 50 + Math.floor(r() * 900) })
  while (written + pendingBytes < targetBytes) {
    emit({ type: "queue-operation", operation: "enqueue", timestamp: new Date(clock).toISOString(), sessionId: SESSION_ID, content: sentence(r, 20) })
    const question = node("user", { message: { role: "user", content: sentence(r, 30) } })
    node("attachment", { attachment: { type: "date", date: "2026-11-22" } })
    emit({ type: "api-request", sessionId: SESSION_ID, id: `req-${n}`, params: { model: "claude-opus-5-5", max_tokens: 128000 } })
    for (let step = 0; step < 4; step++) {
      const messageId = `msg_${n.toString(16)}`
      const u = usage()
      if (r() < 0.3) node("assistant", { message: { id: messageId, role: "assistant", model: "claude-opus-5-5", content: [{ type: "thinking", thinking: sentence(r, 60), signature: "s" }], usage: u } })
      node("assistant", { message: { id: messageId, role: "assistant", model: "claude-opus-5-5", content: [{ type: "text", text: sentence(r, 25) }], usage: u } })
      const toolId = `toolu_${n.toString(16)}`
      node("assistant", { message: { id: messageId, role: "assistant", model: "claude-opus-5-5", content: [{ type: "tool_use", id: toolId, name: "Bash", input: { command: "grep -rn load src", description: "Search" } }], usage: u } })
      node("user", { message: { role: "user", content: [{ type: "tool_result", tool_use_id: toolId, content: output(r), is_error: false }] }, toolUseResult: { stdout: "…" } })
    }
    node("assistant", { message: { id: `msg_final_${n}`, role: "assistant", model: "claude-opus-5-5", content: [{ type: "text", text: sentence(r, 80) }], usage: usage() } })
    if (r() < 0.05) {
      // an edited question: a branch from the question's parent, the old branch abandoned
      const abandoned: string | null = parent
      parent = question
      node("assistant", { message: { id: `msg_branch_${n}`, role: "assistant", model: "claude-opus-5-5", content: [{ type: "text", text: "old branch" }], usage: usage() } })
      parent = abandoned
    }
  }
  flush()
  NodeFs.closeSync(fd)
  return written
}

const rawParse = (path: string) => {
  let records = 0
  for (const line of NodeFs.readFileSync(path, "utf8").split("\n")) {
    if (line.length > 0) {
      JSON.parse(line)
      records++
    }
  }
  return records
}

export async function benchClaude(workDir: string, quick: boolean): Promise<ReadonlyArray<Row>> {
  const home = NodePath.join(workDir, "claude")
  const folder = NodePath.join(home, "projects", "-home-dev-orbit")
  NodeFs.mkdirSync(folder, { recursive: true })
  const transcript = NodePath.join(folder, `${SESSION_ID}.jsonl`)
  const bytes = writeTranscript(transcript, (quick ? 10 : 100) * MiB)
  const dataDir = NodePath.join(workDir, "data")

  const importOnce = () =>
    Effect.runPromise(Effect.gen(function*() {
      NodeFs.rmSync(dataDir, { recursive: true, force: true })
      const store = SessionStore.makeFileSystem(NodePath.join(dataDir, "sessions"))
      const claude = yield* ClaudeImport.make({ home }).pipe(Effect.provideService(SessionStore.SessionStore, store))
      return yield* claude.importOne(SESSION_ID)
    }))
  const imported = await compare(3, importOnce, async () => rawParse(transcript))
  const sessionBytes = NodeFs.statSync(NodePath.join(dataDir, "sessions", `${SESSION_ID}.json`)).size

  // redaction of what a long session appends, vs encoding the same messages
  const r = prng(7)
  const messages: Array<Message.Message> = []
  for (let i = 0; i < 2000; i++) {
    const secret = i % 97 === 0 ? ` token ghp_${"aB3".repeat(12)} ` : ""
    messages.push(Message.text("user", sentence(r, 20) + secret))
    messages.push({
      role: "assistant",
      content: [{ type: "text", text: sentence(r, 30) }, { type: "tool_call", id: `c${i}`, name: "bash", arguments: JSON.stringify({ command: `grep -rn ${pick(r, ["load", "save", "index"])} src` }) }]
    })
    messages.push(Message.toolResult(`c${i}`, output(r)))
  }
  const redactor = Redaction.make({ secrets: [{ name: "OPENAI_API_KEY", value: "sk-proj-benchmarkbenchmarkbenchmark0123" }] })
  const session = Session.make({ id: SESSION_ID, now: Timestamp.fromString("2026-11-22T09:00:00Z")!, directory: CWD, provenanceUuid: "0f1e2d3c-4b5a-4968-8776-655443322110" })
  const full = { ...session, messages }
  const appendedBytes = SessionJson.encode(full).length
  const redacted = await compare(
    7,
    async () => messages.reduce((n, m) => n + Redaction.message(redactor, m).total, 0),
    // fresh message objects: the encoder caches each message object's bytes
    async () => SessionJson.encodeChunks({ ...full, messages: messages.map((m) => ({ ...m })) }).length
  )
  return [
    {
      name: `Claude Code import of a ${(bytes / MiB).toFixed(0)} MiB transcript (session file ${(sessionBytes / MiB).toFixed(0)} MiB)`,
      value: ms(imported.subject),
      baseline: `read + split + JSON.parse of every line ${ms(imported.baseline)}`,
      ratio: imported.ratio,
      note: "two passes over the file, messages streamed into the atomic save"
    },
    {
      name: `redaction of ${messages.length} appended messages (${(appendedBytes / MiB).toFixed(1)} MiB encoded)`,
      value: ms(redacted.subject),
      baseline: `encoding them once, as their first save does ${ms(redacted.baseline)}`,
      ratio: redacted.ratio,
      note: "a prompt redacts only what it appends: this is a whole long session's worth"
    }
  ]
}
