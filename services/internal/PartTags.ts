/**
 * Checks the `"type"` tags of content parts and the `"role"` of messages in
 * the raw bytes of a session's `messages` array, as the structural scanner
 * streams them (`ScanEvents.onTrackedBytes`): the same pass that counts the
 * messages, no parse. 4.5.7 cannot load a session holding a part of unknown
 * type (`unknown variant \`video\``) or a message of unknown role, so listing
 * must not show it either (BEHAVIOUR §5.1: files that fail to parse are not
 * listed).
 *
 * How a key is recognised without parsing: inside a JSON string every `"` is
 * escaped, so in valid JSON an unescaped `"` followed by `type"`, optional
 * whitespace and `:` opens the key `type` of an object. The messages array
 * holds only messages, their `content` arrays and the parts, whose other
 * values are strings, so each such key is a part's tag (or a message's role).
 * Anything the bytes do not settle (an absurd run of whitespace or
 * backslashes) is let through: only a tag seen to be wrong rejects the file.
 * Keys split between two chunks are checked on a small joint of the two.
 *
 * @internal
 */
import { contentPartTypes } from "../../schemas/Message.ts"

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/** How far past the end of a chunk a key may reach and still be checked whole (bytes). */
const OVERLAP = 64
/** The longest tag value worth reading: longer ones are wrong (`tool_result` has 11 bytes). */
const MAX_VALUE = 16

interface Key {
  readonly needle: Buffer
  readonly allowed: ReadonlySet<string>
  /** The allowed values as ASCII bytes. */
  readonly bytes: ReadonlyArray<Uint8Array>
  readonly what: string
}

const key = (needle: string, allowed: ReadonlyArray<string>, what: string): Key => ({
  needle: Buffer.from(`"${needle}"`),
  allowed: new Set(allowed),
  bytes: allowed.map((value) => Buffer.from(value)),
  what
})

const KEYS: ReadonlyArray<Key> = [
  key("type", contentPartTypes, "content part type"),
  key("role", ["system", "user", "assistant", "tool"], "message role")
]

/** Whether `bytes[start, end)` is one of `key`'s allowed values. */
const isAllowed = (key: Key, bytes: Uint8Array, start: number, end: number): boolean => {
  const length = end - start
  for (const value of key.bytes) {
    if (value.length !== length) continue
    let i = 0
    while (i < length && value[i] === bytes[start + i]) i++
    if (i === length) return true
  }
  return false
}

type Verdict =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Undecided" }
  | { readonly _tag: "Bad"; readonly value: string }

const OK: Verdict = { _tag: "Ok" }
const UNDECIDED: Verdict = { _tag: "Undecided" }

/** A tag problem: what is wrong and the absolute byte offset of its key. */
export interface TagProblem {
  readonly offset: number
  readonly detail: string
}

/**
 * What precedes a piece of bytes: `"start"` (the start of the array: nothing
 * inside it), the bytes just before it, or `undefined` (unknown).
 */
type Left = "start" | Uint8Array | undefined

/** The verdict on the occurrence of `key.needle` at `i` in `bytes`. */
const judge = (bytes: Uint8Array, i: number, key: Key, left: Left): Verdict => {
  // an escaped opening quote (odd run of backslashes) is inside a string
  let run = 0
  let j = i - 1
  while (j >= 0 && bytes[j] === BACKSLASH) (run++, j--)
  if (j < 0 && left !== "start") {
    if (left === undefined) return UNDECIDED
    let k = left.length - 1
    while (k >= 0 && left[k] === BACKSLASH) (run++, k--)
    if (k < 0) return UNDECIDED
  }
  if (run % 2 === 1) return OK
  let p = i + key.needle.length
  while (p < bytes.length && isSpace(bytes[p]!)) p++
  if (p >= bytes.length) return UNDECIDED
  if (bytes[p] !== COLON) return OK // a string value "type", not a key
  p++
  while (p < bytes.length && isSpace(bytes[p]!)) p++
  if (p >= bytes.length) return UNDECIDED
  if (bytes[p] !== QUOTE) return { _tag: "Bad", value: "(not a string)" }
  const start = ++p
  let escaped = false
  while (p < bytes.length && bytes[p] !== QUOTE && p - start <= MAX_VALUE) {
    if (bytes[p] === BACKSLASH) {
      escaped = true
      p++
    }
    p++
  }
  if (p - start > MAX_VALUE) return { _tag: "Bad", value: `${Buffer.from(bytes.subarray(start, start + MAX_VALUE)).toString("utf8")}…` }
  if (p >= bytes.length) return UNDECIDED
  // fast path: the bytes of an allowed value, compared in place (no string made)
  if (!escaped && isAllowed(key, bytes, start, p)) return OK
  let value = Buffer.from(bytes.subarray(start, p)).toString("utf8")
  if (escaped) {
    try {
      value = JSON.parse(`"${value}"`) as string
    } catch {
      return UNDECIDED
    }
  }
  return key.allowed.has(value) ? OK : { _tag: "Bad", value }
}

/**
 * Streaming checker of one `messages` array: {@link feed} it the array's
 * bytes in order; {@link problem} is the first wrong tag found, if any.
 *
 * @internal
 */
export class PartTagCheck {
  problem: TagProblem | undefined = undefined
  /**
   * Bytes whose keys are not judged yet (the end of what was fed: at least
   * the last {@link OVERLAP} bytes, more when short pieces came), their
   * offset, and whether they start at the start of the array.
   */
  private tail: Buffer | undefined = undefined
  private tailOffset = 0
  private tailAtStart = false
  private started = false

  /** The next `bytes` of the array (absolute `offset`); `last` when the array ends with them. */
  feed(bytes: Uint8Array, offset: number, last: boolean): void {
    if (this.problem !== undefined) return
    const first = !this.started
    this.started = true
    let tail = this.tail !== undefined && this.tailOffset + this.tail.length === offset ? this.tail : undefined
    if (tail === undefined && this.tail !== undefined) this.tailAtStart = false
    if (!last && bytes.length < OVERLAP) {
      // too short to judge the keys before it: keep it with them
      this.tail = tail === undefined ? Buffer.from(bytes) : Buffer.concat([tail, bytes])
      if (tail === undefined) {
        this.tailOffset = offset
        this.tailAtStart = first
      }
      return
    }
    this.tail = undefined
    // keys that started in the tail, on a joint with the start of this piece
    if (tail !== undefined) {
      const joint = Buffer.concat([tail, bytes.subarray(0, OVERLAP)])
      this.scan(joint, this.tailOffset, 0, tail.length, this.tailAtStart ? "start" : undefined)
      if (this.problem !== undefined) return
    }
    // keys starting in the last OVERLAP bytes wait for the next joint (unless this is the end)
    const end = last ? bytes.length : bytes.length - OVERLAP
    this.scan(bytes, offset, 0, end, first ? "start" : tail)
    if (!last) {
      this.tail = Buffer.from(bytes.subarray(end))
      this.tailOffset = offset + end
      this.tailAtStart = false
    }
  }

  /** Checks every key occurrence starting in `bytes[from, to)`. */
  private scan(bytes: Uint8Array, offset: number, from: number, to: number, left: Left): void {
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (const key of KEYS) {
      let i = buffer.indexOf(key.needle, from)
      while (i !== -1 && i < to) {
        const verdict = judge(buffer, i, key, left)
        if (verdict._tag === "Bad" && (this.problem === undefined || offset + i < this.problem.offset)) {
          this.problem = {
            offset: offset + i,
            detail: `unknown ${key.what} ${JSON.stringify(verdict.value)} (expected one of ${[...key.allowed].join(", ")})`
          }
          break
        }
        i = buffer.indexOf(key.needle, i + 1)
      }
    }
  }
}
