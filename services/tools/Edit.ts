/**
 * The `edit` tool: exact string replacement in a file, as codetether-agent
 * 4.5.7's `edit` (`path`, `old_string`, `new_string`): `old_string` must
 * occur exactly once unless `replace_all` is set. Errors say whether the text
 * was missing or ambiguous and how to fix the call. Unlike 4.5.7, the result
 * shows the edited region (numbered lines) instead of a whole-file diff, and a
 * file with CRLF line endings accepts `old_string`/`new_string` written with
 * LF (the replacement keeps CRLF). The file is opened without blocking and
 * must be a regular file of at most {@link MAX_FILE_BYTES} (64 MiB): a FIFO
 * or a device is a tool error, never a hang.
 *
 * The session loop's argument normalisation (`filePath`/`file` -> `path`,
 * `oldString`, `newString`, `advanced_edit` -> `edit`) happens in the
 * registry before this tool runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Files from "./internal/Files.ts"
import * as Paths from "./internal/Paths.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"

/**
 * Parameters of `edit`: `path`, `old_string`, `new_string` (required) and
 * `replace_all` (default `false`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  path: Schema.String.annotate({
    description: "Path of the file to edit, relative to the working directory or absolute"
  }),
  old_string: Schema.String.annotate({
    description: "The exact text to replace, including whitespace and indentation. " +
      "It must occur exactly once in the file unless replace_all is true; include surrounding lines to make it unique."
  }),
  new_string: Schema.String.annotate({ description: "The text to put in its place (must differ from old_string)" }),
  replace_all: Schema.optionalKey(
    Schema.Boolean.annotate({ description: "Replace every occurrence of old_string (default false)" })
  )
})

const DESCRIPTION = `Edit a file by replacing an exact string with new text.
old_string must match the file exactly (whitespace and indentation included) and occur exactly once; include a few lines of context to make it unique, or set replace_all to replace every occurrence.
Read the file first to copy the text exactly. To create a file or replace all of it, use the write tool.`

/**
 * Largest file `edit` reads (bytes): 64 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024

/** Lines of context shown around the edited region. */
const CONTEXT_LINES = 2
/** Maximum lines shown of the edited region. */
const MAX_SNIPPET_LINES = 30

/**
 * Builds the `edit` tool. Needs `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Tool, never, FileSystem.FileSystem> = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  return define({
    name: "edit",
    description: DESCRIPTION,
    parameters: Parameters,
    handler: Effect.fnUntraced(function*(params, context) {
      const absolute = Paths.resolve(context.directory, params.path)
      const shown = Paths.display(context.directory, absolute)
      if (params.old_string.length === 0) {
        return yield* new ToolError({
          reason: "InvalidArguments",
          message: "old_string is empty; give the exact text to replace, or use the write tool to create a file"
        })
      }
      if (params.old_string === params.new_string) {
        return yield* new ToolError({
          reason: "InvalidArguments",
          message: "old_string and new_string are identical; nothing would change"
        })
      }
      const info = yield* Paths.statOrFail(fs, absolute, shown, "File")
      if (info.type !== "File") {
        return yield* new ToolError({
          reason: "InvalidInput",
          message: `${shown} is ${info.type === "Directory" ? "a directory" : "not a regular file"}; edit works on files`
        })
      }
      const content = (yield* Files.readRegular(absolute, shown, "edit", MAX_FILE_BYTES)).toString("utf8")

      let oldText = params.old_string
      let newText = params.new_string
      let positions = occurrences(content, oldText)
      if (positions.length === 0 && content.includes("\r\n") && oldText.includes("\n") && !oldText.includes("\r")) {
        // The model usually writes LF; match the file's CRLF endings instead.
        const crlfOld = oldText.replace(/\n/g, "\r\n")
        const crlfPositions = occurrences(content, crlfOld)
        if (crlfPositions.length > 0) {
          oldText = crlfOld
          newText = newText.replace(/\r?\n/g, "\r\n")
          positions = crlfPositions
        }
      }
      if (positions.length === 0) {
        return yield* new ToolError({
          reason: "InvalidInput",
          message: `old_string not found in ${shown}. It must match the file exactly, including whitespace, ` +
            "indentation and line breaks; read the file to copy the exact text"
        })
      }
      const replaceAll = params.replace_all ?? false
      if (positions.length > 1 && !replaceAll) {
        return yield* new ToolError({
          reason: "InvalidInput",
          message: `old_string found ${positions.length} times in ${shown} (lines ${
            describeLines(lineNumbers(content, positions))
          }); add surrounding context to make it unique, or set replace_all to replace every occurrence`
        })
      }

      const updated = replaceAt(content, positions, oldText.length, newText)
      yield* Files.writeRegular(absolute, shown, "edit", updated)

      const oldLines = lineNumbers(content, positions)
      const count = positions.length
      const summary = `Edited ${shown}: replaced ${count} occurrence${count === 1 ? "" : "s"} (line${
        count === 1 ? "" : "s"
      } ${describeLines(oldLines)}).`
      const output = count === 1 ? `${summary}\n\n${snippet(updated, positions[0]!, newText.length)}` : summary
      return {
        output,
        success: true,
        metadata: { path: absolute, replacements: count, lines: oldLines }
      }
    })
  })
})

/** Start indices of the non-overlapping occurrences of `needle` in `haystack`. */
const occurrences = (haystack: string, needle: string): Array<number> => {
  const out: Array<number> = []
  let from = 0
  for (;;) {
    const at = haystack.indexOf(needle, from)
    if (at === -1) return out
    out.push(at)
    from = at + needle.length
  }
}

/** `content` with each occurrence at `positions` (length `length`) replaced by `replacement`, literally. */
const replaceAt = (content: string, positions: ReadonlyArray<number>, length: number, replacement: string): string => {
  const parts: Array<string> = []
  let last = 0
  for (const at of positions) {
    parts.push(content.slice(last, at), replacement)
    last = at + length
  }
  parts.push(content.slice(last))
  return parts.join("")
}

/** 1-based line numbers of the given character offsets. */
const lineNumbers = (content: string, positions: ReadonlyArray<number>): Array<number> => {
  const out: Array<number> = []
  let line = 1
  let scanned = 0
  for (const at of positions) {
    for (let i = scanned; i < at; i++) if (content.charCodeAt(i) === 10) line++
    scanned = at
    out.push(line)
  }
  return out
}

const describeLines = (lines: ReadonlyArray<number>): string =>
  lines.length <= 10 ? lines.join(", ") : `${lines.slice(0, 10).join(", ")}, ...`

/** The replaced region of `updated` (plus context), numbered as the read tool numbers lines. */
const snippet = (updated: string, start: number, length: number): string => {
  const lines = updated.split("\n")
  const [firstLine] = lineNumbers(updated, [start])
  const [lastLine] = lineNumbers(updated, [start + Math.max(0, length - 1)])
  const from = Math.max(1, firstLine! - CONTEXT_LINES)
  const to = Math.min(lines.length, lastLine! + CONTEXT_LINES)
  const shownTo = Math.min(to, from + MAX_SNIPPET_LINES - 1)
  const body: Array<string> = []
  for (let n = from; n <= shownTo; n++) {
    body.push(`${String(n).padStart(4)} | ${lines[n - 1]!.replace(/\r$/, "")}`)
  }
  if (shownTo < to) body.push(`     [... ${to - shownTo} more lines]`)
  return body.join("\n")
}
