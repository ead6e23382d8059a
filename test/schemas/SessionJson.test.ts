import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Result, Schema } from "effect"
import * as Message from "../../schemas/Message.ts"
import { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"

const fixture = (name: string) => NodeFs.readFileSync(NodePath.join(import.meta.dirname, "../fixtures/sessions", name))

const decodeOk = (bytes: Uint8Array) => {
  const result = SessionJson.decode(bytes)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

const decodeError = (value: unknown): string => {
  const result = SessionJson.decodeValue(value)
  if (Result.isSuccess(result)) throw new Error("decoded")
  return result.failure.message
}

describe("SessionJson", () => {
  for (const name of ["spec-example.json", "compact-all-parts.json"]) {
    it(`re-encodes the 4.5.7 compact file ${name} byte-identically`, () => {
      const bytes = fixture(name)
      expect(Buffer.from(SessionJson.encode(decodeOk(bytes))).equals(bytes)).toBe(true)
    })
  }

  for (const name of ["legacy-4.5.6-pretty.json", "legacy-four-keys.json"]) {
    it(`loads the legacy file ${name} and re-encodes it compact, in 4.5.7 order, defaults filled in`, () => {
      const session = decodeOk(fixture(name))
      const expected = fixture(name.replace(".json", ".expected.json"))
      expect(Buffer.from(SessionJson.encode(session)).toString()).toBe(expected.toString())
    })
  }

  it("reads the two metadata default sets of 4.5.7", () => {
    const old = decodeOk(fixture("legacy-four-keys.json"))
    expect(old.metadata.slashAutocomplete).toBe(true)
    expect(old.metadata.useWorktree).toBe(true)
    expect(old.metadata.autoApplyEdits).toBe(false)
    expect(old.metadata.rlm.threshold).toBe(0.35)
    expect(old.title).toBeNull()
  })

  it("matches Schema encoding plus JSON.stringify, with the per-message cache", () => {
    const session = decodeOk(fixture("compact-all-parts.json"))
    const viaSchema = JSON.stringify(Schema.encodeSync(Session)(session)).replace("\"threshold\":1,", "\"threshold\":1.0,")
    expect(SessionJson.encodeToString(session)).toBe(viaSchema)
    // appending shares the earlier messages: the cached bytes must still be right
    const next = { ...session, messages: [...session.messages, Message.text("user", "one more")] }
    const text = SessionJson.encodeToString(next)
    expect(JSON.parse(text).messages).toHaveLength(session.messages.length + 1)
    expect(decodeOk(Buffer.from(text))).toEqual(next)
  })

  it("names the JSON path of an unknown content-part type", () => {
    const value = JSON.parse(fixture("spec-example.json").toString())
    value.messages[2].content[0].type = "video"
    const message = decodeError(value)
    expect(message).toContain("[\"messages\"][2][\"content\"][0]")
    expect(message).toContain("\"tool_call\"")
  })

  it("names the JSON path of a missing required key", () => {
    const value = JSON.parse(fixture("spec-example.json").toString())
    delete value.metadata.shared
    expect(decodeError(value)).toBe("Missing key at [\"metadata\"][\"shared\"]")
    const value2 = JSON.parse(fixture("spec-example.json").toString())
    delete value2.messages[1].content[1].arguments
    expect(decodeError(value2)).toContain("[\"messages\"][1][\"content\"][1][\"arguments\"]")
  })

  it("rejects what serde_json rejects: empty, BOM, trailing garbage, invalid UTF-8, bad timestamps", () => {
    const good = fixture("spec-example.json")
    const fails = (bytes: Uint8Array) => Result.isFailure(SessionJson.decode(bytes))
    expect(fails(Buffer.alloc(0))).toBe(true)
    expect(fails(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good]))).toBe(true)
    expect(fails(Buffer.concat([good, Buffer.from("x")]))).toBe(true)
    expect(fails(Buffer.concat([good.subarray(0, 100), Buffer.from([0xff, 0xfe]), good.subarray(100)]))).toBe(true)
    const value = JSON.parse(good.toString())
    value.created_at = "yesterday"
    expect(decodeError(value)).toContain("created_at")
    expect(Result.isSuccess(SessionJson.decode(Buffer.concat([good, Buffer.from("\n  ")])))).toBe(true)
  })
})
