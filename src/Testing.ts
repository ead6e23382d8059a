/**
 * The test kit (`codetether/testing`): everything a test of code that
 * prompts codetether sessions needs, from one import. It imports no test
 * runner, so any runner can load it (`@effect/vitest`, `node:test`, ...).
 *
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Effect } from "effect"
 * import { CodetetherConfig, layerTest, Scripted, SessionLoop } from "codetether/testing"
 *
 * it.effect("answers", () =>
 *   Effect.gen(function*() {
 *     const session = yield* (yield* CodetetherConfig.CodetetherConfig).newSession("/project")
 *     const { result } = yield* (yield* SessionLoop.SessionLoop).prompt(session, "hi")
 *     // result.text === "hello"
 *   }).pipe(Effect.provide(layerTest({ turns: [Scripted.text("hello")] }))))
 * ```
 *
 * @since 0.1.0
 */
import * as Layer from "effect/Layer"
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as DurableSink from "../services/DurableSink.ts"
import type * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as Scripted from "../services/providers/Scripted.ts"
import * as SessionBus from "../services/SessionBus.ts"
import * as SessionLoop from "../services/SessionLoop.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as SystemPrompt from "../services/SystemPrompt.ts"
import * as ToolRegistry from "../services/ToolRegistry.ts"

/** @since 0.1.0 */
export * as CodetetherConfig from "../services/CodetetherConfig.ts"
/** @since 0.1.0 */
export * as DurableSink from "../services/DurableSink.ts"
/** @since 0.1.0 */
export * as Message from "../schemas/Message.ts"
/** @since 0.1.0 */
export * as ProviderRegistry from "../services/ProviderRegistry.ts"
/** @since 0.1.0 */
export * as Scripted from "../services/providers/Scripted.ts"
/** @since 0.1.0 */
export * as Session from "../schemas/Session.ts"
/** @since 0.1.0 */
export * as SessionBus from "../services/SessionBus.ts"
/** @since 0.1.0 */
export * as SessionEvent from "../schemas/SessionEvent.ts"
/** @since 0.1.0 */
export * as SessionLoop from "../services/SessionLoop.ts"
/** @since 0.1.0 */
export * as SessionStore from "../services/SessionStore.ts"
/** @since 0.1.0 */
export * as ToolRegistry from "../services/ToolRegistry.ts"

/**
 * Options of {@link layerTest}:
 * - `turns`: what the model answers, request after request
 *   (`Scripted.text`, `Scripted.toolCall`, `Scripted.toolCalls`,
 *   `Scripted.fail`);
 * - `tools`: the tools offered to the model (default none; e.g.
 *   `ToolRegistry.define(...)` tools, or `ToolRegistry.fromToolkit` ones);
 * - `systemPrompt`: the system prompt of every request (default
 *   `You are a test agent.`);
 * - `config`: settings other than the built-in defaults (`maxSteps`,
 *   `model`, ...), as values (an invalid one, such as `maxSteps: 0`, is a
 *   defect when the layer is built).
 *
 * @since 0.1.0
 * @category models
 */
export interface TestOptions {
  readonly turns: ReadonlyArray<Scripted.Turn>
  readonly tools?: ReadonlyArray<ToolRegistry.Tool> | undefined
  readonly systemPrompt?: string | undefined
  readonly config?: CodetetherConfig.Values | undefined
}

/**
 * Every service a prompt needs, for a test: `SessionLoop` over the in-memory
 * store (`SessionStore.layerMemory`), the scripted provider of `turns` (the
 * only provider; `Scripted.ScriptedModel` reads its requests), the given
 * tools, the bus with the in-memory durable sink (`DurableSink.MemoryRecords`
 * reads its records), the configuration as values and a fixed system prompt.
 * It reads no file, no configuration file and no environment variable, and
 * each build starts empty (provide it per test, or share it with
 * `layer(...)` of `@effect/vitest`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (options: TestOptions): Layer.Layer<
  | SessionLoop.SessionLoop
  | SessionStore.SessionStore
  | SessionBus.SessionBus
  | DurableSink.DurableSink
  | DurableSink.MemoryRecords
  | ProviderRegistry.ProviderRegistry
  | Scripted.ScriptedModel
  | ToolRegistry.ToolRegistry
  | CodetetherConfig.CodetetherConfig
  | SystemPrompt.SystemPrompt
> =>
  SessionLoop.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      SessionStore.layerMemory,
      Scripted.layer(options.turns),
      ToolRegistry.layerTools(options.tools ?? []),
      SessionBus.layer().pipe(Layer.provideMerge(DurableSink.layerMemory)),
      Layer.orDie(CodetetherConfig.layerValue(options.config ?? {})),
      SystemPrompt.layerStatic(options.systemPrompt ?? "You are a test agent.")
    ))
  )
