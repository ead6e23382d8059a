import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as SessionEvent from "../../../schemas/SessionEvent.ts"
import * as RunRender from "../../../src/render/Run.ts"

const fakeStream = (isTTY: boolean) => {
  const chunks: Array<string> = []
  const stream = { isTTY, write: (chunk: string) => (chunks.push(chunk), true) } as unknown as NodeJS.WriteStream
  return { stream, text: () => chunks.join("") }
}

const E = SessionEvent.make

describe("run rendering", () => {
  it.effect("streams each step's text once, lists tool calls on stderr, leaves stdout free of spinner output", () =>
    Effect.gen(function*() {
      const stdout = fakeStream(true)
      const stderr = fakeStream(false) // no spinner frames: deterministic
      const renderer = yield* RunRender.make({ stdout: stdout.stream, stderr: stderr.stream })
      const events = [
        E.thinking(),
        E.textChunk("  Let"),
        E.textChunk("  Let me look."),
        E.textChunk("Let me look."), // the trimmed repeat at the end of the step
        E.textComplete("Let me look."),
        E.toolCallStart("bash", "{\"command\":\"ls -1\"}"),
        E.toolCallComplete("bash", "a\nb", true, 12),
        E.toolCallStart("read", "{\"path\":\"missing.txt\"}"),
        E.toolCallComplete("read", "Error: missing.txt does not exist", false, 1),
        E.thinking(),
        E.textChunk("Done."),
        E.textComplete("Done."),
        E.done()
      ]
      for (const event of events) yield* renderer.render(event)
      expect(stdout.text()).toBe("Let me look.\nDone.\n")
      expect(stderr.text()).toBe("✓ bash ls -1 (12 ms)\n✗ read missing.txt Error: missing.txt does not exist\n")
    }).pipe(Effect.scoped))

  it("summarises tool arguments by their values, on one line", () => {
    expect(RunRender.summarizeArguments("{\"path\":\"src/a.ts\",\"limit\":20}")).toBe("src/a.ts 20")
    expect(RunRender.summarizeArguments("not json\nat all")).toBe("not json at all")
    expect(RunRender.oneLine("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`)
  })
})
