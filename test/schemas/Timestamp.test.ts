import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Timestamp from "../../schemas/Timestamp.ts"

describe("Timestamp", () => {
  it("keeps 0, 3, 6 or 9 fraction digits: the fewest that represent the nanoseconds exactly", () => {
    const cases: Array<[string, string]> = [
      ["2026-02-03T08:12:44Z", "2026-02-03T08:12:44Z"],
      ["2026-02-03T08:12:44.5Z", "2026-02-03T08:12:44.500Z"],
      ["2026-02-03T08:12:44.500000Z", "2026-02-03T08:12:44.500Z"],
      ["2026-02-03T08:12:03.250750Z", "2026-02-03T08:12:03.250750Z"],
      ["2026-02-03T08:12:40.902112345Z", "2026-02-03T08:12:40.902112345Z"],
      ["2026-02-03T08:12:40.000000001Z", "2026-02-03T08:12:40.000000001Z"],
      ["2026-02-03T08:12:40.0000000019Z", "2026-02-03T08:12:40.000000001Z"],
      ["2026-02-03T10:12:44.5+02:00", "2026-02-03T08:12:44.500Z"],
      ["2026-01-01T00:30:00-01:45", "2026-01-01T02:15:00Z"],
      ["2025-12-31T23:59:59.999999999+00:00", "2025-12-31T23:59:59.999999999Z"],
      ["2024-02-29t12:00:00z", "2024-02-29T12:00:00Z"],
      ["1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"]
    ]
    for (const [input, canonical] of cases) expect(Timestamp.fromString(input)).toBe(canonical)
  })

  it("rejects text that is not RFC 3339", () => {
    for (const bad of ["", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00", "2026-01-01", "now"]) {
      expect(Timestamp.fromString(bad)).toBeUndefined()
    }
    expect(() => Schema.decodeUnknownSync(Timestamp.Timestamp)("2026-01-01")).toThrow(/RFC 3339/)
  })

  it("round-trips random instants through epoch nanoseconds", () => {
    let seed = 42
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648)
    for (let i = 0; i < 2000; i++) {
      const nanos = BigInt(next()) * 1_000_000_000n + BigInt(next() % 1_000_000_000) - 10n ** 17n
      const ts = Timestamp.fromEpochNanos(nanos)
      expect(Timestamp.toEpochNanos(ts)).toBe(nanos)
      expect(Timestamp.fromString(ts)).toBe(ts)
    }
  })

  it("orders by instant, not by string", () => {
    const a = Timestamp.fromString("2026-01-01T12:00:00Z")!
    const b = Timestamp.fromString("2026-01-01T12:00:00.500Z")!
    const c = Timestamp.fromString("2026-01-01T12:00:00.000000001Z")!
    expect(a > b).toBe(true) // lexicographically wrong order
    expect(Timestamp.compare(a, b)).toBe(-1)
    expect(Timestamp.compare(b, a)).toBe(1)
    expect(Timestamp.compare(a, c)).toBe(-1)
    expect(Timestamp.compare(c, c)).toBe(0)
    expect([b, a, c].sort(Timestamp.compare)).toEqual([a, c, b])
    expect(Timestamp.max(a, b)).toBe(b)
  })

  it.live("now comes from the live Clock with sub-millisecond digits kept", () =>
    Effect.gen(function*() {
      const ts = yield* Timestamp.now
      expect(Timestamp.fromString(ts)).toBe(ts)
      expect(Math.abs(Number(Timestamp.toEpochNanos(ts) / 1_000_000n) - Date.now())).toBeLessThan(60_000)
    }))
})
