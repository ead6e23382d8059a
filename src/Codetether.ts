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
import * as Layer from "effect/Layer"
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as CodexImport from "../services/CodexImport.ts"
import * as DataDir from "../services/DataDir.ts"
import * as DurableSink from "../services/DurableSink.ts"
import * as EventStream from "../services/EventStream.ts"
import * as Images from "../services/Images.ts"
import * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as SessionBus from "../services/SessionBus.ts"
import * as SessionLoop from "../services/SessionLoop.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as SystemPrompt from "../services/SystemPrompt.ts"
import * as ToolRegistry from "../services/ToolRegistry.ts"

/**
 * The session store in the data dir provided by the environment
 * (`DataDir.layer`, `DataDir.layerPath(dir)`), with the `DataDir` service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreNoDeps = SessionStore.layerFileSystem

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
      SessionBus.layer().pipe(Layer.provide(DurableSink.layerJsonl)),
      SystemPrompt.layer,
      CodexImport.layer,
      Images.layer,
      EventStream.layerConfig
    )),
    Layer.provideMerge(Layer.merge(providers, config))
  )
}

/**
 * Everything on top of the store that a prompt needs: the providers
 * (environment and `<data_dir>/providers.json`), the built-in tools, the event
 * bus with the JSONL durable sink in `<data_dir>/events/`, 4.5.7's
 * event-stream audit files when `CODETETHER_EVENT_STREAM_PATH` is set, the configuration
 * (files, environment), the build-agent system prompt, the Codex importer and
 * image reading; exposes all of them and `SessionLoop`. Requires `DataDir`,
 * `SessionStore`, and the platform's `FileSystem` and `ChildProcessSpawner`
 * (`NodeServices.layer` of `@effect/platform-node`) for the tools.
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
