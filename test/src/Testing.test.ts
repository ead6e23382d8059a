/**
 * The test kit (`codetether/testing`): `layerTest` composes a whole agent
 * over the scripted provider and in-memory store and sink, reading no
 * configuration; the scripted provider plays text, tool calls, failures and
 * delays; the kit imports no test runner.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Fiber, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as NodePath from "node:path"
import {
  CodetetherConfig,
  DurableSink,
  layerTest,
  Scripted,
  SessionBus,
  SessionLoop,
  SessionStore,
  ToolRegistry
} from "../../src/Testing.ts"
import * as ImportGraph from "../utils/ImportGraph.ts"

const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.succeed(`echo: ${text}`)
})

const newSession = Effect.gen(function*() {
  const config = yield* CodetetherConfig.CodetetherConfig
  return yield* config.newSession("/work/project")
})

/** A ConfigProvider that records every path asked for (and has no value for any). */
const spyConfig = () => {
  const asked: Array<string> = []
  const provider = ConfigProvider.make((path) =>
    Effect.sync(() => {
      asked.push(path.join("."))
      return undefined
    })
  )
  return { asked, provider }
}

describe("layerTest", () => {
  it.effect("a prompt with a tool call: the answer, the tool result, the durable records and the requests the model got", () =>
    Effect.gen(function*() {
      const loop = yield* SessionLoop.SessionLoop
      const { result, session, steps } = yield* loop.prompt(yield* newSession, "Say hello through echo")
      expect(result.text).toBe("The tool said: echo: hello")
      expect(steps).toBe(2)
      expect(session.toolUses.map((use) => [use.name, use.output, use.success])).toEqual([["echo", "echo: hello", true]])
      const stored = yield* (yield* SessionStore.SessionStore).load(session.id)
      expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])

      const records = yield* (yield* DurableSink.MemoryRecords).all
      expect(records.map((r) => [r.session_id, r.seq, r.kind])).toEqual([
        [session.id, 1, "token_usage"],
        [session.id, 2, "token_usage"]
      ])
      expect(records[1]!.payload).toMatchObject({ source: "root", model: "scripted-model", prompt_tokens: 30, completion_tokens: 7 })

      const requests = yield* (yield* Scripted.ScriptedModel).requests
      expect(requests).toHaveLength(2)
      expect(requests[0]!.messages[0]).toEqual({ role: "system", content: [{ type: "text", text: "You are a test agent." }] })
      expect(requests[0]!.tools.map((t) => t.name)).toEqual(["echo"])
      expect(requests[0]!.model).toBe("scripted-model")
      expect(requests[1]!.messages.at(-1)).toEqual({
        role: "tool",
        content: [{ type: "tool_result", toolCallId: "call_1_1", content: "echo: hello" }]
      })
      expect(yield* (yield* Scripted.ScriptedModel).remaining).toBe(0)
    }).pipe(Effect.provide(layerTest({
      turns: [
        Scripted.toolCall("echo", { text: "hello" }),
        Scripted.text(["The tool said: ", "echo: hello"], { usage: { input: 30, output: 7 } })
      ],
      tools: [echo]
    }))))

  it.effect("reads no configuration: not one Config key is asked for, and the settings given as values apply", () => {
    const spy = spyConfig()
    return Effect.gen(function*() {
      const config = yield* CodetetherConfig.CodetetherConfig
      expect([config.maxSteps, config.settings.maxSteps.source]).toEqual([1, { kind: "value" }])
      expect(config.files).toEqual([])
      const { result, steps } = yield* (yield* SessionLoop.SessionLoop).prompt(yield* newSession, "loop")
      // maxSteps 1: the tool ran, and the prompt stopped before asking again
      expect(steps).toBe(1)
      expect(result.text).toBe("")
      expect(spy.asked).toEqual([])
      const requests = yield* (yield* Scripted.ScriptedModel).requests
      expect(requests[0]!.messages[0]).toEqual({ role: "system", content: [{ type: "text", text: "Be brief." }] })
    }).pipe(
      Effect.provide(layerTest({
        turns: [Scripted.toolCall("echo", { text: "x" }), Scripted.text("never asked")],
        tools: [echo],
        systemPrompt: "Be brief.",
        config: { maxSteps: 1 }
      })),
      Effect.provideService(ConfigProvider.ConfigProvider, spy.provider)
    )
  })

  it.effect("a failing turn fails the prompt with the provider's error after Error and Done events", () =>
    Effect.gen(function*() {
      const loop = yield* SessionLoop.SessionLoop
      const exit = yield* Effect.exit(Stream.runCollect(loop.promptStream(yield* newSession, "hi")))
      assert(Exit.isFailure(exit))
      const error = exit.cause.reasons.find((r) => r._tag === "Fail")
      assert(error?._tag === "Fail" && error.error._tag === "SessionLoopError")
      expect(error.error.reason).toBe("Provider")
      expect(error.error.message).toBe("scripted: 429 Too Many Requests")
    }).pipe(Effect.provide(layerTest({ turns: [Scripted.fail("RateLimited", "scripted: 429 Too Many Requests")] }))))

  it.effect("a delayed turn answers when the clock gets there", () =>
    Effect.gen(function*() {
      const loop = yield* SessionLoop.SessionLoop
      const fiber = yield* Effect.forkChild(loop.prompt(yield* newSession, "slowly"))
      yield* TestClock.adjust("9 seconds")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 second")
      const { result } = yield* Fiber.join(fiber)
      expect(result.text).toBe("done")
    }).pipe(Effect.provide(layerTest({ turns: [Scripted.text("done", { delay: "10 seconds" })] }))))

  it.effect("a request after the last turn fails loudly", () =>
    Effect.gen(function*() {
      const loop = yield* SessionLoop.SessionLoop
      const error = yield* Effect.flip(loop.prompt(yield* newSession, "one step too many"))
      expect(error.message).toBe("scripted: no turn left (1 were scripted)")
    }).pipe(Effect.provide(layerTest({ turns: [Scripted.toolCall("echo", { text: "x" })], tools: [echo] }))))

  it.effect("a refused prompt emits the set-up Thinking, then Error and Done (4.5.7 §6.2 step 1)", () =>
    Effect.gen(function*() {
      const store = yield* SessionStore.SessionStore
      const bus = yield* SessionBus.SessionBus
      const loop = yield* SessionLoop.SessionLoop
      const session = yield* store.save(yield* newSession)
      const events = yield* bus.subscribe
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lease(session)
        const error = yield* Effect.flip(loop.prompt(session, "busy?"))
        expect(error._tag).toBe("SessionBusy")
      }))
      const seen = yield* Stream.runCollect(Stream.take(events, 3))
      expect(Array.from(seen, (e) => e.event._tag)).toEqual(["Thinking", "Error", "Done"])
    }).pipe(Effect.provide(layerTest({ turns: [] }))))

  it.effect("a successful prompt starts with the set-up Thinking and the first step's", () =>
    Effect.gen(function*() {
      const loop = yield* SessionLoop.SessionLoop
      const events = yield* Stream.runCollect(loop.promptStream(yield* newSession, "hi"))
      expect(Array.from(events, (e) => e._tag)).toEqual([
        "Thinking",
        "Thinking",
        "TextChunk",
        "UsageReport",
        "TokenUsage",
        "TextChunk",
        "TextComplete",
        "SessionSync",
        "Done"
      ])
    }).pipe(Effect.provide(layerTest({ turns: [Scripted.text("hello")] }))))

  it("imports no test runner, and no provider SDK", () => {
    const { files, packages } = ImportGraph.reach(NodePath.resolve(import.meta.dirname, "../../src/Testing.ts"))
    expect(files.size).toBeGreaterThan(20)
    const offending = [...packages].filter((p) => /^(vitest|@effect\/vitest|openai|@anthropic-ai\/sdk)(\/|$)/.test(p))
    expect(offending).toEqual([])
    expect(packages.has("effect/Layer")).toBe(true)
  })
})
