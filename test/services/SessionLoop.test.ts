/**
 * The session loop against a scripted provider: event order, tool pairs,
 * usage, max steps, blocked and broken tool calls, saving, errors and
 * interruption.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Schema, Stream } from "effect"
import * as ImageAttachment from "../../schemas/ImageAttachment.ts"
import type * as Message from "../../schemas/Message.ts"
import * as Message_ from "../../schemas/Message.ts"
import type * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as Tool from "../../schemas/Tool.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as Scripted from "../utils/ScriptedProvider.ts"
import * as Sessions from "../utils/Sessions.ts"

const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.succeed(`echo: ${text}`)
})
const where = ToolRegistry.define({
  name: "where",
  description: "Returns the working directory.",
  parameters: Schema.Struct({}),
  handler: (_, context) => Effect.succeed(context.directory)
})
const hang = ToolRegistry.define({
  name: "hang",
  description: "Never returns.",
  parameters: Schema.Struct({}),
  handler: () => Effect.never
})

const setup = (scripts: ReadonlyArray<Scripted.Script>) =>
  Effect.gen(function*() {
    const scripted = Scripted.make(scripts)
    const store = SessionStore.makeMemory()
    const sink = yield* DurableSink.makeMemory
    const layer = SessionLoop.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(SessionStore.SessionStore, store),
        ProviderRegistry.layerProviders([scripted.provider]),
        ToolRegistry.layerTools([echo, where, hang]),
        SessionBus.layer({ capacity: 4096 }).pipe(Layer.provide(Layer.succeed(DurableSink.DurableSink, sink.sink))),
        CodetetherConfig.layerDefaults,
        SystemPrompt.layerStatic("You are a test agent.")
      ))
    )
    const context = yield* Layer.build(layer)
    const loop = yield* SessionLoop.SessionLoop.pipe(Effect.provide(context))
    const bus = yield* SessionBus.SessionBus.pipe(Effect.provide(context))
    return { scripted, store, sink, loop, bus }
  })

const tags = (events: ReadonlyArray<SessionEvent.SessionEvent>) => events.map((e) => e._tag)

const session = () => Sessions.make({ title: null, messages: 0, directory: "/work/project" })

describe("SessionLoop", () => {
  it.effect("a two-step prompt: events in 4.5.7 order, tool results after their call, usage and tool uses recorded", () =>
    Effect.gen(function*() {
      const { scripted, store, loop } = yield* setup([
        Scripted.callTools([
          { id: "c1", name: "echo", arguments: "{\"text\":\"one\"}" },
          { id: "c2", name: "where", arguments: "{}" }
        ], { text: "Let me check.", usage: [100, 20] }),
        Scripted.answer("All done.", { usage: [150, 30], thinking: "I know the answer" })
      ])
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "List the files please")))
      expect(tags(events)).toEqual([
        "Thinking",
        "Thinking",
        "TextChunk",
        "UsageReport",
        "TokenUsage",
        "TextChunk",
        "TextComplete",
        "ToolCallStart",
        "ToolCallComplete",
        "ToolCallStart",
        "ToolCallComplete",
        "Thinking",
        ...Array.from({ length: 2 }, () => "TextChunk"), // "All done." streamed in 8-character pieces
        "UsageReport",
        "TokenUsage",
        "ThinkingComplete",
        "TextChunk",
        "TextComplete",
        "SessionSync",
        "Done"
      ])
      const sync = events.find((e) => e._tag === "SessionSync")
      assert(sync?._tag === "SessionSync")
      const saved = yield* store.load(sync.session.id)
      expect(saved).toEqual(sync.session)
      expect(saved.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool", "assistant"])
      const [, assistant, first, second, final] = saved.messages as [Message.Message, Message.Message, Message.Message, Message.Message, Message.Message]
      expect(assistant.content).toEqual([
        { type: "text", text: "Let me check." },
        { type: "tool_call", id: "c1", name: "echo", arguments: "{\"text\":\"one\"}" },
        { type: "tool_call", id: "c2", name: "where", arguments: "{}" }
      ])
      expect(first.content).toEqual([{ type: "tool_result", toolCallId: "c1", content: "echo: one" }])
      expect(second.content).toEqual([{ type: "tool_result", toolCallId: "c2", content: "/work/project" }])
      expect(final.content).toEqual([{ type: "thinking", text: "I know the answer" }, { type: "text", text: "All done." }])
      expect(saved.usage).toEqual({ promptTokens: 250, completionTokens: 50, totalTokens: 300, cacheReadTokens: null, cacheWriteTokens: null })
      expect(saved.toolUses).toEqual([
        { id: "c1", name: "echo", input: "{\"text\":\"one\"}", output: "echo: one", success: true },
        { id: "c2", name: "where", input: "{}", output: "/work/project", success: true }
      ])
      expect(saved.title).toBe("List the files please")
      const complete = events.filter((e) => e._tag === "ToolCallComplete")
      expect(complete.map((e) => e._tag === "ToolCallComplete" && [e.name, e.output, e.success])).toEqual([
        ["echo", "echo: one", true],
        ["where", "/work/project", true]
      ])
      // requests: system prompt first, the whole transcript, the tools, the default model
      expect(scripted.requests).toHaveLength(2)
      const request = scripted.requests[1]!
      expect(request.model).toBe("scripted-model")
      expect(request.messages[0]).toEqual({ role: "system", content: [{ type: "text", text: "You are a test agent." }] })
      expect(request.messages.slice(1)).toEqual(saved.messages.slice(0, 4))
      expect(request.tools.map((t) => t.name)).toEqual(["echo", "where", "hang"])
      expect(request.maxTokens).toBe(8192)
      expect(request.temperature).toBe(0.7)
    }))

  it.effect("streams the step text as growing snapshots and answers with the trimmed text of every step", () =>
    Effect.gen(function*() {
      const { loop } = yield* setup([
        Scripted.callTools([{ id: "c1", name: "echo", arguments: "{\"text\":\"x\"}" }], { text: "  first  " }),
        Scripted.answer("second part", { chunk: 4 })
      ])
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "go")))
      const chunks = events.flatMap((e) => (e._tag === "TextChunk" ? [e.text] : []))
      expect(chunks).toEqual(["  first  ", "first", "seco", "second p", "second part", "second part"])
      const result = yield* loop.prompt(session(), "go").pipe(Effect.exit)
      expect(Exit.isFailure(result)).toBe(true) // the scripted provider has no more responses
    }))

  it.effect("text snapshots stop growing at MAX_SNAPSHOT_BYTES, cut at a UTF-8 boundary; the message keeps all", () =>
    Effect.gen(function*() {
      // 3-byte characters: the byte limit falls inside one of them
      const text = "é€".repeat(60_000) // 300,000 bytes, 120,000 UTF-16 units
      const { loop } = yield* setup([Scripted.answer(text, { chunk: 4096 })])
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "go")))
      const all = events.flatMap((e) => (e._tag === "TextChunk" ? [e.text] : []))
      expect(all.at(-1)).toBe(text) // the step's final TextChunk carries the whole text (4.5.7)
      const chunks = all.slice(0, -1) // the streamed snapshots
      const bytes = (s: string) => Buffer.byteLength(s)
      const growing = chunks.filter((c) => !c.endsWith(" …[truncated]"))
      const cut = chunks.filter((c) => c.endsWith(" …[truncated]"))
      expect(growing.length).toBeGreaterThan(0)
      for (const c of growing) expect(text.startsWith(c) && bytes(c) <= SessionLoop.MAX_SNAPSHOT_BYTES).toBe(true)
      expect(cut.length).toBeGreaterThan(1)
      const body = cut[0]!.slice(0, -" …[truncated]".length)
      expect(text.startsWith(body)).toBe(true) // no U+FFFD: the cut is on a character boundary
      expect(bytes(body)).toBeLessThanOrEqual(SessionLoop.MAX_SNAPSHOT_BYTES)
      expect(bytes(body)).toBeGreaterThan(SessionLoop.MAX_SNAPSHOT_BYTES - 4)
      expect(new Set(cut).size).toBe(1)
      const complete = events.flatMap((e) => (e._tag === "TextComplete" ? [e.text] : []))
      expect(complete).toEqual([text])
    }))

  it.effect("prompt returns the answer, the saved session and the steps; events reach the bus", () =>
    Effect.gen(function*() {
      const { loop, bus } = yield* setup([
        Scripted.callTools([{ id: "a", name: "echo", arguments: "{\"text\":\"hi\"}" }], { text: "Working." }),
        Scripted.answer("Finished.")
      ])
      const subscription = yield* bus.subscribe
      const received = yield* subscription.pipe(Stream.takeUntil((e) => e.event._tag === "Done"), Stream.runCollect, Effect.forkChild)
      const outcome = yield* loop.prompt(session(), "hello")
      expect(outcome.result.text).toBe("Working.\nFinished.")
      expect(outcome.result.sessionId).toBe(outcome.session.id)
      expect(outcome.steps).toBe(2)
      const envelopes = Array.from(yield* Fiber.join(received))
      expect(envelopes.every((e) => e.sessionId === outcome.session.id)).toBe(true)
      expect(envelopes.at(-1)?.event._tag).toBe("Done")
    }))

  it.effect("exhausting max steps is not an error; the session is saved after every step", () =>
    Effect.gen(function*() {
      const loopForever = Array.from({ length: 5 }, (_, i) => Scripted.callTools([{ id: `c${i}`, name: "echo", arguments: `{"text":"${i}"}` }]))
      const { loop, store, scripted } = yield* setup(loopForever)
      const start = session()
      const outcome = yield* loop.prompt(start, "keep going", { maxSteps: 3 })
      expect(outcome.steps).toBe(3)
      expect(scripted.requests).toHaveLength(3)
      expect(scripted.remaining()).toBe(2)
      expect(outcome.session.messages).toHaveLength(1 + 3 * 2)
      expect(yield* store.load(start.id)).toEqual(outcome.session)
      // each request after the first saw the previous steps already saved (the store was written per step)
      expect(scripted.requests[2]!.messages).toHaveLength(1 + 1 + 2 * 2)
    }))

  it.effect("question is blocked, unknown tools and cut-off arguments get 4.5.7's error results, the loop goes on", () =>
    Effect.gen(function*() {
      const { loop } = yield* setup([
        Scripted.callTools([
          { id: "q", name: "question", arguments: "{\"question\":\"which?\"}" },
          { id: "u", name: "teleport", arguments: "{}" },
          { id: "t", name: "echo", arguments: "{\"text\":\"cut off" }
        ]),
        Scripted.answer("ok")
      ])
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(session(), "go")))
      const sync = events.find((e) => e._tag === "SessionSync")
      assert(sync?._tag === "SessionSync")
      const results = sync.session.messages.filter((m) => m.role === "tool").map((m) => m.content[0])
      expect(results).toEqual([
        { type: "tool_result", toolCallId: "q", content: Tool.QUESTION_BLOCKED },
        { type: "tool_result", toolCallId: "u", content: "Error: Unknown tool 'teleport'" },
        { type: "tool_result", toolCallId: "t", content: SessionLoop.truncatedCallText("echo") }
      ])
      const calls = events.filter((e) => e._tag === "ToolCallStart" || e._tag === "ToolCallComplete")
      expect(calls.map((e) => e._tag)).toEqual(["ToolCallStart", "ToolCallComplete", "ToolCallStart", "ToolCallComplete", "ToolCallComplete"])
      expect(sync.session.toolUses.map((u) => u.success)).toEqual([false, false, false])
    }))

  it.effect("a provider error saves the completed steps, then publishes Error and Done", () =>
    Effect.gen(function*() {
      const { loop, store } = yield* setup([
        Scripted.callTools([{ id: "c1", name: "echo", arguments: "{\"text\":\"a\"}" }]),
        Scripted.fail("scripted: 503 overloaded")
      ])
      const start = session()
      const collected: Array<SessionEvent.SessionEvent> = []
      const exit = yield* loop.promptStream(start, "try").pipe(
        Stream.runForEach((e) => Effect.sync(() => collected.push(e))),
        Effect.exit
      )
      assert(Exit.isFailure(exit))
      expect(tags(collected).slice(-2)).toEqual(["Error", "Done"])
      const error = collected.at(-2)
      assert(error?._tag === "Error")
      expect(error.message).toBe("scripted: 503 overloaded")
      const saved = yield* store.load(start.id)
      expect(saved.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      const failed = yield* Effect.flip(loop.prompt(saved, "again"))
      expect(failed).toMatchObject({ _tag: "SessionLoopError", reason: "Provider" })
    }))

  it.effect("with no provider the error is 4.5.7's, nothing is appended or saved", () =>
    Effect.gen(function*() {
      const store = SessionStore.makeMemory()
      const loop = yield* SessionLoop.SessionLoop.pipe(Effect.provide(SessionLoop.layer.pipe(Layer.provide(Layer.mergeAll(
        Layer.succeed(SessionStore.SessionStore, store),
        ProviderRegistry.layerProviders([]),
        ToolRegistry.layerTools([]),
        SessionBus.layer().pipe(Layer.provide(DurableSink.layerNoop)),
        CodetetherConfig.layerDefaults,
        SystemPrompt.layerStatic("x")
      )))))
      const start = session()
      const error = yield* Effect.flip(loop.prompt(start, "hi"))
      expect(error).toMatchObject({ _tag: "SessionLoopError", reason: "Provider" })
      expect(error.message).toMatch(/^No providers available\./)
      expect((yield* Effect.exit(store.load(start.id)))._tag).toBe("Failure")
    }))

  it.live("interruption during a tool call saves the session with an interrupted result, then Error and Done", () =>
    Effect.gen(function*() {
      const { loop, store } = yield* setup([
        Scripted.callTools([
          { id: "ok", name: "echo", arguments: "{\"text\":\"done before\"}" },
          { id: "stuck", name: "hang", arguments: "{}" }
        ])
      ])
      const start = session()
      const collected: Array<SessionEvent.SessionEvent> = []
      const fiber = yield* loop.promptStream(start, "run the slow thing").pipe(
        Stream.runForEach((e) => Effect.sync(() => collected.push(e))),
        Effect.forkChild
      )
      while (collected.filter((e) => e._tag === "ToolCallStart").length < 2) yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(fiber)
      const saved = yield* store.load(start.id)
      const results = saved.messages.filter((m) => m.role === "tool").map((m) => m.content[0])
      expect(results).toEqual([
        { type: "tool_result", toolCallId: "ok", content: "echo: done before" },
        { type: "tool_result", toolCallId: "stuck", content: SessionLoop.INTERRUPTED_CALL_TEXT }
      ])
      expect(saved.toolUses.map((u) => [u.id, u.success])).toEqual([["ok", true], ["stuck", false]])
    }))

  it.live("interruption while the model streams keeps the completed steps and publishes Error then Done on the bus", () =>
    Effect.gen(function*() {
      const { loop, store, bus } = yield* setup([
        Scripted.callTools([{ id: "c1", name: "echo", arguments: "{\"text\":\"a\"}" }]),
        { _tag: "Hang" }
      ])
      const subscription = yield* bus.subscribe
      const events = yield* subscription.pipe(Stream.takeUntil((e) => e.event._tag === "Done"), Stream.runCollect, Effect.forkChild)
      const start = session()
      const fiber = yield* Effect.forkChild(loop.prompt(start, "go"))
      let saved = yield* Effect.exit(store.load(start.id))
      while (Exit.isFailure(saved)) {
        yield* Effect.sleep("5 millis")
        saved = yield* Effect.exit(store.load(start.id))
      }
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
      const all = Array.from(yield* Fiber.join(events)).map((e) => e.event)
      expect(tags(all).slice(-2)).toEqual(["Error", "Done"])
      const error = all.at(-2)
      assert(error?._tag === "Error")
      expect(error.message).toBe("Interrupted")
      expect((yield* store.load(start.id)).messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
    }))

  it.effect("durable TokenUsage events are written to the sink; images go into the user message", () =>
    Effect.gen(function*() {
      const { loop, sink, scripted } = yield* setup([Scripted.answer("seen", { usage: [40, 2] })])
      const image = ImageAttachment.fromBase64("image/png", "iVBORw0KGgo=")
      const outcome = yield* loop.prompt(session(), "what is this?", { images: [image] })
      expect(outcome.session.messages[0]!.content).toEqual([
        { type: "text", text: "what is this?" },
        { type: "image", url: "data:image/png;base64,iVBORw0KGgo=", mimeType: "image/png" }
      ])
      expect(scripted.requests[0]!.messages[1]).toEqual(outcome.session.messages[0])
      const records = yield* sink.records
      expect(records).toHaveLength(1)
      expect(records[0]).toMatchObject({
        session_id: outcome.session.id,
        kind: "token_usage",
        payload: { source: "root", model: "scripted-model", prompt_tokens: 40, completion_tokens: 2 }
      })
    }))

  it.effect("the session's model selector picks the provider and model; a title is kept once set", () =>
    Effect.gen(function*() {
      const { loop, scripted } = yield* setup([Scripted.answer("a"), Scripted.answer("b")])
      const start = { ...session(), metadata: { ...session().metadata, model: "scripted/kimi-k2-turbo" } }
      const first = yield* loop.prompt(start, "first request")
      const second = yield* loop.prompt(first.session, "second request")
      expect(scripted.requests.map((r) => [r.model, r.temperature])).toEqual([["kimi-k2-turbo", 1], ["kimi-k2-turbo", 1]])
      expect(second.session.title).toBe("first request")
      expect(second.session.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"])
    }))

  const words = (tokens: number, seed: string) => `${seed} `.repeat(tokens).trim() // ~1 token per word of 3 chars + space

  it.effect("compresses older messages when a request would exceed the model's window, and says so with durable events", () =>
    Effect.gen(function*() {
      const { loop, scripted, sink } = yield* setup([Scripted.answer("fits now")])
      const history = Array.from({ length: 30 }, (_, i) => Message_.text(i % 2 === 0 ? "user" : "assistant", words(1000, `m${i % 10}`)))
      const start = { ...session(), messages: history, metadata: { ...session().metadata, model: "scripted/mistral-small" } }
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(start, "go on")))
      const compaction = events.filter((e) => e._tag.startsWith("Compaction") || e._tag === "ContextTruncated")
      expect(compaction.map((e) => e._tag)).toEqual(["CompactionStarted", "CompactionCompleted"])
      const completed = compaction[1]
      assert(completed?._tag === "CompactionCompleted")
      expect(completed.payload.strategy).toBe("chunk_compress")
      expect(completed.payload.afterTokens).toBeLessThanOrEqual(19_584)
      expect(completed.payload.beforeTokens).toBeGreaterThan(19_584)
      const sent = scripted.requests[0]!.messages
      expect(Message_.textOf(sent[1]!)).toMatch(/^\[AUTO CONTEXT COMPRESSION\]/)
      expect(sent.at(-1)).toEqual(Message_.text("user", "go on"))
      expect(sent.length).toBe(1 + 1 + completed.payload.keptMessages - 1)
      const kinds = (yield* sink.records).map((r) => r.kind)
      expect(kinds).toEqual(["compaction_started", "compaction_completed", "token_usage"])
    }))

  it.effect("truncates to the last messages when compression is not enough, and reports a failure when even that does not fit", () =>
    Effect.gen(function*() {
      const { loop } = yield* setup([Scripted.answer("ok")])
      const history = Array.from({ length: 10 }, (_, i) => Message_.text(i % 2 === 0 ? "user" : "assistant", words(9000, `w${i}`)))
      const start = { ...session(), messages: history, metadata: { ...session().metadata, model: "scripted/mistral-small" } }
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(start, "next")))
      const compaction = events.filter((e) => e._tag.startsWith("Compaction") || e._tag === "ContextTruncated")
      expect(compaction.map((e) => e._tag)).toEqual(["CompactionStarted", "ContextTruncated", "CompactionCompleted", "CompactionFailed"])
      const failed = compaction[3]
      assert(failed?._tag === "CompactionFailed")
      expect(failed.payload.fellBackTo).toBe("truncate")
      const sync = events.find((e) => e._tag === "SessionSync")
      assert(sync?._tag === "SessionSync")
      expect(Message_.textOf(sync.session.messages[0]!).split("\n")[0]).toBe("[CONTEXT TRUNCATED]")
    }))

  it.effect("a transcript larger than a JavaScript string can hold is compacted and the prompt goes on", () =>
    Effect.gen(function*() {
      const { loop, scripted } = yield* setup([Scripted.answer("still here")])
      // 600 messages of 1 MiB characters each (one shared part): rendering them
      // for the summary as one string would throw "Invalid string length"
      const part: Message.ContentPart = { type: "text", text: "lorem ipsum ".repeat(1 << 17).slice(0, 1 << 20) }
      const history: Array<Message.Message> = Array.from({ length: 608 }, (_, i) => ({
        role: i % 2 === 0 ? "user" : "assistant",
        content: i < 600 ? [part] : [{ type: "text", text: `recent ${i}` }]
      }))
      const start = { ...session(), messages: history }
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(start, "next step")))
      const compaction = events.filter((e) => e._tag.startsWith("Compaction") || e._tag === "ContextTruncated")
      expect(compaction.map((e) => e._tag)).toEqual(["CompactionStarted", "CompactionCompleted"])
      const [started, completed] = compaction
      assert(started?._tag === "CompactionStarted" && completed?._tag === "CompactionCompleted")
      expect(started.payload.beforeTokens).toBeGreaterThan(150_000_000)
      expect(completed.payload.afterTokens).toBeLessThanOrEqual(started.payload.budget)
      const sent = scripted.requests[0]!.messages
      // (booleans: a failing match would print megabytes)
      const summary = Message_.textOf(sent[1]!)
      expect(summary.startsWith("[AUTO CONTEXT COMPRESSION]\n")).toBe(true)
      expect(summary.includes("[0 User]\nlorem ipsum lorem")).toBe(true)
      expect(/\[\.\.\. \d+ characters of older conversation omitted \.\.\.\]/.test(summary)).toBe(true)
      expect(summary.length < 200_000).toBe(true)
      expect(sent.slice(2).map((m) => Message_.textOf(m))).toEqual([
        "recent 601", "recent 602", "recent 603", "recent 604", "recent 605", "recent 606", "recent 607", "next step"
      ])
      expect(events.at(-1)?._tag).toBe("Done")
      expect(events.some((e) => e._tag === "Error")).toBe(false)
    }))

  it.effect("a 'prompt too long' error compresses the history to its last 6 messages and retries once", () =>
    Effect.gen(function*() {
      const { loop, scripted } = yield* setup([
        { _tag: "Fail", error: new ProviderRegistry.ProviderError({ reason: "BadRequest", provider: "scripted", message: "scripted: 400 This model's maximum context length is 128000 tokens" }) },
        Scripted.answer("after the retry")
      ])
      const history = Array.from({ length: 12 }, (_, i) => Message_.text(i % 2 === 0 ? "user" : "assistant", `message ${i}`))
      const outcome = yield* loop.prompt({ ...session(), messages: history }, "one more")
      expect(outcome.result.text).toBe("after the retry")
      expect(scripted.requests).toHaveLength(2)
      expect(scripted.requests[0]!.messages).toHaveLength(1 + 13)
      expect(scripted.requests[1]!.messages).toHaveLength(1 + 1 + 6)
      const again = yield* Effect.flip(loop.prompt(outcome.session, "and again"))
      expect(again).toMatchObject({ _tag: "SessionLoopError", reason: "Provider" })
    }))

  it.effect("prompting twice with the same old session value: the second is a SessionConflict, the first exchange stays", () =>
    Effect.gen(function*() {
      const { store, loop } = yield* setup([Scripted.answer("first answer"), Scripted.answer("never sent")])
      const start = session()
      const first = yield* loop.prompt(start, "first question")
      const error = yield* Effect.flip(loop.prompt(start, "second question"))
      expect(error).toMatchObject({ _tag: "SessionConflict", reason: "Exists", sessionId: start.id })
      const stored = yield* store.load(start.id)
      expect(stored.messages.map((m) => Message_.textOf(m))).toEqual(["first question", "first answer"])
      // the value the first prompt returned continues the session
      const second = yield* loop.prompt(first.session, "second question")
      expect(second.session.messages).toHaveLength(4)
      const stale = yield* Effect.flip(loop.prompt(first.session, "third question"))
      expect(stale).toMatchObject({ _tag: "SessionConflict", reason: "Stale" })
      expect((yield* store.load(start.id)).messages).toHaveLength(4)
    }))

  it.effect("a busy session refuses a second prompt at once, writing nothing, and the first completes", () =>
    Effect.gen(function*() {
      const { scripted, store, loop } = yield* setup([
        Scripted.callTools([{ id: "h", name: "hang", arguments: "{}" }]),
        Scripted.answer("unused")
      ])
      const saved = yield* store.save(session())
      const running = yield* Effect.forkChild(loop.prompt(saved, "long task"))
      // once the model was asked, the first prompt holds the lease (and its tool hangs)
      while (scripted.requests.length === 0) yield* Effect.yieldNow
      const refused = yield* Effect.flip(loop.prompt(saved, "second"))
      expect(refused).toMatchObject({ _tag: "SessionBusy", holder: { pid: process.pid, purpose: "prompt" } })
      yield* Fiber.interrupt(running)
      const stored = yield* store.load(saved.id)
      expect(stored.messages.filter((m) => m.role === "user").map((m) => Message_.textOf(m))).toEqual(["long task"])
    }))
})
