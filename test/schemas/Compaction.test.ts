import { describe, expect, it } from "@effect/vitest"
import * as Compaction from "../../schemas/Compaction.ts"
import * as Message from "../../schemas/Message.ts"

describe("Compaction", () => {
  it("estimates tokens from UTF-8 bytes and the share of whitespace (4.5.7 §9.1)", () => {
    expect(Compaction.estimateTokens("")).toBe(0)
    expect(Compaction.estimateTokens("abcdefghij")).toBe(4) // 10 bytes, no whitespace: /2.8
    expect(Compaction.estimateTokens("aaaaaaaaaaaaaaaaaaa b")).toBe(8) // 21 bytes, 4.8% whitespace: 21 / 2.8 = 7.5, rounded up
    expect(Compaction.estimateTokens("aaaaaaaaaaaaa b")).toBe(5) // 15 bytes, 6.7%: /3.2
    expect(Compaction.estimateTokens("aaaaaaa b")).toBe(3) // 9 bytes, 11%: /3.6
    expect(Compaction.estimateTokens("a b c d e")).toBe(3) // 9 bytes, 44%: /4
    expect(Compaction.estimateTokens("日本語")).toBe(4) // 9 bytes: /2.8
    expect(Compaction.estimateTokens("é🚀")).toBe(3) // 2 + 4 bytes: /2.8
    // the byte count agrees with a real UTF-8 encoding on mixed text
    const mixed = "naïve café 日本語 🚀 text\twith\nwhitespace ".repeat(50)
    const encoded = new TextEncoder().encode(mixed)
    const ws = encoded.filter((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c).length
    const per = ws / encoded.length < 0.05 ? 2.8 : ws / encoded.length < 0.1 ? 3.2 : ws / encoded.length < 0.2 ? 3.6 : 4
    expect(Compaction.estimateTokens(mixed)).toBe(Math.ceil(encoded.length / per))
  })

  it("counts parts as 4.5.7 does: images 2000, tool calls by id, name, arguments and signature", () => {
    expect(Compaction.estimatePart({ type: "image", url: "data:...", mimeType: null })).toBe(2000)
    expect(Compaction.estimatePart({ type: "tool_call", id: "c1", name: "read", arguments: "{}" })).toBe(
      Compaction.estimateTokens("c1 read {}")
    )
    expect(Compaction.estimatePart({ type: "tool_call", id: "c1", name: "read", arguments: "{}", thoughtSignature: "sig" }))
      .toBe(Compaction.estimateTokens("c1 read {} sig"))
    expect(Compaction.estimatePart({ type: "file", path: "a.rs", mimeType: "text/x-rust" })).toBe(
      Compaction.estimateTokens("a.rs text/x-rust")
    )
    const messages = [Message.text("user", "hello world"), Message.toolResult("c1", "output here")]
    expect(Compaction.estimateMessages(messages)).toBe(
      Compaction.estimateTokens("hello world") + Compaction.estimateTokens("output here")
    )
  })

  it("knows the context windows of 4.5.7's table and the safety budget", () => {
    expect(Compaction.contextWindow("claude-opus-4-7")).toBe(1_000_000)
    expect(Compaction.contextWindow("anthropic/claude-sonnet-4-20250514")).toBe(200_000)
    expect(Compaction.contextWindow("GPT-4o")).toBe(128_000)
    expect(Compaction.contextWindow("gpt-5-mini")).toBe(256_000)
    expect(Compaction.contextWindow("gemini-2.5-pro")).toBe(2_000_000)
    expect(Compaction.contextWindow("gemini-2.5-flash")).toBe(1_000_000)
    expect(Compaction.contextWindow("mistral-small")).toBe(32_000)
    expect(Compaction.contextWindow("mistral-large-latest")).toBe(128_000)
    expect(Compaction.contextWindow("unknown-model")).toBe(128_000)
    expect(Compaction.safetyBudget(32_000, 8192)).toBe(19_584)
    expect(Compaction.safetyBudget(1000, 8192)).toBe(0)
  })

  it("renders messages for summarisation in 4.5.7's format", () => {
    const rendered = Compaction.render([
      { role: "user", content: [{ type: "text", text: "read it" }, { type: "image", url: "data:x", mimeType: null }] },
      { role: "assistant", content: [{ type: "thinking", text: "plan" }, { type: "tool_call", id: "c1", name: "read", arguments: "{\"path\":\"a\"}" }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "c1", content: "data" }] }
    ])
    expect(rendered).toBe(
      "[0 User]\nread it\n[Image mime_type=unknown url_len=6]\n\n---\n\n" +
        "[1 Assistant]\n[Thinking]\nplan\n[ToolCall id=c1 name=read]\nargs: {\"path\":\"a\"}\n\n---\n\n" +
        "[2 Tool]\n[ToolResult id=c1]\ndata\n\n---\n"
    )
  })

  it("compresses text to about a token budget, keeping its beginning and more of its end", () => {
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i} of the old conversation`).join("\n")
    const compressed = Compaction.compressText(text, 500)
    expect(Compaction.estimateTokens(compressed)).toBeLessThanOrEqual(500)
    expect(compressed.startsWith("line 0 of")).toBe(true)
    expect(compressed.endsWith("line 1999 of the old conversation")).toBe(true)
    expect(compressed).toMatch(/\[\.\.\. \d+ characters of older conversation omitted \.\.\.\]/)
    expect(Compaction.compressText("short", 500)).toBe("short")
  })

  // The algorithm before bounded memory: one array of every character (kept
  // here as the reference the bounded version must match).
  const referenceCompressText = (text: string, targetTokens: number): string => {
    const tokens = Compaction.estimateTokens(text)
    if (tokens <= targetTokens) return text
    const chars = Array.from(text)
    const perToken = chars.length / Math.max(1, tokens)
    const room = Math.max(0, Math.floor(targetTokens * perToken) - 80)
    const head = Math.floor(room / 4)
    const tail = room - head
    const omitted = chars.length - head - tail
    return `${chars.slice(0, head).join("")}\n\n[... ${omitted} characters of older conversation omitted ...]\n\n${
      chars.slice(chars.length - tail).join("")
    }`
  }

  const mixed: ReadonlyArray<Message.Message> = [
    Message.text("system", "be brief"),
    { role: "user", content: [{ type: "text", text: "café 日本語 🚀🚀 naïve ".repeat(40) }, { type: "image", url: "data:x", mimeType: null }] },
    {
      role: "assistant",
      content: [
        { type: "thinking", text: "   " },
        { type: "thinking", text: "plan 🚀 the \ud800 lone surrogate".repeat(20) },
        { type: "tool_call", id: "c1", name: "read", arguments: "{\"path\":\"a 🚀\"}".repeat(30), thoughtSignature: "sig" }
      ]
    },
    { role: "tool", content: [{ type: "tool_result", toolCallId: "c1", content: "line\twith\ttabs\r\n🚀\udc00x".repeat(50) }] },
    { role: "user", content: [{ type: "file", path: "src/a.ts", mimeType: "text/plain" }, { type: "text", text: "" }] },
    Message.text("assistant", "done 🚀")
  ]

  it("compresses a transcript message by message exactly as the rendered text, at every size", () => {
    for (const target of [0, 1, 10, 57, 100, 333, 1000, 5000, 100_000]) {
      const rendered = Compaction.render(mixed)
      expect(Compaction.compressMessages(mixed, target)).toBe(Compaction.compressText(rendered, target))
      expect(Compaction.compressText(rendered, target)).toBe(referenceCompressText(rendered, target))
      expect(Compaction.compressMessages(mixed.slice(2), target, 2)).toBe(
        Compaction.compressText(Compaction.render(mixed.slice(2), 2), target)
      )
    }
  })

  it("cuts at code points (surrogate pairs and lone surrogates) as the one-array version did; estimates from UTF-8", () => {
    const alphabet = ["a", " ", "\n", "é", "日", "🚀", "\ud800", "\udc00", "\t"]
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    for (let round = 0; round < 200; round++) {
      const length = Math.floor(random() * 400)
      let text = ""
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)]
      const target = Math.floor(random() * 120)
      expect(Compaction.compressText(text, target)).toBe(referenceCompressText(text, target))
      // 4.5.7's estimate from the UTF-8 encoding (a lone surrogate is written as U+FFFD)
      const bytes = new TextEncoder().encode(text)
      const whitespace = bytes.filter((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c).length
      const ratio = whitespace / bytes.length
      const perToken = ratio < 0.05 ? 2.8 : ratio < 0.1 ? 3.2 : ratio < 0.2 ? 3.6 : 4.0
      expect(Compaction.estimateTokens(text)).toBe(bytes.length === 0 ? 0 : Math.ceil(bytes.length / perToken))
    }
  })

  it("summarises a transcript larger than a JavaScript string can hold, keeping its first and last lines", () => {
    const body: Message.ContentPart = { type: "text", text: "x ".repeat(1 << 19) } // 1 MiB characters
    const messages: Array<Message.Message> = Array.from({ length: 600 }, (_, i) => ({
      role: i % 2 === 0 ? "user" as const : "assistant" as const,
      content: [body]
    }))
    // 600 MiB of rendered text: more than V8's maximum string length
    expect(() => Compaction.render(messages)).toThrow(RangeError)
    const summary = Compaction.compressMessages(messages, 32_000)
    expect(Compaction.estimateTokens(summary)).toBeLessThanOrEqual(32_000)
    expect(summary.startsWith("[0 User]\nx x x")).toBe(true)
    expect(summary.endsWith("x x \n\n---\n")).toBe(true)
    let lines = 0
    let characters = 0
    messages.forEach((m, i) => {
      for (const line of Compaction.renderLines(m, i)) {
        lines++
        characters += line.length
      }
    })
    const total = characters + lines - 1
    const omitted = Number(/\[\.\.\. (\d+) characters of older conversation omitted \.\.\.\]/.exec(summary)?.[1])
    const kept = summary.length - `\n\n[... ${omitted} characters of older conversation omitted ...]\n\n`.length
    expect(omitted + kept).toBe(total)
    expect(omitted).toBeGreaterThan(600 * (1 << 20) - 200_000)
  })

  it("never cuts between a tool call and its results (4.5.7 left orphan results)", () => {
    const messages = [
      Message.text("user", "u"),
      { role: "assistant" as const, content: [{ type: "tool_call" as const, id: "a", name: "x", arguments: "{}" }, { type: "tool_call" as const, id: "b", name: "x", arguments: "{}" }] },
      Message.toolResult("a", "1"),
      Message.toolResult("b", "2"),
      Message.text("assistant", "done")
    ]
    expect(Compaction.tailStart(messages, 2)).toBe(1)
    const compressed = Compaction.compressKeepLast(messages, 2, () => "summary")!
    expect(compressed.map((m) => m.role)).toEqual(["assistant", "assistant", "tool", "tool", "assistant"])
    expect(Message.textOf(compressed[0]!)).toBe(
      "[AUTO CONTEXT COMPRESSION]\nOlder conversation and tool output were compressed to fit the context window.\n\nsummary"
    )
    expect(Compaction.compressKeepLast(messages, 10, () => "s")).toBeUndefined()
    const truncated = Compaction.truncateKeepLast([...messages, Message.text("user", "more")], 2)!
    expect(Message.textOf(truncated[0]!).split("\n")[0]).toBe("[CONTEXT TRUNCATED]")
    expect(truncated.slice(1)).toEqual([Message.text("assistant", "done"), Message.text("user", "more")])
  })

  it("recognises 'prompt too long' errors as 4.5.7 does", () => {
    expect(Compaction.isPromptTooLong("anthropic: 400 prompt is too long: 210000 tokens > 200000 maximum")).toBe(true)
    expect(Compaction.isPromptTooLong("openai: 400 This model's maximum context length is 128000 tokens")).toBe(true)
    expect(Compaction.isPromptTooLong("Tokens in the prompt exceed the MAXIMUM")).toBe(true)
    expect(Compaction.isPromptTooLong("openai: 401 Incorrect API key provided")).toBe(false)
  })
})
