import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import type { Message } from "../../../schemas/Message.ts"
import type { CompletionRequest } from "../../../schemas/Provider.ts"
import * as OpenAi from "../../../services/providers/OpenAi.ts"
import * as OpenAiServer from "../../utils/OpenAiServer.ts"
import { contract, KEY, request, run, textOf, thinkingOf } from "./contract.ts"

const provider = (baseUrl: string, apiKey: string | undefined, wire = OpenAi.compatibleWire) =>
  OpenAi.make({
    name: "test",
    baseUrl,
    defaultModel: "test-model",
    apiKey: apiKey === undefined ? undefined : Redacted.make(apiKey)
  }, wire)

contract({
  label: "OpenAI",
  server: OpenAiServer.make,
  provider: (url, key) => provider(url, key),
  finishReasons: [["stop", "stop"], ["length", "length"], ["content_filter", "content_filter"], [
    "tool_calls",
    "tool_calls"
  ], ["function_call", "tool_calls"]],
  overloadedType: "server_error"
}, OpenAiServer)

const transcript: ReadonlyArray<Message> = [
  { role: "system", content: [{ type: "text", text: "Be brief." }] },
  {
    role: "user",
    content: [
      { type: "text", text: "What is in this picture?" },
      { type: "image", url: "data:image/png;base64,iVBORw0KGgo=", mimeType: "image/png" },
      { type: "file", path: "src/a.ts", mimeType: null }
    ]
  },
  {
    role: "assistant",
    content: [
      { type: "thinking", text: "I should run ls." },
      { type: "text", text: "Let me check." },
      { type: "tool_call", id: "call_1", name: "bash", arguments: "{\"command\":\"ls\"}" },
      { type: "tool_call", id: "call_2", name: "read", arguments: "{\"path\":\"a\"}" }
    ]
  },
  { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", content: "a.txt\nb.txt" }] },
  { role: "tool", content: [{ type: "tool_result", toolCallId: "call_2", content: "hello" }] },
  { role: "assistant", content: [{ type: "tool_call", id: "call_3", name: "list", arguments: "{}" }] },
  { role: "tool", content: [{ type: "tool_result", toolCallId: "call_3", content: "[]" }] }
]

const full: CompletionRequest = {
  model: "test-model",
  messages: transcript,
  tools: [{
    name: "bash",
    description: "Run a shell command",
    parameters: { type: "object", properties: { command: { type: "string" } }, required: ["command"] }
  }],
  temperature: 0.7,
  topP: 0.9,
  maxTokens: 1024,
  stop: ["END"]
}

describe("OpenAI request mapping", () => {
  it.live("sends messages, images, tool calls, tool results and tools as Chat Completions expects", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("ok"))
      const { exit } = yield* run(provider(server.url, KEY).stream(full))
      assert.isTrue(Exit.isSuccess(exit))
      const body = server.requests[0]!.body
      assert.strictEqual(server.requests[0]!.path, "/v1/chat/completions")
      assert.deepStrictEqual(body.messages, [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "text", text: "[file: src/a.ts]" }
          ]
        },
        {
          role: "assistant",
          content: "Let me check.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "bash", arguments: "{\"command\":\"ls\"}" } },
            { id: "call_2", type: "function", function: { name: "read", arguments: "{\"path\":\"a\"}" } }
          ]
        },
        { role: "tool", tool_call_id: "call_1", content: "a.txt\nb.txt" },
        { role: "tool", tool_call_id: "call_2", content: "hello" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_3", type: "function", function: { name: "list", arguments: "{}" } }]
        },
        { role: "tool", tool_call_id: "call_3", content: "[]" }
      ])
      assert.deepStrictEqual(body.tools, [{
        type: "function",
        function: {
          name: "bash",
          description: "Run a shell command",
          parameters: { type: "object", properties: { command: { type: "string" } }, required: ["command"] }
        }
      }])
      assert.strictEqual(body.temperature, 0.7)
      assert.strictEqual(body.top_p, 0.9)
      assert.deepStrictEqual(body.stop, ["END"])
      assert.strictEqual(body.max_tokens, 1024)
      assert.isUndefined(body.max_completion_tokens)
      assert.deepStrictEqual(body.stream_options, { include_usage: true })
    }))

  it.live("omits absent optional fields", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("ok"))
      yield* run(provider(server.url, KEY).stream(request))
      const body = server.requests[0]!.body
      for (const key of ["tools", "temperature", "top_p", "stop"]) assert.notProperty(body, key)
    }))

  it.live("openai itself: max_completion_tokens, no sampling for reasoning models", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("ok"), OpenAiServer.text("ok"))
      const p = provider(server.url, KEY, OpenAi.openAiWire)
      yield* run(p.stream({ ...full, model: "gpt-5-mini" }))
      yield* run(p.stream({ ...full, model: "gpt-4o" }))
      const [reasoning, classic] = server.requests.map((r) => r.body)
      assert.strictEqual(reasoning.max_completion_tokens, 1024)
      assert.notProperty(reasoning, "max_tokens")
      assert.notProperty(reasoning, "temperature")
      assert.notProperty(reasoning, "top_p")
      assert.strictEqual(classic.temperature, 0.7)
      assert.strictEqual(classic.max_completion_tokens, 1024)
    }))

  it.live("sends thinking back as reasoning_content only when the server wants it", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("ok"), OpenAiServer.text("ok"))
      yield* run(provider(server.url, KEY, { ...OpenAi.compatibleWire, reasoningContent: true }).stream(full))
      yield* run(provider(server.url, KEY).stream(full))
      const [withThinking, without] = server.requests.map((r) => r.body.messages[2])
      assert.strictEqual(withThinking.reasoning_content, "I should run ls.")
      assert.notProperty(without, "reasoning_content")
    }))

  it.live("a provider without a key sends no Authorization header", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("local"))
      const { events } = yield* run(provider(server.url, undefined).stream(request))
      assert.strictEqual(textOf(events), "local")
      assert.notProperty(server.requests[0]!.headers, "authorization")
    }))
})

describe("OpenAI stream decoding", () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    ({ id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] }) as any

  it("reads reasoning deltas, refusals and whole tool calls in one chunk", () => {
    const decoder = OpenAi.makeDecoder()
    const events = [
      ...decoder.chunk(chunk({ reasoning: "think " })),
      ...decoder.chunk(chunk({ reasoning_content: "more" })),
      ...decoder.chunk(chunk({ refusal: "I can't." })),
      ...decoder.chunk(chunk({
        tool_calls: [
          { index: 0, id: "a", type: "function", function: { name: "bash", arguments: "{\"x\":1}" } },
          { index: 1, id: "b", type: "function", function: { name: "read", arguments: "{}" } }
        ]
      })),
      ...decoder.chunk(chunk({}, "tool_calls"))
    ]
    assert.strictEqual(thinkingOf(events), "think more")
    assert.strictEqual(textOf(events), "I can't.")
    assert.deepStrictEqual(events.filter((e) => e._tag.startsWith("ToolCall")), [
      { _tag: "ToolCallStart", id: "a", name: "bash" },
      { _tag: "ToolCallDelta", id: "a", argumentsDelta: "{\"x\":1}" },
      { _tag: "ToolCallStart", id: "b", name: "read" },
      { _tag: "ToolCallDelta", id: "b", argumentsDelta: "{}" },
      { _tag: "ToolCallEnd", id: "a" },
      { _tag: "ToolCallEnd", id: "b" }
    ])
    assert.deepStrictEqual(decoder.end(), [{ _tag: "Finish", reason: "tool_calls" }])
  })

  it("buffers arguments until the name arrives and invents ids when missing", () => {
    const decoder = OpenAi.makeDecoder()
    const events = [
      ...decoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"a\"" } }] })),
      ...decoder.chunk(chunk({ tool_calls: [{ index: 0, function: { name: "grep", arguments: ":1}" } }] })),
      ...decoder.chunk(chunk({}, "stop"))
    ]
    assert.deepStrictEqual(events, [
      { _tag: "ToolCallStart", id: "call_0", name: "grep" },
      { _tag: "ToolCallDelta", id: "call_0", argumentsDelta: "{\"a\"" },
      { _tag: "ToolCallDelta", id: "call_0", argumentsDelta: ":1}" },
      { _tag: "ToolCallEnd", id: "call_0" }
    ])
  })

  it("is incomplete without a finish reason", () => {
    const decoder = OpenAi.makeDecoder()
    decoder.chunk(chunk({ content: "hi" }))
    assert.isUndefined(decoder.end())
  })

  it("maps usage with cache reads", () => {
    assert.deepStrictEqual(
      OpenAi.toUsage({ prompt_tokens: 50, completion_tokens: 7, total_tokens: 57, prompt_tokens_details: { cached_tokens: 30 } }),
      { promptTokens: 50, completionTokens: 7, totalTokens: 57, cacheReadTokens: 30, cacheWriteTokens: null }
    )
    assert.deepStrictEqual(OpenAi.toUsage({ prompt_tokens: 5, completion_tokens: 2 }), {
      promptTokens: 5,
      completionTokens: 2,
      totalTokens: 7,
      cacheReadTokens: null,
      cacheWriteTokens: null
    })
  })
})

describe("OpenAI retry-after-ms", () => {
  it.live("honours retry-after-ms", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.httpError(429, "slow down", { headers: { "retry-after-ms": "300" } }),
        OpenAiServer.text("ok")
      )
      const { events, exit } = yield* run(provider(server.url, KEY).stream(request))
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(textOf(events), "ok")
      const [a, b] = server.requests
      assert.isAtLeast(b!.receivedAt - a!.receivedAt, 290)
    }))
})
