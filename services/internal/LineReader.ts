/**
 * Reading a text file line by line with a cap on the length of one line:
 * a line longer than the cap is never held in memory (its bytes are counted
 * and dropped) and is reported as {@link Line} `TooLong` with its number, so
 * that one 600 MB line (longer than a JavaScript string can be) costs a scan,
 * not a crash. Lines end at `\n`, `\r\n` or `\r`; text is UTF-8 (invalid
 * bytes become U+FFFD; a byte-order mark is dropped at the start of the
 * file only).
 *
 * @internal
 */
import type { FileHandle } from "node:fs/promises"

/** A line of the file (numbered from 1), or a line over the cap with its size in bytes. */
export type Line =
  | { readonly _tag: "Line"; readonly number: number; readonly text: string }
  | { readonly _tag: "TooLong"; readonly number: number; readonly bytes: number }

const LF = 0x0a
const CR = 0x0d

/**
 * The lines of the open file `handle`, read from its current position in
 * `chunkBytes` reads (default 64 KiB). Lines over `maxLineBytes` bytes
 * (without their line break) are `TooLong`. The caller closes the handle.
 */
export async function* readLines(
  handle: FileHandle,
  options: { readonly maxLineBytes: number; readonly chunkBytes?: number }
): AsyncGenerator<Line> {
  const chunk = Buffer.allocUnsafe(options.chunkBytes ?? 64 * 1024)
  const first = new TextDecoder("utf-8")
  const rest = new TextDecoder("utf-8", { ignoreBOM: true })
  let parts: Array<Buffer> = []
  let kept = 0 // bytes in `parts`
  let length = 0 // bytes of the current line, kept or not
  let over = false
  let number = 0
  let skipLf = false // the previous chunk ended with CR: a LF first in this one belongs to it

  const add = (bytes: Buffer) => {
    if (bytes.length === 0) return
    length += bytes.length
    if (over) return
    if (kept + bytes.length > options.maxLineBytes) {
      over = true
      parts = []
      kept = 0
      return
    }
    parts.push(Buffer.from(bytes)) // `chunk` is reused: copy
    kept += bytes.length
  }
  const end = (): Line => {
    number++
    const line: Line = over
      ? { _tag: "TooLong", number, bytes: length }
      : { _tag: "Line", number, text: (number === 1 ? first : rest).decode(Buffer.concat(parts, kept)) }
    parts = []
    kept = 0
    length = 0
    over = false
    return line
  }

  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
    if (bytesRead === 0) break
    const data = chunk.subarray(0, bytesRead)
    let start = 0
    if (skipLf) {
      skipLf = false
      if (data[0] === LF) start = 1
    }
    let nextLf = data.indexOf(LF, start)
    let nextCr = data.indexOf(CR, start)
    while (nextLf !== -1 || nextCr !== -1) {
      const at = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr)
      add(data.subarray(start, at))
      yield end()
      start = at + 1
      if (data[at] === CR) {
        if (at + 1 < data.length) {
          if (data[at + 1] === LF) start = at + 2
        } else {
          skipLf = true
        }
      }
      if (nextLf !== -1 && nextLf < start) nextLf = data.indexOf(LF, start)
      if (nextCr !== -1 && nextCr < start) nextCr = data.indexOf(CR, start)
    }
    add(data.subarray(start))
  }
  if (length > 0) yield end()
}
