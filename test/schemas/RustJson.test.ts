import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { escapeStringContent, F64, formatF64, stableStringify, toWellFormedJson } from "../../schemas/RustJson.ts"

describe("RustJson", () => {
  it("formats f64 like serde_json (ryu)", () => {
    const cases: Array<[number, string]> = [
      [0.35, "0.35"],
      [1, "1.0"],
      [0, "0.0"],
      [-0, "-0.0"],
      [100, "100.0"],
      [1.5, "1.5"],
      [-2.25, "-2.25"],
      [0.1 + 0.2, "0.30000000000000004"],
      [1e-5, "0.00001"],
      [1e-7, "1e-7"],
      [1.5e-9, "1.5e-9"],
      [1e15, "1000000000000000.0"],
      [9007199254740992, "9007199254740992.0"],
      [1e16, "1e16"],
      [1e17, "1e17"],
      [1.25e20, "1.25e20"],
      [123456.789, "123456.789"]
    ]
    for (const [value, text] of cases) expect(formatF64(value)).toBe(text)
  })

  it("F64 decodes numbers and encodes to raw JSON that JSON.stringify writes verbatim", () => {
    const schema = Schema.Struct({ t: F64 })
    expect(Schema.decodeUnknownSync(schema)({ t: 1 })).toEqual({ t: 1 })
    expect(JSON.stringify(Schema.encodeSync(schema)({ t: 1 }))).toBe("{\"t\":1.0}")
    expect(JSON.stringify(Schema.encodeSync(schema)({ t: 0.35 }))).toBe("{\"t\":0.35}")
    expect(() => Schema.decodeUnknownSync(schema)({ t: "1" })).toThrow()
  })

  it("replaces lone surrogates so 4.5.7 can read the file, and shares unchanged values", () => {
    const clean = { a: ["x", { b: "y" }] }
    expect(toWellFormedJson(clean)).toBe(clean)
    expect(toWellFormedJson({ a: ["ok", "bad\ud800"] })).toEqual({ a: ["ok", "bad\ufffd"] })
  })

  it("escapes a directory for the prefilter needle as serde_json does", () => {
    expect(escapeStringContent("/home/dev/we\"ird\\dir/café\t")).toBe("/home/dev/we\\\"ird\\\\dir/café\\t")
  })

  it("stableStringify sorts object keys by code point, recursively, with no spaces", () => {
    expect(stableStringify({ b: [{ d: 1, c: null }], a: "é\n", "\uff61": 1, "😀": 2 }))
      .toBe("{\"a\":\"é\\n\",\"b\":[{\"c\":null,\"d\":1}],\"\uff61\":1,\"😀\":2}")
    expect(stableStringify([true, 1.5, "x"])).toBe("[true,1.5,\"x\"]")
  })
})
