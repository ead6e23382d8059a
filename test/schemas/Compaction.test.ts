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
