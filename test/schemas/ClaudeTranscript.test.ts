/**
 * The pure side of the Claude Code import: the real transcript written by
 * Claude Code 2.1.330 as it is, and hand-made edge cases: an edited message
 * (a branch), a truncated last line, sidechains, one API message written as
 * several records, a compaction boundary, images, titles, unknown records.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import { Schema } from "effect"
import * as ClaudeTranscript from "../../schemas/ClaudeTranscript.ts"
import type { Message } from "../../schemas/Message.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"
import * as T from "../utils/ClaudeTranscripts.ts"

const NOW = Timestamp.fromString("2026-12-01T00:00:00Z")!
const UUID = "0f1e2d3c-4b5a-4968-8776-655443322110"
const options = (id = "s"): ClaudeTranscript.BuildOptions => ({ id, provenanceUuid: UUID, now: NOW })

const map = (lines: ReadonlyArray<string>) => {
  const { malformed, session } = ClaudeTranscript.fromLines(lines, options())
  assert(session !== undefined)
  return { session, malformed }
}

const texts = (messages: ReadonlyArray<Message>) =>
  messages.map((m) => `${m.role}: ${m.content.map((p) => (p.type === "text" ? p.text : p.type)).join(" | ")}`)

describe("ClaudeTranscript: the real sample (Claude Code 2.1.330)", () => {
  const lines = NodeFs.readFileSync(T.SAMPLE, "utf8").split("\n")

  it("maps the conversation, skipping queue operations, attachments and the other record kinds", () => {
    const { malformed, session } = ClaudeTranscript.fromLines(lines, options(T.SAMPLE_ID))
    expect(malformed).toEqual([])
    assert(session !== undefined)
    expect(session.messages).toEqual([
      {
        role: "user",
        content: [{ type: "text", text: "List the files in the current directory with your shell tool, then tell me how many there are." }]
      },
      {
        role: "assistant",
        content: [{
          type: "tool_call",
          id: "toolu_4c76f742575c21a138279d0c",
          name: "Bash",
          arguments: "{\"command\":\"ls -1\",\"description\":\"List files in the working directory\"}"
        }]
      },
      {
        role: "tool",
        content: [{ type: "tool_result", toolCallId: "toolu_4c76f742575c21a138279d0c", content: "README.md\ndata.csv\nindex.js\nmain.py\npackage.json" }]
      },
      { role: "assistant", content: [{ type: "text", text: "DONE: 5 files" }] }
    ])
    expect(session.id).toBe(T.SAMPLE_ID)
    expect(session.title).toBe("List the files in the current directory with your shell t...")
    expect(session.createdAt).toBe("2026-11-22T03:12:20.445Z")
    expect(session.updatedAt).toBe("2026-11-22T03:12:20.807Z")
    expect(session.metadata.directory).toBe("/home/dev/demo")
    expect(session.metadata.model).toBe("anthropic/claude-opus-5-5")
    expect(session.agent).toBe("build")
    expect(session.toolUses).toEqual([])
    expect(session.usage).toEqual({ promptTokens: 24745, completionTokens: 22, totalTokens: 24767, cacheReadTokens: 0, cacheWriteTokens: 0 })
    expect(session.metadata.provenance?.provenanceId).toBe("ctprov_0f1e2d3c4b5a49688776655443322110")
    // a valid codetether session: it encodes and decodes unchanged
    const decoded = SessionJson.decode(SessionJson.encode(session))
    assert(decoded._tag === "Success")
    expect(decoded.success).toEqual(session)
  })

  it("the summary matches the session", () => {
    const scanner = ClaudeTranscript.makeScanner()
    lines.forEach((line, i) => {
      const decoded = ClaudeTranscript.decodeLine(line)
      if (decoded._tag === "Record") scanner.add(decoded.record, i + 1)
    })
    const scan = scanner.finish()
    assert(scan !== undefined)
    expect(scan.inFileOrder).toBe(true)
    expect(ClaudeTranscript.summarize(scan, T.SAMPLE_ID)).toEqual({
      id: T.SAMPLE_ID,
      title: "List the files in the current directory with your shell t...",
      createdAt: "2026-11-22T03:12:20.445Z",
      updatedAt: "2026-11-22T03:12:20.807Z",
      messageCount: 4,
      agent: "build",
      directory: "/home/dev/demo"
    })
  })
})

describe("ClaudeTranscript: edge cases", () => {
  it("an edited message: the newest branch is imported, the abandoned one is not", () => {
    const { session } = map([
      T.user("u1", null, 1, "first question"),
      T.assistant("a1", "u1", 2, "m1", [T.text("first answer")]),
      T.user("u2", "a1", 3, "a question with a typo"),
      T.assistant("a2", "u2", 4, "m2", [T.text("answer to the typo")]),
      T.user("u2b", "a1", 10, "the question, edited"), // same parent as u2: a branch
      T.attachment("x1", "u2b", 10),
      T.assistant("a2b", "x1", 11, "m3", [T.text("answer to the edit")]),
      T.system("sys", "a2b", 12, { subtype: "turn_duration" })
    ])
    expect(texts(session.messages)).toEqual([
      "user: first question",
      "assistant: first answer",
      "user: the question, edited",
      "assistant: answer to the edit"
    ])
    // usage counts every API message of the main agent, abandoned branch included
    expect(session.usage.completionTokens).toBe(60) // m1, m2 (abandoned) and m3
    expect(session.updatedAt).toBe(Timestamp.fromString(T.at(12)))
  })

  it("a truncated last line is reported and skipped; the conversation up to it is imported", () => {
    const complete = T.conversation("/home/dev/project")
    const cut = T.assistant("a3", "a2", 9, "m9", [T.text("this answer was being written when")]).slice(0, 80)
    const { malformed, session } = map([...complete, cut])
    expect(malformed).toHaveLength(1)
    expect(malformed[0]!.line).toBe(6)
    expect(malformed[0]!.reason).toMatch(/^not JSON/)
    expect(texts(session.messages)).toEqual([
      "user: How many files are there?",
      "assistant: tool_call",
      "tool: tool_result",
      "assistant: There are 2 files."
    ])
  })

  it("sidechain records (sub-agents) are skipped, usage included", () => {
    const { session } = map([
      T.user("u1", null, 1, "delegate this"),
      T.assistant("a1", "u1", 2, "m1", [T.toolUse("toolu_task", "Task", { prompt: "look around" })]),
      T.user("s1", null, 3, "look around", { isSidechain: true }),
      T.assistant("s2", "s1", 4, "ms", [T.text("sub-agent work")], { isSidechain: true, usage: { input_tokens: 1000, output_tokens: 1000 } }),
      T.user("u2", "a1", 5, [T.toolResult("toolu_task", [T.text("found it")])]),
      T.assistant("a2", "u2", 6, "m2", [T.text("done")])
    ])
    expect(texts(session.messages)).toEqual(["user: delegate this", "assistant: tool_call", "tool: tool_result", "assistant: done"])
    expect(session.messages[2]!.content).toEqual([{ type: "tool_result", toolCallId: "toolu_task", content: "found it" }])
    expect(session.usage.completionTokens).toBe(40)
  })

  it("one API message written as several records becomes one assistant message, its usage counted once", () => {
    const usage = { input_tokens: 7, cache_creation_input_tokens: 3, cache_read_input_tokens: 1000, output_tokens: 50 }
    const { session } = map([
      T.user("u1", null, 1, "read two files"),
      T.assistant("a1", "u1", 2, "m1", [T.thinking("two reads")], { usage }),
      T.assistant("a2", "a1", 2, "m1", [T.text("Reading both.")], { usage }),
      T.assistant("a3", "a2", 2, "m1", [T.toolUse("t1", "Read", { file_path: "/a" })], { usage }),
      T.assistant("a4", "a3", 2, "m1", [T.toolUse("t2", "Read", { file_path: "/b" })], { usage }),
      T.user("u2", "a4", 3, [T.toolResult("t1", "A"), T.toolResult("t2", "B")]),
      T.assistant("a5", "u2", 4, "m2", [T.text("A and B")], { usage: { input_tokens: 1, output_tokens: 2 } })
    ])
    expect(session.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool", "assistant"])
    expect(session.messages[1]!.content).toEqual([
      { type: "thinking", text: "two reads" },
      { type: "text", text: "Reading both." },
      { type: "tool_call", id: "t1", name: "Read", arguments: "{\"file_path\":\"/a\"}" },
      { type: "tool_call", id: "t2", name: "Read", arguments: "{\"file_path\":\"/b\"}" }
    ])
    expect(session.usage).toEqual({ promptTokens: 1011, completionTokens: 52, totalTokens: 1063, cacheReadTokens: 1000, cacheWriteTokens: 3 })
  })

  it("a compaction boundary is crossed through logicalParentUuid: the whole history is imported", () => {
    const { session } = map([
      T.user("u1", null, 1, "early question"),
      T.assistant("a1", "u1", 2, "m1", [T.text("early answer")]),
      T.system("b1", null, 3, { subtype: "compact_boundary", logicalParentUuid: "a1" }),
      T.user("c1", "b1", 3, "This session is being continued from a previous conversation. Summary: ...", {
        extra: { isCompactSummary: true }
      }),
      T.user("u2", "c1", 4, "late question"),
      T.assistant("a2", "u2", 5, "m2", [T.text("late answer")])
    ])
    expect(texts(session.messages)).toEqual([
      "user: early question",
      "assistant: early answer",
      "user: This session is being continued from a previous conversation. Summary: ...",
      "user: late question",
      "assistant: late answer"
    ])
    expect(session.title).toBe("early question")
  })

  it("images: user images become image parts, images returned by a tool follow its results", () => {
    const { session } = map([
      T.user("u1", null, 1, [T.text("what is in this picture?"), T.image("iVBORw0KGgo=")]),
      T.assistant("a1", "u1", 2, "m1", [T.toolUse("t1", "Read", { file_path: "/p.jpg" })]),
      T.user("u2", "a1", 3, [T.toolResult("t1", [T.text("an image:"), T.image("/9j/4AAQ", "image/jpeg")])]),
      T.assistant("a2", "u2", 4, "m2", [T.text("a cat")])
    ])
    expect(session.messages[0]!.content).toEqual([
      { type: "text", text: "what is in this picture?" },
      { type: "image", url: "data:image/png;base64,iVBORw0KGgo=", mimeType: "image/png" }
    ])
    expect(session.messages[2]).toEqual({ role: "tool", content: [{ type: "tool_result", toolCallId: "t1", content: "an image:" }] })
    expect(session.messages[3]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "(images returned by the tool)" },
        { type: "image", url: "data:image/jpeg;base64,/9j/4AAQ", mimeType: "image/jpeg" }
      ]
    })
  })

  it("titles: custom-title, then a summary of the chain's leaf, then the first real user text", () => {
    const base = [
      T.user("m0", null, 0, "<command-name>/model</command-name>", { extra: { isMeta: true } }),
      T.user("u0", "m0", 0, "<local-command-stdout>Set model</local-command-stdout>"),
      T.user("u1", "u0", 1, "Fix the flaky login test\nmore details"),
      T.assistant("a1", "u1", 2, "m1", [T.text("ok")])
    ]
    expect(map(base).session.title).toBe("Fix the flaky login test")
    const summary = JSON.stringify({ type: "summary", summary: "Login test fix", leafUuid: "a1" })
    const otherSummary = JSON.stringify({ type: "summary", summary: "Unrelated", leafUuid: "zz" })
    expect(map([otherSummary, summary, ...base]).session.title).toBe("Login test fix")
    const custom = JSON.stringify({ type: "custom-title", customTitle: "My name for it", sessionId: "s" })
    expect(map([summary, ...base, custom]).session.title).toBe("My name for it")
  })

  it("unknown record kinds and blocks are skipped; API error messages are not imported; malformed shapes are reported", () => {
    const { malformed, session } = map([
      JSON.stringify({ type: "file-history-snapshot", messageId: "x", snapshot: {} }),
      JSON.stringify({ type: "some-future-kind", uuid: "f1", parentUuid: null, timestamp: T.at(0) }),
      T.user("u1", "f1", 1, [T.text("hello"), { type: "document", source: {} }]),
      T.assistant("e1", "u1", 2, "err", [T.text("API Error: 529 overloaded")], { model: "<synthetic>", extra: { isApiErrorMessage: true } }),
      T.assistant("a1", "e1", 3, "m1", [T.text("hi"), { type: "server_tool_use", id: "s", name: "web_search", input: {} }]),
      JSON.stringify({ type: "user", uuid: 42 }),
      "[1,2,3]"
    ])
    expect(texts(session.messages)).toEqual(["user: hello", "assistant: hi"])
    expect(session.metadata.model).toBe("anthropic/claude-opus-5-5")
    expect(malformed.map((m) => m.line)).toEqual([6, 7])
  })

  it("a chain out of file order is still imported in chain order", () => {
    const { session } = map([
      T.assistant("a1", "u1", 2, "m1", [T.text("answer")]),
      T.user("u1", null, 1, "question")
    ])
    expect(texts(session.messages)).toEqual(["user: question", "assistant: answer"])
  })

  it("a file without a conversation of the main agent is not a transcript", () => {
    expect(ClaudeTranscript.fromLines([T.queueOperation(1), T.user("s1", null, 2, "x", { isSidechain: true })], options()).session)
      .toBeUndefined()
    expect(ClaudeTranscript.fromLines([], options()).session).toBeUndefined()
  })

  it("project folder names: every character but ASCII letters and digits becomes -", () => {
    expect(ClaudeTranscript.projectFolderName("/home/dev/demo")).toBe("-home-dev-demo")
    expect(ClaudeTranscript.projectFolderName("/home/dev/my.app_v2")).toBe("-home-dev-my-app-v2")
  })

  it("the fast guards agree with the schemas on the sample's records and on broken variants", () => {
    const values = NodeFs.readFileSync(T.SAMPLE, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l))
    const broken = [
      null,
      [],
      "text",
      { type: 1 },
      { type: "user", uuid: 5 },
      { type: "user", isSidechain: "no" },
      { type: "user", parentUuid: null, timestamp: null },
      { type: "assistant", cwd: ["/x"] }
    ]
    const recordIs = Schema.is(ClaudeTranscript.TranscriptRecord)
    for (const value of [...values, ...broken]) expect(ClaudeTranscript.isTranscriptRecord(value)).toBe(recordIs(value))
    const messageIs = Schema.is(ClaudeTranscript.ApiMessage)
    const messages = [
      ...values.map((v) => v.message),
      { content: 3 },
      { id: 1, content: "x" },
      { content: [], model: null },
      { content: "x", usage: { input_tokens: 1 } }
    ]
    for (const value of messages) expect(ClaudeTranscript.isApiMessage(value)).toBe(messageIs(value))
  })
})
