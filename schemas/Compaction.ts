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

/** UTF-8 bytes, ASCII whitespace bytes and code points of a text (code points as `Array.from` counts them). */
interface Measure {
  readonly bytes: number
  readonly whitespace: number
  readonly codePoints: number
}

const EMPTY: Measure = { bytes: 0, whitespace: 0, codePoints: 0 }

/**
 * Measures `text` in one pass over its UTF-16 code units, allocating nothing:
 * a surrogate pair is 4 bytes and one code point, a lone surrogate 3 bytes
 * (it is written as U+FFFD) and one code point.
 */
const measure = (text: string): Measure => {
  const n = text.length
  let extra = 0 // UTF-8 bytes beyond one per code unit
  let whitespace = 0
  let pairs = 0
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c <= 32) {
      if (c === 32 || (c >= 9 && c <= 13 && c !== 11)) whitespace++
    } else if (c >= 0x80) {
      if (c < 0x800) extra += 1
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        extra += 2 // 2 units, 4 bytes
        pairs++
        i++
      } else extra += 2
    }
  }
  return { bytes: n + extra, whitespace, codePoints: n - pairs }
}

const add = (a: Measure, b: Measure): Measure => ({
  bytes: a.bytes + b.bytes,
  whitespace: a.whitespace + b.whitespace,
  codePoints: a.codePoints + b.codePoints
})

const tokensOf = (m: Measure): number => {
  if (m.bytes === 0) return 0
  const ratio = m.whitespace / m.bytes
  const perToken = ratio < 0.05 ? 2.8 : ratio < 0.1 ? 3.2 : ratio < 0.2 ? 3.6 : 4.0
  return Math.ceil(m.bytes / perToken)
}

/**
 * Estimated tokens of `text` (4.5.7 `estimate_tokens`): UTF-8 bytes divided by
 * 2.8, 3.2, 3.6 or 4.0 characters per token as the share of ASCII whitespace
 * bytes is below 5%, 10%, 20% or above; rounded up; 0 for empty text. Counts
 * UTF-8 bytes from the UTF-16 code units, without encoding the text or
 * allocating anything.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateTokens = (text: string): number => tokensOf(measure(text))

type BodyPart = Extract<ContentPart, { readonly type: "text" | "thinking" | "tool_result" | "tool_call" }>

/** The one string of a part that can be large: its text, result content or call arguments. */
const bodyOf = (part: BodyPart): string =>
  part.type === "tool_result" ? part.content : part.type === "tool_call" ? part.arguments : part.text

/**
 * Measures of the large string of each part, cached per part object (parts
 * are immutable values): the estimate of a transcript and the compression of
 * its older part read each large string once between them.
 */
const bodyMeasures = new WeakMap<ContentPart, Measure>()

const bodyMeasure = (part: BodyPart): Measure => {
  let m = bodyMeasures.get(part)
  if (m === undefined) {
    m = measure(bodyOf(part))
    bodyMeasures.set(part, m)
  }
  return m
}

const SPACE = measure(" ")

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
    case "tool_result":
      return tokensOf(bodyMeasure(part))
    case "tool_call": {
      const call = add(add(add(measure(part.id), SPACE), add(measure(part.name), SPACE)), bodyMeasure(part))
      return tokensOf(
        part.thoughtSignature === undefined ? call : add(add(call, SPACE), measure(part.thoughtSignature))
      )
    }
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
 * Walks the lines of one message as {@link render} writes them: `line(prefix,
 * body)` per line, whose text is `prefix` followed by the large string of
 * `body` when given (see {@link bodyOf}).
 */
const renderInto = (message: Message, index: number, line: (prefix: string, body?: BodyPart) => void): void => {
  line(`[${index} ${ROLE_LABEL[message.role]}]`)
  for (const part of message.content) {
    switch (part.type) {
      case "text":
        line("", part)
        break
      case "thinking":
        if (part.text.trim().length > 0) {
          line("[Thinking]")
          line("", part)
        }
        break
      case "tool_call":
        line(`[ToolCall id=${part.id} name=${part.name}]`)
        line("args: ", part)
        break
      case "tool_result":
        line(`[ToolResult id=${part.toolCallId}]`)
        line("", part)
        break
      case "image":
        line(`[Image mime_type=${part.mimeType ?? "unknown"} url_len=${part.url.length}]`)
        break
      case "file":
        line(`[File path=${part.path} mime_type=${part.mimeType ?? "unknown"}]`)
        break
    }
  }
  line("")
  line("---")
  line("")
}

/**
 * The lines of one message as {@link render} writes them (without the
 * newlines between them): `[<index> <Role>]`, its parts, then `""`, `---`,
 * `""`.
 *
 * @since 0.1.0
 * @category compression
 */
export const renderLines = (message: Message, index: number): Array<string> => {
  const out: Array<string> = []
  renderInto(message, index, (prefix, body) => out.push(body === undefined ? prefix : prefix + bodyOf(body)))
  return out
}

/**
 * The text of messages as 4.5.7 renders them for summarisation: a
 * `[<index> <Role>]` line per message, then its parts (thinking under
 * `[Thinking]`, tool calls as `[ToolCall id=… name=…]` + `args: …`, results as
 * `[ToolResult id=…]` + content, images and files as one line), then a blank
 * line, `---` and a blank line. Builds one string: for a transcript of any
 * size use {@link compressMessages}, which never does.
 *
 * @since 0.1.0
 * @category compression
 */
export const render = (messages: ReadonlyArray<Message>, firstIndex = 0): string =>
  messages.flatMap((message, i) => renderLines(message, firstIndex + i)).join("\n")

/**
 * A text held as pieces: the text is their concatenation. Measured and read
 * forwards and backwards without ever joining the pieces, so a text larger
 * than a JavaScript string can hold (about 512 MiB) can still be cut.
 */
interface Pieces {
  readonly measure: () => Measure
  readonly forward: () => Iterable<string>
  readonly backward: () => Iterable<string>
}

/**
 * The pieces of the rendered text of `messages`: each line, and a `"\n"`
 * piece between lines. Lines are made per message when needed; the measure
 * reuses the cached measures of the parts' large strings.
 */
const renderedPieces = (messages: ReadonlyArray<Message>, firstIndex: number): Pieces => ({
  measure: () => {
    let total = EMPTY
    let lines = 0
    const line = (prefix: string, body?: BodyPart) => {
      lines++
      total = add(total, measure(prefix))
      if (body !== undefined) total = add(total, bodyMeasure(body))
    }
    for (let i = 0; i < messages.length; i++) renderInto(messages[i]!, firstIndex + i, line)
    // the newlines between lines
    const newlines = Math.max(0, lines - 1)
    return { bytes: total.bytes + newlines, whitespace: total.whitespace + newlines, codePoints: total.codePoints + newlines }
  },
  forward: function*() {
    let first = true
    for (let i = 0; i < messages.length; i++) {
      for (const line of renderLines(messages[i]!, firstIndex + i)) {
        if (!first) yield "\n"
        first = false
        yield line
      }
    }
  },
  backward: function*() {
    let last = true
    for (let i = messages.length - 1; i >= 0; i--) {
      const lines = renderLines(messages[i]!, firstIndex + i)
      for (let j = lines.length - 1; j >= 0; j--) {
        if (!last) yield "\n"
        last = false
        yield lines[j]!
      }
    }
  }
})

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff

/**
 * The first `count` code points of `text` (all of it when shorter): their
 * UTF-16 length and how many code points that is.
 */
const prefix = (text: string, count: number): { readonly units: number; readonly codePoints: number } => {
  let i = 0
  let n = 0
  for (; n < count && i < text.length; n++) {
    i += isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1)) ? 2 : 1
  }
  return { units: i, codePoints: n }
}

/**
 * The last `count` code points of `text` (all of it when shorter): the UTF-16
 * index where they start and how many code points that is.
 */
const suffix = (text: string, count: number): { readonly start: number; readonly codePoints: number } => {
  let i = text.length
  let n = 0
  for (; n < count && i > 0; n++) {
    i -= isLow(text.charCodeAt(i - 1)) && i >= 2 && isHigh(text.charCodeAt(i - 2)) ? 2 : 1
  }
  return { start: i, codePoints: n }
}

/** The first `count` code points of the pieces' text. */
const headOf = (pieces: Pieces, count: number): string => {
  const out: Array<string> = []
  let left = count
  for (const piece of pieces.forward()) {
    if (left === 0) break
    const { codePoints, units } = prefix(piece, left)
    out.push(units === piece.length ? piece : piece.slice(0, units))
    left -= codePoints
  }
  return out.join("")
}

/** The last `count` code points of the pieces' text. */
const tailOf = (pieces: Pieces, count: number): string => {
  const out: Array<string> = []
  let left = count
  for (const piece of pieces.backward()) {
    if (left === 0) break
    const { codePoints, start } = suffix(piece, left)
    out.push(start === 0 ? piece : piece.slice(start))
    left -= codePoints
  }
  return out.reverse().join("")
}

/**
 * {@link compressText} over a text held as pieces: two passes (measure, then
 * take the head and the tail), memory bounded by the result.
 */
const compressPieces = (pieces: Pieces, targetTokens: number): string => {
  const m = pieces.measure()
  const tokens = tokensOf(m)
  if (tokens <= targetTokens) return headOf(pieces, m.codePoints)
  // estimate the characters that fit from the text's own density
  const perToken = m.codePoints / Math.max(1, tokens)
  const room = Math.max(0, Math.floor(targetTokens * perToken) - 80)
  const head = Math.floor(room / 4)
  const tail = room - head
  const omitted = m.codePoints - head - tail
  return `${headOf(pieces, head)}\n\n[... ${omitted} characters of older conversation omitted ...]\n\n${
    tailOf(pieces, tail)
  }`
}

/**
 * Deterministic compression of `text` to about `targetTokens` tokens: the text
 * whole when it fits, else its beginning (a quarter of the room) and its end
 * (the rest: recent context matters most), with a line saying how much was
 * left out (in code points). Cuts at code-point boundaries. Allocates nothing
 * but the result.
 *
 * @since 0.1.0
 * @category compression
 */
export const compressText = (text: string, targetTokens: number): string =>
  compressPieces({ measure: () => measure(text), forward: () => [text], backward: () => [text] }, targetTokens)

/**
 * The deterministic summary of `messages`: {@link compressText} of their
 * {@link render}ed text (message numbers from `firstIndex`), computed message
 * by message without building the rendered text, so a transcript of any size
 * (a 1 GiB session) is summarised in memory bounded by the summary: at most
 * about `targetTokens` tokens (4 characters a token at most) plus one line.
 *
 * @since 0.1.0
 * @category compression
 */
export const compressMessages = (messages: ReadonlyArray<Message>, targetTokens: number, firstIndex = 0): string =>
  compressPieces(renderedPieces(messages, firstIndex), targetTokens)

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
 * `keepLast` (see {@link tailStart}) with one `assistant` message holding
 * `summarize(older)`, the summary of the older messages (e.g.
 * {@link compressMessages}; they are given as messages, not rendered, so a
 * summariser can stay within bounded memory); `undefined` when there is
 * nothing before the tail.
 *
 * @since 0.1.0
 * @category compression
 */
export const compressKeepLast = (
  messages: ReadonlyArray<Message>,
  keepLast: number,
  summarize: (older: ReadonlyArray<Message>) => string
): ReadonlyArray<Message> | undefined => {
  const start = tailStart(messages, keepLast)
  if (start === 0) return undefined
  const summary = summarize(messages.slice(0, start))
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
