import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as SessionEvent from "../../../schemas/SessionEvent.ts"
import * as RunRender from "../../../src/render/Run.ts"
import * as Terminal from "../../../src/render/Terminal.ts"

const fakeStream = (isTTY: boolean) => {
  const chunks: Array<string> = []
  const stream = { isTTY, write: (chunk: string) => (chunks.push(chunk), true) } as unknown as NodeJS.WriteStream
  return { stream, text: () => chunks.join("") }
}

/** Any character a terminal would act on (besides tab and newline). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

describe("Terminal.sanitize", () => {
  it("shows escape sequences instead of sending them: OSC title and clipboard, CSI, BEL, C1, bidi; drops carriage returns", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"],
      ["\x1b]52;c;Y3VybCBldmlsfHNo\x1b\\", "\\x1b]52;c;Y3VybCBldmlsfHNo\\x1b\\"],
      ["\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"],
      ["\u009b31mred\u009dOSC", "\\x9b31mred\\x9dOSC"],
      ["safe\rOVERWRITE", "safeOVERWRITE"],
      ["a\u202egnp.exe", "a\\u202egnp.exe"],
      ["bs\x08\x7f nul\x00", "bs\\x08\\x7f nul\\x00"]
    ]
    for (const [input, shown] of cases) {
      expect(Terminal.sanitize(input)).toBe(shown)
      expect(CONTROL.test(Terminal.sanitize(input))).toBe(false)
    }
  })

  it("keeps text, tabs, newlines, CRLF line ends (as LF) and every printable character", () => {
    const text = "line 1\r\n\tindented — ünïcödé 日本語 🧑‍💻 ✓\nend"
    expect(Terminal.sanitize(text)).toBe("line 1\n\tindented — ünïcödé 日本語 🧑‍💻 ✓\nend")
  })

  it("forStream sanitizes only for a terminal", () => {
    expect(Terminal.forStream({ isTTY: true }, "\x1b]0;t\x07")).toBe("\\x1b]0;t\\x07")
    expect(Terminal.forStream({ isTTY: false }, "\x1b]0;t\x07")).toBe("\x1b]0;t\x07")
    expect(Terminal.forStream({}, "\x1b")).toBe("\x1b")
  })

  it.effect("run rendering: model text and tool output reach a terminal with their escapes shown; a pipe gets them as they are", () =>
    Effect.gen(function*() {
      const stdout = fakeStream(true)
      const stderr = fakeStream(false)
      const renderer = yield* RunRender.make({ stdout: stdout.stream, stderr: stderr.stream })
      const E = SessionEvent.make
      for (const event of [
        E.textChunk("Hi\x1b]0;pwned\x07"),
        E.textComplete("Hi\x1b]0;pwned\x07"),
        E.toolCallStart("bash", "{\"command\":\"printf '\\\\033]52;c;eA==\\\\007'\"}"),
        E.toolCallComplete("bash", "\x1b]52;c;eA==\x07 failed", false, 3),
        E.done()
      ]) yield* renderer.render(event)
      expect(stdout.text()).toBe("Hi\\x1b]0;pwned\\x07\n")
      expect(stderr.text()).toContain("\x1b]52;c;eA==\x07 failed") // stderr is not a terminal here

      const ttyErr = fakeStream(true)
      const plainOut = fakeStream(false)
      const other = yield* RunRender.make({ stdout: plainOut.stream, stderr: ttyErr.stream })
      for (const event of [
        E.textChunk("raw\x1b[31m"),
        E.toolCallStart("bash", "{\"command\":\"x\"}"),
        E.toolCallComplete("bash", "\x1b]52;c;eA==\x07 failed", false, 3),
        E.done()
      ]) yield* other.render(event)
      expect(plainOut.text()).toBe("raw\x1b[31m")
      const shown = ttyErr.text().replaceAll(/\r\x1b\[2K/g, "").replaceAll(/\x1b\[[0-9;]*m/g, "") // our own spinner and colours
      expect(shown).toContain("\\x1b]52;c;eA==\\x07 failed")
      expect(shown).not.toContain("\x1b]")
    }).pipe(Effect.scoped))
})
