/**
 * Hand-made Claude Code transcript records, in the shape Claude Code 2.1
 * writes them (see the real sample in test/fixtures/claude), for edge cases:
 * edited-message branches, sidechains, multi-block messages, compaction,
 * images, truncated lines.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

export const SAMPLE_ID = "30210cd6-1912-46b7-8b72-34bf998a507a"
export const FIXTURES = NodePath.join(import.meta.dirname, "../fixtures/claude")
export const SAMPLE = NodePath.join(FIXTURES, "projects/-home-dev-demo", `${SAMPLE_ID}.jsonl`)

/** `2026-11-22T10:00:<seconds>.000Z` */
export const at = (seconds: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + seconds * 1000).toISOString()

interface Common {
  readonly cwd?: string
  readonly sessionId?: string
  readonly isSidechain?: boolean
  readonly extra?: Record<string, unknown>
}

const common = (uuid: string, parentUuid: string | null, seconds: number, options: Common) => ({
  parentUuid,
  isSidechain: options.isSidechain ?? false,
  uuid,
  timestamp: at(seconds),
  userType: "external",
  cwd: options.cwd ?? "/home/dev/project",
  sessionId: options.sessionId ?? "s",
  version: "2.1.330",
  gitBranch: "main",
  ...options.extra
})

export const user = (uuid: string, parentUuid: string | null, seconds: number, content: string | ReadonlyArray<unknown>, options: Common = {}) =>
  JSON.stringify({ ...common(uuid, parentUuid, seconds, options), type: "user", message: { role: "user", content } })

export const assistant = (
  uuid: string,
  parentUuid: string | null,
  seconds: number,
  messageId: string,
  content: ReadonlyArray<unknown>,
  options: Common & { readonly model?: string; readonly usage?: Record<string, number> } = {}
) =>
  JSON.stringify({
    ...common(uuid, parentUuid, seconds, options),
    type: "assistant",
    message: {
      id: messageId,
      type: "message",
      role: "assistant",
      model: options.model ?? "claude-opus-5-5",
      content,
      stop_reason: null,
      usage: options.usage ?? { input_tokens: 100, cache_creation_input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 20 }
    }
  })

export const attachment = (uuid: string, parentUuid: string | null, seconds: number, options: Common = {}) =>
  JSON.stringify({
    ...common(uuid, parentUuid, seconds, options),
    type: "attachment",
    attachment: { type: "date", date: "2026-11-22" }
  })

export const system = (uuid: string, parentUuid: string | null, seconds: number, extra: Record<string, unknown>, options: Common = {}) =>
  JSON.stringify({ ...common(uuid, parentUuid, seconds, options), type: "system", content: "", level: "info", ...extra })

export const text = (value: string) => ({ type: "text", text: value })
export const thinking = (value: string) => ({ type: "thinking", thinking: value, signature: "sig" })
export const toolUse = (id: string, name: string, input: unknown) => ({ type: "tool_use", id, name, input })
export const toolResult = (id: string, content: string | ReadonlyArray<unknown>, isError = false) => ({
  type: "tool_result",
  tool_use_id: id,
  content,
  is_error: isError
})
export const image = (data: string, mediaType = "image/png") => ({ type: "image", source: { type: "base64", media_type: mediaType, data } })

export const queueOperation = (seconds: number) =>
  JSON.stringify({ type: "queue-operation", operation: "enqueue", timestamp: at(seconds), sessionId: "s", content: "x" })

/** Writes `<home>/projects/<folder>/<id>.jsonl` with `lines` (each followed by `\n` unless `trailingNewline` is false). */
export const write = (home: string, folder: string, id: string, lines: ReadonlyArray<string>, trailingNewline = true) => {
  const dir = NodePath.join(home, "projects", folder)
  NodeFs.mkdirSync(dir, { recursive: true })
  const path = NodePath.join(dir, `${id}.jsonl`)
  NodeFs.writeFileSync(path, lines.join("\n") + (trailingNewline ? "\n" : ""))
  return path
}

/** A small conversation in `cwd`: a question, a Bash call and its result, an answer. */
export const conversation = (cwd: string, question = "How many files are there?", startSeconds = 0) => [
  queueOperation(startSeconds),
  user("u1", null, startSeconds + 1, question, { cwd }),
  assistant("a1", "u1", startSeconds + 2, "msg_1", [toolUse("toolu_1", "Bash", { command: "ls -1" })], { cwd }),
  user("u2", "a1", startSeconds + 3, [toolResult("toolu_1", "a.txt\nb.txt")], { cwd }),
  assistant("a2", "u2", startSeconds + 4, "msg_2", [text("There are 2 files.")], { cwd })
]
