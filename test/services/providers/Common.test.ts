import { assert, describe, it } from "@effect/vitest"
import * as Common from "../../../services/providers/Common.ts"

const headers = (h: Record<string, string>) => (name: string) => h[name]

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z")
  it("reads seconds, fractional seconds and milliseconds", () => {
    assert.strictEqual(Common.parseRetryAfter(headers({ "retry-after": "7" }), now), 7000)
    assert.strictEqual(Common.parseRetryAfter(headers({ "retry-after": "0.25" }), now), 250)
    assert.strictEqual(Common.parseRetryAfter(headers({ "retry-after-ms": "120", "retry-after": "9" }), now), 120)
  })
  it("reads an HTTP date relative to now", () => {
    assert.strictEqual(Common.parseRetryAfter(headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now), 30_000)
    assert.strictEqual(Common.parseRetryAfter(headers({ "retry-after": "Wed, 31 Dec 2025 23:00:00 GMT" }), now), 0)
  })
  it("ignores absent or unparsable values", () => {
    assert.isUndefined(Common.parseRetryAfter(headers({}), now))
    assert.isUndefined(Common.parseRetryAfter(headers({ "retry-after": "soon" }), now))
    assert.isUndefined(Common.parseRetryAfter(headers({ "retry-after": "-3" }), now))
  })
})

describe("classify", () => {
  const fakeHeaders = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null })
  it("maps HTTP statuses to reasons", () => {
    const cases: Array<[number, string]> = [
      [400, "BadRequest"],
      [401, "Authentication"],
      [403, "Authentication"],
      [404, "NotFound"],
      [408, "Server"],
      [422, "BadRequest"],
      [429, "RateLimited"],
      [500, "Server"],
      [529, "Server"]
    ]
    for (const [status, reason] of cases) {
      const error = Common.classify("p", { status, headers: fakeHeaders({}), error: { message: "m" } }, { baseUrl: "u" })
      assert.strictEqual(error.reason, reason, String(status))
      assert.strictEqual(error.message, `p: ${status} m`)
      assert.strictEqual(Common.isRetryable(error), ["RateLimited", "Server"].includes(reason))
    }
  })
  it("keeps the retry hint and removes the secret", () => {
    const error = Common.classify(
      "openai",
      { status: 429, headers: fakeHeaders({ "retry-after": "2" }), error: { error: { message: "key sk-abcdef over quota" } } },
      { baseUrl: "u", secret: "sk-abcdef" }
    )
    assert.strictEqual(error.retryAfterMs, 2000)
    assert.strictEqual(error.message, "openai: 429 key [redacted] over quota (retry after 2 s)")
  })
  it("unknown failures are Stream errors with the cause chain", () => {
    const cause = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })
    const error = Common.classify("p", new TypeError("terminated", { cause }), { baseUrl: "u" })
    assert.strictEqual(error.reason, "Stream")
    assert.strictEqual(error.message, "p: stream failed: terminated: other side closed (UND_ERR_SOCKET)")
  })
  it("passes provider errors through", () => {
    const original = new Common.ProviderError({ reason: "Unavailable", message: "x" })
    assert.strictEqual(Common.classify("p", original, { baseUrl: "u" }), original)
  })
})
