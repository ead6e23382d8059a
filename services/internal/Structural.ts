/**
 * Streaming structural scan of JSON session files, in constant memory.
 *
 * The WASM indexer (`structural.wat`) finds, 64 bytes at a time, the
 * structural characters outside strings at nesting depth <= 2 and checks
 * bracket matching at every depth. This module walks those events to:
 *
 * - check the root: one object, keys that are JSON strings, `:` and `,` in
 *   place, non-empty values, nothing but whitespace around it;
 * - report the byte range of every root value ({@link ScanEvents.onRootValue})
 *   and of every element of the root arrays named in `track`
 *   ({@link ScanEvents.onElement}), so callers read only what they keep.
 *
 * Inside array elements and nested values only strings and brackets are
 * checked; callers parse the ranges they keep with `JSON.parse`, which checks
 * the rest.
 *
 * Each scanner owns 2 MiB of input and 8 MiB of event space in its WASM
 * memory; {@link acquire}/{@link release} pool them.
 *
 * @internal
 */
import type { FileHandle } from "node:fs/promises"
import { base64 } from "./structuralWasm.ts"

/** Bytes per chunk (a multiple of 64). */
export const CHUNK_BYTES = 2 << 20

const OUT_OFFSET = CHUNK_BYTES + 64
const STACK_OFFSET = OUT_OFFSET + CHUNK_BYTES * 4
const MEMORY_BYTES = STACK_OFFSET + 65536

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a
const SPACE = 0x20

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/**
 * A structural error in a JSON document, at an absolute byte offset.
 *
 * @internal
 */
export class JsonScanError extends Error {
  readonly reason: string
  readonly offset: number
  constructor(reason: string, offset: number) {
    super(`${reason} at byte ${offset}`)
    this.reason = reason
    this.offset = offset
  }
}

/**
 * Callbacks of a scan; offsets are absolute, end exclusive. Ranges may include
 * surrounding whitespace.
 *
 * @internal
 */
export interface ScanEvents {
  /**
   * A root value is complete. `tracked` is true when it was a tracked array
   * (its elements were reported through `onElement`). Return `true` to stop.
   */
  readonly onRootValue?: (key: string, start: number, end: number, tracked: boolean) => boolean | void
  /** An element of a tracked root array is complete. */
  readonly onElement?: (key: string, start: number, end: number) => void
  /**
   * The bytes of a tracked root array, between its brackets, as they pass:
   * one call per chunk the array spans, in order (`offset`: the absolute
   * offset of `bytes[0]`; `last`: the array ends with this call). `bytes` is
   * a view of the scan buffer, valid only during the call. Lets a caller look
   * inside the elements in the same pass.
   */
  readonly onTrackedBytes?: (key: string, bytes: Uint8Array, offset: number, last: boolean) => void
}

/** The parts of the WebAssembly JS API used here (not in the ES lib typings). */
interface Wasm {
  readonly Module: new(bytes: Uint8Array) => object
  readonly Instance: new(module: object) => { readonly exports: unknown }
}
const Wasm = (globalThis as unknown as { readonly WebAssembly: Wasm }).WebAssembly

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number }
  reset(): void
  inString(): number
  error(): number
  errorAt(): number
  scan(input: number, length: number, out: number, stack: number): number
}

let compiled: object | undefined

const instantiate = (): Exports => {
  compiled ??= new Wasm.Module(Buffer.from(base64, "base64"))
  const exports = new Wasm.Instance(compiled).exports as Exports
  const pages = Math.ceil(MEMORY_BYTES / 65536) - exports.memory.buffer.byteLength / 65536
  if (pages > 0) exports.memory.grow(pages)
  return exports
}

const KEY_OR_END = 0 // right after `{`
const KEY = 1 // after `,`: a key must follow
const VALUE = 2 // after `:`

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * One scan at a time; reusable through {@link acquire}/{@link release}.
 *
 * @internal
 */
export class StructuralScanner {
  /** Input area: callers read the next chunk into `buffer[0, CHUNK_BYTES)`. */
  readonly buffer: Buffer
  private readonly wasm: Exports
  private readonly out: Int32Array

  private events: ScanEvents = {}
  private track: ReadonlySet<string> = new Set()
  private base = 0
  private depth = 0
  private expect = KEY_OR_END
  private rootKey = ""
  private keyStart = 0
  private keyCarry: Array<Buffer> = []
  private valueStart = 0
  private valueHasContent = false
  private tracking = false
  private valueTracked = false
  private elementStart = 0
  private elementHasContent = false
  private elements = 0
  private started = false
  /** The root object is complete. */
  done = false
  /** A callback stopped the scan. */
  stopped = false

  constructor() {
    this.wasm = instantiate()
    this.buffer = Buffer.from(this.wasm.memory.buffer, 0, CHUNK_BYTES + 64)
    this.out = new Int32Array(this.wasm.memory.buffer, OUT_OFFSET, CHUNK_BYTES)
  }

  /** Starts a new document. */
  begin(events: ScanEvents, track: ReadonlySet<string> = new Set()): this {
    this.wasm.reset()
    this.events = events
    this.track = track
    this.base = 0
    this.depth = 0
    this.expect = KEY_OR_END
    this.rootKey = ""
    this.keyCarry = []
    this.tracking = false
    this.valueTracked = false
    this.elements = 0
    this.started = false
    this.done = false
    this.stopped = false
    return this
  }

  /** Bytes scanned so far. */
  get offset(): number {
    return this.base
  }

  /**
   * Scans `buffer[0, n)`, the next `n` bytes of the document. Every chunk but
   * the last must have a length that is a multiple of 64. Throws
   * {@link JsonScanError}.
   */
  process(n: number): void {
    if (this.stopped || n === 0) return
    const buffer = this.buffer
    const base = this.base
    if (this.done) {
      this.expectWhitespace(0, n)
      this.base += n
      return
    }
    if (!this.started) {
      this.started = true
      if (n >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
        throw new JsonScanError("unexpected byte-order mark", base)
      }
    }
    let length = n
    if (n % 64 !== 0) {
      length = n + 64 - (n % 64)
      buffer.fill(SPACE, n, length)
    }
    const count = this.wasm.scan(0, length, OUT_OFFSET, STACK_OFFSET)
    if (count < 0) {
      const at = base + this.wasm.errorAt()
      const code = this.wasm.error()
      throw new JsonScanError(
        code === 1 ? "mismatched closing bracket" : code === 2 ? "nesting too deep" : "unexpected closing bracket",
        at
      )
    }
    const out = this.out
    let last = 0 // index in buffer after the last handled event
    // index in buffer where the bytes of the tracked array in progress start
    let trackFrom = this.tracking ? 0 : -1
    for (let i = 0; i < count; i++) {
      const pos = out[i]!
      const c = buffer[pos]!
      const at = base + pos
      switch (this.depth) {
        case 0: {
          if (this.done) throw new JsonScanError("trailing characters after the JSON value", at)
          this.expectWhitespace(last, pos)
          if (c !== OPEN_BRACE) throw new JsonScanError("expected a JSON object at the root", at)
          this.depth = 1
          this.expect = KEY_OR_END
          this.keyStart = at + 1
          this.keyCarry = []
          break
        }
        case 1: {
          if (c === COLON) {
            if (this.expect === VALUE) throw new JsonScanError("unexpected ':'", at)
            this.rootKey = this.readKey(pos, at)
            this.expect = VALUE
            this.valueStart = at + 1
            this.valueHasContent = false
          } else if (c === COMMA || c === CLOSE_BRACE) {
            if (this.expect === VALUE) {
              this.checkValue(pos, at)
              const tracked = this.valueTracked
              this.valueTracked = false
              if (this.events.onRootValue?.(this.rootKey, this.valueStart, at, tracked) === true) {
                this.stopped = true
                return
              }
            } else if (!(c === CLOSE_BRACE && this.expect === KEY_OR_END)) {
              throw new JsonScanError(c === COMMA ? "expected an object key" : "trailing comma", at)
            }
            if (c === COMMA) {
              this.expect = KEY
              this.keyStart = at + 1
              this.keyCarry = []
            } else {
              this.depth = 0
              this.done = true
              last = pos + 1
            }
          } else {
            // `{` or `[` opening a root value
            if (this.expect !== VALUE) throw new JsonScanError("expected an object key", at)
            if (this.valueHasContent || this.hasContent(this.valueStart, pos)) {
              throw new JsonScanError("expected ',' or '}'", at)
            }
            this.valueHasContent = true
            this.depth = 2
            this.tracking = c === OPEN_BRACKET && this.track.has(this.rootKey)
            this.valueTracked = this.tracking
            if (this.tracking) {
              trackFrom = pos + 1
              this.elementStart = at + 1
              this.elementHasContent = false
              this.elements = 0
            }
          }
          break
        }
        default: {
          if (c === COMMA) {
            if (this.tracking) {
              if (!this.elementHasContent && !this.hasContent(this.elementStart, pos)) {
                throw new JsonScanError("expected an array element", at)
              }
              this.elements++
              this.events.onElement?.(this.rootKey, this.elementStart, at)
              this.elementStart = at + 1
              this.elementHasContent = false
            }
          } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            if (this.tracking) {
              if (this.elementHasContent || this.hasContent(this.elementStart, pos)) {
                this.elements++
                this.events.onElement?.(this.rootKey, this.elementStart, at)
              } else if (this.elements > 0) {
                throw new JsonScanError("trailing comma", at)
              }
              this.tracking = false
              this.events.onTrackedBytes?.(this.rootKey, buffer.subarray(trackFrom, pos), base + trackFrom, true)
              trackFrom = -1
            }
            this.depth = 1
          }
          // `:` inside an object value: nothing to do
        }
      }
    }
    // carry state across the chunk boundary
    if (this.done) {
      this.expectWhitespace(last, n)
    } else if (this.depth === 0) {
      this.expectWhitespace(last, n)
    } else if (this.depth === 1) {
      if (this.expect !== VALUE) {
        const from = Math.max(0, this.keyStart - base)
        if (from < n) this.keyCarry.push(Buffer.from(buffer.subarray(from, n)))
      } else if (!this.valueHasContent) {
        this.valueHasContent = this.hasContent(this.valueStart, n)
      }
    } else if (this.tracking && !this.elementHasContent) {
      this.elementHasContent = this.hasContent(this.elementStart, n)
    }
    if (this.tracking && trackFrom !== -1 && trackFrom < n) {
      this.events.onTrackedBytes?.(this.rootKey, buffer.subarray(trackFrom, n), base + trackFrom, false)
    }
    this.base += n
  }

  /** Ends the document; throws {@link JsonScanError} when it is incomplete. */
  finish(): void {
    if (this.stopped || this.done) return
    if (!this.started || this.depth === 0) throw new JsonScanError("file is empty", 0)
    if (this.wasm.inString() !== 0) throw new JsonScanError("unterminated string", this.base)
    throw new JsonScanError("unexpected end of file", this.base)
  }

  private checkValue(pos: number, at: number): void {
    if (!this.valueHasContent && !this.hasContent(this.valueStart, pos)) {
      throw new JsonScanError("expected a value", at)
    }
  }

  /** Whether buffer bytes from absolute `start` (clamped to this chunk) up to index `end` hold a non-space. */
  private hasContent(start: number, end: number): boolean {
    const buffer = this.buffer
    for (let i = Math.max(0, start - this.base); i < end; i++) {
      if (!isWhitespace(buffer[i]!)) return true
    }
    return false
  }

  private expectWhitespace(from: number, to: number): void {
    const buffer = this.buffer
    for (let i = from; i < to; i++) {
      if (!isWhitespace(buffer[i]!)) {
        throw new JsonScanError(
          this.done ? "trailing characters after the JSON value" : "expected a JSON object at the root",
          this.base + i
        )
      }
    }
  }

  private readKey(pos: number, at: number): string {
    const from = Math.max(0, this.keyStart - this.base)
    const tail = this.buffer.subarray(from, pos)
    const bytes = this.keyCarry.length === 0 ? tail : Buffer.concat([...this.keyCarry, tail])
    this.keyCarry = []
    let text: string
    try {
      text = utf8.decode(bytes).trim()
    } catch {
      throw new JsonScanError("object key is not valid UTF-8", at)
    }
    if (text.length < 2 || text.charCodeAt(0) !== 0x22) throw new JsonScanError("expected an object key", at)
    try {
      const key = JSON.parse(text)
      if (typeof key === "string") return key
    } catch {
      // reported below
    }
    throw new JsonScanError("expected an object key", at)
  }
}

const pool: Array<StructuralScanner> = []

/**
 * A scanner from the pool (or a new one).
 *
 * @internal
 */
export const acquire = (): StructuralScanner => pool.pop() ?? new StructuralScanner()

/**
 * Returns a scanner to the pool (at most 4 are kept).
 *
 * @internal
 */
export const release = (scanner: StructuralScanner): void => {
  if (pool.length < 4) pool.push(scanner)
}

/**
 * Reads up to `length` bytes at file `position` into `buffer` (from index 0),
 * looping over short reads; returns the bytes read (fewer only at the end of
 * the file).
 *
 * @internal
 */
export const readFully = async (
  handle: FileHandle,
  buffer: Uint8Array,
  length: number,
  position: number
): Promise<number> => {
  let n = 0
  while (n < length) {
    const { bytesRead } = await handle.read(buffer, n, length - n, position + n)
    if (bytesRead === 0) break
    n += bytesRead
  }
  return n
}

/**
 * Reads `handle` from byte 0 through `scanner` until the document ends, a
 * callback stops it, or `limit` bytes (a multiple of 64) have been scanned.
 * Returns whether the document was fully scanned or stopped (`false` when the
 * limit was hit first). Throws {@link JsonScanError} and I/O errors.
 *
 * @internal
 */
export const scanHandle = async (
  handle: FileHandle,
  scanner: StructuralScanner,
  limit = Number.POSITIVE_INFINITY
): Promise<boolean> => {
  for (;;) {
    const want = Math.min(CHUNK_BYTES, limit - scanner.offset)
    if (want <= 0) return false
    const n = await readFully(handle, scanner.buffer, want, scanner.offset)
    scanner.process(n)
    if (scanner.stopped) return true
    if (n < want) {
      scanner.finish()
      return true
    }
  }
}
