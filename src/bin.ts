/**
 * Entry point of the `codetether` binary.
 *
 * Every failure becomes one readable line on stderr and exit code 1 (its
 * control characters made visible when stderr is a terminal: an error may
 * quote a server's body or a file name); usage errors are rendered by the CLI
 * with the help text.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Cli from "./Cli.ts"
import * as Terminal from "./render/Terminal.ts"

const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" && error.message.length > 0) {
    return error.message
  }
  return String(error)
}

const isCliError = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error &&
  ["ShowHelp", "MissingArgument", "MissingOption", "InvalidValue", "UnknownSubcommand", "UnrecognizedOption", "DuplicateOption", "UserError"].includes(String(error._tag))

const program = Cli.run(process.argv.slice(2)).pipe(
  Effect.catchCause((cause) =>
    Effect.sync(() => {
      if (Cause.hasInterruptsOnly(cause)) {
        // 130 unless the command finished its own shutdown (`serve` exits 0)
        process.exitCode ??= 130
        return
      }
      const failure = cause.reasons.find((r) => r._tag === "Fail")
      if (failure !== undefined && failure._tag === "Fail") {
        const error = failure.error as { readonly _tag?: string; readonly errors?: ReadonlyArray<unknown> }
        if (error._tag === "ShowHelp" && (error.errors?.length ?? 0) === 0) return // --help
        if (!isCliError(error)) process.stderr.write(`codetether: ${Terminal.forStream(process.stderr, describe(error))}\n`)
      } else {
        const defect = cause.reasons.find((r) => r._tag === "Die")
        process.stderr.write(
          `codetether: unexpected error: ${
            Terminal.forStream(process.stderr, describe(defect?._tag === "Die" ? defect.defect : cause))
          }\n`
        )
      }
      process.exitCode = 1
    })
  ),
  Effect.provide(NodeServices.layer),
  // A variable set to "" is set (4.5.7 reads CODETETHER_* provenance variables
  // that way); settings that need a value treat blank as unset themselves.
  Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ preserveEmptyStrings: true })))
)

// Exit as soon as the program is done: Node would otherwise wait for idle
// handles such as the HTTP client's keep-alive sockets (~60 ms after a run).
NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => Runtime.defaultTeardown(exit, (code) => {
    // an interruption (130) keeps the exit code the program chose (`serve` exits 0 on SIGTERM)
    const chosen = code === 0 || code === 130 ? (typeof process.exitCode === "number" ? process.exitCode : code) : code
    onExit(chosen)
    process.exit(chosen)
  })
})
