/**
 * The few places where `JSON.stringify` and serde_json (as used by
 * codetether-agent 4.5.7) write different bytes, and the helpers that close
 * the gap.
 *
 * - f64 values: serde_json (ryu) writes whole numbers with `.0` (`1.0`),
 *   `JSON.stringify` writes `1`. {@link F64} encodes numbers as
 *   `JSON.rawJSON` values carrying ryu's text, so `JSON.stringify` emits the
 *   same bytes Rust does.
 * - Lone UTF-16 surrogates: Rust strings cannot hold them, and serde_json
 *   rejects a file containing `\ud800`. {@link toWellFormedJson} replaces them
 *   with U+FFFD before writing so files stay readable by 4.5.7.
 *
 * Everything else (escapes with lowercase hex, raw non-ASCII, raw U+2028,
 * compact separators) is identical between the two.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"

/**
 * Formats a finite number the way serde_json's ryu formatter does:
 * shortest round-trip digits, whole numbers keep `.0`, scientific notation
 * (`1e-7`, `1.5e17`, no `+`) outside ryu's decimal range.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatF64 = (value: number): string => {
  if (!Number.isFinite(value)) return "null"
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0"
  const sign = value < 0 ? "-" : ""
  const [mantissa, exponent] = Math.abs(value).toExponential().split("e") as [string, string]
  const digits = mantissa.replace(".", "")
  const length = digits.length
  const kk = Number(exponent) + 1 // position of the decimal point relative to the digits
  const k = kk - length
  let body: string
  if (k >= 0 && kk <= 16) body = `${digits}${"0".repeat(k)}.0`
  else if (kk > 0 && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`
  else if (kk > -5 && kk <= 0) body = `0.${"0".repeat(-kk)}${digits}`
  else if (length === 1) body = `${digits}e${kk - 1}`
  else body = `${digits[0]}.${digits.slice(1)}e${kk - 1}`
  return sign + body
}

/**
 * The value `JSON.rawJSON` returns (Node 22+): serialised verbatim by
 * `JSON.stringify`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawJson {
  readonly rawJSON: string
}

const rawJson = (text: string): RawJson => (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON(text)

const isRawJson = (u: unknown): u is RawJson =>
  (JSON as unknown as { isRawJSON(u: unknown): boolean }).isRawJSON(u)

const Encoded = Schema.Union([
  Schema.Finite,
  Schema.declare<RawJson>(isRawJson, { expected: "a raw JSON number" })
])

/**
 * A finite f64 field. Decodes from a JSON number; encodes to a raw JSON value
 * holding the serde_json text ({@link formatF64}), so `JSON.stringify` of the
 * encoded session writes `0.35` and `1.0` exactly as 4.5.7 does.
 *
 * @since 0.1.0
 * @category schemas
 */
export const F64: Schema.Codec<number, number | RawJson> = Encoded.pipe(
  Schema.decodeTo(
    Schema.Finite,
    SchemaTransformation.transform<number, number | RawJson>({
      decode: (input) => (typeof input === "number" ? input : Number(input.rawJSON)),
      encode: (value) => rawJson(formatF64(value))
    })
  )
)

/**
 * Returns `value` (a plain JSON value) with every string made well-formed
 * (lone surrogates replaced by U+FFFD). Returns the same object when nothing
 * needed to change, so the common case allocates nothing.
 *
 * @since 0.1.0
 * @category formatting
 */
export const toWellFormedJson = <A>(value: A): A => {
  if (typeof value === "string") return (value.isWellFormed() ? value : value.toWellFormed()) as A
  if (Array.isArray(value)) {
    let out: Array<unknown> | undefined
    for (let i = 0; i < value.length; i++) {
      const next = toWellFormedJson(value[i])
      if (next !== value[i]) {
        out ??= value.slice()
        out[i] = next
      }
    }
    return (out ?? value) as A
  }
  if (value !== null && typeof value === "object" && !isRawJson(value)) {
    let out: Record<string, unknown> | undefined
    for (const key of Object.keys(value)) {
      const current = (value as Record<string, unknown>)[key]
      const next = toWellFormedJson(current)
      if (next !== current) {
        out ??= { ...(value as Record<string, unknown>) }
        out[key] = next
      }
    }
    return (out ?? value) as A
  }
  return value
}

/**
 * The inside of a JSON string literal for `text` — escaped exactly as
 * serde_json escapes it, without the surrounding quotes. Used as the byte
 * needle of the directory prefilter (4.5.7 `scan_sync`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const escapeStringContent = (text: string): string => JSON.stringify(text.toWellFormed()).slice(1, -1)

/**
 * Compares two strings by Unicode code point (the order of Rust `String`
 * and of serde_json's sorted maps), not by UTF-16 code unit.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compareCodePoints = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(i)
    if (ca === cb) continue
    const sa = ca >= 0xd800 && ca <= 0xdfff
    const sb = cb >= 0xd800 && cb <= 0xdfff
    if (sa !== sb) return sa ? 1 : -1
    return ca - cb
  }
  return a.length - b.length
}

/**
 * Compact JSON of any JSON value with object keys sorted by code point, as
 * serde_json prints a `Value` (its map is a `BTreeMap`; no spaces). Used
 * where 4.5.7 serialises parsed JSON: tool-call arguments in events, Codex
 * arguments and outputs that are not strings.
 *
 * @since 0.1.0
 * @category encoding
 */
export const stableStringify = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`
  if (Predicate.isObject(value)) {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort(compareCodePoints)
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(record[key])}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}
