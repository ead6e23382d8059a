/**
 * The registered model providers and the choice of provider and model for a
 * call (codetether-agent 4.5.7 `ProviderRegistry`, BEHAVIOUR §6.2 and §13).
 *
 * {@link layerConfig} registers, in this order and only when their
 * credentials are configured: `openai` (`OPENAI_API_KEY`, `OPENAI_BASE_URL`),
 * `anthropic` (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`), the
 * OpenAI-compatible presets of `services/providers/Presets.ts`, then the
 * custom providers of `<data_dir>/providers.json` (see
 * `services/providers/CustomProviders.ts`; a custom entry with the name of a
 * built-in provider replaces it). {@link layerProviders} registers given
 * providers (tests, embedders, scripted providers).
 *
 * API keys are read as `Config.Redacted` and never logged or printed.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as NodePath from "node:path"
import type * as Redacted from "effect/Redacted"
import * as ProviderSchema from "../schemas/Provider.ts"
import * as DataDir from "./DataDir.ts"
import * as Anthropic from "./providers/Anthropic.ts"
import * as Common from "./providers/Common.ts"
import * as CustomProviders from "./providers/CustomProviders.ts"
import * as OpenAi from "./providers/OpenAi.ts"
import * as Presets from "./providers/Presets.ts"

/**
 * The error of every registry operation and provider call; see
 * `services/providers/Common.ts` for the reasons.
 *
 * @since 0.1.0
 * @category errors
 */
export const ProviderError = Common.ProviderError
/**
 * @since 0.1.0
 * @category errors
 */
export type ProviderError = Common.ProviderError

/**
 * A registered provider: `name`, `kind`, `baseUrl`, `defaultModel`, and
 * `stream(request)` → `Stream<StreamEvent, ProviderError>`.
 *
 * @since 0.1.0
 * @category models
 */
export type Provider = Common.Provider

/**
 * The retry policy of provider calls (a `Context.Reference`, default 4
 * attempts, 500 ms base delay, 30 s cap).
 *
 * @since 0.1.0
 * @category references
 */
export const RetryPolicy = Common.RetryPolicy
/**
 * @since 0.1.0
 * @category models
 */
export type RetryPolicy = Common.RetryPolicy

/**
 * The connect and idle timeouts of provider calls (a `Context.Reference`,
 * default 60 s and 10 min; {@link layerConfig} reads
 * `CODETETHER_CONNECT_TIMEOUT_MS` and `CODETETHER_STREAM_IDLE_TIMEOUT_MS`).
 *
 * @since 0.1.0
 * @category references
 */
export const StreamTimeouts = Common.StreamTimeouts
/**
 * @since 0.1.0
 * @category models
 */
export type StreamTimeouts = Common.StreamTimeouts

/**
 * A provider and the model id to ask it for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Selected {
  readonly provider: Provider
  readonly model: string
}

/**
 * @since 0.1.0
 * @category services
 */
export class ProviderRegistry extends Context.Service<ProviderRegistry, {
  /** The registered providers, in registration order. */
  readonly list: ReadonlyArray<Provider>
  /** The provider registered under `name` (no aliasing). */
  readonly get: (name: string) => Option.Option<Provider>
  /**
   * The main loop's choice (4.5.7 §6.2 steps 3-5 and 8) for a selector
   * (`"provider/model"`, `"model"`, a bare provider name, or `null`): see
   * `schemas/Provider.ts` `select`. An empty model id becomes the provider's
   * `defaultModel`. Fails with `NoProviders` or `Unavailable` (4.5.7's texts).
   */
  readonly select: (selector: string | null) => Effect.Effect<Selected, ProviderError>
  /**
   * 4.5.7 `ProviderRegistry::resolve_model` (§13), for the RLM sub-call
   * model: `"provider/model"` (aliases `zhipuai` → `zai`, `local-cuda` →
   * `local_cuda`) or a bare model for the first registered provider. Fails
   * with `Unavailable` (`Provider '<p>' not found. Available: [...]`) or
   * `NoProviders` (`No providers available in registry`).
   */
  readonly resolveModel: (model: string) => Effect.Effect<Selected, ProviderError>
}>()("codetether/ProviderRegistry") {}

const toError = (error: ProviderSchema.SelectionError): ProviderError =>
  new Common.ProviderError({
    reason: error.reason,
    message: error.message,
    ...(error.provider !== undefined ? { provider: error.provider } : {})
  })

/**
 * A registry over `providers`, in order; a later provider with the name of an
 * earlier one replaces it in place (4.5.7 `register` replaces).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (providers: ReadonlyArray<Provider>): ProviderRegistry["Service"] => {
  const byName = new Map<string, Provider>()
  for (const provider of providers) byName.set(provider.name, provider)
  const list = [...byName.values()]
  const names = list.map((p) => p.name)
  const defaultModelOf = (name: string) => byName.get(name)?.defaultModel ?? ProviderSchema.defaultModel(name)
  const resolve = (result: Result.Result<ProviderSchema.Selection, ProviderSchema.SelectionError>) =>
    Result.isSuccess(result)
      ? Effect.succeed<Selected>({ provider: byName.get(result.success.provider)!, model: result.success.model })
      : Effect.fail(toError(result.failure))
  return ProviderRegistry.of({
    list,
    get: (name) => Option.fromUndefinedOr(byName.get(name)),
    select: Effect.fn("ProviderRegistry.select")(function*(selector: string | null) {
      return yield* resolve(ProviderSchema.select(selector, names, defaultModelOf))
    }),
    resolveModel: Effect.fn("ProviderRegistry.resolveModel")(function*(model: string) {
      return yield* resolve(ProviderSchema.resolveModel(model, names, defaultModelOf))
    })
  })
}

/**
 * A registry over the given providers (tests, embedders, scripted providers).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProviders = (providers: ReadonlyArray<Provider>): Layer.Layer<ProviderRegistry> =>
  Layer.succeed(ProviderRegistry, make(providers))

const baseUrlFrom = Effect.fnUntraced(function*(variable: string, fallback: string) {
  const value = yield* Config.option(Config.String(variable))
  const url = Option.isSome(value) && value.value.trim().length > 0 ? value.value.trim() : fallback
  return url.replace(/\/+$/, "")
})

/**
 * The providers configured by the environment and `providers.json`, in
 * registration order (see the module documentation). Fails with a
 * `ConfigError` when a variable cannot be read, or a `Config`
 * {@link ProviderError} naming `providers.json` and the problem when that file
 * is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfig: Effect.Effect<
  ReadonlyArray<Provider>,
  ProviderError | Config.ConfigError,
  DataDir.DataDir
> = Effect.gen(function*() {
  const providers: Array<Provider> = []
  const openAiKey = yield* Common.firstSecret(["OPENAI_API_KEY"])
  if (Option.isSome(openAiKey)) {
    providers.push(OpenAi.make({
      name: "openai",
      baseUrl: yield* baseUrlFrom("OPENAI_BASE_URL", OpenAi.DEFAULT_BASE_URL),
      defaultModel: ProviderSchema.defaultModel("openai"),
      apiKey: openAiKey.value.key,
      keyVariable: openAiKey.value.name,
      source: "builtin"
    }, OpenAi.openAiWire))
  }
  const anthropicKey = yield* Common.firstSecret(["ANTHROPIC_API_KEY"])
  if (Option.isSome(anthropicKey)) {
    providers.push(Anthropic.make({
      name: "anthropic",
      baseUrl: yield* baseUrlFrom("ANTHROPIC_BASE_URL", Anthropic.DEFAULT_BASE_URL),
      defaultModel: ProviderSchema.defaultModel("anthropic"),
      apiKey: anthropicKey.value.key,
      keyVariable: anthropicKey.value.name,
      source: "builtin"
    }))
  }
  for (const preset of Presets.presets) {
    const key = yield* Common.firstSecret(preset.keyVariables)
    if (Option.isNone(key)) continue
    providers.push(OpenAi.make({
      name: preset.name,
      baseUrl: yield* baseUrlFrom(preset.baseUrlVariable, preset.baseUrl),
      defaultModel: preset.defaultModel,
      apiKey: key.value.key,
      keyVariable: key.value.name,
      source: "preset"
    }, { ...OpenAi.compatibleWire, ...preset.wire }))
  }
  const dataDir = yield* DataDir.DataDir
  const file = NodePath.join(dataDir.path, CustomProviders.FILE_NAME)
  for (const entry of yield* CustomProviders.load(file)) {
    let apiKey: Redacted.Redacted<string> | undefined
    if (entry.apiKeyEnv !== undefined) {
      const key = yield* Common.firstSecret([entry.apiKeyEnv])
      if (Option.isNone(key)) {
        yield* Effect.logWarning(
          `${file}: provider "${entry.name}" is not registered: ${entry.apiKeyEnv} is not set`
        )
        continue
      }
      apiKey = key.value.key
    }
    const config: Common.ProviderConfig = {
      name: entry.name,
      baseUrl: entry.baseUrl.replace(/\/+$/, ""),
      defaultModel: entry.defaultModel ?? ProviderSchema.defaultModel(entry.name),
      apiKey,
      keyVariable: entry.apiKeyEnv,
      source: "custom"
    }
    providers.push(entry.kind === "anthropic" ? Anthropic.make(config) : OpenAi.make(config))
  }
  return providers
})

/**
 * The registry of {@link fromConfig}: providers from the environment (through
 * `Config`) and `<data_dir>/providers.json`; also sets {@link StreamTimeouts}
 * from `CODETETHER_CONNECT_TIMEOUT_MS` and `CODETETHER_STREAM_IDLE_TIMEOUT_MS`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<ProviderRegistry, ProviderError | Config.ConfigError, DataDir.DataDir> = Layer
  .effect(ProviderRegistry, Effect.map(fromConfig, make))
  .pipe(Layer.merge(Common.layerStreamTimeoutsConfig))
