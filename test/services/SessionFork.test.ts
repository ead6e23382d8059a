/**
 * Forking: kept messages, tool uses and usage of the kept part (from the
 * durable log's per-step records, whole, or prorated), the parent recorded
 * in the fork's durable log, the original untouched, refusals; on the memory
 * and file stores, and after a real prompt of the loop.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit, Layer, Schema } from "effect"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionCost from "../../services/SessionCost.ts"
import * as SessionFork from "../../services/SessionFork.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import { plain } from "./contracts/SessionStoreContract.ts"
import * as Scripted from "../utils/ScriptedProvider.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

/** user, assistant(call c1), tool(c1), assistant, user, assistant(call c2), tool(c2), assistant */
const transcript: ReadonlyArray<Message.Message> = [
  Message.text("user", "read the config"),
  { role: "assistant", content: [{ type: "text", text: "reading" }, { type: "tool_call", id: "c1", name: "read", arguments: "{\"path\":\"a\"}" }] },
  Message.toolResult("c1", "contents of a"),
  Message.text("assistant", "it says a"),
  Message.text("user", "now b"),
  { role: "assistant", content: [{ type: "tool_call", id: "c2", name: "read", arguments: "{\"path\":\"b\"}" }] },
  Message.toolResult("c2", "contents of b"),
  Message.text("assistant", "it says b")
]

const parent = (): Session => ({
  ...Sessions.make({ title: "config work", messages: transcript }),
  toolUses: [
    { id: "c1", name: "read", input: "{\"path\":\"a\"}", output: "contents of a", success: true },
    { id: "c2", name: "read", input: "{\"path\":\"b\"}", output: "contents of b", success: true }
  ],
  usage: { promptTokens: 4000, completionTokens: 400, totalTokens: 4400, cacheReadTokens: 1500, cacheWriteTokens: null }
})

/** The four steps that produced `transcript`'s assistant messages 1, 3, 5, 7. */
const steps = [[1, 1000, 100, 500], [3, 1000, 100, 0], [5, 1000, 100, 1000], [7, 1000, 100, 0]] as const

const stores = {
  memory: Effect.sync(() => SessionStore.makeMemory()),
  files: Effect.map(TempDir.make("codetether-fork-"), (dir) => SessionStore.makeFileSystem(NodePath.join(dir, "sessions")))
}

const withStore = (store: SessionStore.SessionStore["Service"], sink: DurableSink.DurableSink["Service"]) =>
  Effect.provide(Layer.merge(Layer.succeed(SessionStore.SessionStore, store), Layer.succeed(DurableSink.DurableSink, sink)))

for (const [name, makeStore] of Object.entries(stores)) {
  describe(`SessionFork (${name} store)`, () => {
    const setup = (records = true) =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const sink = yield* DurableSink.makeMemory
        const saved = yield* store.save(parent())
        if (records) {
          for (const [messageIndex, promptTokens, completionTokens, cacheReadTokens] of steps) {
            yield* sink.sink.write(saved.id, SessionEvent.make.tokenUsage({
              source: "root",
              model: "gpt-4o",
              promptTokens,
              completionTokens,
              durationMs: 3,
              ...(cacheReadTokens === 0 ? {} : { cacheReadTokens }),
              messageIndex
            }))
          }
        }
        return { store, sink, saved, run: withStore(store, sink.sink) }
      })

    it.effect("at N: messages 0..N, tool uses of kept calls, usage of the kept steps, parent in the durable log, original untouched", () =>
      Effect.gen(function*() {
        const { store, sink, saved, run } = yield* setup()
        const before = plain(yield* store.load(saved.id))
        const forked = yield* SessionFork.fork(saved.id, { at: 4 }).pipe(run)
        const fork = yield* store.load(forked.session.id)
        expect(fork.id).not.toBe(saved.id)
        expect(fork.title).toBe("config work (fork)")
        expect(fork.messages).toEqual(transcript.slice(0, 5))
        expect(fork.toolUses.map((u) => u.id)).toEqual(["c1"])
        expect(forked.usageFrom).toBe("records")
        expect(fork.usage).toEqual({ promptTokens: 2000, completionTokens: 200, totalTokens: 2200, cacheReadTokens: 500, cacheWriteTokens: null })
        expect(fork.metadata.directory).toBe(saved.metadata.directory)
        expect(fork.metadata.provenance?.sessionId).toBe(fork.id)
        expect(plain(yield* store.load(saved.id))).toEqual(before)
        const log = yield* sink.sink.read(fork.id)
        expect(log[0]).toMatchObject({ seq: 1, kind: "session_forked", payload: { parent_id: saved.id, message_index: 4, copied_records: 2 } })
        expect(SessionFork.originOf(log)).toEqual({ parentId: saved.id, messageIndex: 4 })
        // the copied usage records make the fork's own cost exact
        const report = SessionCost.report(fork, log, { "gpt-4o": { input: 1, output: 1 } })
        expect(report.fromSteps).toBe(true)
        expect(report.steps.map((s) => s.messageIndex)).toEqual([1, 3])
      }))

    it.effect("without --at: everything, usage whole; a fork of a fork works", () =>
      Effect.gen(function*() {
        const { store, saved, run } = yield* setup()
        const forked = yield* SessionFork.fork(saved.id).pipe(run)
        expect(forked.usageFrom).toBe("whole")
        expect(forked.messageIndex).toBe(7)
        const fork = yield* store.load(forked.session.id)
        expect(fork.messages).toEqual(transcript)
        expect(fork.toolUses).toEqual(saved.toolUses)
        expect(fork.usage).toEqual(saved.usage)
        const again = yield* SessionFork.fork(fork.id, { at: 3 }).pipe(run)
        expect(again.usageFrom).toBe("records")
        expect(again.session.title).toBe("config work (fork) (fork)")
        expect(again.session.usage.promptTokens).toBe(2000)
      }))

    it.effect("without per-step records the usage is prorated by the assistant messages kept", () =>
      Effect.gen(function*() {
        const { saved, run } = yield* setup(false)
        const forked = yield* SessionFork.fork(saved.id, { at: 4 }).pipe(run)
        expect(forked.usageFrom).toBe("prorated")
        expect(forked.copiedRecords).toBe(0)
        // 2 of 4 assistant messages kept
        expect(forked.session.usage).toEqual({ promptTokens: 2000, completionTokens: 200, totalTokens: 2200, cacheReadTokens: 750, cacheWriteTokens: null })
      }))

    it.effect("refuses to cut a tool call from its result, and indexes outside the transcript; nothing is written", () =>
      Effect.gen(function*() {
        const { store, saved, run } = yield* setup()
        const cut = yield* Effect.exit(SessionFork.fork(saved.id, { at: 5 }).pipe(run))
        assert(Exit.isFailure(cut))
        const error = cut.cause.reasons.find((r) => r._tag === "Fail")
        assert(error?._tag === "Fail" && error.error._tag === "SessionForkError")
        expect(error.error.reason).toBe("SplitsToolCall")
        expect(error.error.message).toContain("fork at 6")
        const outside = yield* Effect.flip(SessionFork.fork(saved.id, { at: 8 }).pipe(run))
        expect(outside._tag === "SessionForkError" && outside.reason).toBe("InvalidIndex")
        const missing = yield* Effect.flip(SessionFork.fork("00000000-0000-4000-8000-00000000ffff").pipe(run))
        expect(missing._tag === "SessionStoreError" && missing.reason).toBe("NotFound")
        expect((yield* store.list).map((s) => s.id)).toEqual([saved.id])
      }))
  })
}

describe("SessionFork after a real prompt", () => {
  it.effect("the loop's token_usage records name each step's assistant message, so a fork's usage is exact", () =>
    Effect.gen(function*() {
      const scripted = Scripted.make([
        Scripted.callTools([{ id: "t1", name: "echo", arguments: "{\"text\":\"one\"}" }], { text: "Let me check.", usage: [100, 20] }),
        Scripted.answer("Done.", { usage: [150, 30] })
      ])
      const echo = ToolRegistry.define({
        name: "echo",
        description: "Returns its text.",
        parameters: Schema.Struct({ text: Schema.String }),
        handler: ({ text }) => Effect.succeed(`echo: ${text}`)
      })
      const store = SessionStore.makeMemory()
      const sink = yield* DurableSink.makeMemory
      const context = yield* Layer.build(SessionLoop.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(
          Layer.succeed(SessionStore.SessionStore, store),
          ProviderRegistry.layerProviders([scripted.provider]),
          ToolRegistry.layerTools([echo]),
          SessionBus.layer().pipe(Layer.provide(Layer.succeed(DurableSink.DurableSink, sink.sink))),
          CodetetherConfig.layerDefaults,
          SystemPrompt.layerStatic("test")
        ))
      ))
      const loop = yield* SessionLoop.SessionLoop.pipe(Effect.provide(context))
      const outcome = yield* loop.prompt(Sessions.make({ messages: 0, title: null }), "echo one please")
      expect(outcome.session.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      const records = yield* sink.sink.read(outcome.session.id)
      expect(records.map((r) => (r.payload as { message_index: number }).message_index)).toEqual([1, 3])
      const forked = yield* SessionFork.fork(outcome.session.id, { at: 2 }).pipe(withStore(store, sink.sink))
      expect(forked.usageFrom).toBe("records")
      expect(forked.session.usage).toMatchObject({ promptTokens: 100, completionTokens: 20 })
      expect(forked.session.toolUses.map((u) => u.id)).toEqual(["t1"])
    }))
})

describe("SessionFork durable log on disk", () => {
  it.effect("the JSONL sink holds the session_forked record first", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-fork-log-")
      const store = SessionStore.makeFileSystem(NodePath.join(dir, "sessions"))
      const sink = DurableSink.makeJsonl(NodePath.join(dir, "events"))
      const saved = yield* store.save(parent())
      const forked = yield* SessionFork.fork(saved.id, { at: 3 }).pipe(withStore(store, sink))
      const lines = NodeFs.readFileSync(NodePath.join(dir, "events", `${forked.session.id}.jsonl`), "utf8").trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(JSON.parse(lines[0]!)).toMatchObject({
        session_id: forked.session.id,
        seq: 1,
        kind: "session_forked",
        payload: { parent_id: saved.id, message_index: 3, copied_records: 0 }
      })
    }))
})
