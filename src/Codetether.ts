/**
 * Ready-made layers for apps that embed codetether: the same services the
 * `codetether` CLI runs with.
 *
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Codetether, SessionLoop } from "codetether"
 *
 * program.pipe(Effect.provide(Codetether.layer), Effect.provide(NodeServices.layer))
 * ```
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as CodexImport from "../services/CodexImport.ts"
import * as DataDir from "../services/DataDir.ts"
import * as DurableSink from "../services/DurableSink.ts"
import * as Images from "../services/Images.ts"
import * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as SessionBus from "../services/SessionBus.ts"
import * as SessionLoop from "../services/SessionLoop.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as SystemPrompt from "../services/SystemPrompt.ts"
import * as ToolRegistry from "../services/ToolRegistry.ts"

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
 * shared by many machines. A save that still fails after the retry window
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
): Layer.Layer<SessionStore.SessionStore | DurableSink.DurableSink, SessionStore.SessionStoreError, DataDir.DataDir> =>
  Layer.unwrap(Effect.gen(function*() {
    const dataDir = yield* DataDir.DataDir
    const module = yield* Effect.tryPromise({
      try: () => import("../services/SessionStorePostgres.ts"),
      catch: (cause) =>
        new SessionStore.SessionStoreError({
          reason: "Io",
          message: `The PostgreSQL session store needs the @effect/sql-pg package (npm install @effect/sql-pg@4.0): ${
            (cause as Error)?.message ?? String(cause)
          }`,
          cause
        })
    })
    return module.layerWithSink({ recoveryDir: NodePath.join(dataDir.path, "recovery"), ...options })
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
      Images.layer
    )),
    Layer.provideMerge(Layer.merge(providers, config))
  )
}

/**
 * Everything on top of the store that a prompt needs: the providers
 * (environment and `<data_dir>/providers.json`), the built-in tools, the event
 * bus over the durable sink of the environment, the configuration (files,
 * environment), the build-agent system prompt, the Codex importer and image
 * reading; exposes all of them and `SessionLoop`. Requires `DataDir`,
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
