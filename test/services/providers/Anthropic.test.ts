import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import type { Message } from "../../../schemas/Message.ts"
import type { CompletionRequest } from "../../../schemas/Provider.ts"
import * as Anthropic from "../../../services/providers/Anthropic.ts"
import * as AnthropicServer from "../../utils/AnthropicServer.ts"
import { argumentsOf, contract, KEY, request, run, textOf, thinkingOf } from "./contract.ts"

const provider = (baseUrl: string, apiKey: string | undefined) =>
  Anthropic.make({
    name: "test",
    baseUrl,
    defaultModel: "claude-test",
    apiKey: apiKey === undefined ? undefined : Redacted.make(apiKey)
  })

contract({
  label: "Anthropic",
  server: AnthropicServer.make,
  provider,
  finishReasons: [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"]
  ],
  overloadedType: "overloaded_error"
}, AnthropicServer)

const transcript: ReadonlyArray<Message> = [
  { role: "system", content: [{ type: "text", text: "Be brief." }] },
  { role: "system", content: [{ type: "text", text: "Use tools." }] },
  {
    role: "user",
    content: [
      { type: "text", text: "Look:" },
      { type: "image", url: "data:image/jpeg;base64,/9j/4AAQ", mimeType: "image/jpeg" },
      { type: "image", url: "https://example.com/cat.png", mimeType: null },
      { type: "file", path: "notes.md", mimeType: "text/markdown" }
    ]
  },
  {
    role: "assistant",
    content: [
      { type: "thinking", text: "They want a listing." },
      { type: "text", text: "" },
      { type: "text", text: "Checking." },
      { type: "tool_call", id: "toolu_1", name: "bash", arguments: "{\"command\":\"ls\"}" },
      { type: "tool_call", id: "toolu_2", name: "read", arguments: "{truncated" }
    ]
  },
  { role: "tool", content: [{ type: "tool_result", toolCallId: "toolu_1", content: "a.txt" }] },
  { role: "tool", content: [{ type: "tool_result", toolCallId: "toolu_2", content: "Error: bad arguments" }] },
  { role: "user", content: [{ type: "text", text: "And now?" }] }
]

const full: CompletionRequest = {
  model: "claude-test",
  messages: transcript,
  tools: [{
    name: "bash",
    description: "Run a shell command",
    parameters: { type: "object", properties: { command: { type: "string" } }, required: ["command"] }
  }],
  temperature: 0.7,
  topP: 0.9,
  maxTokens: 2048,
  stop: ["END"]
}

describe("Anthropic request mapping", () => {
  it.live("sends system, images, tool_use and tool_result blocks as the Messages API expects", () =>
    Effect.gen(function*() {
      const server = yield* AnthropicServer.make
      server.enqueue(AnthropicServer.text("ok"))
      const { exit } = yield* run(provider(server.url, KEY).stream(full))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      const r = server.requests[0]!
      assert.strictEqual(r.path, "/v1/messages")
      assert.isString(r.headers["anthropic-version"])
      assert.strictEqual(r.headers.authorization, `Bearer ${KEY}`)
      const body = r.body
      assert.strictEqual(body.system, "Be brief.\n\nUse tools.")
      assert.deepStrictEqual(body.messages, [
        {
          role: "user",
          content: [
            { type: "text", text: "Look:" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
            { type: "text", text: "[file: notes.md (text/markdown)]" }
          ]
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_1", name: "bash", input: { command: "ls" } },
            { type: "tool_use", id: "toolu_2", name: "read", input: {} }
          ]
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "a.txt" },
            { type: "tool_result", tool_use_id: "toolu_2", content: "Error: bad arguments" },
            { type: "text", text: "And now?" }
          ]
        }
      ])
      assert.deepStrictEqual(body.tools, [{
        name: "bash",
        description: "Run a shell command",
        input_schema: { type: "object", properties: { command: { type: "string" } }, required: ["command"] }
      }])
      assert.strictEqual(body.max_tokens, 2048)
      assert.strictEqual(body.temperature, 0.7)
      assert.strictEqual(body.top_p, 0.9)
      assert.deepStrictEqual(body.stop_sequences, ["END"])
      assert.strictEqual(body.stream, true)
    }))

  it.live("omits absent optional fields", () =>
    Effect.gen(function*() {
      const server = yield* AnthropicServer.make
      server.enqueue(AnthropicServer.text("ok"))
      yield* run(provider(server.url, KEY).stream({ ...request, messages: request.messages.slice(1) }))
      const body = server.requests[0]!.body
      for (const key of ["system", "tools", "temperature", "top_p", "stop_sequences"]) assert.notProperty(body, key)
    }))

  it.live("a provider without a key sends no credentials", () =>
    Effect.gen(function*() {
      const server = yield* AnthropicServer.make
      server.enqueue(AnthropicServer.text("local"))
      const { events } = yield* run(provider(server.url, undefined).stream(request))
      assert.strictEqual(textOf(events), "local")
      assert.notProperty(server.requests[0]!.headers, "authorization")
      assert.notProperty(server.requests[0]!.headers, "x-api-key")
    }))
})

describe("Anthropic stream decoding", () => {
  it("a tool call without argument deltas gets its input as one delta", () => {
    const decoder = Anthropic.makeDecoder()
    const events = [
      ...decoder.chunk({ type: "message_start", message: { usage: { input_tokens: 3, output_tokens: 1 } } } as any),
      ...decoder.chunk({
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: "t1", name: "list", input: { path: "." } }
      } as any),
      ...decoder.chunk({ type: "content_block_stop", index: 0 } as any),
      ...decoder.chunk({ type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } } as any)
    ]
    assert.strictEqual(argumentsOf(events, "t1"), "{\"path\":\".\"}")
    assert.isUndefined(decoder.end())
    const closing = decoder.chunk({ type: "message_stop" } as any)
    assert.deepStrictEqual(closing, [
      {
        _tag: "Usage",
        usage: { promptTokens: 3, completionTokens: 9, totalTokens: 12, cacheReadTokens: null, cacheWriteTokens: null }
      },
      { _tag: "Finish", reason: "tool_calls" }
    ])
    assert.deepStrictEqual(decoder.end(), [])
  })

  it.live("cache writes count towards prompt tokens", () =>
    Effect.gen(function*() {
      const server = yield* AnthropicServer.make
      server.enqueue(AnthropicServer.reply([{ type: "thinking", text: "hmm" }, { type: "text", text: "hi" }], {
        usage: { input: 7, output: 2, cacheRead: 100, cacheWrite: 50 }
      }))
      const { events } = yield* run(provider(server.url, KEY).stream(request))
      assert.strictEqual(thinkingOf(events), "hmm")
      const usage = events.find((e) => e._tag === "Usage")
      assert.deepStrictEqual(usage, {
        _tag: "Usage",
        usage: { promptTokens: 157, completionTokens: 2, totalTokens: 159, cacheReadTokens: 100, cacheWriteTokens: 50 }
      })
    }))
})
