/**
 * Terminal rendering of a running prompt (`codetether run` on a TTY): the
 * model's text streams to stdout as it arrives; a spinner with the current
 * step or tool, and one line per finished tool call, go to stderr. Text from
 * the model and the tools is shown with its control characters made visible
 * (`Terminal.sanitize`) on whichever of the two streams is a terminal.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { SessionEvent } from "../../schemas/SessionEvent.ts"
import * as Style from "./Style.ts"
import * as Terminal from "./Terminal.ts"

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/** Up to `max` characters of `text` on one line. */
export const oneLine = (text: string, max: number): string => {
  const line = text.replaceAll(/\s+/g, " ").trim()
  const chars = Array.from(line)
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join("")}…`
}

/** A short summary of tool arguments (JSON text): the values, not the keys. */
export const summarizeArguments = (json: string): string => {
  try {
    const value = JSON.parse(json) as unknown
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return oneLine(Object.values(value).map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(" "), 60)
    }
  } catch {
    // not JSON: show it as it is
  }
  return oneLine(json, 60)
}

/**
 * A renderer for one prompt: feed it every event with `render`. Starts a
 * spinner fiber in the current scope (when stderr is a TTY).
 *
 * @since 0.1.0
 * @category rendering
 */
export const make = (options: { readonly stdout: NodeJS.WriteStream; readonly stderr: NodeJS.WriteStream }) =>
  Effect.gen(function*() {
    const { stderr, stdout } = options
    const spin = stderr.isTTY === true
    /** Model and tool text for stdout / stderr (sanitized on a terminal). */
    const out = (text: string) => Terminal.forStream(stdout, text)
    const err = (text: string) => Terminal.forStream(stderr, text)
    let label: string | undefined = "thinking"
    let frame = 0
    let shown = false
    let printed = "" // text of the current step already written to stdout
    let call = "" // summary of the running tool call

    const clear = () => {
      if (shown) {
        stderr.write("\r\x1b[2K")
        shown = false
      }
    }
    const draw = () => {
      if (!spin || label === undefined) return
      stderr.write(`\r\x1b[2K${Style.cyan(FRAMES[frame++ % FRAMES.length]!)} ${Style.dim(label)}`)
      shown = true
    }
    if (spin) {
      yield* Effect.forkScoped(Effect.repeat(Effect.sync(draw), Schedule.spaced("80 millis")))
      yield* Effect.addFinalizer(() => Effect.sync(clear))
    }

    const render = (event: SessionEvent): Effect.Effect<void> =>
      Effect.sync(() => {
        switch (event._tag) {
          case "Thinking":
            label = "thinking"
            break
          case "TextChunk": {
            // snapshots grow; the trimmed repeat at the end of the step is not an extension
            if (event.text.startsWith(printed) && event.text.length > printed.length) {
              clear()
              label = undefined
              stdout.write(out(printed.length === 0 ? event.text.trimStart() : event.text.slice(printed.length)))
              printed = event.text
            }
            break
          }
          case "TextComplete":
            if (printed.length > 0) stdout.write("\n")
            printed = ""
            label = "thinking"
            break
          case "ToolCallStart":
            call = err(summarizeArguments(event.arguments))
            label = `running ${err(event.name)} ${call}`
            break
          case "ToolCallComplete": {
            clear()
            const mark = event.success ? Style.green("✓") : Style.red("✗")
            const detail = event.success ? Style.dim(`(${event.durationMs} ms)`) : Style.red(err(oneLine(event.output, 100)))
            stderr.write(`${mark} ${Style.bold(err(event.name))} ${call.length > 0 ? `${call} ` : ""}${detail}\n`)
            call = ""
            label = "thinking"
            break
          }
          case "Error":
          case "Done":
            clear()
            label = undefined
            break
          default:
            break
        }
      })
    return { render }
  }) satisfies Effect.Effect<unknown, never, Scope.Scope>
