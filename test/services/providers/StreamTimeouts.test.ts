/**
 * The stream timeouts come from the environment through `Config`, reach the
 * providers of the registry, and fall back to their defaults (with a warning)
 * on a value that is not a positive integer of milliseconds.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Stream } from "effect"
import * as DataDir from "../../../services/DataDir.ts"
import * as ProviderRegistry from "../../../services/ProviderRegistry.ts"
import * as Common from "../../../services/providers/Common.ts"
import * as Logs from "../../utils/Logs.ts"
import * as OpenAiServer from "../../utils/OpenAiServer.ts"
import * as TempDir from "../../utils/TempDir.ts"
import { failure, request } from "./contract.ts"

const fromEnv = (env: Record<string, string>) =>
  Logs.capture(Common.streamTimeoutsFromConfig.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))))

describe("StreamTimeouts", () => {
  it.effect("defaults to 60 s to connect and 10 min idle", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* Common.StreamTimeouts, { connectMs: 60_000, idleMs: 600_000 })
      assert.deepStrictEqual((yield* fromEnv({})).value, { connectMs: 60_000, idleMs: 600_000 })
      assert.deepStrictEqual(
        (yield* fromEnv({ CODETETHER_CONNECT_TIMEOUT_MS: " ", CODETETHER_STREAM_IDLE_TIMEOUT_MS: "" })).value,
        { connectMs: 60_000, idleMs: 600_000 }
      )
    }))

  it.effect("reads CODETETHER_CONNECT_TIMEOUT_MS and CODETETHER_STREAM_IDLE_TIMEOUT_MS; ignores bad values with a warning", () =>
    Effect.gen(function*() {
      const set = yield* fromEnv({ CODETETHER_CONNECT_TIMEOUT_MS: "1500", CODETETHER_STREAM_IDLE_TIMEOUT_MS: "+90000" })
      assert.deepStrictEqual(set.value, { connectMs: 1500, idleMs: 90_000 })
      assert.deepStrictEqual(set.logs, [])
      const bad = yield* fromEnv({ CODETETHER_CONNECT_TIMEOUT_MS: "0", CODETETHER_STREAM_IDLE_TIMEOUT_MS: "10m" })
      assert.deepStrictEqual(bad.value, { connectMs: 60_000, idleMs: 600_000 })
      assert.deepStrictEqual(bad.logs.map((l) => l.message), [
        "Ignoring CODETETHER_CONNECT_TIMEOUT_MS=\"0\": not a positive integer of milliseconds",
        "Ignoring CODETETHER_STREAM_IDLE_TIMEOUT_MS=\"10m\": not a positive integer of milliseconds"
      ])
      // a Node timer cannot wait longer than 2^31 - 1 ms
      const huge = yield* fromEnv({ CODETETHER_STREAM_IDLE_TIMEOUT_MS: "99999999999" })
      assert.strictEqual(huge.value.idleMs, 2 ** 31 - 1)
    }))

  it.live("the registry of the environment applies the environment's idle timeout to its providers", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.reply([], { hang: true, keepAliveMs: 50 }))
      const env = {
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: server.url,
        CODETETHER_STREAM_IDLE_TIMEOUT_MS: "300"
      }
      const layer = ProviderRegistry.layerConfig.pipe(
        Layer.provide(DataDir.layerPath(dir)),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
      )
      const exit = yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* ProviderRegistry.StreamTimeouts, { connectMs: 60_000, idleMs: 300 })
        const { model, provider } = yield* (yield* ProviderRegistry.ProviderRegistry).select(null)
        return yield* Stream.runDrain(provider.stream({ ...request, model }))
      }).pipe(
        Effect.provideService(Common.RetryPolicy, { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }),
        Effect.provide(layer),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      const error = failure(exit as Exit.Exit<void, Common.ProviderError>)
      assert.strictEqual(error.reason, "Timeout")
      assert.strictEqual(
        error.message,
        "openai: the response stream sent no content for 300 ms (idle timeout, CODETETHER_STREAM_IDLE_TIMEOUT_MS)"
      )
    }))
})
