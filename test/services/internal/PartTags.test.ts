import { describe, expect, it } from "@effect/vitest"
import { PartTagCheck } from "../../../services/internal/PartTags.ts"

/** The verdict on `text` (the bytes between the brackets of `messages`), fed in pieces cut at `cuts`. */
const check = (text: string, cuts: ReadonlyArray<number> = []) => {
  const bytes = Buffer.from(text)
  const tags = new PartTagCheck()
  const points = [0, ...cuts, bytes.length]
  for (let i = 0; i + 1 < points.length; i++) {
    tags.feed(bytes.subarray(points[i]!, points[i + 1]!), points[i]!, i + 2 === points.length)
  }
  return tags.problem
}

const message = (role: string, parts: string) => `{"role":"${role}","content":[${parts}]}`

describe("PartTagCheck", () => {
  it("accepts the six part types and four roles, compact or pretty", () => {
    const compact = [
      message("user", `{"type":"text","text":"hi"},{"type":"image","url":"data:,","mime_type":null},{"type":"file","path":"a","mime_type":null}`),
      message("assistant", `{"type":"thinking","text":"t"},{"type":"tool_call","id":"c","name":"n","arguments":"{}"}`),
      message("tool", `{"type":"tool_result","tool_call_id":"c","content":"x"}`),
      message("system", `{"type":"text","text":"s"}`)
    ].join(",")
    expect(check(compact)).toBeUndefined()
    const pretty = JSON.stringify(JSON.parse(`[${compact}]`), null, 2).slice(1, -1)
    expect(check(pretty)).toBeUndefined()
  })

  it("finds an unknown part type or role, with its byte offset", () => {
    const text = `${message("user", `{"type":"text","text":"hi"}`)},${message("user", `{"type":"video","url":"x"}`)}`
    const problem = check(text)
    expect(problem?.detail).toBe(
      "unknown content part type \"video\" (expected one of text, image, file, tool_call, tool_result, thinking)"
    )
    expect(problem?.offset).toBe(text.indexOf(`"type":"video"`))
    expect(check(message("robot", `{"type":"text","text":"x"}`))?.detail).toMatch(/^unknown message role "robot"/)
    expect(check(message("user", `{"type" : 5}`))?.detail).toMatch(/^unknown content part type "\(not a string\)"/)
    expect(check(message("user", `{"type":"${"x".repeat(40)}"}`))?.detail).toMatch(/^unknown content part type "x{16}…"/)
  })

  it("ignores tags inside strings (escaped quotes), and decodes escaped tag values", () => {
    const quoted = JSON.stringify({ role: "user", content: [{ type: "text", text: "say {\"type\":\"video\"} and \\\"type\\\":\"role\"" }] })
    expect(check(quoted)).toBeUndefined()
    expect(check(message("user", `{"type":"te\\u0078t","text":"x"}`))).toBeUndefined()
    expect(check(`{"role":"user","content":[{"type":"text","text":"type\\\\"},{"type":"audio"}]}`)?.detail).toContain("\"audio\"")
  })

  it("gives the same verdict wherever the bytes are cut into pieces", () => {
    const good = `${message("user", `{"type":"text","text":"${"a".repeat(150)}"}`)},${message("tool", `{"type": "tool_result", "tool_call_id":"c","content":"\\\\\\"type\\\\\\":\\"video\\""}`)}`
    const bad = `${good},${message("assistant", `{"type"  :  "video"}`)}`
    expect(check(good)).toBeUndefined()
    const expected = check(bad)
    expect(expected).toBeDefined()
    for (let cut = 1; cut < Buffer.byteLength(bad); cut++) {
      expect(check(good, [Math.min(cut, Buffer.byteLength(good) - 1)])).toBeUndefined()
      expect(check(bad, [cut])).toEqual(expected)
    }
    for (let cut = 1; cut + 70 < Buffer.byteLength(bad); cut += 7) {
      expect(check(bad, [cut, cut + 70])).toEqual(expected)
      expect(check(bad, [cut, cut + 5, cut + 9])).toEqual(expected) // short pieces in the middle
    }
  })
})
