/**
 * Flags and helpers shared by the CLI commands.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Flag from "effect/cli/Flag"
import * as Terminal from "../render/Terminal.ts"

/**
 * A boolean flag (default `false`) that never takes the word after it as its
 * value: `run -c no thanks` continues the last session with the message "no
 * thanks". effect/cli's `Flag.Boolean` reads a following `yes`/`no`/`true`/
 * `false`/`on`/`off`/`1`/`0` as the flag's value; with an optional value
 * (`Flag.withOptionalValue`) a bare flag means `true` and never consumes the
 * next token. `--name=false` still sets it explicitly, `--no-name` negates it.
 *
 * @since 0.1.0
 * @category flags
 */
export const switchFlag = (name: string, description: string): Flag.Flag<boolean> =>
  Flag.Boolean(name).pipe(
    Flag.withOptionalValue("true"),
    Flag.withDescription(description),
    Flag.withDefault(false)
  )

/**
 * `--json`: print machine-readable output.
 *
 * @since 0.1.0
 * @category flags
 */
export const json = switchFlag("json", "Print machine-readable JSON instead of human output")

/**
 * `--tail N`: keep only the last N messages and tool uses.
 *
 * @since 0.1.0
 * @category flags
 */
export const tail = Flag.Int("tail").pipe(
  Flag.withSchema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  Flag.withDescription("Load only the last N messages and tool uses (for huge sessions)"),
  Flag.optional
)

/**
 * Writes text or bytes to stdout and waits until the stream accepted them.
 *
 * @since 0.1.0
 * @category output
 */
export const writeStdout = (data: string | Uint8Array): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    process.stdout.write(data, () => resume(Effect.void))
  })

/**
 * Writes `text` and a newline to stdout.
 *
 * @since 0.1.0
 * @category output
 */
export const printLine = (text: string): Effect.Effect<void> => writeStdout(`${text}\n`)

/**
 * Writes human output (not JSON) and a newline to stdout; on a terminal its
 * control characters are made visible first (`Terminal.sanitize`), so text
 * from files, models or tools cannot drive the terminal.
 *
 * @since 0.1.0
 * @category output
 */
export const printText = (text: string): Effect.Effect<void> =>
  printLine(Terminal.forStream(process.stdout, text))

/**
 * The directory a command runs in (the process's current directory).
 *
 * @since 0.1.0
 * @category context
 */
export const currentDirectory: Effect.Effect<string> = Effect.sync(() => process.cwd())
