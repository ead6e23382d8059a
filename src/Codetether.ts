/**
 * Ready-made layers for apps that embed codetether.
 *
 * - {@link layerValue}: the configuration and the providers as values: no
 *   config file, providers file or environment variable is read (what an app
 *   usually wants: a bad `codetether.toml` in its working directory cannot
 *   break it);
 * - {@link layerEnv}: configuration and providers through Effect `Config`
 *   only (the environment, or the app's `ConfigProvider`), no config or
 *   providers file;
 * - {@link layer}, {@link layerAt}: the same services the `codetether` CLI
 *   runs with: they also read the user's and the current directory's config
 *   files (`~/.config/codetether-agent/config.toml`, `./codetether.toml`,
 *   `./.codetether/config.toml`) and providers files
 *   (`~/.config/codetether-agent/providers.json`, `<data_dir>/providers.json`).
 *
 * Every variant reads and writes the sessions and durable events of its data
 * dir, the system prompt reads the `AGENTS.md` files of a session's directory
 * (unless a fixed prompt is given), and the built-in tools work on the files
 * of the session's directory.
 *
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Codetether, ProviderRegistry, SessionLoop } from "codetether"
 *
 * program.pipe(
 *   Effect.provide(Codetether.layerValue({
 *     dataDir: "/var/lib/my-app/codetether",
 *     providers: [ProviderRegistry.openAi({ apiKey: Redacted.make(key) })]
 *   })),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ClaudeImport from "../services/ClaudeImport.ts"
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as CodexImport from "../services/CodexImport.ts"
import * as LazyModule from "../services/internal/LazyModule.ts"
import * as DataDir from "../services/DataDir.ts"
import * as DurableSink from "../services/DurableSink.ts"
import * as EventStream from "../services/EventStream.ts"
import * as Images from "../services/Images.ts"
import * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as SessionBus from "../services/SessionBus.ts"
import * as SessionLoop from "../services/SessionLoop.ts"
import type * as SessionSearch from "../services/SessionSearch.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as SystemPrompt from "../services/SystemPrompt.ts"
import * as ToolRegistry from "../services/ToolRegistry.ts"
import type * as FileSystem from "effect/FileSystem"
import type * as ChildProcessSpawner from "effect/process/ChildProcessSpawner"

/**
 * The session store and the durable event sink in the data dir provided by
 * the environment (`DataDir.layer`, `DataDir.layerPath(dir)`): session files
 * in `<data_dir>/sessions/`, events in `<data_dir>/events/<id>.jsonl`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreNoDeps: Layer.Layer<SessionStore.SessionStore | DurableSink.DurableSink, never, DataDir.DataDir> =
  Layer.merge(SessionStore.layerFileSystem, DurableSink.layerJsonl)

/**
 * The session store and the durable event sink in PostgreSQL at
 * `options.url` (one pool; see `SessionStore.layerPostgres`), for sessions
 * shared by many machines, and the `SessionSearch` that fits them (the
 * database looks for a plain-text query in the message rows:
 * `SessionSearchPostgres`). A save that still fails after the retry window
 * writes the session to `<data_dir>/recovery/<id>.json` (unless
 * `options.recoveryDir` says otherwise). Loads `@effect/sql-pg` on first
 * use; nothing connects until the first store operation. Fails to build with
 * `SessionStoreError` (`Io`) when `@effect/sql-pg` is not installed.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStorePostgresNoDeps = (
  options: SessionStore.PostgresOptions
): Layer.Layer<
  SessionStore.SessionStore | DurableSink.DurableSink | SessionSearch.SessionSearch,
  SessionStore.SessionStoreError,
  DataDir.DataDir
> =>
  Layer.unwrap(Effect.gen(function*() {
    const dataDir = yield* DataDir.DataDir
    const [StorePg, SearchPg] = yield* Effect.tryPromise({
      // through LazyModule: literal import()s would put the PostgreSQL modules in every app's bundle
      try: () => Promise.all([LazyModule.sessionStorePostgres(), LazyModule.sessionSearchPostgres()]),
      catch: (cause) =>
        new SessionStore.SessionStoreError({
          reason: "Io",
          message: `The PostgreSQL session store needs the @effect/sql-pg package (npm install @effect/sql-pg@4.0): ${
            (cause as Error)?.message ?? String(cause)
          }`,
          cause
        })
    })
    const settings = { recoveryDir: NodePath.join(dataDir.path, "recovery"), ...options }
    return SearchPg.layer.pipe(
      Layer.provideMerge(StorePg.layerServices(settings)),
      Layer.provide(StorePg.layerDatabase(settings))
    )
  }))

/**
 * Everything on top of the store that a prompt needs ({@link layerAgentNoDeps}),
 * with configuration options: CLI flag overrides
 * (`--model`, `--max-steps`, `--max-tokens`: highest precedence), another
 * directory for the project config files, or another user config file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAgentNoDepsWith = (options: CodetetherConfig.Options) => {
  const config = CodetetherConfig.layerWith(options)
  const providers = ProviderRegistry.layerConfigWith(options.cwd === undefined ? {} : { cwd: options.cwd })
  return SessionLoop.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      ToolRegistry.layerConfig,
      SessionBus.layer(),
      SystemPrompt.layer,
      CodexImport.layer,
      ClaudeImport.layer,
      Images.layer,
      EventStream.layerConfig
    )),
    Layer.provideMerge(Layer.merge(providers, config))
  )
}

/**
 * Everything on top of the store that a prompt needs: the providers
 * (environment and `<data_dir>/providers.json`), the built-in tools, the event
 * bus over the durable sink of the environment, 4.5.7's event-stream audit
 * files when `CODETETHER_EVENT_STREAM_PATH` is set, the configuration (files,
 * environment), the build-agent system prompt, the Codex and Claude Code
 * importers and image reading; exposes all of them and `SessionLoop`. Requires `DataDir`,
 * `SessionStore`, `DurableSink` (both from {@link layerStoreNoDeps} or
 * {@link layerStorePostgresNoDeps}), and the platform's `FileSystem` and
 * `ChildProcessSpawner` (`NodeServices.layer` of `@effect/platform-node`) for
 * the tools.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAgentNoDeps = layerAgentNoDepsWith({})

/**
 * The store, in the data dir 4.5.7 would use (`CODETETHER_DATA_DIR`, else
 * `<git root or cwd>/.codetether-agent`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore = layerStoreNoDeps.pipe(Layer.provideMerge(DataDir.layer))

/**
 * Every service, in the data dir 4.5.7 would use. Requires `FileSystem` and
 * `ChildProcessSpawner` (`NodeServices.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = layerAgentNoDeps.pipe(Layer.provideMerge(layerStore))

/**
 * Every service, with the data dir at `path`. Requires `FileSystem` and
 * `ChildProcessSpawner` (`NodeServices.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAt = (path: string) =>
  layerAgentNoDeps.pipe(Layer.provideMerge(layerStoreNoDeps.pipe(Layer.provideMerge(DataDir.layerPath(path)))))

/**
 * Options of {@link layerValue}:
 * - `dataDir`: where sessions (`<dataDir>/sessions`) and durable events
 *   (`<dataDir>/events`) live;
 * - `providers`: the model providers (`ProviderRegistry.openAi(...)`,
 *   `anthropic(...)`, `openAiCompatible(...)`, `fromLanguageModel(...)`); the
 *   first one is used when neither the session nor `config.model` selects
 *   one;
 * - `config`: settings as values (default model, step limit, ...; see
 *   `CodetetherConfig.Values`);
 * - `tools`: the tools offered to the model (default: the built-in tools,
 *   whose `bash` hides provider keys from commands);
 * - `systemPrompt`: a fixed system prompt (default: 4.5.7's build-agent
 *   prompt with the `AGENTS.md` files of the session's directory).
 *
 * @since 0.1.0
 * @category models
 */
export interface ValueOptions {
  readonly dataDir: string
  readonly providers: ReadonlyArray<ProviderRegistry.Provider>
  readonly config?: CodetetherConfig.Values | undefined
  readonly tools?: ReadonlyArray<ToolRegistry.Tool> | undefined
  readonly systemPrompt?: string | undefined
}

/**
 * Every service a prompt needs, configured from values: the file store and
 * the JSONL durable sink in `options.dataDir`, the given providers, the
 * configuration as a value, the tools, the bus, the system prompt and image
 * reading. No config file, providers file or environment variable is read.
 * Not included: `CodexImport` (it reads `~/.codex`; add
 * `CodexImport.layerHome(dir)` when you want it). Requires `FileSystem` and
 * `ChildProcessSpawner` (`NodeServices.layer` of `@effect/platform-node`)
 * for the built-in tools. Fails with `CodetetherConfigError` when a setting
 * is invalid (e.g. `maxSteps: 0`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerValue = (options: ValueOptions): Layer.Layer<
  | SessionLoop.SessionLoop
  | SessionStore.SessionStore
  | SessionBus.SessionBus
  | DurableSink.DurableSink
  | ProviderRegistry.ProviderRegistry
  | ToolRegistry.ToolRegistry
  | CodetetherConfig.CodetetherConfig
  | SystemPrompt.SystemPrompt
  | Images.Images
  | DataDir.DataDir,
  CodetetherConfig.CodetetherConfigError,
  FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner
> => {
  const tools: Layer.Layer<
    ToolRegistry.ToolRegistry,
    never,
    | FileSystem.FileSystem
    | ChildProcessSpawner.ChildProcessSpawner
    | CodetetherConfig.CodetetherConfig
    | ProviderRegistry.ProviderRegistry
  > = options.tools === undefined ? ToolRegistry.layerConfig : ToolRegistry.layerTools(options.tools)
  const systemPrompt = options.systemPrompt === undefined
    ? SystemPrompt.layer
    : SystemPrompt.layerStatic(options.systemPrompt)
  return SessionLoop.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      tools,
      SessionBus.layer().pipe(Layer.provideMerge(DurableSink.layerJsonl)),
      systemPrompt,
      Images.layer,
      SessionStore.layerFileSystem
    )),
    Layer.provideMerge(Layer.mergeAll(
      DataDir.layerPath(options.dataDir),
      CodetetherConfig.layerValue(options.config ?? {}),
      ProviderRegistry.layerProviders(options.providers)
    ))
  )
}

/**
 * Every service ({@link layer}'s, `CodexImport` included), with the
 * configuration and the providers read through Effect `Config` only: the
 * process environment by default, or the `ConfigProvider` the app installs
 * (`CODETETHER_MODEL`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`, ...; see the
 * README's Configuration and Providers sections). No config file and no
 * providers file is read. The data dir is `dataDir` when given, else the
 * one 4.5.7 would use (`CODETETHER_DATA_DIR`, else
 * `<git root or cwd>/.codetether-agent`). Requires `FileSystem` and
 * `ChildProcessSpawner` (`NodeServices.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEnv = (options: { readonly dataDir?: string | undefined } = {}) =>
  SessionLoop.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      ToolRegistry.layerConfig,
      SessionBus.layer().pipe(Layer.provideMerge(DurableSink.layerJsonl)),
      SystemPrompt.layer,
      CodexImport.layer,
      Images.layer
    )),
    Layer.provideMerge(SessionStore.layerFileSystem),
    Layer.provideMerge(Layer.mergeAll(CodetetherConfig.layerEnv, ProviderRegistry.layerEnv)),
    Layer.provideMerge(options.dataDir === undefined ? DataDir.layer : DataDir.layerPath(options.dataDir))
  )
