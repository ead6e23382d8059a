/**
 * `ProviderRegistry.fromLanguageModel`: a codetether session driven by an
 * Effect AI `LanguageModel` (a scripted one, built with `LanguageModel.make`
 * as a provider package would), with codetether's loop running the tools.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Schema, Stream } from "effect"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import type * as Provider from "../../../schemas/Provider.ts"
import * as CodetetherConfig from "../../../services/CodetetherConfig.ts"
import * as DurableSink from "../../../services/DurableSink.ts"
import * as ProviderRegistry from "../../../services/ProviderRegistry.ts"
import * as SessionBus from "../../../services/SessionBus.ts"
import * as SessionLoop from "../../../services/SessionLoop.ts"
import * as SessionStore from "../../../services/SessionStore.ts"
import * as SystemPrompt from "../../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import { failure, request } from "./contract.ts"

/** A LanguageModel answering each `streamText` call with the next script, recording the provider options. */
const scriptedModel = (scripts: Array<Stream.Stream<Response.StreamPartEncoded, AiError.AiError>>) =>
  Effect.gen(function*() {
    const calls: Array<LanguageModel.ProviderOptions> = []
    const model = yield* LanguageModel.make({
      generateText: () => Effect.die("generateText is not used"),
      streamText: (options) => {
        calls.push(options)
        return scripts.shift() ?? Stream.die("no script left")
      }
    })
    return { model, calls }
  })

const parts = (...items: ReadonlyArray<Record<string, unknown>>) =>
  Stream.fromIterable(items as unknown as ReadonlyArray<Response.StreamPartEncoded>)

const usage = (input: number, output: number) => ({ inputTokens: { total: input }, outputTokens: { total: output } })

const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.succeed(`echo: ${text}`)
})

const collect = (provider: ProviderRegistry.Provider, req: Provider.CompletionRequest = request) =>
  Effect.gen(function*() {
    const events: Array<Provider.StreamEvent> = []
    const exit = yield* provider.stream(req).pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push(event))),
      Effect.exit
    )
    return { events, exit }
  })

describe("ProviderRegistry.fromLanguageModel", () => {
  it.effect("drives a prompt: the transcript and tools reach the model, its tool call runs in the loop, usage is recorded", () =>
    Effect.gen(function*() {
      const { calls, model } = yield* scriptedModel([
        parts(
          { type: "text-delta", id: "t1", delta: "Let me check." },
          { type: "tool-params-start", id: "c1", name: "echo" },
          { type: "tool-params-delta", id: "c1", delta: "{\"text\":" },
          { type: "tool-params-delta", id: "c1", delta: "\"hi\"}" },
          { type: "tool-params-end", id: "c1" },
          { type: "tool-call", id: "c1", name: "echo", params: { text: "hi" } },
          { type: "finish", reason: "tool-calls", usage: usage(12, 4) }
        ),
        parts(
          { type: "reasoning-delta", id: "r1", delta: "It echoed." },
          { type: "text-delta", id: "t2", delta: "The echo said hi." },
          { type: "finish", reason: "stop", usage: usage(30, 6) }
        )
      ])
      const layer = SessionLoop.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(
          SessionStore.layerMemory,
          ProviderRegistry.layerProviders([ProviderRegistry.fromLanguageModel(model, { name: "effect", defaultModel: "gpt-test" })]),
          ToolRegistry.layerTools([echo]),
          SessionBus.layer().pipe(Layer.provide(DurableSink.layerMemory)),
          CodetetherConfig.layerDefaults,
          SystemPrompt.layerStatic("You are terse.")
        ))
      )
      const { result, session } = yield* Effect.gen(function*() {
        const config = yield* CodetetherConfig.CodetetherConfig
        const loop = yield* SessionLoop.SessionLoop
        return yield* loop.prompt(yield* config.newSession("/work/project"), "Say hi through echo")
      }).pipe(Effect.provide(layer))

      expect(result.text).toBe("Let me check.\nThe echo said hi.")
      expect(session.toolUses).toEqual([{ id: "c1", name: "echo", input: "{\"text\":\"hi\"}", output: "echo: hi", success: true }])
      expect(session.usage).toMatchObject({ promptTokens: 42, completionTokens: 10, totalTokens: 52 })
      expect(session.messages.at(-1)!.content).toEqual([
        { type: "thinking", text: "It echoed." },
        { type: "text", text: "The echo said hi." }
      ])

      expect(calls).toHaveLength(2)
      expect(calls[0]!.tools.map((t) => t.name)).toEqual(["echo"])
      expect(Tool.getJsonSchema(calls[0]!.tools[0]!)).toEqual(echo.parameters)
      expect(Tool.getDescription(calls[0]!.tools[0]!)).toBe("Returns its text.")
      const second = calls[1]!.prompt.content
      expect(second.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"])
      expect(second[0]).toMatchObject({ role: "system", content: "You are terse." })
      expect(second[1]!.content).toMatchObject([{ type: "text", text: "Say hi through echo" }])
      expect(second[2]!.content).toMatchObject([
        { type: "text", text: "Let me check." },
        { type: "tool-call", id: "c1", name: "echo", params: { text: "hi" } }
      ])
      expect(second[3]!.content).toMatchObject([{ type: "tool-result", id: "c1", name: "echo", isFailure: false, result: "echo: hi" }])
    }))

  it.effect("a complete tool-call part (no parameter deltas) of an undeclared tool reaches the loop as a call", () =>
    Effect.gen(function*() {
      const { model } = yield* scriptedModel([
        parts(
          { type: "tool-call", id: "x1", name: "not_offered", params: { a: 1 } },
          { type: "finish", reason: "tool-calls", usage: usage(1, 1) }
        )
      ])
      const { events, exit } = yield* collect(ProviderRegistry.fromLanguageModel(model))
      assert(Exit.isSuccess(exit))
      expect(events.map((e) => e._tag)).toEqual(["ToolCallStart", "ToolCallDelta", "ToolCallEnd", "Usage", "Finish"])
      expect(events[0]).toMatchObject({ id: "x1", name: "not_offered" })
      expect(events[1]).toMatchObject({ argumentsDelta: "{\"a\":1}" })
      expect(events[4]).toMatchObject({ reason: "tool_calls" })
    }))

  it.effect("Effect AI failures become ProviderErrors: a rate limit keeps its retry hint; an error part fails the stream", () =>
    Effect.gen(function*() {
      const limited = AiError.make({
        module: "OpenAiLanguageModel",
        method: "streamText",
        reason: new AiError.RateLimitError({ retryAfter: Duration.seconds(3) })
      })
      const { model } = yield* scriptedModel([
        Stream.fail(limited),
        parts({ type: "text-delta", id: "t", delta: "partial" }, { type: "error", error: "upstream broke" })
      ])
      const provider = ProviderRegistry.fromLanguageModel(model)
      const first = failure((yield* collect(provider)).exit)
      expect(first).toMatchObject({ reason: "RateLimited", provider: "effect-ai", retryAfterMs: 3000 })
      expect(first.message).toMatch(/^effect-ai: OpenAiLanguageModel\.streamText: Rate limit exceeded/)
      const second = yield* collect(provider)
      expect(second.events.map((e) => e._tag)).toEqual(["TextDelta"])
      expect(failure(second.exit)).toMatchObject({ reason: "Stream", message: "effect-ai: upstream broke" })
    }))

  it.effect("layerLanguageModel: the LanguageModel of the context as the only provider", () =>
    Effect.gen(function*() {
      const { model } = yield* scriptedModel([])
      const registry = yield* ProviderRegistry.ProviderRegistry.pipe(
        Effect.provide(ProviderRegistry.layerLanguageModel({ name: "ai" })),
        Effect.provideService(LanguageModel.LanguageModel, model)
      )
      const selected = yield* registry.select(null)
      expect([selected.provider.name, selected.provider.kind, selected.model]).toEqual(["ai", "embedded", "language-model"])
    }))
})
