/**
 * `codetether sessions export ID [--format md|json|html] [-o FILE]`: a
 * session as Markdown (images in `<FILE name>.images/`), its on-disk JSON, or
 * one self-contained HTML file (`SessionExport`); to stdout without `-o`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodePath from "node:path"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as SessionExport from "../../services/SessionExport.ts"
import { costOptions } from "./sessions-cost.ts"
import { currentDirectory, printLine, writeStdout } from "./shared.ts"

/**
 * `sessions export`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("export", {
  id: Argument.String("id").pipe(Argument.withDescription("Session id")),
  format: Flag.Literals("format", ["md", "json", "html"]).pipe(
    Flag.withDescription("md: Markdown; json: the on-disk encoding; html: one self-contained page"),
    Flag.withDefault("md" as const)
  ),
  output: Flag.String("output").pipe(
    Flag.withAlias("o"),
    Flag.withDescription("Write to FILE (Markdown images go to <FILE name>.images/ beside it) instead of stdout"),
    Flag.optional
  )
}, Effect.fn("sessions.export")(function*({ format, id, output }) {
  const options = { format, ...(yield* costOptions) }
  if (Option.isNone(output)) {
    const rendered = yield* SessionExport.render(id, options)
    yield* writeStdout(rendered.content)
    return
  }
  const path = NodePath.resolve(yield* currentDirectory, output.value)
  const written = yield* SessionExport.exportSession(id, path, options)
  yield* printLine(`Exported session ${id} to ${path}${written.length > 1 ? ` (and ${written.length - 1} images)` : ""}`)
})).pipe(
  Command.withDescription("Export a session as Markdown, JSON or a self-contained HTML page"),
  Command.withExamples([
    { command: "codetether sessions export 1b2c… -o session.md", description: "Markdown, images in session.images/" },
    { command: "codetether sessions export 1b2c… --format html -o session.html", description: "One page to share" }
  ])
)
