/**
 * Redaction at write time: what the loop appends (the user message, the
 * model's text, thinking and tool-call arguments, tool results, tool uses,
 * the title) is redacted before it is saved and before it is sent to the
 * model again; tools still get the real arguments; each redaction is a
 * durable `secrets_redacted` record; messages already in the session are
 * untouched; `[redaction] enabled = false` turns it off.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema, Stream } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as Corpus from "../utils/SecretCorpus.ts"
import * as Scripted from "../utils/ScriptedProvider.ts"
import * as Sessions from "../utils/Sessions.ts"

const GHP = Corpus.secrets.find((s) => s.name === "personal access token")!.value
const AWS = Corpus.secrets.find((s) => s.name === "access key id")!.value
const OPENAI = Corpus.secrets.find((s) => s.name === "project key")!.value
/** A key with no known prefix: only its exact value in the environment identifies it. */
const LOCAL_KEY = "lk-4d6f8a0c2e4g6i8k0m2o"

/** What the echo tool received, in order (the real arguments, unredacted). */
const received: Array<string> = []
const echo = ToolRegistry.define({
  name: "echo",
  description: "Returns its text.",
  parameters: Schema.Struct({ text: Schema.String }),
  handler: ({ text }) => Effect.sync(() => (received.push(text), `echo: ${text}`))
})

const setup = (scripts: ReadonlyArray<Scripted.Script>, options: { readonly redaction?: boolean } = {}) =>
  Effect.gen(function*() {
    const scripted = Scripted.make(scripts)
    const store = SessionStore.makeMemory()
    const sink = yield* DurableSink.makeMemory
    const config = CodetetherConfig.fromSettings({
      ...CodetetherConfig.defaultSettings,
      redaction: { value: options.redaction ?? true, source: { kind: "file", path: "/home/dev/.config/codetether-agent/config.toml" } }
    })
    const layer = SessionLoop.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(SessionStore.SessionStore, store),
        Layer.succeed(ProviderRegistry.ProviderRegistry, ProviderRegistry.make([scripted.provider], { keyVariables: ["LOCAL_LLM_KEY"] })),
        ToolRegistry.layerTools([echo]),
        SessionBus.layer({ capacity: 4096 }).pipe(Layer.provide(Layer.succeed(DurableSink.DurableSink, sink.sink))),
        Layer.succeed(CodetetherConfig.CodetetherConfig, config),
        SystemPrompt.layerStatic("You are a test agent.")
      )),
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { LOCAL_LLM_KEY: `  ${LOCAL_KEY}  `, SHORT_KEY: "x" } })))
    )
    const loop = yield* SessionLoop.SessionLoop.pipe(Effect.provide(yield* Layer.build(layer)))
    return { scripted, store, sink, loop }
  })

const allText = (messages: ReadonlyArray<Message.Message>) => JSON.stringify(messages)

describe("SessionLoop redaction", () => {
  it.effect("redacts the user message, the model's output, tool arguments and results, tool uses and the title", () =>
    Effect.gen(function*() {
      received.length = 0
      const { loop, scripted, sink, store } = yield* setup([
        Scripted.callTools([{ id: "c1", name: "echo", arguments: JSON.stringify({ text: `${AWS} and ${LOCAL_KEY}` }) }], {
          text: `I will echo ${AWS}.`
        }),
        Scripted.answer(`Done; your key ${OPENAI} works.`, { thinking: `the token ${GHP} is sensitive` })
      ])
      const start = Sessions.make({ title: null, messages: 0, directory: "/work/project" })
      const result = yield* loop.prompt(start, `${GHP} is my token; also use the local key ${LOCAL_KEY}`)
      const saved = yield* store.load(start.id)

      // the tool ran with the real arguments
      expect(received).toEqual([`${AWS} and ${LOCAL_KEY}`])
      // nothing secret was saved
      const bytes = new TextDecoder().decode(SessionJson.encode(saved))
      for (const secret of [GHP, AWS, OPENAI, LOCAL_KEY]) expect(bytes).not.toContain(secret)
      expect(saved.title).toBe("[REDACTED:github] is my token; also use the loc...")
      expect(Message.textOf(saved.messages[0]!)).toBe(
        "[REDACTED:github] is my token; also use the local key [REDACTED:env:LOCAL_LLM_KEY]"
      )
      expect(saved.messages[1]!.content).toEqual([
        { type: "text", text: "I will echo [REDACTED:aws]." },
        { type: "tool_call", id: "c1", name: "echo", arguments: "{\"text\":\"[REDACTED:aws] and [REDACTED:env:LOCAL_LLM_KEY]\"}" }
      ])
      expect(saved.messages[2]!.content).toEqual([
        { type: "tool_result", toolCallId: "c1", content: "echo: [REDACTED:aws] and [REDACTED:env:LOCAL_LLM_KEY]" }
      ])
      expect(saved.toolUses).toEqual([{
        id: "c1",
        name: "echo",
        input: "{\"text\":\"[REDACTED:aws] and [REDACTED:env:LOCAL_LLM_KEY]\"}",
        output: "echo: [REDACTED:aws] and [REDACTED:env:LOCAL_LLM_KEY]",
        success: true
      }])
      expect(saved.messages[3]!.content).toEqual([
        { type: "thinking", text: "the token [REDACTED:github] is sensitive" },
        { type: "text", text: "Done; your key [REDACTED:openai] works." }
      ])
      expect(result.session.messages).toEqual(saved.messages)

      // what the model was sent: the redacted transcript, from the first request on
      for (const request of scripted.requests) {
        const sent = allText(request.messages)
        for (const secret of [GHP, AWS, OPENAI, LOCAL_KEY]) expect(sent).not.toContain(secret)
      }
      expect(allText(scripted.requests[1]!.messages)).toContain("[REDACTED:aws]")

      // one durable record per redaction, with counts and never the secret
      const records = (yield* sink.records).filter((r) => r.kind === "secrets_redacted")
      expect(records.map((r) => r.payload)).toEqual([
        { target: "message", index: 0, counts: { github: 1, env: 1 }, total: 2 },
        { target: "message", index: 1, counts: { aws: 2, env: 1 }, total: 3 },
        { target: "message", index: 2, counts: { aws: 1, env: 1 }, total: 2 },
        { target: "tool_use", index: 0, counts: { aws: 2, env: 2 }, total: 4 },
        { target: "message", index: 3, counts: { github: 1, openai: 1 }, total: 2 }
      ])
      expect(JSON.stringify(records)).not.toContain(GHP)
    }))

  it.effect("messages already in the session stay byte for byte; only what the prompt appends is redacted", () =>
    Effect.gen(function*() {
      const { loop, store } = yield* setup([Scripted.answer(`ok ${GHP}`)])
      const old = Sessions.make({ title: `old title with ${AWS}`, messages: 0, directory: "/work/project" })
      const imported = {
        ...old,
        messages: [
          Message.text("user", `an imported message with ${OPENAI}`),
          Message.text("assistant", `and ${AWS}`)
        ],
        toolUses: [{ id: "x", name: "bash", input: `{"command":"echo ${GHP}"}`, output: GHP, success: true }]
      }
      const stored = yield* store.save(imported)
      const before = SessionJson.encode(stored)
      const { session } = yield* loop.prompt(stored, "continue")
      const after = yield* store.load(session.id)
      expect(after.title).toBe(imported.title)
      expect(after.messages.slice(0, 2)).toEqual(imported.messages)
      expect(after.toolUses).toEqual(imported.toolUses)
      expect(Message.textOf(after.messages[3]!)).toBe("ok [REDACTED:github]")
      // the untouched prefix of the file is the old file's, byte for byte (up to the old messages' end)
      const prefix = new TextDecoder().decode(before).split("\"messages\":[")[1]!.split("],\"tool_uses\"")[0]!
      expect(new TextDecoder().decode(SessionJson.encode(after))).toContain(prefix)
    }))

  it.effect("[redaction] enabled = false (user config) keeps everything as written", () =>
    Effect.gen(function*() {
      const { loop, sink, store } = yield* setup([Scripted.answer(`echo ${GHP}`)], { redaction: false })
      const start = Sessions.make({ title: null, messages: 0, directory: "/work/project" })
      yield* loop.prompt(start, `token ${AWS}`)
      const saved = yield* store.load(start.id)
      expect(Message.textOf(saved.messages[0]!)).toBe(`token ${AWS}`)
      expect(Message.textOf(saved.messages[1]!)).toBe(`echo ${GHP}`)
      expect((yield* sink.records).filter((r) => r.kind === "secrets_redacted")).toEqual([])
    }))

  it.effect("the SecretsRedacted event is on the prompt's stream and durable", () =>
    Effect.gen(function*() {
      const { loop } = yield* setup([Scripted.answer("fine")])
      const start = Sessions.make({ title: null, messages: 0, directory: "/work/project" })
      const events = Array.from(yield* Stream.runCollect(loop.promptStream(start, `here: ${GHP}`)))
      const redacted = events.find((e) => e._tag === "SecretsRedacted")
      assert(redacted?._tag === "SecretsRedacted")
      expect(redacted.payload).toEqual({ target: "message", index: 0, counts: { github: 1 }, total: 1 })
    }))
})
