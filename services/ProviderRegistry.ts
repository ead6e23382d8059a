/**
 * The registered model providers and the choice of provider and model for a
 * call (codetether-agent 4.5.7 `ProviderRegistry`, BEHAVIOUR §6.2 and §13).
 *
 * {@link layerConfig} registers, in this order and only when their
 * credentials are configured: `openai` (`OPENAI_API_KEY`, `OPENAI_BASE_URL`),
 * `anthropic` (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`), the
 * OpenAI-compatible presets of `services/providers/Presets.ts`, then the
 * custom providers of the providers files (see
 * `services/providers/CustomProviders.ts` for the format; a custom entry
 * replaces an earlier provider of the same name, as 4.5.7's `register` does,
 * unless the trust rule below forbids it). {@link layerProviders} registers
 * given providers (tests, embedders, scripted providers).
 *
 * The keyless `ollama` preset is registered when `OLLAMA_BASE_URL` is set;
 * otherwise it is on demand: usable when a selector names it
 * (`ollama/<model>`, at `http://127.0.0.1:11434/v1`) but not listed. A
 * provider marked `lastResort` (`ollama`) takes a selector that does not name
 * it only when no other usable provider is registered.
 *
 * Providers files, in this order:
 * 1. `<user config dir>/providers.json` (`$XDG_CONFIG_HOME/codetether-agent/`,
 *    else `~/.config/codetether-agent/`): the user's own, trusted;
 * 2. `<data_dir>/providers.json` (4.5.7's only file).
 *
 * The trust rule. A providers file is trusted when it lies outside the
 * workspace (neither under the git root of the current directory nor under
 * the current directory): the user's own file, or the data dir's when
 * `CODETETHER_DATA_DIR` / `--data-dir` points outside the workspace. A file
 * inside the workspace (the default `<git root>/.codetether-agent/`, or a data
 * dir pointed into the repository) was written by whoever wrote the
 * repository, so:
 * - it may not redefine a built-in provider (`openai`, `anthropic`, a preset),
 *   nor a provider of the user's own file, trusted or not;
 * - a provider of it that reads a key variable (`api_key_env`) is ignored
 *   unless the user trusted this exact content with `codetether config trust`
 *   (`services/ProviderTrust.ts`; a changed file is untrusted again);
 * - keyless providers of it (a local server) are registered, but used only
 *   when a selector names them (`--model local/qwen`): never as the implicit
 *   default, so a repository cannot have its own "model" drive the tools.
 * Each provider ignored this way gets one warning naming the file and the
 * provider. Providers files are read without blocking, as regular files of at
 * most 16 MiB; the user's file may be a symlink, the data dir's only to a file
 * inside the data dir; anything else is skipped with a warning. 4.5.7 trusted
 * every providers file.
 *
 * API keys are read as `Config.Redacted` and never logged or printed.
 *
 * @since 0.1.0
 */
import * as LanguageModel from "effect/ai/LanguageModel"
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
import { canonicalize } from "./internal/Paths.ts"
import * as Workspace from "./internal/Workspace.ts"
import * as ProviderTrust from "./ProviderTrust.ts"
import * as Anthropic from "./providers/Anthropic.ts"
import * as Common from "./providers/Common.ts"
import * as CustomProviders from "./providers/CustomProviders.ts"
import * as EffectAi from "./providers/EffectAi.ts"
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
 * Which SDK and wire protocol a provider speaks: `openai` (also every
 * OpenAI-compatible provider), `anthropic`, or `embedded` (implemented in
 * code: a scripted provider, an Effect AI `LanguageModel`).
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = Common.Kind

/**
 * How far a providers file is trusted: `user`, `outside-workspace`,
 * `trusted` or `untrusted` (see the module docs).
 *
 * @since 0.1.0
 * @category models
 */
export type Trust = Common.Trust

/**
 * A custom provider's providers file and its {@link Trust}.
 *
 * @since 0.1.0
 * @category models
 */
export type Origin = Common.Origin

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
  /**
   * Names of the environment variables that hold provider keys: every
   * built-in and preset key variable, the registered providers' key
   * variables, and the `api_key_env` of every custom provider read (ignored
   * ones too). The `bash` tool hides them from commands.
   */
  readonly keyVariables: ReadonlyArray<string>
  /** The provider registered under `name` (no aliasing). */
  readonly get: (name: string) => Option.Option<Provider>
  /**
   * The main loop's choice (4.5.7 §6.2 steps 3-5 and 8) for a selector
   * (`"provider/model"`, `"model"`, a bare provider name, or `null`): see
   * `schemas/Provider.ts` `select`. An empty model id becomes the provider's
   * `defaultModel`. Fails with `NoProviders` or `Unavailable` (4.5.7's texts).
   * A provider of an untrusted providers file inside the workspace is chosen
   * only when the selector names it; otherwise the choice is made among the
   * others (`Unavailable` when there are none).
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
 * The key variables of the built-in providers and the presets, in
 * registration order.
 *
 * @since 0.1.0
 * @category constants
 */
export const BUILTIN_KEY_VARIABLES: ReadonlyArray<string> = [
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  ...Presets.presets.flatMap((preset) => preset.keyVariables)
]

/**
 * The names of the built-in providers and presets, which a providers file
 * inside the workspace may not redefine.
 *
 * @since 0.1.0
 * @category constants
 */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set(["openai", "anthropic", ...Presets.presets.map((p) => p.name)])

/**
 * A registry over `providers`, in order; a later provider with the name of an
 * earlier one replaces it in place (4.5.7 `register` replaces).
 * `keyVariables` adds names to {@link BUILTIN_KEY_VARIABLES} and the
 * providers' own key variables.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  providers: ReadonlyArray<Provider>,
  options: {
    readonly keyVariables?: Iterable<string> | undefined
    readonly onDemand?: ReadonlyArray<Provider> | undefined
  } = {}
): ProviderRegistry["Service"] => {
  const byName = new Map<string, Provider>()
  for (const provider of providers) byName.set(provider.name, provider)
  const onDemand = new Map<string, Provider>()
  for (const provider of options.onDemand ?? []) if (!byName.has(provider.name)) onDemand.set(provider.name, provider)
  const keyVariables = new Set(BUILTIN_KEY_VARIABLES)
  for (const provider of providers) if (provider.keyVariable !== undefined) keyVariables.add(provider.keyVariable)
  for (const name of options.keyVariables ?? []) keyVariables.add(name)
  const list = [...byName.values()]
  const names = list.map((p) => p.name)
  const defaultModelOf = (name: string) =>
    (byName.get(name) ?? onDemand.get(name))?.defaultModel ?? ProviderSchema.defaultModel(name)
  const resolve = (result: Result.Result<ProviderSchema.Selection, ProviderSchema.SelectionError>) =>
    Result.isSuccess(result)
      ? Effect.succeed<Selected>({
        provider: (byName.get(result.success.provider) ?? onDemand.get(result.success.provider))!,
        model: result.success.model
      })
      : Effect.fail(toError(result.failure))
  // Providers of an untrusted workspace file are used only when the selector names them.
  const untrusted = new Set(list.filter((p) => p.origin?.trust === "untrusted").map((p) => p.name))
  const implicitNames = names.filter((name) => !untrusted.has(name))
  // Local servers (`ollama`) take a selector that does not name them only when nothing else can.
  const lastResort = new Set([...list, ...onDemand.values()].filter((p) => p.lastResort === true).map((p) => p.name))
  const named = (selector: string | null, provider: string) =>
    selector !== null &&
    (ProviderSchema.parseModelString(selector).provider !== undefined || selector === provider)
  /** The registered names, plus an on-demand provider the selector names. */
  const namesFor = (selector: string | null): ReadonlyArray<string> => {
    if (selector === null || onDemand.size === 0) return names
    const parsed = ProviderSchema.parseModelString(selector)
    const wanted = parsed.provider === undefined ? selector : ProviderSchema.normalizeProvider(parsed.provider)
    return onDemand.has(wanted) ? [...names, wanted] : names
  }
  const guarded = (
    selector: string | null,
    choose: (registered: ReadonlyArray<string>) => Result.Result<ProviderSchema.Selection, ProviderSchema.SelectionError>
  ) => {
    const all = namesFor(selector)
    const result = choose(all)
    if (Result.isSuccess(result) && lastResort.has(result.success.provider) && !named(selector, result.success.provider)) {
      const others = all.filter((name) => !lastResort.has(name) && !untrusted.has(name))
      if (others.length > 0) return resolve(choose(others))
    }
    if (Result.isFailure(result) || !untrusted.has(result.success.provider) || named(selector, result.success.provider)) {
      return resolve(result)
    }
    const fallback = choose(implicitNames)
    if (Result.isSuccess(fallback)) return resolve(fallback)
    const provider = result.success.provider
    return Effect.fail(
      new Common.ProviderError({
        reason: "Unavailable",
        provider,
        message: `No provider to use: "${provider}" comes from ${
          byName.get(provider)?.origin?.path
        }, a providers file inside the workspace that is not trusted, so it is used only when named ` +
          `(--model ${provider}/<model>); or set a provider's key variable (codetether providers)`
      })
    )
  }
  return ProviderRegistry.of({
    list,
    keyVariables: [...keyVariables],
    get: (name) => Option.fromUndefinedOr(byName.get(name)),
    select: Effect.fn("ProviderRegistry.select")(function*(selector: string | null) {
      return yield* guarded(selector, (registered) => ProviderSchema.select(selector, registered, defaultModelOf))
    }),
    resolveModel: Effect.fn("ProviderRegistry.resolveModel")(function*(model: string) {
      return yield* guarded(model, (registered) => ProviderSchema.resolveModel(model, registered, defaultModelOf))
    })
  })
}

/**
 * A registry over the given providers (tests, embedders, scripted providers).
 * Reads no environment variable and no file. Combine it with the provider
 * constructors ({@link openAi}, {@link anthropic}, {@link openAiCompatible},
 * {@link fromLanguageModel}):
 *
 * ```ts
 * ProviderRegistry.layerProviders([
 *   ProviderRegistry.openAi({ apiKey: Redacted.make(key) }),
 *   ProviderRegistry.openAiCompatible({ name: "local", baseUrl: "http://127.0.0.1:8080/v1", defaultModel: "qwen3" })
 * ])
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProviders = (providers: ReadonlyArray<Provider>): Layer.Layer<ProviderRegistry> =>
  Layer.succeed(ProviderRegistry, make(providers))

/**
 * Options of {@link openAi} and {@link anthropic}: the API key, and
 * optionally another base URL (a proxy; default the provider's API), default
 * model (default 4.5.7's: `gpt-4o`, `claude-sonnet-4-20250514`) and registry
 * name (default `openai`, `anthropic`).
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyedOptions {
  readonly apiKey: Redacted.Redacted<string>
  readonly baseUrl?: string | undefined
  readonly defaultModel?: string | undefined
  readonly name?: string | undefined
}

/**
 * Options of {@link openAiCompatible}: the registry `name`, the server's
 * `baseUrl` (e.g. `http://127.0.0.1:8080/v1`), its `defaultModel`, an
 * optional API key (none: no `Authorization` header is sent) and wire
 * options that differ from a plain compatible server (`max_tokens`, sampling
 * parameters always sent, no `reasoning_content`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CompatibleOptions {
  readonly name: string
  readonly baseUrl: string
  readonly defaultModel: string
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly wire?: Partial<OpenAi.WireOptions> | undefined
}

const trimBaseUrl = (url: string) => url.trim().replace(/\/+$/, "")

/**
 * The OpenAI provider built from values: no environment variable and no file
 * is read (not `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID` nor
 * `OPENAI_PROJECT_ID`). Same rules as the configured provider: the `openai`
 * package is imported on first use (an optional peer dependency: a missing
 * package is an `Unavailable` {@link ProviderError} naming it), redirects to
 * another origin are never followed, the {@link StreamTimeouts} and
 * {@link RetryPolicy} in effect apply, and the key never appears in errors.
 *
 * @since 0.1.0
 * @category constructors
 */
export const openAi = (options: KeyedOptions): Provider =>
  OpenAi.make({
    name: options.name ?? "openai",
    baseUrl: trimBaseUrl(options.baseUrl ?? OpenAi.DEFAULT_BASE_URL),
    defaultModel: options.defaultModel ?? ProviderSchema.defaultModel("openai"),
    apiKey: options.apiKey,
    source: "embedded"
  }, OpenAi.openAiWire)

/**
 * The Anthropic provider built from values (no environment variable, no
 * file); the `@anthropic-ai/sdk` package is imported on first use. Same rules
 * as {@link openAi}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const anthropic = (options: KeyedOptions): Provider =>
  Anthropic.make({
    name: options.name ?? "anthropic",
    baseUrl: trimBaseUrl(options.baseUrl ?? Anthropic.DEFAULT_BASE_URL),
    defaultModel: options.defaultModel ?? ProviderSchema.defaultModel("anthropic"),
    apiKey: options.apiKey,
    source: "embedded"
  })

/**
 * An OpenAI-compatible provider (a local server, a gateway, any
 * `/chat/completions` API) built from values: no environment variable, no
 * file. Same rules as {@link openAi}; `baseUrl` may carry credentials
 * (`http://user:pw@host/v1`, sent as `Authorization: Basic` when there is no
 * API key, never printed).
 *
 * @since 0.1.0
 * @category constructors
 */
export const openAiCompatible = (options: CompatibleOptions): Provider =>
  OpenAi.make({
    name: options.name,
    baseUrl: trimBaseUrl(options.baseUrl),
    defaultModel: options.defaultModel,
    apiKey: options.apiKey,
    source: "embedded"
  }, { ...OpenAi.compatibleWire, ...options.wire })

/**
 * A provider backed by an Effect AI `LanguageModel` (`effect/ai`): a session
 * prompted through it asks that model, with codetether's own loop, tools and
 * store. `options.name` is its registry name (default `effect-ai`),
 * `options.defaultModel` the model id sessions record (default
 * `language-model`: the `LanguageModel` is bound to its model). Tool calls
 * are never resolved by Effect AI: the session loop runs them. See
 * `services/providers/EffectAi.ts` for the mapping and the errors.
 *
 * ```ts
 * const model = yield* LanguageModel.LanguageModel // e.g. from OpenAiLanguageModel.model("gpt-5.2")
 * const registry = ProviderRegistry.make([ProviderRegistry.fromLanguageModel(model, { name: "openai" })])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLanguageModel: (
  languageModel: LanguageModel.LanguageModel,
  options?: EffectAi.Options
) => Provider = EffectAi.make

/**
 * A registry whose only provider is the `LanguageModel` of the context
 * ({@link fromLanguageModel}), e.g.
 * `ProviderRegistry.layerLanguageModel().pipe(Layer.provide(OpenAiLanguageModel.model("gpt-5.2")))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLanguageModel = (
  options?: EffectAi.Options
): Layer.Layer<ProviderRegistry, never, LanguageModel.LanguageModel> =>
  Layer.effect(
    ProviderRegistry,
    Effect.map(Effect.service(LanguageModel.LanguageModel), (model) => make([fromLanguageModel(model, options)]))
  )

/**
 * The helper every SDK seam uses to turn one HTTP streaming call into a
 * provider `Stream`: abort on interruption, the {@link StreamTimeouts}, and
 * retries of transient failures per {@link RetryPolicy} while nothing was
 * emitted. Use it to write a provider for another API (`Common.StreamCall`:
 * `open(signal)` resolving to the SDK's async iterable, and a per-attempt
 * `decoder`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamWithRetry = Common.streamWithRetry

/**
 * One SDK call for {@link streamWithRetry}.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamCall<Chunk> = Common.StreamCall<Chunk>

/**
 * Per-attempt decoding of SDK chunks into stream events, for
 * {@link streamWithRetry}.
 *
 * @since 0.1.0
 * @category models
 */
export type Decoder<Chunk> = Common.Decoder<Chunk>

/**
 * Whether a {@link ProviderError} is one {@link streamWithRetry} retries
 * (`RateLimited`, `Server`, `Connection`, `Stream`, `Timeout`).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = Common.isRetryable

const baseUrlFrom = Effect.fnUntraced(function*(variable: string, fallback: string) {
  const value = yield* Config.option(Config.String(variable))
  const url = Option.isSome(value) && value.value.trim().length > 0 ? value.value.trim() : fallback
  return url.replace(/\/+$/, "")
})

/**
 * The providers of {@link fromConfig} and the key variable names it saw (for
 * {@link make}'s `keyVariables`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Configured {
  readonly providers: ReadonlyArray<Provider>
  readonly keyVariables: ReadonlyArray<string>
  /** Keyless local providers not registered but usable when a selector names them (`ollama/<model>`). */
  readonly onDemand: ReadonlyArray<Provider>
}

/**
 * Options of {@link fromConfig}: the current directory whose workspace the
 * trust rule protects (default: the process's) and the user config dir
 * (default: from `XDG_CONFIG_HOME` / `HOME`; `null`: no user providers file
 * and no trust store).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly cwd?: string | undefined
  readonly userConfigDir?: string | null | undefined
}

interface ProvidersFile {
  readonly path: string
  /** How far it is trusted before the trust store is consulted. */
  readonly trust: "user" | "outside-workspace" | "workspace"
  /** Where a symlink at the path may point. */
  readonly follow: { readonly within: string }
  /** The workspace root it lies under (workspace files). */
  readonly root?: string | undefined
}

/**
 * The providers of the environment only, read through `Config` (the process
 * environment by default, or the app's `ConfigProvider`), in registration
 * order: `openai`, `anthropic`, then the OpenAI-compatible presets whose key
 * variable is set. No providers file is read. Fails with a `ConfigError`
 * when a variable cannot be read.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnv: Effect.Effect<Configured, Config.ConfigError> = Effect.gen(function*() {
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
  const onDemand: Array<Provider> = []
  for (const preset of Presets.presets) {
    const wire = { ...OpenAi.compatibleWire, ...preset.wire }
    if (preset.local === true) {
      // keyless local server: registered when its base URL variable is set, else on demand
      const set = yield* Config.option(Config.String(preset.baseUrlVariable))
      const configured = Option.isSome(set) && set.value.trim().length > 0
      const provider = OpenAi.make({
        name: preset.name,
        baseUrl: yield* baseUrlFrom(preset.baseUrlVariable, preset.baseUrl),
        defaultModel: preset.defaultModel,
        apiKey: undefined,
        source: "preset",
        nativeTools: preset.nativeTools,
        lastResort: true
      }, wire)
      ;(configured ? providers : onDemand).push(provider)
      continue
    }
    const key = yield* Common.firstSecret(preset.keyVariables)
    if (Option.isNone(key)) continue
    providers.push(OpenAi.make({
      name: preset.name,
      baseUrl: yield* baseUrlFrom(preset.baseUrlVariable, preset.baseUrl),
      defaultModel: preset.defaultModel,
      apiKey: key.value.key,
      keyVariable: key.value.name,
      source: "preset",
      ...(preset.nativeTools === undefined ? {} : { nativeTools: preset.nativeTools })
    }, wire))
  }
  return { providers, keyVariables: [], onDemand }
})

/**
 * The providers configured by the environment and the providers files, in
 * registration order, with the trust rule of the module documentation
 * applied. Fails with a `ConfigError` when a variable cannot be read, or a
 * `Config` {@link ProviderError} naming the file and the problem when a
 * providers file is invalid. An unreadable or invalid trust store is a
 * warning (nothing is trusted).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfig = (
  options: Options = {}
): Effect.Effect<Configured, ProviderError | Config.ConfigError, DataDir.DataDir> =>
  Effect.gen(function*() {
    const env = yield* fromEnv
    const providers: Array<Provider> = [...env.providers]
    const onDemand: Array<Provider> = [...env.onDemand]

    const dataDir = yield* DataDir.DataDir
    const workspace = Workspace.of(options.cwd ?? process.cwd())
    const configDir = options.userConfigDir === undefined ? yield* Workspace.userConfigDir : options.userConfigDir
    const files: Array<ProvidersFile> = []
    if (configDir !== null) {
      const path = NodePath.join(configDir, CustomProviders.FILE_NAME)
      files.push({ path, trust: "user", follow: Workspace.followAnywhere(path) })
    }
    const dataFile = NodePath.join(dataDir.path, CustomProviders.FILE_NAME)
    if (files.every((file) => canonicalize(file.path) !== canonicalize(dataFile))) {
      const root = Workspace.containing(workspace, dataDir.path)
      files.push({
        path: dataFile,
        trust: root === undefined ? "outside-workspace" : "workspace",
        follow: { within: dataDir.path },
        root
      })
    }

    const keyVariables = new Set<string>()
    /** Names registered from a trusted file, with the file. */
    const trustedNames = new Map<string, string>()
    let trustStore: ReadonlyArray<ProviderTrust.TrustedFile> | undefined
    const loadTrustStore = Effect.gen(function*() {
      if (trustStore !== undefined) return trustStore
      if (configDir === null) return (trustStore = [])
      const storePath = NodePath.join(configDir, ProviderTrust.FILE_NAME)
      trustStore = yield* ProviderTrust.load(storePath).pipe(
        Effect.catch((error) =>
          Effect.as(Effect.logWarning(`${error.message}; no workspace providers file is trusted`), [])
        )
      )
      return trustStore
    })

    for (const file of files) {
      const loaded = yield* CustomProviders.read(file.path, { follow: file.follow })
      if (loaded === undefined) continue
      for (const entry of loaded.providers) if (entry.apiKeyEnv !== undefined) keyVariables.add(entry.apiKeyEnv)
      let trust: Common.Trust = file.trust === "workspace" ? "untrusted" : file.trust
      if (file.trust === "workspace" && loaded.providers.some((entry) => entry.apiKeyEnv !== undefined)) {
        if (ProviderTrust.isTrusted(yield* loadTrustStore, loaded.path, loaded.sha256)) trust = "trusted"
      }
      const origin: Common.Origin = { path: loaded.path, trust }
      for (const entry of loaded.providers) {
        const ignore = (why: string) =>
          Effect.logWarning(`${loaded.path}: provider "${entry.name}" is ignored: ${why}`)
        if (file.trust === "workspace") {
          const where = `this file is inside the workspace (${file.root})`
          if (BUILTIN_NAMES.has(entry.name)) {
            yield* ignore(`${where} and may not redefine the built-in provider "${entry.name}"`)
            continue
          }
          const earlier = trustedNames.get(entry.name)
          if (earlier !== undefined) {
            yield* ignore(`${where} and may not redefine the provider "${entry.name}" of ${earlier}`)
            continue
          }
          if (entry.apiKeyEnv !== undefined && trust === "untrusted") {
            yield* ignore(
              `${where}, is not trusted, and the provider reads the key variable ${entry.apiKeyEnv}; ` +
                `if you wrote this file, trust it with: codetether config trust ${loaded.path}`
            )
            continue
          }
        }
        // A name of the user's own files stays theirs even when its key is unset.
        if (file.trust !== "workspace") trustedNames.set(entry.name, loaded.path)
        let apiKey: Redacted.Redacted<string> | undefined
        if (entry.apiKeyEnv !== undefined) {
          const key = yield* Common.firstSecret([entry.apiKeyEnv])
          if (Option.isNone(key)) {
            yield* Effect.logWarning(
              `${loaded.path}: provider "${entry.name}" is not registered: ${entry.apiKeyEnv} is not set`
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
          source: "custom",
          origin,
          ...(entry.nativeTools === undefined ? {} : { nativeTools: entry.nativeTools })
        }
        providers.push(entry.kind === "anthropic" ? Anthropic.make(config) : OpenAi.make(config))
      }
    }
    return { providers, keyVariables: [...keyVariables], onDemand }
  })

/**
 * The registry of {@link fromConfig}: providers from the environment (through
 * `Config`) and the providers files, with the trust rule applied; also sets
 * {@link StreamTimeouts} from `CODETETHER_CONNECT_TIMEOUT_MS` and
 * `CODETETHER_STREAM_IDLE_TIMEOUT_MS`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfigWith = (
  options: Options
): Layer.Layer<ProviderRegistry, ProviderError | Config.ConfigError, DataDir.DataDir> =>
  Layer.effect(
    ProviderRegistry,
    Effect.map(fromConfig(options), ({ keyVariables, onDemand, providers }) => make(providers, { keyVariables, onDemand }))
  ).pipe(Layer.merge(Common.layerStreamTimeoutsConfig))

/**
 * The registry of {@link fromEnv}: providers from the environment only
 * (through `Config`), no providers file; also sets {@link StreamTimeouts}
 * from `CODETETHER_CONNECT_TIMEOUT_MS` and `CODETETHER_STREAM_IDLE_TIMEOUT_MS`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEnv: Layer.Layer<ProviderRegistry, Config.ConfigError> = Layer.effect(
  ProviderRegistry,
  Effect.map(fromEnv, ({ keyVariables, onDemand, providers }) => make(providers, { keyVariables, onDemand }))
).pipe(Layer.merge(Common.layerStreamTimeoutsConfig))

/**
 * {@link layerConfigWith} for the process's current directory and the user
 * config dir of the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<ProviderRegistry, ProviderError | Config.ConfigError, DataDir.DataDir> =
  layerConfigWith({})
