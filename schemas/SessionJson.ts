/**
 * Session files as bytes: the compact encoding codetether-agent 4.5.7's
 * `save()` writes (`serde_json::to_vec`), and decoding of any file 4.5.7 or
 * older versions wrote (compact or pretty, new or legacy key order).
 *
 * The {@link Session} schema is the single definition of the format; this
 * module only adds what `JSON.stringify` cannot express (see `RustJson`) and
 * an encoding cache: each message and tool use is encoded once per object
 * (sessions are immutable values that share unchanged messages), so saving a
 * session after appending one message encodes one message, not the
 * transcript.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { Message } from "./Message.ts"
import { toWellFormedJson } from "./RustJson.ts"
import { Session, SessionHeader } from "./Session.ts"
import { ToolUse } from "./ToolUse.ts"

const encoder = new TextEncoder()
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const encodeMessage = Schema.encodeSync(Message)
const encodeToolUse = Schema.encodeSync(ToolUse)
const encodeSession = Schema.encodeSync(Session)

const messageCache = new WeakMap<object, Uint8Array>()
const toolUseCache = new WeakMap<object, Uint8Array>()

const cached = <A extends object>(
  cache: WeakMap<object, Uint8Array>,
  encode: (a: A) => unknown,
  value: A
): Uint8Array => {
  let bytes = cache.get(value)
  if (bytes === undefined) {
    bytes = encoder.encode(JSON.stringify(toWellFormedJson(encode(value))))
    cache.set(value, bytes)
  }
  return bytes
}

const COMMA = 0x2c
const OPEN = 0x5b
const CLOSE = 0x5d

/**
 * The compact encoding of everything but the messages: `head` is the root up
 * to and including `"messages":[`, `tail` is the rest from the `]` closing the
 * messages (tool uses, usage, closing brace). `session.messages` is ignored:
 * the caller writes the messages between the two, comma-separated
 * ({@link encodeMessage}). Used to stream a session of any size to a file.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeFrame = (session: Session): { readonly head: Uint8Array; readonly tail: Uint8Array } => {
  const { before, after } = frame(session)
  return { head: concat([...before, BRACKET_OPEN]), tail: concat([BRACKET_CLOSE, ...after]) }
}

/**
 * The compact encoding of one message (cached per message object).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeMessageBytes = (message: Message): Uint8Array => cached(messageCache, encodeMessage, message)

/**
 * The compact encoding of one tool use (cached per tool use object).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeToolUseBytes = (toolUse: ToolUse): Uint8Array => cached(toolUseCache, encodeToolUse, toolUse)

const BRACKET_OPEN = Uint8Array.of(OPEN)
const BRACKET_CLOSE = Uint8Array.of(CLOSE)
const COMMA_BYTES = Uint8Array.of(COMMA)

/** The root's bytes before the messages array (through `"messages":`) and after it. */
const frame = (session: Session): { readonly before: Array<Uint8Array>; readonly after: Array<Uint8Array> } => {
  const root = toWellFormedJson(encodeSession({ ...session, messages: [], toolUses: [] }))
  const before: Array<Uint8Array> = [encoder.encode("{")]
  const after: Array<Uint8Array> = []
  let target = before
  let first = true
  for (const [key, value] of Object.entries(root)) {
    const prefix = `${first ? "" : ","}${JSON.stringify(key)}:`
    first = false
    if (key === "messages") {
      before.push(encoder.encode(prefix))
      target = after
    } else if (key === "tool_uses") {
      target.push(encoder.encode(prefix))
      target.push(joinArray(session.toolUses.map((t) => cached(toolUseCache, encodeToolUse, t))))
    } else {
      target.push(encoder.encode(prefix + JSON.stringify(value)))
    }
  }
  after.push(encoder.encode("}"))
  return { before, after }
}

/**
 * The compact encoding of `session` as a list of byte chunks whose
 * concatenation is {@link encode}; message chunks are the cached bytes of each
 * message, so nothing is copied. Writers use this to avoid building one buffer
 * of the whole file.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeChunks = (session: Session): ReadonlyArray<Uint8Array> => {
  const { before, after } = frame(session)
  const chunks: Array<Uint8Array> = [...before, BRACKET_OPEN]
  session.messages.forEach((message, i) => {
    if (i > 0) chunks.push(COMMA_BYTES)
    chunks.push(cached(messageCache, encodeMessage, message))
  })
  chunks.push(BRACKET_CLOSE, ...after)
  return chunks
}

/**
 * The compact UTF-8 encoding of `session`, byte-identical to what 4.5.7's
 * `save()` writes for the same value: keys in declaration order, `null` for
 * absent nullable fields, omitted `thought_signature`, canonical timestamps,
 * `rlm.threshold` as serde_json writes f64, no trailing newline.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (session: Session): Uint8Array => concat(encodeChunks(session))

/**
 * {@link encode} as a string.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeToString = (session: Session): string => utf8.decode(encode(session))

const joinArray = (items: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 2 + Math.max(0, items.length - 1)
  for (const item of items) length += item.length
  const out = new Uint8Array(length)
  out[0] = OPEN
  let offset = 1
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[offset++] = COMMA
    out.set(items[i]!, offset)
    offset += items[i]!.length
  }
  out[offset] = CLOSE
  return out
}

/**
 * Concatenates byte chunks into one array.
 *
 * @since 0.1.0
 * @category encoding
 */
export const concat = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const piece of pieces) length += piece.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const piece of pieces) {
    out.set(piece, offset)
    offset += piece.length
  }
  return out
}

/**
 * Why a session file could not be decoded: `message` is readable and names
 * the location, `path` is the JSON path inside the file (e.g.
 * `["messages"][3]["content"][0]`, empty for syntax errors).
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodeFailure {
  readonly message: string
  readonly path: string
}

const decodeSessionResult = Schema.decodeUnknownResult(Session)
const decodeHeaderResult = Schema.decodeUnknownResult(SessionHeader)

const schemaFailure = (error: Schema.SchemaError): DecodeFailure => {
  const message = error.message
  const match = /\n\s*at (.*)$/s.exec(message)
  return { message: message.replace(/\n\s*at /, " at "), path: match?.[1]?.trim() ?? "" }
}

const toText = (input: string | Uint8Array): Result.Result<string, DecodeFailure> => {
  if (typeof input === "string") return Result.succeed(input)
  try {
    return Result.succeed(utf8.decode(input))
  } catch {
    return Result.fail({ message: "file is not valid UTF-8", path: "" })
  }
}

/**
 * Parses JSON text, failing with a readable {@link DecodeFailure} (empty files,
 * byte-order marks and trailing garbage are all errors, as in serde_json).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseJson = (input: string | Uint8Array): Result.Result<unknown, DecodeFailure> =>
  Result.flatMap(toText(input), (text) => {
    if (text.trim().length === 0) return Result.fail({ message: "file is empty", path: "" })
    try {
      return Result.succeed(JSON.parse(text))
    } catch (e) {
      return Result.fail({ message: `invalid JSON: ${(e as Error).message}`, path: "" })
    }
  })

/**
 * Decodes an already parsed JSON value as a {@link Session}.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeValue = (value: unknown): Result.Result<Session, DecodeFailure> =>
  Result.mapError(decodeSessionResult(value), schemaFailure)

/**
 * Decodes session file bytes or text.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: string | Uint8Array): Result.Result<Session, DecodeFailure> =>
  Result.flatMap(parseJson(input), decodeValue)

/**
 * Decodes an already parsed JSON value as a {@link SessionHeader}.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeHeaderValue = (value: unknown): Result.Result<SessionHeader, DecodeFailure> =>
  Result.mapError(decodeHeaderResult(value), schemaFailure)
