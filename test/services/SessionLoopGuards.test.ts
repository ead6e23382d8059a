/**
 * The 4.5.7 loop behaviour added in issue 11, against scripted providers:
 * loop detection and the forced final answer, `<tool_call>` markup, providers
 * without native tool calling, oversized user messages, the event-stream
 * audit files, fail-over to `fallback_models`, and the step limit.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer, Schema, Stream } from "effect"
import * as Compaction from "../../schemas/Compaction.ts"
import * as ImageAttachment from "../../schemas/ImageAttachment.ts"
import type * as Message from "../../schemas/Message.ts"
import type * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as EventStream from "../../services/EventStream.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as Logs from "../utils/Logs.ts"
import * as Scripted from "../utils/ScriptedProvider.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.succeed(`echo: ${text}`)
})

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64"
)

interface Options {
  readonly providers: ReadonlyArray<ProviderRegistry.Provider>
  readonly fallbackModels?: ReadonlyArray<string>
  readonly model?: string
  readonly eventStream?: string
}

const setup = (options: Options) =>
  Effect.gen(function*() {
    const store = SessionStore.makeMemory()
    const sink = yield* DurableSink.makeMemory
    const settings: CodetetherConfig.Settings = {
      ...CodetetherConfig.defaultSettings,
      model: { value: options.model ?? null, source: { kind: "default" } },
      fallbackModels: { value: options.fallbackModels ?? [], source: { kind: "default" } }
    }
    const layer = SessionLoop.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(SessionStore.SessionStore, store),
        ProviderRegistry.layerProviders(options.providers),
        ToolRegistry.layerTools([echo]),
        SessionBus.layer({ capacity: 4096 }).pipe(Layer.provide(Layer.succeed(DurableSink.DurableSink, sink.sink))),
        Layer.succeed(CodetetherConfig.CodetetherConfig, CodetetherConfig.fromSettings(settings)),
        SystemPrompt.layerStatic("You are a test agent."),
        Layer.succeed(EventStream.EventStream, EventStream.make(options.eventStream))
      ))
    )
    const context = yield* Layer.build(layer)
    const loop = yield* SessionLoop.SessionLoop.pipe(Effect.provide(context))
    return { store, sink, loop }
  })

const session = () => Sessions.make({ title: null, messages: 0, directory: "/work/project" })
const tags = (events: ReadonlyArray<SessionEvent.SessionEvent>) => events.map((e) => e._tag)
const texts = (message: Message.Message) => message.content.flatMap((p) => (p.type === "text" ? [p.text] : []))
const same = (i: number) => Scripted.callTools([{ id: `c${i}`, name: "echo", arguments: "{\"text\":\"again\"}" }])

/** A scripted provider under another name, with or without native tool calling. */
const provider = (name: string, scripts: ReadonlyArray<Scripted.Script>, extra: Partial<ProviderRegistry.Provider> = {}) => {
  const scripted = Scripted.make(scripts)
  return { scripted, provider: { ...scripted.provider, name, defaultModel: `${name}-model`, ...extra } }
}

describe("SessionLoop: loop detection", () => {
  it.effect("the 4th identical step's calls are dropped and the model is told to answer in plain text (five identical bash steps ran before)", () =>
    Effect.gen(function*() {
      const { provider: p, scripted } = provider("scripted", [same(1), same(2), same(3), same(4), Scripted.answer("Final answer.")])
      const { loop } = yield* setup({ providers: [p] })
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "loop please")))
      expect(tags(events).filter((t) => t === "ToolCallStart")).toHaveLength(3)
      const fifth = scripted.requests[4]!.messages
      expect(texts(fifth.at(-1)!)).toEqual([SessionLoop.FINAL_ANSWER_NUDGE])
      expect(fifth.at(-1)!.role).toBe("user")
      const sync = events.find((e) => e._tag === "SessionSync")
      assert(sync?._tag === "SessionSync")
      const roles = sync.session.messages.map((m) => m.role)
      // user, 3 x (assistant + tool), the nudge (the 4th step said nothing but its calls), the answer
      expect(roles).toEqual(["user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "user", "assistant"])
      expect(sync.session.messages.flatMap((m) => m.content).filter((p) => p.type === "tool_call")).toHaveLength(3)
      expect(events.some((e) => e._tag === "StepLimitReached")).toBe(false)
    }))

  it.effect("different arguments reset the count; the 4th step keeps its text when its calls are dropped", () =>
    Effect.gen(function*() {
      const other = Scripted.callTools([{ id: "o", name: "echo", arguments: "{\"text\":\"other\"}" }])
      const withText = Scripted.callTools([{ id: "t", name: "echo", arguments: "{ \"text\" : \"again\" }" }], { text: "Trying again." })
      const { provider: p, scripted } = provider("scripted", [same(1), same(2), other, same(3), same(4), same(5), withText, Scripted.answer("ok")])
      const { loop } = yield* setup({ providers: [p] })
      const outcome = yield* loop.prompt(session(), "go")
      expect(scripted.requests).toHaveLength(8)
      expect(outcome.session.toolUses).toHaveLength(6) // the 7th step (4th identical in a row) ran nothing
      const last = outcome.session.messages.slice(-3)
      expect(last.map((m) => m.role)).toEqual(["assistant", "user", "assistant"])
      expect(last[0]!.content).toEqual([{ type: "text", text: "Trying again." }])
      expect(outcome.result.text).toContain("Trying again.")
    }))
})

describe("SessionLoop: <tool_call> markup and providers without native tools", () => {
  it.effect("markup in a native provider's text becomes a tool call; the text keeps the rest; unknown tools are dropped with a warning", () =>
    Effect.gen(function*() {
      const markup = "Let me check.\n<tool_call>\n```json\n{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}\n```\n</tool_call>" +
        "<tool_call>{\"name\":\"rm_rf\",\"arguments\":{}}</tool_call>"
      const { provider: p, scripted } = provider("scripted", [Scripted.answer(markup), Scripted.answer("Done.")])
      const { loop } = yield* setup({ providers: [p] })
      const { value: outcome, logs } = yield* Logs.capture(loop.prompt(session(), "hi"))
      const [, assistant, tool] = outcome.session.messages
      expect(assistant!.content[0]).toEqual({ type: "text", text: "Let me check." })
      const call = assistant!.content[1]
      assert(call?.type === "tool_call")
      expect([call.name, call.arguments]).toEqual(["echo", "{\"text\":\"hi\"}"])
      expect(call.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(tool!.content).toEqual([{ type: "tool_result", toolCallId: call.id, content: "echo: hi" }])
      expect(logs.some((l) => l.message.includes("unknown tool \"rm_rf\""))).toBe(true)
      expect(outcome.result.text).toBe("Let me check.\nDone.")
      expect(scripted.requests[0]!.tools.map((t) => t.name)).toEqual(["echo"]) // native: tools as a parameter
    }))

  it.effect("native_tools false: no tools parameter, a Tool Use appendix, the transcript as text, and a final answer forced from step 3", () =>
    Effect.gen(function*() {
      const call = (text: string) => Scripted.answer(`<tool_call>{"name":"echo","arguments":{"text":"${text}"}}</tool_call>`)
      const { provider: p, scripted } = provider("local", [call("one"), call("two"), call("three"), Scripted.answer("All three.")], {
        nativeTools: false
      })
      const { loop } = yield* setup({ providers: [p] })
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "count")))
      const first = scripted.requests[0]!
      expect(first.tools).toEqual([])
      const system = texts(first.messages[0]!).join("")
      expect(system).toContain("You are a test agent.\n\n# Tool Use")
      expect(system).toContain("<tool_call>{\"name\": \"<tool name>\", \"arguments\"")
      expect(system).toContain("- echo: Returns its text.\n  parameters: {")
      // the second request shows the call and its result as text
      const second = scripted.requests[1]!.messages.slice(1)
      expect(second.map((m) => m.role)).toEqual(["user", "assistant", "user"])
      expect(texts(second[1]!).join("")).toMatch(/^<tool_call>\{"name":"echo","arguments":\{"text":"one"\}\}<\/tool_call>$/)
      expect(texts(second[2]!).join("")).toBe("<tool_result name=\"echo\">\necho: one\n</tool_result>")
      // step 3: its call is not run (4.5.7: non-native tools and step >= 3)
      expect(tags(events).filter((t) => t === "ToolCallStart")).toHaveLength(2)
      // (its text was only markup: nothing is kept of it; the nudge joins the last tool result, one user turn)
      expect(texts(scripted.requests[3]!.messages.at(-1)!)).toEqual([
        `<tool_result name="echo">\necho: two\n</tool_result>\n\n${SessionLoop.FINAL_ANSWER_NUDGE}`
      ])
      // markup text is not streamed as it arrives (4.5.7 did not stream non-native providers)
      const chunks = events.flatMap((e) => (e._tag === "TextChunk" ? [e.text] : []))
      expect(chunks).toEqual(["All three."])
    }))
})

describe("SessionLoop: oversized user message", () => {
  it.effect("a message over 35% of the window is compressed to that budget before it is sent; images stay (200 KB to a 32k model)", () =>
    Effect.gen(function*() {
      const { provider: p, scripted } = provider("scripted", [Scripted.answer("Read it.")])
      const { loop } = yield* setup({ providers: [p], model: "scripted/mistral-small" })
      const big = Array.from({ length: 4000 }, (_, i) => `line ${i}: ${"lorem ipsum dolor sit amet ".repeat(2)}`).join("\n")
      expect(big.length).toBeGreaterThan(200_000)
      const image = ImageAttachment.fromBase64("image/png", PNG.toString("base64"))
      const outcome = yield* loop.prompt(session(), big, { images: [image] })
      const sent = scripted.requests[0]!.messages[1]!
      const text = texts(sent).join("")
      const window = Compaction.contextWindow("mistral-small")
      expect(window).toBe(32_000)
      expect(Compaction.estimateTokens(text)).toBeLessThanOrEqual(Math.floor(window * 0.35) + 200)
      expect(text.startsWith("[USER MESSAGE COMPRESSED] The original message had about")).toBe(true)
      expect(text).toContain("line 0: ")
      expect(text).toContain("line 3999: ")
      expect(sent.content.filter((part) => part.type === "image")).toHaveLength(1)
      expect(outcome.session.messages[0]).toEqual(sent) // the session keeps what was sent
      expect(Compaction.estimateRequest(texts(scripted.requests[0]!.messages[0]!).join(""), scripted.requests[0]!.messages, []))
        .toBeLessThan(window)
    }))

  it.effect("a message within the budget is sent as it is", () =>
    Effect.gen(function*() {
      const { provider: p, scripted } = provider("scripted", [Scripted.answer("ok")])
      const { loop } = yield* setup({ providers: [p], model: "scripted/mistral-small" })
      const message = "x ".repeat(10_000)
      yield* loop.prompt(session(), message)
      expect(texts(scripted.requests[0]!.messages[1]!)).toEqual([message])
    }))
})

describe("SessionLoop: event-stream audit files (CODETETHER_EVENT_STREAM_PATH)", () => {
  it.effect("every executed tool call appends 4.5.7's tool_result record to <dir>/<session>/<UTC>-chat-events-<A>-<B>.jsonl", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-events-")
      const { provider: p } = provider("scripted", [
        Scripted.callTools([
          { id: "a", name: "echo", arguments: "{\"text\":\"one\"}" },
          { id: "q", name: "question", arguments: "{\"question\":\"?\"}" },
          { id: "b", name: "echo", arguments: "{\"text\":" }
        ]),
        Scripted.callTools([{ id: "c", name: "echo", arguments: "{\"text\":\"two\"}" }]),
        Scripted.answer("done")
      ])
      const { loop } = yield* setup({ providers: [p], eventStream: dir })
      const start = session()
      yield* loop.prompt(start, "go")
      const files = NodeFs.readdirSync(NodePath.join(dir, start.id)).sort()
      // seq = messages before the result: 2 (user, assistant), then 6 (+ three results and the next assistant)
      // (the test clock stands at 0: 1970-01-01T00:00:00Z)
      expect(files).toEqual([
        "19700101T000000Z-chat-events-00000000000000020000-00000000000000030000.jsonl",
        "19700101T000000Z-chat-events-00000000000000060000-00000000000000070000.jsonl"
      ])
      const records = files.map((f) => NodeFs.readFileSync(NodePath.join(dir, start.id, f), "utf8"))
      expect(records.map((r) => r.endsWith("}\n"))).toEqual([true, true])
      const [first, second] = records.map((r) => JSON.parse(r))
      expect(Object.keys(first)).toEqual(["type", "tool_name", "result", "success", "timestamp"])
      expect(first).toMatchObject({ type: "tool_result", tool_name: "echo", result: "echo: one", success: true })
      expect(second).toMatchObject({ tool_name: "echo", result: "echo: two" })
      expect(first.timestamp).toBe(0)
      expect(EventStream.fileName(Date.UTC(2026, 0, 6, 9, 16, 40), 4)).toBe(
        "20260106T091640Z-chat-events-00000000000000040000-00000000000000050000.jsonl"
      ) // SESSION_FORMAT §10's example
    }))

  it.effect("off by default, and a write that fails never fails the prompt (one warning)", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-events-")
      const blocked = NodePath.join(dir, "file")
      NodeFs.writeFileSync(blocked, "not a directory")
      const scripts = () => [
        Scripted.callTools([{ id: "a", name: "echo", arguments: "{\"text\":\"1\"}" }]),
        Scripted.callTools([{ id: "b", name: "echo", arguments: "{\"text\":\"2\"}" }]),
        Scripted.answer("done")
      ]
      const { loop } = yield* setup({ providers: [provider("scripted", scripts()).provider], eventStream: blocked })
      const { value, logs } = yield* Logs.capture(loop.prompt(session(), "go"))
      expect(value.result.text).toBe("done")
      expect(logs.filter((l) => l.message.startsWith("event-stream file not written"))).toHaveLength(1)
      const off = yield* setup({ providers: [provider("scripted", scripts()).provider] })
      expect((yield* off.loop.prompt(session(), "go")).result.text).toBe("done")
    }))
})

describe("SessionLoop: fail-over to fallback_models", () => {
  const down = (message: string): Scripted.Script => Scripted.fail(message)

  it.effect("after the provider's retries fail, the next fallback answers; a durable ModelFallback records it; metadata.model is unchanged", () =>
    Effect.gen(function*() {
      const primary = provider("primary", [down("primary: 503 overloaded"), down("primary: 503 overloaded")])
      const broken = provider("broken", [
        { _tag: "Fail", error: new ProviderRegistry.ProviderError({ reason: "Authentication", provider: "broken", message: "broken: 401" }) }
      ])
      const backup = provider("backup", [
        Scripted.callTools([{ id: "a", name: "echo", arguments: "{\"text\":\"x\"}" }]),
        Scripted.answer("From the backup.")
      ])
      const { loop, sink } = yield* setup({
        providers: [primary.provider, broken.provider, backup.provider],
        model: "primary/big",
        fallbackModels: ["nowhere/x", "primary/big", "broken/m", "backup/small"]
      })
      const start = { ...session(), metadata: { ...session().metadata, model: "primary/big" } }
      const { value: events, logs } = yield* Logs.capture(Stream.runCollect(loop.promptStream(start, "hello")))
      const all = Array.from(events)
      expect(all.find((e) => e._tag === "Error")).toBeUndefined()
      const fallback = all.filter((e) => e._tag === "ModelFallback")
      expect(fallback).toEqual([{
        _tag: "ModelFallback",
        payload: { configured: "primary/big", using: "backup/small", reason: "primary: 503 overloaded" }
      }])
      // the rest of the prompt stays with the backup: the primary is asked once
      expect([primary.scripted.requests.length, broken.scripted.requests.length, backup.scripted.requests.length]).toEqual([1, 1, 2])
      expect(backup.scripted.requests[0]!.model).toBe("small")
      const usage = all.filter((e) => e._tag === "UsageReport").map((e) => e._tag === "UsageReport" && e.model)
      expect(usage).toEqual(["small", "small"])
      const sync = all.find((e) => e._tag === "SessionSync")
      assert(sync?._tag === "SessionSync")
      expect(sync.session.metadata.model).toBe("primary/big")
      const records = yield* sink.records
      expect(records.map((r) => r.kind)).toEqual(["model_fallback", "token_usage", "token_usage"])
      expect(records[0]!.payload).toEqual({ configured: "primary/big", using: "backup/small", reason: "primary: 503 overloaded" })
      expect(logs.some((l) => l.message.startsWith("fallback model nowhere/x is not available"))).toBe(true)
    }))

  it.effect("no fail-over for an error a retry cannot fix (401), nor after output arrived; all fallbacks failing names them", () =>
    Effect.gen(function*() {
      const rejected = provider("primary", [{
        _tag: "Fail",
        error: new ProviderRegistry.ProviderError({ reason: "Authentication", provider: "primary", message: "primary: 401 bad key" })
      }])
      const backup = provider("backup", [Scripted.answer("never")])
      const one = yield* setup({ providers: [rejected.provider, backup.provider], model: "primary/m", fallbackModels: ["backup/m"] })
      const error = yield* Effect.flip(one.loop.prompt(session(), "hi"))
      expect(error.message).toBe("primary: 401 bad key")
      expect(backup.scripted.requests).toHaveLength(0)

      const primary = provider("primary", [down("primary: 500")])
      const also = provider("backup", [down("backup: 502")])
      const two = yield* setup({ providers: [primary.provider, also.provider], model: "primary/m", fallbackModels: ["backup/m"] })
      const both = yield* Effect.flip(two.loop.prompt(session(), "hi"))
      expect(both.message).toBe("primary: 500 (fallback models failed too: backup/m: backup: 502)")
    }))
})

describe("SessionLoop: step limit", () => {
  it.effect("running out of steps while the model still calls tools ends with StepLimitReached (not an error)", () =>
    Effect.gen(function*() {
      const calls = Array.from({ length: 4 }, (_, i) => Scripted.callTools([{ id: `c${i}`, name: "echo", arguments: `{"text":"${i}"}` }]))
      const { provider: p } = provider("scripted", calls)
      const { loop } = yield* setup({ providers: [p] })
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "go", { maxSteps: 2 })))
      expect(tags(events).slice(-3)).toEqual(["StepLimitReached", "SessionSync", "Done"])
      expect(events.find((e) => e._tag === "StepLimitReached")).toEqual({ _tag: "StepLimitReached", steps: 2, maxSteps: 2 })
      const again = yield* setup({ providers: [provider("scripted", calls).provider] })
      const outcome = yield* again.loop.prompt(session(), "go", { maxSteps: 2 })
      expect([outcome.steps, outcome.stepLimitReached]).toEqual([2, true])
      const done = yield* setup({ providers: [provider("scripted", [Scripted.answer("hi")]).provider] })
      expect((yield* done.loop.prompt(session(), "go", { maxSteps: 1 })).stepLimitReached).toBe(false)
    }))
})
