/**
 * Bounded capture of a process's output: keeps the first `headBytes` and the
 * last `tailBytes` bytes, counts everything, and renders the kept text with a
 * note saying how much was cut. Memory stays O(head + tail) however much the
 * process prints.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface OutputBuffer {
  /** Appends a chunk of output. */
  readonly push: (chunk: Uint8Array) => void
  /** Bytes pushed so far. */
  readonly totalBytes: () => number
  /** Bytes pushed but not kept. */
  readonly omittedBytes: () => number
  /**
   * The kept output as UTF-8 text. When bytes were cut, the head and the tail
   * are joined by a line `[... N bytes omitted (M bytes in total); showing the
   * first H and last T bytes ...]`. Cuts fall on UTF-8 character boundaries.
   */
  readonly render: () => string
}

/**
 * An empty buffer keeping at most `headBytes + tailBytes` bytes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: { readonly headBytes: number; readonly tailBytes: number }): OutputBuffer => {
  const headBytes = Math.max(0, Math.floor(options.headBytes))
  const tailBytes = Math.max(0, Math.floor(options.tailBytes))
  const head = new Uint8Array(headBytes)
  let headLength = 0
  // Ring buffer holding the most recent `tailBytes` bytes after the head.
  const tail = new Uint8Array(tailBytes)
  let tailStart = 0
  let tailLength = 0
  let total = 0

  const push = (chunk: Uint8Array) => {
    total += chunk.length
    let offset = 0
    if (headLength < headBytes) {
      const n = Math.min(headBytes - headLength, chunk.length)
      head.set(chunk.subarray(0, n), headLength)
      headLength += n
      offset = n
    }
    if (offset >= chunk.length || tailBytes === 0) return
    let rest = chunk.subarray(offset)
    if (rest.length >= tailBytes) {
      tail.set(rest.subarray(rest.length - tailBytes))
      tailStart = 0
      tailLength = tailBytes
      return
    }
    // Append `rest` to the ring, overwriting the oldest bytes when full.
    while (rest.length > 0) {
      const writeAt = (tailStart + tailLength) % tailBytes
      const n = Math.min(rest.length, tailBytes - writeAt)
      tail.set(rest.subarray(0, n), writeAt)
      rest = rest.subarray(n)
      const overflow = Math.max(0, tailLength + n - tailBytes)
      tailLength = Math.min(tailBytes, tailLength + n)
      tailStart = (tailStart + overflow) % tailBytes
    }
  }

  const tailBytesOrdered = (): Uint8Array => {
    const out = new Uint8Array(tailLength)
    const first = Math.min(tailLength, tailBytes - tailStart)
    out.set(tail.subarray(tailStart, tailStart + first))
    out.set(tail.subarray(0, tailLength - first), first)
    return out
  }

  const omitted = () => total - headLength - tailLength

  const render = (): string => {
    const decoder = new TextDecoder("utf-8")
    if (omitted() === 0) {
      const all = new Uint8Array(headLength + tailLength)
      all.set(head.subarray(0, headLength))
      all.set(tailBytesOrdered(), headLength)
      return decoder.decode(all)
    }
    const headPart = head.subarray(0, completeUtf8Prefix(head.subarray(0, headLength)))
    const tailAll = tailBytesOrdered()
    const tailPart = tailAll.subarray(firstCharBoundary(tailAll))
    const note = `[... ${omitted()} bytes omitted (${total} bytes in total); showing the first ${headLength} and last ${tailLength} bytes ...]`
    const headText = decoder.decode(headPart)
    const tailText = decoder.decode(tailPart)
    return `${headText}${headText.endsWith("\n") || headText === "" ? "" : "\n"}${note}\n${tailText}`
  }

  return { push, totalBytes: () => total, omittedBytes: omitted, render }
}

/** Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence. */
const completeUtf8Prefix = (bytes: Uint8Array): number => {
  let i = bytes.length
  // Walk back over at most 3 continuation bytes to the lead byte.
  let back = 0
  while (i > 0 && back < 4 && (bytes[i - 1]! & 0xc0) === 0x80) {
    i--
    back++
  }
  if (i === 0) return bytes.length
  const lead = bytes[i - 1]!
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1
  return need === back + 1 ? bytes.length : i - 1
}

/** Index of the first byte of `bytes` that is not a UTF-8 continuation byte (at most 3 skipped). */
const firstCharBoundary = (bytes: Uint8Array): number => {
  let i = 0
  while (i < bytes.length && i < 3 && (bytes[i]! & 0xc0) === 0x80) i++
  return i
}
