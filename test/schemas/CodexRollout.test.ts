/**
 * The pure side of the Codex import: line decoding, the mapping to a
 * session (BEHAVIOUR §10.4), titles, index titles and the listing merge.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Result, Schema } from "effect"
import * as CodexRollout from "../../schemas/CodexRollout.ts"
import type { Message } from "../../schemas/Message.ts"
import { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import type { SessionSummary } from "../../schemas/SessionSummary.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"

const fixtures = NodePath.join(import.meta.dirname, "../fixtures/codex")
const home = NodePath.join(fixtures, "home")
const SAMPLE_ID = "01a2013b-c1ee-7120-b0ee-fab476a007fd"
const SAMPLE = NodePath.join(fixtures, `rollout-2026-11-22T03-10-23-${SAMPLE_ID}.jsonl`)
const RICH_ID = "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"
const RICH = NodePath.join(home, `sessions/2026/01/05/rollout-2026-01-05T09-00-00-${RICH_ID}.jsonl`)
const LEGACY_ID = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
const LEGACY = NodePath.join(home, `sessions/2025/04/18/rollout-2025-04-18T10-00-00-${LEGACY_ID}.jsonl`)
const EMOJI = NodePath.join(home, "sessions/2026/01/06/rollout-2026-01-06T08-00-00-0199a1b3-1111-7222-8333-444455556666.jsonl")

const ts = (text: string) => Timestamp.fromString(text)!
const NOW = ts("2026-12-01T00:00:00Z")
const UUID = "0f1e2d3c-4b5a-4968-8776-655443322110"
const options: CodexRollout.BuildOptions = { provenanceUuid: UUID, now: NOW }

const linesOf = (path: string) => NodeFs.readFileSync(path, "utf8").split("\n")

const importLines = (path: string, extra: Partial<CodexRollout.BuildOptions> = {}) => {
  const result = CodexRollout.fromLines(linesOf(path), { ...options, ...extra })
  if (Result.isFailure(result)) throw new Error(`${path}: ${result.failure}`)
  return result.success
}

const text = (role: Message["role"], value: string): Message => ({ role, content: [{ type: "text", text: value }] })

describe("CodexRollout.decodeLine", () => {
  const legacyTs = ts("2025-01-01T00:00:00Z")

  it("classifies envelopes, legacy records and junk as 4.5.7 normalises them", () => {
    const decode = (value: unknown) => CodexRollout.decodeLine(JSON.stringify(value), legacyTs)
    const meta = decode({
      timestamp: "2026-01-01T00:00:01+01:00",
      type: "session_meta",
      payload: { id: "abc", timestamp: "2026-01-01T00:00:00Z", cwd: "/w", unknown_key: [1] },
      ordinal: 0
    })
    expect(meta).toEqual({
      _tag: "Record",
      record: {
        kind: "session_meta",
        timestamp: "2025-12-31T23:00:01Z",
        meta: { id: "abc", createdAt: "2026-01-01T00:00:00Z", cwd: "/w" }
      }
    })
    expect(decode({ id: "legacy", timestamp: "2025-04-18T10:00:00.5Z", instructions: null })).toEqual({
      _tag: "Record",
      record: {
        kind: "session_meta",
        timestamp: "2025-04-18T10:00:00.500Z",
        meta: { id: "legacy", createdAt: "2025-04-18T10:00:00.500Z", cwd: "" }
      }
    })
    // legacy items are stamped with the given (meta) time
    const item = decode({ type: "message", role: "user", content: [] })
    assert(item._tag === "Record" && item.record.kind === "response_item")
    expect(item.record.timestamp).toBe(legacyTs)
    // skipped silently: blank, record_type, unknown bare types, non-objects, legacy meta with a bad time
    for (const line of ["", "   ", "[1,2]", "42", "\"text\"", "null"]) {
      expect(CodexRollout.decodeLine(line, legacyTs)).toEqual({ _tag: "Skipped" })
    }
    expect(decode({ record_type: "state" })).toEqual({ _tag: "Skipped" })
    expect(decode({ type: "local_shell_call", call_id: "x" })).toEqual({ _tag: "Skipped" })
    expect(decode({ id: "legacy", timestamp: "yesterday" })).toEqual({ _tag: "Skipped" })
    // unknown kinds and unknown payload types are records the mapping ignores (their time still counts)
    expect(decode({ timestamp: "2026-01-01T00:00:00Z", type: "world_state", payload: { full: true } })).toEqual({
      _tag: "Record",
      record: { kind: "other", timestamp: "2026-01-01T00:00:00Z", type: "world_state" }
    })
    const custom = decode({ timestamp: "2026-01-01T00:00:00Z", type: "response_item", payload: { type: "custom_tool_call" } })
    assert(custom._tag === "Record" && custom.record.kind === "response_item")
    expect(custom.record.item).toEqual({ type: "other", payloadType: "custom_tool_call" })
    const event = decode({ timestamp: "2026-01-01T00:00:00Z", type: "event_msg", payload: { type: "agent_message" } })
    assert(event._tag === "Record")
    expect(event.record.kind).toBe("other")
  })

  it("reports malformed lines instead of failing: bad JSON, bad envelope time, known payload of the wrong shape", () => {
    const bad = (line: string) => {
      const decoded = CodexRollout.decodeLine(line, legacyTs)
      assert(decoded._tag === "Malformed", `expected Malformed for ${line}`)
      return decoded.reason
    }
    expect(bad("{\"timestamp\":\"2026-01-01T00:00:00Z\",\"type\":\"response_item\",\"payload\":{\"ty")).toBe("not valid JSON")
    expect(bad(JSON.stringify({ timestamp: "soon", type: "event_msg", payload: {} }))).toContain("RFC 3339")
    expect(bad(JSON.stringify({
      timestamp: "2026-01-01T00:00:00Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: "not an array" }
    }))).toContain("message payload")
    expect(bad(JSON.stringify({
      timestamp: "2026-01-01T00:00:00Z",
      type: "response_item",
      payload: { type: "function_call", arguments: "{}" }
    }))).toContain("function_call payload")
    expect(bad(JSON.stringify({
      timestamp: "2026-01-01T00:00:00Z",
      type: "event_msg",
      payload: { type: "token_count", info: { total_token_usage: { input_tokens: -1 } } }
    }))).toContain("token_count payload")
    expect(bad(JSON.stringify({ timestamp: "2026-01-01T00:00:00Z", type: "session_meta", payload: { id: "x" } })))
      .toContain("session_meta payload")
  })

  it("metaOfFirstLine accepts only a session meta, naming a malformed one", () => {
    expect(Result.isSuccess(CodexRollout.metaOfFirstLine(linesOf(SAMPLE)[0]!))).toBe(true)
    expect(CodexRollout.metaOfFirstLine("{\"note\":1}")).toEqual(Result.fail("not a session_meta line"))
    expect(CodexRollout.metaOfFirstLine("not json")).toEqual(Result.fail("not a session_meta line"))
    const noCwd = CodexRollout.metaOfFirstLine(
      JSON.stringify({ timestamp: "2026-01-01T00:00:00Z", type: "session_meta", payload: { id: "x", timestamp: "2026-01-01T00:00:00Z" } })
    )
    assert(Result.isFailure(noCwd))
    expect(noCwd.failure).toMatch(/^session_meta payload: Missing key/)
  })
})

describe("CodexRollout mapping: the real Codex CLI 0.169 sample", () => {
  it("maps user texts, the exec_command call and result, the final answer, usage, model, cwd and times", () => {
    const { malformed, session } = importLines(SAMPLE)
    expect(malformed).toEqual([])
    expect(session.id).toBe(SAMPLE_ID)
    expect(session.createdAt).toBe("2026-11-22T03:10:23.220Z")
    expect(session.updatedAt).toBe("2026-11-22T03:10:23.641Z")
    expect(session.agent).toBe("build")
    expect(session.metadata.directory).toBe("/home/dev/demo")
    expect(session.metadata.model).toBe("mock-model")
    expect(session.usage).toEqual({
      promptTokens: 20251,
      completionTokens: 8,
      totalTokens: 20259,
      cacheReadTokens: 0,
      cacheWriteTokens: null
    })
    expect(session.toolUses).toEqual([])
    // the developer message is skipped; the injected environment context is an ordinary user message
    expect(session.messages.map((m) => m.role)).toEqual(["user", "user", "assistant", "tool", "assistant"])
    const [context, ask, call, result, answer] = session.messages
    expect(context!.content[0]).toMatchObject({ type: "text" })
    expect((context!.content[0] as { text: string }).text).toMatch(/^<environment_context>\n {2}<cwd>\/home\/dev\/demo<\/cwd>/)
    expect(ask).toEqual(
      text("user", "List the files in the current directory with your shell tool, then tell me how many there are.")
    )
    expect(call).toEqual({
      role: "assistant",
      content: [{ type: "tool_call", id: "call_dd258a70f5cd100201d0ea30", name: "exec_command", arguments: "{\"cmd\":\"ls -1\"}" }]
    })
    expect(result).toEqual({
      role: "tool",
      content: [{
        type: "tool_result",
        toolCallId: "call_dd258a70f5cd100201d0ea30",
        content:
          "Chunk ID: 17c104\nWall time: 0.0086 seconds\nProcess exited with code 0\nOriginal token count: 13\nOutput:\nREADME.md\ndata.csv\nindex.js\nmain.py\npackage.json\n"
      }]
    })
    expect(answer).toEqual(text("assistant", "DONE: 5 files"))
    // no index title: the first real user text (not the environment context), cut at 57 code points
    expect(session.title).toBe("List the files in the current directory with your shell t...")
    expect(session.metadata.provenance).toMatchObject({
      provenanceId: "ctprov_0f1e2d3c4b5a49688776655443322110",
      sessionId: SAMPLE_ID,
      issuedAt: NOW,
      identity: { agentName: "build", origin: "local_cli" }
    })
  })

  it("gives a session that encodes to the 4.5.7 format and decodes back unchanged", () => {
    const { session } = importLines(SAMPLE, { indexTitle: "Count the files" })
    expect(session.title).toBe("Count the files")
    const decoded = SessionJson.decode(SessionJson.encode(session))
    assert(Result.isSuccess(decoded))
    expect(decoded.success).toEqual(session)
    expect(Schema.is(Session)(session)).toBe(true)
  })
})

describe("CodexRollout mapping: rollouts written from BEHAVIOUR §10", () => {
  it("maps reasoning (string, summary list, array content), object arguments, images, token counts, models", () => {
    const { malformed, session } = importLines(RICH, { indexTitle: "Streaming parser refactor" })
    expect(malformed).toEqual([{ line: 15, reason: "not valid JSON" }])
    expect(session.title).toBe("Streaming parser refactor")
    expect(session.createdAt).toBe("2026-01-05T09:00:00.050Z")
    expect(session.updatedAt).toBe("2026-01-05T09:05:00.123456Z")
    expect(session.metadata.directory).toBe("/home/dev/rich")
    expect(session.metadata.model).toBe("gpt-5.1-codex")
    expect(session.usage).toEqual({
      promptTokens: 2500,
      completionTokens: 140,
      totalTokens: 2640,
      cacheReadTokens: null,
      cacheWriteTokens: null
    })
    expect(session.messages).toEqual([
      text("user", "<environment_context>\n  <cwd>/home/dev/rich</cwd>\n  <shell>zsh</shell>\n</environment_context>"),
      {
        role: "user",
        content: [
          { type: "text", text: "Make the parser stream its input 🚀\nSecond line" },
          { type: "image", url: "data:image/png;base64,iVBORw0KGgo=", mimeType: null }
        ]
      },
      { role: "assistant", content: [{ type: "thinking", text: "I should read the parser first." }] },
      { role: "assistant", content: [{ type: "thinking", text: "Plan: stream lines\nthen decode each" }] },
      { role: "assistant", content: [{ type: "thinking", text: "Step one: open the file.\nStep two: split lines." }] },
      {
        role: "assistant",
        content: [{
          type: "tool_call",
          id: "call_obj",
          name: "shell",
          arguments: "{\"a\":{\"b\":\"x\",\"y\":[1,2]},\"command\":[\"rg\",\"parse\"],\"z\":1}"
        }]
      },
      {
        role: "tool",
        content: [{
          type: "tool_result",
          toolCallId: "call_obj",
          content: "{\"metadata\":{\"duration_seconds\":0.5,\"exit_code\":0},\"output\":\"src/parser.ts:1: export const parse\"}"
        }]
      },
      {
        role: "assistant",
        content: [{ type: "tool_call", id: "fc_only_id", name: "apply_patch", arguments: "{\"input\":\"*** Begin Patch\"}" }]
      },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "fc_only_id", content: "" }] },
      text("assistant", "The parser now streams.")
    ])
    // without an index title the first real user line is the title
    expect(importLines(RICH).session.title).toBe("Make the parser stream its input 🚀")
  })

  it("maps the legacy flat format: meta line, record_type lines, bare items, cwd from <cwd>", () => {
    const { malformed, session } = importLines(LEGACY)
    expect(malformed).toEqual([])
    expect(session.id).toBe(LEGACY_ID)
    expect(session.createdAt).toBe("2025-04-18T10:00:00.123Z")
    expect(session.updatedAt).toBe("2025-04-18T10:00:00.123Z")
    // the <cwd> text follows an image in the same message (4.5.7 stopped at the image)
    expect(session.metadata.directory).toBe("/home/dev/legacy-app")
    expect(session.metadata.model).toBeNull()
    expect(session.usage.totalTokens).toBe(0)
    expect(session.title).toBe("Fix the failing test in src/math.ts")
    expect(session.messages.map((m) => [m.role, m.content.map((p) => p.type).join("+")])).toEqual([
      ["user", "image+text"],
      ["user", "text"],
      ["assistant", "thinking"],
      ["assistant", "tool_call"],
      ["tool", "tool_result"],
      ["assistant", "text"]
    ])
    expect(session.messages[3]!.content[0]).toEqual({
      type: "tool_call",
      id: "call_1",
      name: "shell",
      arguments: "{\"command\":[\"cat\",\"src/math.ts\"]}"
    })
    expect(session.messages[2]!.content[0]).toEqual({ type: "thinking", text: "Looking at the test" })
  })

  it("cuts a derived title by code points, never inside a character (4.5.7 panicked here)", () => {
    const { session } = importLines(EMOJI)
    expect(session.title).toBe(`${"a".repeat(56)}🚀...`)
    expect(Buffer.byteLength(`${"a".repeat(56)}🚀`)).toBe(60) // byte 57 is inside the emoji
    expect(session.metadata.directory).toBe("/home/dev/rich/")
  })

  it("rejects files whose first non-blank line is not a session meta, and files without lines", () => {
    expect(CodexRollout.fromLines(["", "{\"note\":\"hi\"}"], options)).toEqual(Result.fail("NotARollout"))
    expect(CodexRollout.fromLines(["", "  "], options)).toEqual(Result.fail("Empty"))
    // a meta later in the file does not make it a rollout
    const meta = linesOf(SAMPLE)[0]!
    expect(CodexRollout.fromLines([JSON.stringify({ type: "message" }), meta], options)).toEqual(Result.fail("NotARollout"))
  })

  it("keeps the first meta's id when a later meta names another session; a same-id meta updates cwd", () => {
    const line = (id: string, cwd: string, at: string) =>
      JSON.stringify({ timestamp: at, type: "session_meta", payload: { id, timestamp: at, cwd } })
    const result = CodexRollout.fromLines([
      line("first", "/a", "2026-01-01T00:00:00Z"),
      line("parent", "/elsewhere", "2026-01-01T00:00:01Z"),
      line("first", "/b", "2026-01-01T00:00:02Z")
    ], options)
    assert(Result.isSuccess(result))
    expect(result.success.session.id).toBe("first")
    expect(result.success.session.metadata.directory).toBe("/b")
    expect(result.success.session.updatedAt).toBe("2026-01-01T00:00:02Z")
  })

  it("counts without keeping messages when keepMessages is false (listings)", () => {
    const reader = CodexRollout.makeReader({ keepMessages: false })
    for (const line of linesOf(RICH)) reader.push(line)
    expect(reader.builder.messages()).toEqual([])
    expect(reader.builder.messageCount()).toBe(10)
    expect(CodexRollout.summarize(reader.builder, "Named")).toEqual({
      id: RICH_ID,
      title: "Named",
      createdAt: "2026-01-05T09:00:00.050Z",
      updatedAt: "2026-01-05T09:05:00.123456Z",
      messageCount: 10,
      agent: "build",
      directory: "/home/dev/rich"
    })
  })
})

describe("CodexRollout titles", () => {
  it("keeps titles of at most 60 code points and cuts longer ones to 57 + ...", () => {
    const sixty = "x".repeat(60)
    expect(CodexRollout.truncateTitle(sixty)).toBe(sixty)
    expect(CodexRollout.truncateTitle(`${sixty}y`)).toBe(`${"x".repeat(57)}...`)
    const cjk = "漢字".repeat(35) // 70 code points, 210 bytes
    expect(CodexRollout.truncateTitle(cjk)).toBe(`${cjk.slice(0, 57)}...`)
    const emojis = "😀".repeat(61) // 61 code points, 122 UTF-16 units
    expect(CodexRollout.truncateTitle(emojis)).toBe(`${"😀".repeat(57)}...`)
    expect(CodexRollout.truncateTitle("😀".repeat(60))).toBe("😀".repeat(60))
  })

  it("derives the title from the first non-blank line, trimmed", () => {
    expect(CodexRollout.titleFromText("\n  \r\n  Fix the bug  \r\nmore")).toBe("Fix the bug")
    expect(CodexRollout.titleFromText(" \n\t\n")).toBeNull()
    expect(CodexRollout.titleFromText(`${"é".repeat(59)}\u00e9\u00e9`)).toBe(`${"é".repeat(57)}...`)
  })

  it("never takes the title from a Codex-injected context message", () => {
    const lines = [
      JSON.stringify({ timestamp: "2026-01-01T00:00:00Z", type: "session_meta", payload: { id: "t", timestamp: "2026-01-01T00:00:00Z", cwd: "/w" } }),
      JSON.stringify({
        timestamp: "2026-01-01T00:00:01Z",
        type: "response_item",
        payload: { type: "message", role: "user", content: [{ type: "input_text", text: "# AGENTS.md instructions for /w\n\nbe nice" }] }
      }),
      JSON.stringify({
        timestamp: "2026-01-01T00:00:02Z",
        type: "response_item",
        payload: { type: "message", role: "user", content: [{ type: "input_text", text: "Ship it" }] }
      })
    ]
    const result = CodexRollout.fromLines(lines, options)
    assert(Result.isSuccess(result))
    expect(result.success.session.title).toBe("Ship it")
    expect(result.success.session.messages).toHaveLength(2)
  })
})

describe("CodexRollout helpers", () => {

  it("reasoningText prefers string content, then array content, then the summary", () => {
    const item = (fields: Partial<CodexRollout.ReasoningPayload>): CodexRollout.ReasoningPayload => ({
      type: "reasoning",
      ...fields
    })
    expect(CodexRollout.reasoningText(item({ content: " a ", summary: ["b"] }))).toBe("a")
    expect(CodexRollout.reasoningText(item({ content: [{ text: "a" }, "b", { type: "x" }], summary: ["c"] }))).toBe("a\nb")
    expect(CodexRollout.reasoningText(item({ content: [], summary: ["c", { text: " d " }] }))).toBe("c\nd")
    expect(CodexRollout.reasoningText(item({ content: { unexpected: true } }))).toBe("")
    expect(CodexRollout.reasoningText(item({ summary: null }))).toBe("")
  })

  it("cwdOfMessage reads <cwd> from any text item, trimmed", () => {
    const message = (content: ReadonlyArray<unknown>): CodexRollout.MessagePayload => ({ type: "message", role: "user", content })
    expect(CodexRollout.cwdOfMessage(message([{ type: "input_image", image_url: "x" }, { type: "input_text", text: "<cwd> /p </cwd>" }])))
      .toBe("/p")
    expect(CodexRollout.cwdOfMessage(message([{ type: "input_text", text: "<cwd>  </cwd>" }]))).toBeUndefined()
    expect(CodexRollout.cwdOfMessage(message([{ type: "input_text", text: "no tag" }]))).toBeUndefined()
  })

  it("indexTitles: the latest updated_at per id wins, ties go to the first seen, malformed lines are ignored", () => {
    const entries = linesOf(NodePath.join(home, "session_index.jsonl")).flatMap((line) => {
      const entry = CodexRollout.decodeIndexLine(line)
      return entry === undefined ? [] : [entry]
    })
    expect(entries).toHaveLength(5)
    const titles = CodexRollout.indexTitles(entries)
    expect(titles.get(RICH_ID)).toBe("Streaming parser refactor")
    expect(titles.get(LEGACY_ID)).toBe("First legacy title")
    expect(titles.has("0199a1b3-1111-7222-8333-444455556666")).toBe(false)
    const blank = CodexRollout.indexTitles([
      { id: "x", thread_name: "named", updated_at: ts("2026-01-01T00:00:00Z") },
      { id: "x", thread_name: "  ", updated_at: ts("2026-01-02T00:00:00Z") }
    ])
    expect(blank.get("x")).toBeNull()
  })

  it("mergeSummaries: [Codex] titles, a Codex summary replaces a native one only when strictly newer, newest first", () => {
    const summary = (id: string, updatedAt: string, title: string | null): SessionSummary => ({
      id,
      title,
      createdAt: ts("2026-01-01T00:00:00Z"),
      updatedAt: ts(updatedAt),
      messageCount: 1,
      agent: "build",
      directory: "/w"
    })
    const merged = CodexRollout.mergeSummaries(
      [
        summary("same-time", "2026-01-03T00:00:00.000000001Z", "native wins ties"),
        summary("older-native", "2026-01-01T00:00:00Z", "native older"),
        summary("native-only", "2026-01-02T00:00:00Z", "plain")
      ],
      [
        summary("same-time", "2026-01-03T00:00:00.000000001Z", "codex"),
        summary("older-native", "2026-01-01T00:00:00.000000001Z", "codex newer"),
        summary("codex-only", "2026-01-05T00:00:00Z", null)
      ]
    )
    expect(merged.map((s) => [s.id, s.title])).toEqual([
      ["codex-only", "[Codex] codex-only"],
      ["same-time", "native wins ties"],
      ["native-only", "plain"],
      ["older-native", "[Codex] codex newer"]
    ])
  })
})

describe("CodexRollout with Effect", () => {
  it.effect("is usable from Effect code with a clock-stamped provenance", () =>
    Effect.gen(function*() {
      const now = yield* Timestamp.now
      const result = CodexRollout.fromLines(linesOf(SAMPLE), { provenanceUuid: UUID, now })
      assert(Result.isSuccess(result))
      expect(result.success.session.metadata.provenance?.issuedAt).toBe(now)
    }))
})
