/**
 * RFC 3339 timestamps with nanosecond precision, as chrono writes them in
 * codetether-agent 4.5.7 session files.
 *
 * A `Timestamp` is a branded string in canonical form: UTC, a literal `Z`,
 * seconds always present, and a fractional part of exactly 0, 3, 6 or 9
 * digits — the fewest of those that represent the nanoseconds exactly
 * (`…:00Z`, `…:00.500Z`, `…:03.250750Z`, `…:40.902112345Z`). Decoding accepts
 * any RFC 3339 offset and fraction length and converts to that canonical form,
 * so a file written by 4.5.7 re-encodes byte-identically.
 *
 * Timestamps never pass through JS `Date` (millisecond precision); ordering is
 * by instant with nanosecond precision ({@link compare}), not by string.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type * as Ord from "effect/Order"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"

/**
 * A canonical UTC RFC 3339 timestamp string (see the module docs).
 *
 * @since 0.1.0
 * @category models
 */
export type Timestamp = string & { readonly Timestamp: unique symbol }

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

const NANOS_PER_SECOND = 1_000_000_000n

/** Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
const daysFromCivil = (y: number, m: number, d: number): number => {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

const civilFromDays = (z: number): [number, number, number] => {
  const zz = z + 719468
  const era = Math.floor(zz / 146097)
  const doe = zz - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp + (mp < 10 ? 3 : -9)
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d]
}

const daysInMonth = (y: number, m: number): number =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/**
 * Parses any RFC 3339 timestamp into nanoseconds since the Unix epoch, or
 * `undefined` when the text is not a valid RFC 3339 date-time with a year in
 * 0000-9999. Fractions longer than 9 digits are truncated, as chrono does.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseEpochNanos = (text: string): bigint | undefined => {
  const m = RFC3339.exec(text)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  const fraction = m[7] === undefined ? 0 : Number(m[7].slice(0, 9).padEnd(9, "0"))
  let offsetSeconds = 0
  if (m[8] === undefined) {
    const oh = Number(m[10])
    const om = Number(m[11])
    if (oh > 23 || om > 59) return undefined
    offsetSeconds = (m[9] === "-" ? -1 : 1) * (oh * 3600 + om * 60)
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds
  return BigInt(seconds) * NANOS_PER_SECOND + BigInt(fraction)
}

/**
 * Formats nanoseconds since the Unix epoch as a canonical {@link Timestamp}
 * (UTC, `Z`, 0/3/6/9 fraction digits as chrono's `AutoSi` does).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEpochNanos = (nanos: bigint): Timestamp => {
  let seconds = nanos / NANOS_PER_SECOND
  let fraction = nanos % NANOS_PER_SECOND
  if (fraction < 0n) {
    fraction += NANOS_PER_SECOND
    seconds -= 1n
  }
  const secs = Number(seconds)
  const days = Math.floor(secs / 86400)
  const rem = secs - days * 86400
  const [y, mo, d] = civilFromDays(days)
  const base = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(Math.floor(rem / 3600), 2)}:${
    pad(Math.floor((rem % 3600) / 60), 2)
  }:${pad(rem % 60, 2)}`
  const f = Number(fraction)
  if (f === 0) return `${base}Z` as Timestamp
  if (f % 1_000_000 === 0) return `${base}.${pad(f / 1_000_000, 3)}Z` as Timestamp
  if (f % 1_000 === 0) return `${base}.${pad(f / 1_000, 6)}Z` as Timestamp
  return `${base}.${pad(f, 9)}Z` as Timestamp
}

/**
 * Nanoseconds since the Unix epoch of a canonical timestamp.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toEpochNanos = (ts: Timestamp): bigint => parseEpochNanos(ts) ?? 0n

/**
 * Normalises any RFC 3339 text to a canonical {@link Timestamp}, or
 * `undefined` when it is not valid RFC 3339.
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromString = (text: string): Timestamp | undefined => {
  const nanos = parseEpochNanos(text)
  return nanos === undefined ? undefined : fromEpochNanos(nanos)
}

/**
 * Orders two canonical timestamps by instant, with nanosecond precision.
 * Returns -1, 0 or 1. Canonical strings share a fixed-width prefix
 * (`YYYY-MM-DDTHH:MM:SS`), so this compares that prefix and then the
 * zero-padded fraction, without allocating.
 *
 * @since 0.1.0
 * @category ordering
 */
export const compare = (a: Timestamp, b: Timestamp): -1 | 0 | 1 => {
  const pa = a.slice(0, 19)
  const pb = b.slice(0, 19)
  if (pa !== pb) return pa < pb ? -1 : 1
  const fa = a.length > 20 ? a.slice(20, -1).padEnd(9, "0") : "000000000"
  const fb = b.length > 20 ? b.slice(20, -1).padEnd(9, "0") : "000000000"
  return fa === fb ? 0 : fa < fb ? -1 : 1
}

/**
 * `Order` instance for timestamps (ascending by instant).
 *
 * @since 0.1.0
 * @category ordering
 */
export const Order: Ord.Order<Timestamp> = compare

/**
 * The later of two timestamps.
 *
 * @since 0.1.0
 * @category ordering
 */
export const max = (a: Timestamp, b: Timestamp): Timestamp => (compare(a, b) >= 0 ? a : b)

/**
 * The current time from Effect's `Clock`, with the clock's sub-millisecond
 * precision (`Clock.currentTimeNanos`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const now: Effect.Effect<Timestamp> = Effect.map(Clock.currentTimeNanos, fromEpochNanos)

/**
 * Converts to an Effect `DateTime.Utc` (millisecond precision: sub-millisecond
 * digits are dropped).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDateTime = (ts: Timestamp): DateTime.Utc =>
  DateTime.makeUnsafe(Number(toEpochNanos(ts) / 1_000_000n))

/**
 * Converts an Effect `DateTime` to a canonical timestamp (millisecond precision).
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromDateTime = (dt: DateTime.DateTime): Timestamp =>
  fromEpochNanos(BigInt(DateTime.toEpochMillis(dt)) * 1_000_000n)

/**
 * Schema for a timestamp field: decodes any RFC 3339 string into the
 * canonical {@link Timestamp}, encodes it back unchanged. Invalid text is a
 * decode error (`Expected an RFC 3339 timestamp, got "…"`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Timestamp: Schema.Codec<Timestamp, string> = Schema.String.check(
  Schema.makeFilter((text: string) =>
    parseEpochNanos(text) !== undefined || `Expected an RFC 3339 timestamp, got ${JSON.stringify(text)}`
  )
).pipe(
  Schema.decodeTo(
    Schema.String as unknown as Schema.Codec<Timestamp, Timestamp>,
    SchemaTransformation.transform<Timestamp, string>({
      decode: (text) => fromEpochNanos(parseEpochNanos(text)!),
      encode: (ts) => ts
    })
  )
)
