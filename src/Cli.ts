/**
 * The `codetether` command line: the root command, its global flags and the
 * layers every command runs with.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import * as ClaudeImport from "../services/ClaudeImport.ts"
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as CodexImport from "../services/CodexImport.ts"
import * as DataDir from "../services/DataDir.ts"
import * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as SessionSearch from "../services/SessionSearch.ts"
import * as Codetether from "./Codetether.ts"
import * as Terminal from "./render/Terminal.ts"
import * as Config from "./commands/config.ts"
import * as Import from "./commands/import.ts"
import * as Providers from "./commands/providers.ts"
import * as Run from "./commands/run.ts"
import * as Serve from "./commands/serve.ts"
import * as Sessions from "./commands/sessions.ts"
import * as Version from "./version.ts"

/**
 * `--data-dir DIR`, accepted anywhere on the command line: overrides the data
 * dir (default: `CODETETHER_DATA_DIR`, else `<git root or cwd>/.codetether-agent`).
 *
 * @since 0.1.0
 * @category flags
 */
export const DataDirFlag = GlobalFlag.Setting("data-dir")({
  flag: Flag.String("data-dir").pipe(
    Flag.withDescription("Data directory (default: $CODETETHER_DATA_DIR, else <git root or cwd>/.codetether-agent)"),
    Flag.optional
  )
})

/**
 * `--database-url URL`, accepted anywhere on the command line: keeps the
 * sessions (and durable events) in PostgreSQL at URL instead of the data dir
 * (default: `CODETETHER_DATABASE_URL`, else `database_url` in the user config
 * file, else the data dir).
 *
 * @since 0.1.0
 * @category flags
 */
export const DatabaseUrlFlag = GlobalFlag.Setting("database-url")({
  flag: Flag.String("database-url").pipe(
    Flag.withDescription(
      "Keep sessions in PostgreSQL at this URL (default: $CODETETHER_DATABASE_URL, else database_url in the user config file, else the data dir)"
    ),
    Flag.optional
  )
})

const dataDirLayer = Layer.unwrap(Effect.gen(function*() {
  const flag = yield* DataDirFlag
  return Option.match(flag, { onNone: () => DataDir.layer, onSome: DataDir.layerFlag })
}))

/** The `--database-url` flag's value, for the configuration's flag overrides. */
const databaseUrlFlag = Effect.map(DatabaseUrlFlag, Option.getOrUndefined)

/**
 * The store every command uses, with its durable sink and the search that
 * fits it: PostgreSQL when a database URL is set (flag, environment or user
 * config file), else the data dir.
 */
const storeLayer = Layer.unwrap(Effect.gen(function*() {
  const setting = yield* CodetetherConfig.resolveDatabaseUrl({ flags: { databaseUrl: yield* databaseUrlFlag } })
  return setting.value === null
    ? Layer.merge(Codetether.layerStoreNoDeps, SessionSearch.layerFileSystem)
    : Codetether.layerStorePostgresNoDeps({ url: setting.value })
}))

/**
 * The services every command can use: the data dir, the session store, the
 * durable event sink and the session search (PostgreSQL when a database URL
 * is set).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = storeLayer.pipe(Layer.provideMerge(dataDirLayer))

/** The configuration with the global `--database-url` flag applied. */
const configLayer = Layer.unwrap(
  Effect.map(databaseUrlFlag, (databaseUrl) => CodetetherConfig.layerWith({ flags: { databaseUrl } }))
)

const render = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ")

/**
 * Log entries as single lines on stderr (`codetether: warning: ...`), so
 * stdout stays clean for `--json` output; on a terminal their control
 * characters are made visible (a warning may name a hostile file).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLogger = Logger.layer([
  Logger.make((options) => {
    process.stderr.write(
      `codetether: ${options.logLevel.toLowerCase().replace("warn", "warning")}: ${
        Terminal.forStream(process.stderr, render(options.message))
      }\n`
    )
  })
])

/**
 * The root command.
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("codetether").pipe(
  Command.withDescription("Persistent AI coding-agent sessions, compatible with codetether-agent 4.5.7"),
  Command.withSubcommands([
    Run.command.pipe(Command.provide((input) =>
      Layer.unwrap(Effect.map(databaseUrlFlag, (databaseUrl) =>
        Codetether.layerAgentNoDepsWith({
          flags: {
            maxSteps: Option.getOrUndefined(input.maxSteps),
            maxTokens: Option.getOrUndefined(input.maxTokens),
            databaseUrl
          }
        })))
    )),
    Serve.command.pipe(
      Command.provide(Layer.merge(Codetether.layerAgentNoDepsWith({}), Serve.layer))
    ),
    Sessions.command.pipe(Command.provide(Layer.merge(CodexImport.layer, ClaudeImport.layer))),
    Import.importCommand.pipe(Command.provide(Layer.merge(CodexImport.layer, ClaudeImport.layer))),
    Providers.command.pipe(Command.provide(ProviderRegistry.layerConfig)),
    Config.command.pipe(Command.provide(configLayer))
  ]),
  Command.provide(Layer.merge(layer, layerLogger)),
  Command.withGlobalFlags([DataDirFlag, DatabaseUrlFlag])
)

/**
 * The version printed by `--version`.
 *
 * @since 0.1.0
 * @category constants
 */
export const version: string = Version.version

/**
 * Runs the CLI on `argv` (without the node and script paths).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>) => Command.runWith(root, { version })(argv)
