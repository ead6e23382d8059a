/**
 * Fitting a transcript into a model's context window (codetether-agent
 * 4.5.7 `helper/compression.rs`, BEHAVIOUR §9): the token estimate, the
 * context-window table, the budget, and the two ways of shrinking a
 * transcript (compressing its older part into one message, and the terminal
 * truncation). Pure; the session loop applies them at the start of every step
 * and publishes the compaction events.
 *
 * 4.5.7 summarises the older part with its RLM engine and falls back to a
 * deterministic "chunk compression". codetether has no RLM engine yet, so it
 * always uses the deterministic compression ({@link compressText}) and reports
 * it as `chunk_compress` (4.5.7 reported `rlm` even when it fell back). The
 * cut never separates a tool result from the assistant message that called
 * the tool (4.5.7 could keep orphan results at the head of the tail).
 *
 * @since 0.1.0
 */
import type { ContentPart, Message } from "./Message.ts"
import type { ToolDefinition } from "./Tool.ts"

/**
 * Estimated tokens of `text` (4.5.7 `estimate_tokens`): UTF-8 bytes divided by
 * 2.8, 3.2, 3.6 or 4.0 characters per token as the share of ASCII whitespace
 * bytes is below 5%, 10%, 20% or above; rounded up; 0 for empty text. Counts
 * UTF-8 bytes from the UTF-16 code units, without encoding the text.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateTokens = (text: string): number => {
  if (text.length === 0) return 0
  let bytes = 0
  let whitespace = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) {
      bytes += 1
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) whitespace++
    } else if (c < 0x800) {
      bytes += 2
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else {
        bytes += 3 // a lone surrogate is written as U+FFFD
      }
    } else {
      bytes += 3
    }
  }
  const ratio = whitespace / bytes
  const perToken = ratio < 0.05 ? 2.8 : ratio < 0.1 ? 3.2 : ratio < 0.2 ? 3.6 : 4.0
  return Math.ceil(bytes / perToken)
}

/**
 * Estimated tokens of one content part (4.5.7 per-part rules): text, thinking
 * and tool results by their text; a tool call by `id name arguments
 * [signature]`; an image counts 2000; a file by `path [mime type]`.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimatePart = (part: ContentPart): number => {
  switch (part.type) {
    case "text":
    case "thinking":
      return estimateTokens(part.text)
    case "tool_result":
      return estimateTokens(part.content)
    case "tool_call":
      return estimateTokens(
        `${part.id} ${part.name} ${part.arguments}${part.thoughtSignature === undefined ? "" : ` ${part.thoughtSignature}`}`
      )
    case "image":
      return 2000
    case "file":
      return estimateTokens(`${part.path}${part.mimeType === null ? "" : ` ${part.mimeType}`}`)
  }
}

const messageEstimates = new WeakMap<Message, number>()

/**
 * Estimated tokens of one message: the sum of its parts (roles and framing
 * are not counted, as in 4.5.7). Cached per message object (messages are
 * immutable values), so re-estimating a growing transcript at every step
 * costs only its new messages.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateMessage = (message: Message): number => {
  let total = messageEstimates.get(message)
  if (total === undefined) {
    total = 0
    for (const part of message.content) total += estimatePart(part)
    messageEstimates.set(message, total)
  }
  return total
}

/**
 * Estimated tokens of messages (see {@link estimateMessage}).
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateMessages = (messages: ReadonlyArray<Message>): number => {
  let total = 0
  for (const message of messages) total += estimateMessage(message)
  return total
}

/**
 * Estimated tokens of a request: system prompt + messages + the compact JSON
 * of the tool definitions.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateRequest = (
  system: string,
  messages: ReadonlyArray<Message>,
  tools: ReadonlyArray<ToolDefinition>
): number => estimateTokens(system) + estimateMessages(messages) + estimateTools(tools)

/** Per tool list (a registry's list is one array for its lifetime). */
const toolEstimates = new WeakMap<ReadonlyArray<ToolDefinition>, number>()

const estimateTools = (tools: ReadonlyArray<ToolDefinition>): number => {
  let total = toolEstimates.get(tools)
  if (total === undefined) {
    total = estimateTokens(
      JSON.stringify(tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })))
    )
    toolEstimates.set(tools, total)
  }
  return total
}

const WINDOWS: ReadonlyArray<readonly [ReadonlyArray<string>, number]> = [
  [["claude-opus-4-7", "claude-opus-4.7", "4.7-opus"], 1_000_000],
  [["glm-5", "glm5"], 200_000],
  [["kimi-k2", "kimi.k2"], 256_000],
  [["gpt-5"], 256_000],
  [["gpt-4o", "gpt-4-turbo", "gpt-4"], 128_000],
  [["claude"], 200_000],
  [["gemini-2.5-pro", "gemini-2-pro"], 2_000_000],
  [["gemini"], 1_000_000],
  [["minimax", "m2.5"], 256_000],
  [["qwen", "qwq"], 131_072],
  [["deepseek-r1", "deepseek-v3"], 128_000],
  [["llama-4", "llama4"], 256_000],
  [["nova-pro", "nova-lite", "nova-premier"], 300_000],
  [["nova-micro", "nova-2"], 128_000],
  [["moonshot", "k1.5", "k1.6"], 200_000],
  [["mistral-large", "magistral"], 128_000],
  [["mistral"], 32_000],
  [["jamba"], 256_000]
]

/**
 * The context window of `model` in tokens (4.5.7 `provider/limits.rs`: the
 * first case-insensitive substring match of its table; 128,000 otherwise).
 *
 * @since 0.1.0
 * @category limits
 */
export const contextWindow = (model: string): number => {
  const lower = model.toLowerCase()
  for (const [needles, window] of WINDOWS) if (needles.some((n) => lower.includes(n))) return window
  return 128_000
}

/**
 * The most tokens a request may estimate at before compaction: 90% of the
 * window left after the completion (`max_tokens`) and 2048 tokens of slack
 * (4.5.7 `safety = floor(max(0, window − (max_tokens + 2048)) × 0.9)`).
 *
 * @since 0.1.0
 * @category limits
 */
export const safetyBudget = (window: number, maxTokens: number): number =>
  Math.floor(Math.max(0, window - (maxTokens + 2048)) * 0.9)

const ROLE_LABEL = { system: "System", user: "User", assistant: "Assistant", tool: "Tool" } as const

/**
 * The text of messages as 4.5.7 renders them for summarisation: a
 * `[<index> <Role>]` line per message, then its parts (thinking under
 * `[Thinking]`, tool calls as `[ToolCall id=… name=…]` + `args: …`, results as
 * `[ToolResult id=…]` + content, images and files as one line), then a blank
 * line, `---` and a blank line.
 *
 * @since 0.1.0
 * @category compression
 */
export const render = (messages: ReadonlyArray<Message>, firstIndex = 0): string => {
  const out: Array<string> = []
  messages.forEach((message, i) => {
    out.push(`[${firstIndex + i} ${ROLE_LABEL[message.role]}]`)
    for (const part of message.content) {
      switch (part.type) {
        case "text":
          out.push(part.text)
          break
        case "thinking":
          if (part.text.trim().length > 0) out.push("[Thinking]", part.text)
          break
        case "tool_call":
          out.push(`[ToolCall id=${part.id} name=${part.name}]`, `args: ${part.arguments}`)
          break
        case "tool_result":
          out.push(`[ToolResult id=${part.toolCallId}]`, part.content)
          break
        case "image":
          out.push(`[Image mime_type=${part.mimeType ?? "unknown"} url_len=${part.url.length}]`)
          break
        case "file":
          out.push(`[File path=${part.path} mime_type=${part.mimeType ?? "unknown"}]`)
          break
      }
    }
    out.push("", "---", "")
  })
  return out.join("\n")
}

/**
 * Deterministic compression of `text` to about `targetTokens` tokens: the text
 * whole when it fits, else its beginning (a quarter of the room) and its end
 * (the rest: recent context matters most), with a line saying how much was
 * left out. Cuts at code-point boundaries.
 *
 * @since 0.1.0
 * @category compression
 */
export const compressText = (text: string, targetTokens: number): string => {
  const tokens = estimateTokens(text)
  if (tokens <= targetTokens) return text
  const chars = Array.from(text)
  // estimate the characters that fit from the text's own density
  const perToken = chars.length / Math.max(1, tokens)
  const room = Math.max(0, Math.floor(targetTokens * perToken) - 80)
  const head = Math.floor(room / 4)
  const tail = room - head
  const omitted = chars.length - head - tail
  return `${chars.slice(0, head).join("")}\n\n[... ${omitted} characters of older conversation omitted ...]\n\n${
    chars.slice(chars.length - tail).join("")
  }`
}

/**
 * The index where a tail of about `keepLast` messages starts, moved back so
 * the tail never starts with a `tool` message (whose call would be cut off).
 *
 * @since 0.1.0
 * @category compression
 */
export const tailStart = (messages: ReadonlyArray<Message>, keepLast: number): number => {
  let start = Math.max(0, messages.length - keepLast)
  while (start > 0 && messages[start]!.role === "tool") start--
  return start
}

/**
 * The first line of the message that replaces a compressed history.
 *
 * @since 0.1.0
 * @category constants
 */
export const COMPRESSION_MARKER = "[AUTO CONTEXT COMPRESSION]"

/**
 * The first line of the message that replaces a truncated history.
 *
 * @since 0.1.0
 * @category constants
 */
export const TRUNCATION_MARKER = "[CONTEXT TRUNCATED]"

/**
 * 4.5.7 `compress_history_keep_last`: replaces every message before the last
 * `keepLast` (see {@link tailStart}) with one `assistant` message holding a
 * summary of them; `undefined` when there is nothing before the tail.
 *
 * @since 0.1.0
 * @category compression
 */
export const compressKeepLast = (
  messages: ReadonlyArray<Message>,
  keepLast: number,
  summarize: (rendered: string) => string
): ReadonlyArray<Message> | undefined => {
  const start = tailStart(messages, keepLast)
  if (start === 0) return undefined
  const summary = summarize(render(messages.slice(0, start)))
  const note: Message = {
    role: "assistant",
    content: [{
      type: "text",
      text: `${COMPRESSION_MARKER}\nOlder conversation and tool output were compressed to fit the context window.\n\n${summary}`
    }]
  }
  return [note, ...messages.slice(start)]
}

/**
 * The terminal truncation (4.5.7 §9.3): keeps the last `keepLast` messages
 * (see {@link tailStart}) behind one `assistant` message saying older
 * conversation was dropped; `undefined` when nothing would be dropped.
 *
 * @since 0.1.0
 * @category compression
 */
export const truncateKeepLast = (messages: ReadonlyArray<Message>, keepLast: number): ReadonlyArray<Message> | undefined => {
  const start = tailStart(messages, keepLast)
  if (start === 0) return undefined
  const note: Message = {
    role: "assistant",
    content: [{
      type: "text",
      text: `${TRUNCATION_MARKER}\nOlder conversation was dropped to fit the context window; ask the user if you need to recall details from it.`
    }]
  }
  return [note, ...messages.slice(start)]
}

/**
 * Does a provider error say the prompt is too long for the model (4.5.7's
 * test: `prompt is too long`, `context length`, `maximum context`, or all of
 * `tokens`, `maximum` and `prompt`, case-insensitive)?
 *
 * @since 0.1.0
 * @category predicates
 */
export const isPromptTooLong = (message: string): boolean => {
  const m = message.toLowerCase()
  return m.includes("prompt is too long") || m.includes("context length") || m.includes("maximum context") ||
    (m.includes("tokens") && m.includes("maximum") && m.includes("prompt"))
}
