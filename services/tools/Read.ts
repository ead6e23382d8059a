/**
 * The `read` tool: a text file's lines, numbered, optionally from a start line
 * and for a number of lines. Parameters as codetether-agent 4.5.7's `read`
 * (`path`, `offset` = 1-based start line, `limit` = line count) and the same
 * line format (`{:4} | text`), with caps 4.5.7 lacks: at most `limit` lines
 * (default 2000), long lines shortened, and an output budget in bytes; a note
 * after the lines says which lines were shown and the `offset` that continues.
 * The file is opened without blocking and must be a regular file: a FIFO or a
 * device is a tool error, never a hang.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Schema from "effect/Schema"
import * as Files from "./internal/Files.ts"
import * as Paths from "./internal/Paths.ts"
import { define, type Tool, ToolError } from "./internal/Tool.ts"
import { looksBinary } from "./internal/Walk.ts"

/**
 * Caps of the `read` tool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Lines shown when `limit` is not given (default 2000). */
  readonly defaultLimit?: number | undefined
  /** Characters kept of one line; the rest is replaced by a note (default 2000). */
  readonly maxLineLength?: number | undefined
  /** Bytes of numbered output before the tool stops and says how to continue (default 50 KiB). */
  readonly maxOutputBytes?: number | undefined
}

/**
 * Parameters of `read`: `path` (required), `offset` (1-based first line,
 * default 1), `limit` (number of lines, default 2000).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Parameters = Schema.Struct({
  path: Schema.String.annotate({
    description: "Path of the file to read, relative to the working directory or absolute"
  }),
  offset: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: "Line number to start reading from (1-based; default 1)"
    })
  ),
  limit: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({
      description: "Maximum number of lines to read (default 2000)"
    })
  )
})

const DESCRIPTION = `Read a text file. Returns its lines numbered as "   N | text".
Reads at most 2000 lines by default; for longer files the output ends with a note giving the offset to continue from.
Use offset (1-based line number) and limit (number of lines) to read a specific part of a large file.
Cannot read directories (use list) or binary files.`

const CHUNK_BYTES = 64 * 1024

/**
 * Builds the `read` tool. Needs `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Tool, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const defaultLimit = options?.defaultLimit ?? 2000
    const maxLineLength = options?.maxLineLength ?? 2000
    const maxOutputBytes = options?.maxOutputBytes ?? 50 * 1024

    return define({
      name: "read",
      description: DESCRIPTION,
      parameters: Parameters,
      handler: Effect.fnUntraced(function*(params, context) {
        const absolute = Paths.resolve(context.directory, params.path)
        const shown = Paths.display(context.directory, absolute)
        const info = yield* Paths.statOrFail(fs, absolute, shown, "File")
        if (info.type === "Directory") {
          return yield* new ToolError({
            reason: "InvalidInput",
            message: `${shown} is a directory, not a file; use the list tool to see its entries`
          })
        }
        if (info.type !== "File") {
          return yield* new ToolError({ reason: "InvalidInput", message: `${shown} is not a regular file` })
        }
        const offset = params.offset ?? 1
        const limit = params.limit ?? defaultLimit
        const size = Number(info.size)

        const scan = makeScanner({ offset, limit, maxLineLength, maxOutputBytes })
        const binary = yield* Effect.scoped(Effect.gen(function*() {
          const handle = yield* Files.openRegular(absolute, shown, "read")
          return yield* Effect.tryPromise({
            try: async () => {
              const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
              for (;;) {
                const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null)
                if (bytesRead === 0) return false
                if (!scan.push(chunk.subarray(0, bytesRead))) return true
              }
            },
            catch: Files.toToolError(shown, "read")
          })
        }))
        if (binary) {
          return yield* new ToolError({
            reason: "InvalidInput",
            message: `${shown} looks like a binary file (${size} bytes); read only shows text files`
          })
        }
        const result = scan.finish()

        if (result.totalLines === 0) {
          return {
            output: `(${shown} is empty)`,
            success: true,
            metadata: { path: absolute, total_lines: 0, bytes: size }
          }
        }
        if (offset > result.totalLines) {
          return yield* new ToolError({
            reason: "InvalidInput",
            message: `offset ${offset} is past the end of ${shown}, which has ${result.totalLines} line${
              result.totalLines === 1 ? "" : "s"
            }`
          })
        }
        const first = offset
        const last = offset + result.lines.length - 1
        const body = result.lines.map((line, i) => `${String(first + i).padStart(4)} | ${line}`).join("\n")
        const notes: Array<string> = []
        if (last < result.totalLines) {
          const why = result.cappedByBytes ? ` (output capped at ${maxOutputBytes} bytes)` : ""
          notes.push(
            `[Showing lines ${first}-${last} of ${result.totalLines}${why}. Use offset=${last + 1} to continue reading.]`
          )
        } else if (first > 1) {
          notes.push(`[Showing lines ${first}-${last} of ${result.totalLines}.]`)
        }
        if (result.shortenedLines > 0) {
          notes.push(
            `[${result.shortenedLines} line${
              result.shortenedLines === 1 ? " was" : "s were"
            } longer than ${maxLineLength} characters and ${result.shortenedLines === 1 ? "was" : "were"} shortened.]`
          )
        }
        return {
          output: notes.length === 0 ? body : `${body}\n\n${notes.join("\n")}`,
          success: true,
          metadata: {
            path: absolute,
            total_lines: result.totalLines,
            start_line: first,
            end_line: last,
            truncated: last < result.totalLines
          }
        }
      })
    })
  })

interface ScanResult {
  readonly lines: ReadonlyArray<string>
  readonly totalLines: number
  readonly cappedByBytes: boolean
  readonly shortenedLines: number
}

/**
 * Splits a byte stream into lines (LF; a trailing CR is dropped), keeps the
 * lines of the requested window within the output budget, and counts all
 * lines. `push` returns `false` when the first 8 KiB look binary.
 */
const makeScanner = (options: {
  readonly offset: number
  readonly limit: number
  readonly maxLineLength: number
  readonly maxOutputBytes: number
}) => {
  const decoder = new TextDecoder("utf-8")
  // Bytes kept of one line: enough for maxLineLength UTF-16 units in the worst case.
  const maxLineBytes = options.maxLineLength * 4
  const lines: Array<string> = []
  let lineNumber = 1 // number of the line being read
  let pieces: Array<Uint8Array> = []
  let pieceBytes = 0
  let lineDropped = false
  let sawBytes = false
  let endedWithNewline = true
  let outputBytes = 0
  let collecting = true
  let cappedByBytes = false
  let shortenedLines = 0
  let probe: Uint8Array = new Uint8Array(0)
  let probed = false

  const inWindow = () => collecting && lineNumber >= options.offset && lineNumber < options.offset + options.limit

  const keep = (bytes: Uint8Array) => {
    const room = maxLineBytes - pieceBytes
    if (bytes.length > room) lineDropped = true
    if (room <= 0) return
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes
    pieces.push(part.slice())
    pieceBytes += part.length
  }

  const endLine = () => {
    if (inWindow()) {
      const joined = new Uint8Array(pieceBytes)
      let at = 0
      for (const piece of pieces) {
        joined.set(piece, at)
        at += piece.length
      }
      let text = decoder.decode(joined)
      if (text.endsWith("\r")) text = text.slice(0, -1)
      if (lineDropped || text.length > options.maxLineLength) {
        text = `${text.slice(0, options.maxLineLength)}… [line truncated]`
        shortenedLines++
      }
      const cost = Buffer.byteLength(text) + 8
      if (lines.length > 0 && outputBytes + cost > options.maxOutputBytes) {
        collecting = false
        cappedByBytes = true
      } else {
        lines.push(text)
        outputBytes += cost
      }
    }
    pieces = []
    pieceBytes = 0
    lineDropped = false
    lineNumber++
  }

  const push = (chunk: Uint8Array): boolean => {
    if (!probed) {
      const merged = new Uint8Array(probe.length + chunk.length)
      merged.set(probe)
      merged.set(chunk, probe.length)
      probe = merged.subarray(0, Math.min(merged.length, 8192))
      if (looksBinary(probe)) return false
      if (probe.length >= 8192) probed = true
    }
    if (chunk.length === 0) return true
    sawBytes = true
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl === -1) break
      if (inWindow()) keep(chunk.subarray(start, nl))
      endLine()
      start = nl + 1
    }
    if (start < chunk.length && inWindow()) keep(chunk.subarray(start))
    endedWithNewline = start === chunk.length
    return true
  }

  const finish = (): ScanResult => {
    if (sawBytes && !endedWithNewline) endLine()
    return { lines, totalLines: lineNumber - 1, cappedByBytes, shortenedLines }
  }

  return { push, finish }
}
