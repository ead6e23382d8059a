/**
 * What an embedding app observes of a prompt: the typed cause of a
 * `SessionLoopError` (the provider's error with its HTTP status, the store's
 * error), the per-prompt `model` option, and the telemetry (OpenTelemetry
 * GenAI spans for the prompt, each step, each model call and each tool call;
 * log lines annotated with the session id). The provider is the real OpenAI
 * SDK pointed at a local wire-protocol server.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Redacted, References, Schema, Tracer } from "effect"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Sessions from "../utils/Sessions.ts"

const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.succeed(`echo: ${text}`)
})

/** A loop over the OpenAI provider at `baseUrl` and `store` (default: a memory store). */
const loopFor = (baseUrl: string, store: SessionStore.SessionStore["Service"] = SessionStore.makeMemory()) =>
  SessionLoop.SessionLoop.pipe(Effect.provide(SessionLoop.layer.pipe(Layer.provide(Layer.mergeAll(
    Layer.succeed(SessionStore.SessionStore, store),
    ProviderRegistry.layerProviders([
      ProviderRegistry.openAi({ apiKey: Redacted.make("sk-test"), baseUrl, defaultModel: "gpt-default" })
    ]),
    ToolRegistry.layerTools([echo]),
    SessionBus.layer().pipe(Layer.provide(DurableSink.layerNoop)),
    CodetetherConfig.layerDefaults,
    SystemPrompt.layerStatic("You are a test agent.")
  )))))

const session = () => Sessions.make({ title: null, messages: 0, directory: "/work/project" })

/** Runs `effect` with a tracer that keeps every span it starts. */
const traced = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({
      span(options) {
        const span = new Tracer.NativeSpan(options)
        spans.push(span)
        return span
      }
    })
    const exit = yield* Effect.exit(Effect.withTracer(effect, tracer))
    return { exit, spans }
  })

describe("SessionLoop failures are typed", () => {
  it.effect("an HTTP 401 is a Provider SessionLoopError whose cause is the ProviderError, status included", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.httpError(401, "Incorrect API key provided"))
      const loop = yield* loopFor(server.url)
      const error = yield* Effect.flip(loop.prompt(session(), "hi"))
      assert(error._tag === "SessionLoopError")
      expect(error.reason).toBe("Provider")
      // typed: no instanceof needed to read the provider's reason and status
      const cause = error.cause
      assert(cause?._tag === "ProviderError")
      expect(cause.reason).toBe("Authentication")
      expect(cause.status).toBe(401)
      expect(error.providerError).toBe(cause)
      expect(error.storeError).toBeUndefined()
      expect(server.requests).toHaveLength(1) // not retried
    }))

  it.effect("a failed save is a Store SessionLoopError whose cause is the SessionStoreError", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("hello"))
      const memory = SessionStore.makeMemory()
      const full = new SessionStore.SessionStoreError({ reason: "Io", message: "ENOSPC: no space left on device" })
      const store = SessionStore.SessionStore.of({
        ...memory,
        lease: (value, options) =>
          Effect.map(memory.lease(value, options), (lease) => ({ ...lease, save: () => Effect.fail(full) }))
      })
      const loop = yield* loopFor(server.url, store)
      const error = yield* Effect.flip(loop.prompt(session(), "hi"))
      assert(error._tag === "SessionLoopError")
      expect(error.reason).toBe("Store")
      assert(error.cause?._tag === "SessionStoreError")
      expect(error.cause.reason).toBe("Io")
      expect(error.storeError).toBe(full)
      expect(error.providerError).toBeUndefined()
    }))

  it.effect("a busy session fails with SessionBusy itself, not wrapped", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      const store = SessionStore.makeMemory()
      const start = yield* store.save(session())
      const loop = yield* loopFor(server.url, store)
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lease(start)
        const error = yield* Effect.flip(loop.prompt(start, "hi"))
        expect(error._tag).toBe("SessionBusy")
      }))
      expect(server.requests).toHaveLength(0)
    }))
})

describe("PromptOptions.model", () => {
  it.effect("selects the model of one prompt; the session's metadata.model is not changed", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("from the chosen model"))
      server.enqueue(OpenAiServer.text("from the default model"))
      const loop = yield* loopFor(server.url)
      const first = yield* loop.prompt(session(), "one", { model: "openai/gpt-chosen" })
      expect(first.result.text).toBe("from the chosen model")
      expect(first.session.metadata.model).toBeNull()
      const second = yield* loop.prompt(first.session, "two")
      expect(second.result.text).toBe("from the default model")
      expect(server.requests.map((r) => r.body.model)).toEqual(["gpt-chosen", "gpt-default"])
    }))

  it.effect("an unknown provider fails the prompt before anything is appended", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      const store = SessionStore.makeMemory()
      const loop = yield* loopFor(server.url, store)
      const start = session()
      const error = yield* Effect.flip(loop.prompt(start, "hi", { model: "nowhere/some-model" }))
      assert(error._tag === "SessionLoopError")
      expect(error.reason).toBe("Provider")
      expect(error.providerError?._tag).toBe("ProviderError")
      expect((yield* Effect.exit(store.load(start.id)))._tag).toBe("Failure")
      expect(server.requests).toHaveLength(0)
    }))
})

describe("SessionLoop telemetry", () => {
  it.effect("spans: invoke_agent > SessionLoop.step > chat <model> and execute_tool <name>, with GenAI attributes", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.toolCalls([{ id: "call-1", name: "echo", arguments: { text: "x" } }], {
        usage: { input: 120, output: 7 }
      }))
      server.enqueue(OpenAiServer.text("done", { usage: { input: 150, output: 3 } }))
      const loop = yield* loopFor(server.url)
      const start = session()
      const { exit, spans } = yield* traced(loop.prompt(start, "use the tool", { model: "openai/gpt-traced" }))
      assert(exit._tag === "Success")
      const named = (prefix: string) => spans.filter((s) => s.name.startsWith(prefix))

      const [agent] = named("invoke_agent ")
      assert(agent !== undefined)
      expect(agent.name).toBe(`invoke_agent ${start.agent}`)
      expect(agent.attributes.get("gen_ai.operation.name")).toBe("invoke_agent")
      expect(agent.attributes.get("gen_ai.conversation.id")).toBe(start.id)
      expect(agent.status._tag).toBe("Ended")

      const steps = named("SessionLoop.step")
      expect(steps.map((s) => s.attributes.get("codetether.step"))).toEqual([1, 2])
      for (const step of steps) expect(step.parent._tag === "Some" && step.parent.value).toBe(agent)

      const chats = named("chat ")
      expect(chats.map((s) => s.name)).toEqual(["chat gpt-traced", "chat gpt-traced"])
      expect(chats.map((s) => s.kind)).toEqual(["client", "client"])
      expect(chats.map((s) => Object.fromEntries(s.attributes))).toEqual([
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-traced",
          "gen_ai.conversation.id": start.id,
          "gen_ai.usage.input_tokens": 120,
          "gen_ai.usage.output_tokens": 7,
          "gen_ai.response.finish_reasons": ["tool_calls"]
        },
        {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-traced",
          "gen_ai.conversation.id": start.id,
          "gen_ai.usage.input_tokens": 150,
          "gen_ai.usage.output_tokens": 3,
          "gen_ai.response.finish_reasons": ["stop"]
        }
      ])
      expect(chats.map((s) => s.parent._tag === "Some" && s.parent.value)).toEqual(steps)

      const [tool] = named("execute_tool ")
      assert(tool !== undefined)
      expect(tool.name).toBe("execute_tool echo")
      expect(Object.fromEntries(tool.attributes)).toMatchObject({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "echo",
        "gen_ai.tool.call.id": "call-1",
        "codetether.tool.success": true
      })
      expect(tool.parent._tag === "Some" && tool.parent.value).toBe(steps[0])
    }))

  it.effect("a failed model call ends its span with the failure and an error.type", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.httpError(401, "Incorrect API key provided"))
      const loop = yield* loopFor(server.url)
      const { exit, spans } = yield* traced(loop.prompt(session(), "hi"))
      assert(exit._tag === "Failure")
      const chat = spans.find((s) => s.name === "chat gpt-default")
      assert(chat !== undefined)
      expect(chat.attributes.get("error.type")).toBe("Authentication")
      assert(chat.status._tag === "Ended")
      expect(chat.status.exit._tag).toBe("Failure")
    }))

  it.effect("every log line of a prompt carries its sessionId", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      // a call to a tool that does not exist in <tool_call> markup logs a warning
      server.enqueue(OpenAiServer.text("<tool_call>{\"name\":\"nope\",\"arguments\":{}}</tool_call>"))
      const loop = yield* loopFor(server.url)
      const start = session()
      const lines: Array<{ readonly message: unknown; readonly sessionId: unknown }> = []
      const logger = Logger.make<unknown, void>(({ fiber, message }) => {
        lines.push({ message, sessionId: fiber.getRef(References.CurrentLogAnnotations).sessionId })
      })
      yield* loop.prompt(start, "hi").pipe(Effect.provide(Logger.layer([logger])))
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) expect(line.sessionId).toBe(start.id)
    }))
})
