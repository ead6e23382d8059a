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
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as CodexImport from "../services/CodexImport.ts"
import * as DataDir from "../services/DataDir.ts"
import * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as Codetether from "./Codetether.ts"
import * as Terminal from "./render/Terminal.ts"
import * as Config from "./commands/config.ts"
import * as Import from "./commands/import.ts"
import * as Providers from "./commands/providers.ts"
import * as Run from "./commands/run.ts"
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

const dataDirLayer = Layer.unwrap(Effect.gen(function*() {
  const flag = yield* DataDirFlag
  return Option.match(flag, { onNone: () => DataDir.layer, onSome: DataDir.layerFlag })
}))

/**
 * The services every command can use: the data dir and the session store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = Codetether.layerStoreNoDeps.pipe(Layer.provideMerge(dataDirLayer))

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
      Codetether.layerAgentNoDepsWith({
        flags: { maxSteps: Option.getOrUndefined(input.maxSteps), maxTokens: Option.getOrUndefined(input.maxTokens) }
      })
    )),
    Sessions.command.pipe(Command.provide(CodexImport.layer)),
    Import.importCommand.pipe(Command.provide(CodexImport.layer)),
    Providers.command.pipe(Command.provide(ProviderRegistry.layerConfig)),
    Config.command.pipe(Command.provide(CodetetherConfig.layer))
  ]),
  Command.provide(Layer.merge(layer, layerLogger)),
  Command.withGlobalFlags([DataDirFlag])
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
