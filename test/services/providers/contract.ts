/**
 * The behaviour every provider SDK seam must have, run by
 * `OpenAi.test.ts` and `Anthropic.test.ts` against the real SDK and a local
 * wire-protocol server.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Redacted, Stream } from "effect"
import type * as Scope from "effect/Scope"
import type { CompletionRequest, FinishReason, StreamEvent } from "../../../schemas/Provider.ts"
import * as Common from "../../../services/providers/Common.ts"
import type * as Scripted from "../../utils/ScriptedServer.ts"

export interface Target {
  readonly label: string
  readonly server: Effect.Effect<Scripted.ScriptedServer, never, Scope.Scope>
  readonly provider: (baseUrl: string, apiKey: string | undefined) => Common.Provider
  /** Wire finish reasons → expected FinishReason. */
  readonly finishReasons: ReadonlyArray<readonly [string, FinishReason]>
  /** The wire type of an SSE error event that is a server overload. */
  readonly overloadedType: string
}

export const KEY = "sk-test-SECRET-0123456789"

export const request: CompletionRequest = {
  model: "test-model",
  messages: [
    { role: "system", content: [{ type: "text", text: "You are terse." }] },
    { role: "user", content: [{ type: "text", text: "hi" }] }
  ],
  tools: [],
  maxTokens: 256
}

export const fastRetries = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Common.RetryPolicy, { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5_000 })

/** Runs a stream, keeping the events it emitted before it ended. */
export const run = (stream: Stream.Stream<StreamEvent, Common.ProviderError>) =>
  Effect.gen(function*() {
    const events: Array<StreamEvent> = []
    const exit = yield* stream.pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push(event))),
      fastRetries,
      Effect.exit
    )
    return { events, exit }
  })

/** {@link run} with the given stream timeouts and retry policy (1 ms base delay). */
export const runWithin = (
  stream: Stream.Stream<StreamEvent, Common.ProviderError>,
  timeouts: Common.StreamTimeouts,
  maxAttempts: number
) =>
  Effect.gen(function*() {
    const events: Array<StreamEvent> = []
    const exit = yield* stream.pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push(event))),
      Effect.provideService(Common.RetryPolicy, { maxAttempts, baseDelayMs: 1, maxDelayMs: 5_000 }),
      Effect.provideService(Common.StreamTimeouts, timeouts),
      Effect.exit
    )
    return { events, exit }
  })

export const failure = (exit: Exit.Exit<void, Common.ProviderError>): Common.ProviderError => {
  if (Exit.isSuccess(exit)) return assert.fail("expected the stream to fail")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") return assert.fail(`expected a typed failure: ${String(exit.cause)}`)
  return error.error
}

export const textOf = (events: ReadonlyArray<StreamEvent>) =>
  events.flatMap((e) => (e._tag === "TextDelta" ? [e.text] : [])).join("")
export const thinkingOf = (events: ReadonlyArray<StreamEvent>) =>
  events.flatMap((e) => (e._tag === "ThinkingDelta" ? [e.text] : [])).join("")
export const argumentsOf = (events: ReadonlyArray<StreamEvent>, id: string) =>
  events.flatMap((e) => (e._tag === "ToolCallDelta" && e.id === id ? [e.argumentsDelta] : [])).join("")

export const contract = (target: Target, S: {
  readonly text: typeof Scripted.text
  readonly reply: typeof Scripted.reply
  readonly httpError: typeof Scripted.httpError
  readonly rateLimited: typeof Scripted.rateLimited
  readonly silent: typeof Scripted.silent
}) =>
  describe(`${target.label} provider contract`, () => {
    it.live("streams thinking, text and tool calls with split argument deltas, usage and the finish reason", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        const args1 = JSON.stringify({ command: "ls -la", description: "list files" })
        server.enqueue(S.reply([
          { type: "thinking", text: "Let me look at the files." },
          { type: "text", text: "I'll list the files." },
          { type: "tool_call", id: "call_1", name: "bash", arguments: args1 },
          { type: "tool_call", id: "call_2", name: "read", arguments: "{\"path\":\"a.txt\"}" }
        ], { usage: { input: 100, output: 20, cacheRead: 40 }, chunkSize: 4 }))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(thinkingOf(events), "Let me look at the files.")
        assert.strictEqual(textOf(events), "I'll list the files.")
        assert.isTrue(events.filter((e) => e._tag === "TextDelta").length > 1, "text arrives as several deltas")
        assert.strictEqual(argumentsOf(events, "call_1"), args1)
        assert.isTrue(events.filter((e) => e._tag === "ToolCallDelta" && e.id === "call_1").length > 3)
        assert.strictEqual(argumentsOf(events, "call_2"), "{\"path\":\"a.txt\"}")
        const starts = events.flatMap((e) => (e._tag === "ToolCallStart" ? [[e.id, e.name]] : []))
        assert.deepStrictEqual(starts, [["call_1", "bash"], ["call_2", "read"]])
        for (const id of ["call_1", "call_2"]) {
          const start = events.findIndex((e) => e._tag === "ToolCallStart" && e.id === id)
          const firstDelta = events.findIndex((e) => e._tag === "ToolCallDelta" && e.id === id)
          const end = events.findIndex((e) => e._tag === "ToolCallEnd" && e.id === id)
          const lastDelta = events.findLastIndex((e) => e._tag === "ToolCallDelta" && e.id === id)
          assert.isTrue(start >= 0 && start < firstDelta && lastDelta < end, `${id} start < deltas < end`)
        }
        const usage = events.find((e) => e._tag === "Usage")
        assert.deepStrictEqual(usage?._tag === "Usage" ? usage.usage : undefined, {
          promptTokens: 140,
          completionTokens: 20,
          totalTokens: 160,
          cacheReadTokens: 40,
          cacheWriteTokens: usage?._tag === "Usage" ? usage.usage.cacheWriteTokens : null
        })
        assert.deepStrictEqual(events.at(-1), { _tag: "Finish", reason: "tool_calls" })
        assert.strictEqual(events.filter((e) => e._tag === "Finish").length, 1)
        assert.strictEqual(events.at(-2)?._tag, "Usage")
      }))

    it.live("maps the wire finish reasons", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        const provider = target.provider(server.url, KEY)
        for (const [wire, expected] of target.finishReasons) {
          server.enqueue(S.text("x", { finishReason: wire }))
          const { events, exit } = yield* run(provider.stream(request))
          assert.isTrue(Exit.isSuccess(exit))
          assert.deepStrictEqual(events.at(-1), { _tag: "Finish", reason: expected }, wire)
        }
      }))

    it.live("sends the key as a bearer token on every request", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("one"), S.text("two"))
        const provider = target.provider(server.url, KEY)
        assert.strictEqual(textOf((yield* run(provider.stream(request))).events), "one")
        assert.strictEqual(textOf((yield* run(provider.stream(request))).events), "two")
        assert.strictEqual(server.requests.length, 2)
        for (const r of server.requests) {
          assert.strictEqual(r.headers.authorization, `Bearer ${KEY}`)
          assert.strictEqual(r.method, "POST")
          assert.strictEqual(r.body.stream, true)
          assert.strictEqual(r.body.model, "test-model")
        }
      }))

    it.live("401 fails at once, names the provider and never shows the key", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.httpError(401, `Incorrect API key provided: ${KEY}`), S.text("never"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        const error = failure(exit)
        assert.strictEqual(error.reason, "Authentication")
        assert.strictEqual(error.status, 401)
        assert.strictEqual(error.provider, "test")
        assert.strictEqual(error.message, "test: 401 Incorrect API key provided: [redacted]")
        assert.notInclude(String(exit), KEY)
        assert.deepStrictEqual(events, [])
        assert.strictEqual(server.requests.length, 1)
      }))

    it.live("400 and 404 fail at once", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        const provider = target.provider(server.url, KEY)
        server.enqueue(S.httpError(400, "max_tokens: must be positive"))
        const bad = failure((yield* run(provider.stream(request))).exit)
        assert.strictEqual(bad.reason, "BadRequest")
        assert.strictEqual(bad.message, "test: 400 max_tokens: must be positive")
        server.enqueue(S.httpError(404, "model 'nope' not found"))
        const missing = failure((yield* run(provider.stream(request))).exit)
        assert.strictEqual(missing.reason, "NotFound")
        assert.strictEqual(server.requests.length, 2)
      }))

    it.live("429 with retry-after waits as told, then succeeds", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.rateLimited("0.4"), S.text("after the wait"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(textOf(events), "after the wait")
        const [first, second] = server.requests
        assert.strictEqual(server.requests.length, 2)
        // The base delay is 1 ms: only the retry-after hint explains a gap of 400 ms.
        assert.isAtLeast(second!.receivedAt - first!.receivedAt, 390)
      }))

    it.live("a retry-after beyond the cap is not waited for", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.rateLimited("3600"), S.text("never"))
        const provider = target.provider(server.url, KEY)
        const error = failure((yield* run(provider.stream(request))).exit)
        assert.strictEqual(error.reason, "RateLimited")
        assert.strictEqual(error.retryAfterMs, 3_600_000)
        assert.strictEqual(error.message, "test: 429 Rate limit reached (retry after 3600 s)")
        assert.strictEqual(server.requests.length, 1)
      }))

    it.live("5xx is retried, then succeeds", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.httpError(500, "internal"), S.httpError(503, "unavailable"), S.text("recovered"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        assert.isTrue(Exit.isSuccess(exit))
        assert.strictEqual(textOf(events), "recovered")
        assert.strictEqual(server.requests.length, 3)
      }))

    it.live("retries are bounded", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        for (let i = 0; i < 6; i++) server.enqueue(S.httpError(502, `bad gateway ${i}`))
        const provider = target.provider(server.url, KEY)
        const error = failure((yield* run(provider.stream(request))).exit)
        assert.strictEqual(error.reason, "Server")
        assert.strictEqual(error.message, "test: 502 bad gateway 3")
        assert.strictEqual(server.requests.length, 4)
      }))

    it.live("a stream cut midway fails without retrying after output", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("a long answer that will be cut", { cutAfter: 6 }), S.text("never"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        const error = failure(exit)
        assert.strictEqual(error.reason, "Stream")
        assert.include(error.message, "test: ")
        assert.isTrue(events.length > 0, "some output arrived before the cut")
        assert.isFalse(events.some((e) => e._tag === "Finish"))
        assert.strictEqual(server.requests.length, 1)
        assert.strictEqual(server.pending, 1)
      }))

    it.live("a stream cut before any output is retried", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("lost", { cutAfter: 1 }), S.text("second try"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(textOf(events), "second try")
        assert.strictEqual(server.requests.length, 2)
      }))

    it.live("a stream that ends without a finish is a Stream error", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("partial", { noFinish: true }), S.text("never"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        const error = failure(exit)
        assert.strictEqual(error.reason, "Stream")
        assert.strictEqual(error.message, "test: the response stream ended before the model finished")
        assert.strictEqual(textOf(events), "partial")
        assert.strictEqual(server.requests.length, 1)
      }))

    it.live("an error event after output fails without retrying", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(
          S.text("some text", { errorEvent: { type: target.overloadedType, message: "Overloaded" } }),
          S.text("never")
        )
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        const error = failure(exit)
        assert.strictEqual(error.reason, "Server")
        assert.include(error.message, "Overloaded")
        assert.strictEqual(textOf(events), "some text")
        assert.strictEqual(server.requests.length, 1)
      }))

    it.live("an overloaded error event before output is retried", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(
          S.reply([], { errorEvent: { type: target.overloadedType, message: "Overloaded" } }),
          S.text("fine now")
        )
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* run(provider.stream(request))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(textOf(events), "fine now")
        assert.strictEqual(server.requests.length, 2)
      }))

    it.live("interrupting the stream aborts the HTTP request", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("first words", { hang: true }))
        const provider = target.provider(server.url, KEY)
        const first = yield* Deferred.make<void>()
        const fiber = yield* provider.stream(request).pipe(
          Stream.runForEach(() => Deferred.succeed(first, undefined)),
          Effect.forkChild
        )
        yield* Deferred.await(first)
        assert.strictEqual(server.aborted, 0)
        yield* Fiber.interrupt(fiber)
        yield* Effect.promise(() => server.waitForAbort(1))
        assert.strictEqual(server.aborted, 1)
      }))

    it.live("ending the stream early aborts the HTTP request", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("abcdefghijkl", { hang: true, chunkSize: 2 }))
        const provider = target.provider(server.url, KEY)
        const events = yield* provider.stream(request).pipe(Stream.take(2), Stream.runCollect)
        assert.strictEqual(events.length, 2)
        yield* Effect.promise(() => server.waitForAbort(1))
        assert.strictEqual(server.aborted, 1)
      }))

    it.live("interrupting a slow stream aborts it mid-way", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("x".repeat(200), { chunkSize: 1, delayMs: 20 }))
        const provider = target.provider(server.url, KEY)
        const seen = yield* Deferred.make<void>()
        let count = 0
        const fiber = yield* provider.stream(request).pipe(
          Stream.runForEach(() => (++count === 3 ? Deferred.succeed(seen, undefined) : Effect.void)),
          Effect.forkChild
        )
        yield* Deferred.await(seen)
        yield* Fiber.interrupt(fiber)
        yield* Effect.promise(() => server.waitForAbort(1))
        assert.isBelow(count, 200)
      }))

    it.live("connection failures are retried, then reported with the base URL", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        const url = server.url
        yield* Effect.promise(() => server.close())
        const provider = target.provider(url, KEY)
        const error = failure((yield* run(provider.stream(request))).exit)
        assert.strictEqual(error.reason, "Connection", error.message)
        assert.include(error.message, "test: connection failed")
        assert.include(error.message, url)
        assert.notInclude(error.message, KEY)
      }))

    it.live("a stream of keep-alives only fails with the idle timeout, retried per the retry policy", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        // headers, a chunk without content, then comments and pings every 100 ms, forever
        for (let i = 0; i < 3; i++) server.enqueue(S.reply([], { hang: true, keepAliveMs: 100 }))
        server.enqueue(S.text("never"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* runWithin(provider.stream(request), { connectMs: 5_000, idleMs: 400 }, 3)
        const error = failure(exit)
        assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(
          error.message,
          "test: the response stream sent no content for 400 ms (idle timeout, CODETETHER_STREAM_IDLE_TIMEOUT_MS)"
        )
        assert.isTrue(Common.isRetryable(error))
        assert.deepStrictEqual(events, [])
        assert.strictEqual(server.requests.length, 3)
        yield* Effect.promise(() => server.waitForAbort(3))
        assert.strictEqual(server.pending, 1)
      }))

    it.live("a server that never sends headers fails with the connect timeout, retried per the retry policy", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.silent(), S.silent(), S.text("after two silences"))
        const provider = target.provider(server.url, KEY)
        const recovered = yield* runWithin(provider.stream(request), { connectMs: 400, idleMs: 5_000 }, 3)
        assert.isTrue(Exit.isSuccess(recovered.exit), String(recovered.exit))
        assert.strictEqual(textOf(recovered.events), "after two silences")
        assert.strictEqual(server.requests.length, 3)
        server.enqueue(S.silent(), S.silent())
        const { events, exit } = yield* runWithin(provider.stream(request), { connectMs: 400, idleMs: 5_000 }, 2)
        const error = failure(exit)
        assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(
          error.message,
          `test: no response from ${server.url} within 400 ms (connect timeout, CODETETHER_CONNECT_TIMEOUT_MS)`
        )
        assert.deepStrictEqual(events, [])
        assert.strictEqual(server.requests.length, 5)
        yield* Effect.promise(() => server.waitForAbort(4))
      }))

    it.live("the idle timeout runs between content events, not over the whole answer", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        // ~1.4 s in all, never 600 ms without content (at most 4 events of 60 ms without)
        server.enqueue(S.text("abcdefghijklmnop", { chunkSize: 1, delayMs: 60 }))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* runWithin(provider.stream(request), { connectMs: 5_000, idleMs: 600 }, 1)
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(textOf(events), "abcdefghijklmnop")
      }))

    it.live("an idle timeout after some output fails without retrying", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        server.enqueue(S.text("partial answer", { hang: true, keepAliveMs: 100 }), S.text("never"))
        const provider = target.provider(server.url, KEY)
        const { events, exit } = yield* runWithin(provider.stream(request), { connectMs: 5_000, idleMs: 400 }, 3)
        const error = failure(exit)
        assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(textOf(events), "partial answer")
        assert.strictEqual(server.requests.length, 1)
        yield* Effect.promise(() => server.waitForAbort(1))
      }))

    it.live("the API key is not in the provider value", () =>
      Effect.gen(function*() {
        const server = yield* target.server
        const provider = target.provider(server.url, KEY)
        assert.notInclude(JSON.stringify(provider), KEY)
        assert.notInclude(String(Redacted.make(KEY)), KEY)
      }))
  })
