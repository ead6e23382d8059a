/**
 * Benchmark corpora: realistic codetether-agent 4.5.7 session files of any
 * size, written as a stream (never one big string) from a seeded generator.
 *
 * A transcript cycles through the shapes a coding session has: a user
 * request, an assistant reply with a tool call whose arguments are JSON text,
 * a tool result holding source code or command output (quotes, backslashes,
 * newlines, non-ASCII), and a final assistant answer.
 */
import * as NodeFs from "node:fs"

/** Mulberry32: small, fast, seeded. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Words of generated prose (ASCII and a few multi-byte ones). */
export const WORDS = (
  "the a session file tool call result message provider model usage token stream event loop agent build " +
  "config loader rename update callers function return const let import export async await error path " +
  "directory workspace index resume compaction summary café naïve 日本語 ünïcödé"
).split(" ")

/** Lines of generated tool output: code, JSON, listings, escapes, tabs, non-ASCII. */
export const CODE_LINES = [
  `import * as fs from "node:fs"`,
  `export const load = async (id: string) => JSON.parse(await fs.promises.readFile(\`\${id}.json\`, "utf8"))`,
  `  if (value === "\\\\") return "backslash"`,
  `fn main() { println!("hello {}", name); }`,
  `    const re = /\\d+\\.\\d+/g // version pattern`,
  `  "scripts": { "test": "vitest run", "build": "tsc -p ." },`,
  `$ ls -la /home/dev/projects/orbit/src`,
  `drwxr-xr-x  5 dev dev  4096 Feb  3 08:12 .`,
  `	tab\tindented line with a tab character`,
  `// TODO: rename load_config to read_config — “smart quotes” and emoji 🚀`
]

export interface CorpusRandom {
  readonly next: () => number
}

export const pick = <A>(r: () => number, items: ReadonlyArray<A>): A => items[Math.floor(r() * items.length)]!

export const sentence = (r: () => number, words: number): string => {
  const out: Array<string> = []
  for (let i = 0; i < words; i++) out.push(pick(r, WORDS))
  return out.join(" ")
}

const code = (r: () => number, bytes: number): string => {
  const out: Array<string> = []
  let size = 0
  while (size < bytes) {
    const line = pick(r, CODE_LINES)
    out.push(line)
    size += line.length + 1
  }
  return out.join("\n")
}

/** The wire form of message number `i` of a transcript (snake_case keys). */
export const wireMessage = (r: () => number, i: number, averageToolBytes: number): unknown => {
  switch (i % 4) {
    case 0:
      return { role: "user", content: [{ type: "text", text: sentence(r, 10 + Math.floor(r() * 60)) }] }
    case 1:
      return {
        role: "assistant",
        content: [
          { type: "text", text: sentence(r, 5 + Math.floor(r() * 20)) },
          {
            type: "tool_call",
            id: `call_${i}`,
            name: pick(r, ["read", "grep", "bash", "edit"]),
            arguments: JSON.stringify({ path: `src/${pick(r, WORDS)}.ts`, pattern: "load_config(\"x\")" })
          }
        ]
      }
    case 2:
      return {
        role: "tool",
        content: [{
          type: "tool_result",
          tool_call_id: `call_${i - 1}`,
          content: code(r, Math.floor(averageToolBytes * (0.5 + r())))
        }]
      }
    default:
      return { role: "assistant", content: [{ type: "text", text: sentence(r, 20 + Math.floor(r() * 80)) }] }
  }
}

export const wireToolUse = (r: () => number, i: number): unknown => ({
  id: `call_${i}`,
  name: pick(r, ["read", "grep", "bash"]),
  input: "{\"path\":\"src/a.ts\"}",
  output: sentence(r, 30),
  success: r() > 0.1
})

const pad2 = (n: number) => String(n).padStart(2, "0")

/** A canonical timestamp `seconds` after 2026-01-01T00:00:00Z, with 9 fraction digits. */
export const timestamp = (seconds: number, nanos = 123456789): string => {
  const d = new Date(Date.UTC(2026, 0, 1) + seconds * 1000)
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${
    pad2(d.getUTCMinutes())
  }:${pad2(d.getUTCSeconds())}.${String(nanos).padStart(9, "0")}Z`
}

export interface SessionSpec {
  readonly id: string
  readonly directory: string | null
  readonly targetBytes: number
  readonly seed: number
  readonly createdSeconds?: number
  readonly updatedSeconds?: number
  readonly averageToolBytes?: number
  /** Write the 4.5.6 layout: pretty JSON, metadata last. */
  readonly legacy?: boolean
}

/** The header part (everything before `messages`) of a 4.5.7 file. */
export const headerJson = (spec: SessionSpec): string => {
  const created = timestamp(spec.createdSeconds ?? 0)
  const updated = timestamp(spec.updatedSeconds ?? spec.createdSeconds ?? 0)
  const metadata = {
    directory: spec.directory,
    model: "openai/gpt-4o",
    knowledge_snapshot: null,
    provenance: {
      provenance_id: "ctprov_5e1d7c2b9a8f4e3d2c1b0a9f8e7d6c5b",
      session_id: spec.id,
      task_id: null,
      run_id: null,
      attempt_id: null,
      issued_at: created,
      identity: {
        tenant_id: null,
        agent_identity_id: null,
        agent_name: "build",
        origin: "local_cli",
        worker_id: null,
        key_id: null,
        github_installation_id: null,
        github_app_id: null
      }
    },
    auto_apply_edits: false,
    allow_network: false,
    slash_autocomplete: false,
    use_worktree: false,
    shared: false,
    share_url: null,
    rlm: JSON.parse(
      "{\"mode\":\"auto\",\"threshold\":0.35,\"max_iterations\":15,\"max_subcalls\":50,\"runtime\":\"rust\",\"root_model\":null,\"subcall_model\":null}"
    )
  }
  return `{"id":${JSON.stringify(spec.id)},"title":${JSON.stringify(`Session ${spec.id.slice(0, 8)}`)},"created_at":"${created}","updated_at":"${updated}","metadata":${
    JSON.stringify(metadata)
  },"agent":"build"`
}

const USAGE = "{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0,\"cache_read_tokens\":null,\"cache_write_tokens\":null}"

/**
 * Writes a compact 4.5.7 session file of about `targetBytes` bytes to `path`,
 * streaming in ~1 MiB writes. Returns the message and tool-use counts.
 */
export const writeSessionFile = (path: string, spec: SessionSpec): { messages: number; toolUses: number } => {
  const r = prng(spec.seed)
  const fd = NodeFs.openSync(path, "w", 0o600)
  let pending: Array<string> = []
  let pendingBytes = 0
  let written = 0
  const flush = () => {
    if (pending.length === 0) return
    const buf = Buffer.from(pending.join(""))
    NodeFs.writeSync(fd, buf)
    written += buf.length
    pending = []
    pendingBytes = 0
  }
  const write = (s: string) => {
    pending.push(s)
    pendingBytes += s.length
    if (pendingBytes > 1 << 20) flush()
  }
  try {
    const averageToolBytes = spec.averageToolBytes ?? 6000
    if (spec.legacy) {
      // Pretty-printed, metadata last (≤ 4.5.6 layout), built as one value: only for small files.
      const header = JSON.parse(`${headerJson(spec)}}`)
      const messages: Array<unknown> = []
      let size = 0
      for (let i = 0; size < spec.targetBytes; i++) {
        const m = wireMessage(r, i, averageToolBytes)
        size += JSON.stringify(m).length
        messages.push(m)
      }
      const legacy = {
        id: header.id,
        title: header.title,
        created_at: header.created_at,
        updated_at: header.updated_at,
        messages,
        tool_uses: [],
        usage: JSON.parse(USAGE),
        agent: header.agent,
        metadata: header.metadata
      }
      write(JSON.stringify(legacy, null, 2))
      flush()
      return { messages: messages.length, toolUses: 0 }
    }
    write(headerJson(spec))
    write(",\"messages\":[")
    let messages = 0
    const budget = spec.targetBytes - 400
    while (written + pendingBytes < budget || messages === 0) {
      write((messages === 0 ? "" : ",") + JSON.stringify(wireMessage(r, messages, averageToolBytes)))
      messages++
    }
    write("],\"tool_uses\":[")
    const toolUses = Math.max(1, Math.floor(messages / 4))
    for (let i = 0; i < toolUses; i++) write((i === 0 ? "" : ",") + JSON.stringify(wireToolUse(r, i)))
    write(`],"usage":${USAGE}}`)
    flush()
    return { messages, toolUses }
  } finally {
    NodeFs.closeSync(fd)
  }
}
