/**
 * Export: Markdown (headings, fenced tool calls, cut results with sizes,
 * images as files), the on-disk JSON, and a self-contained HTML page that
 * fetches nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer } from "effect"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as SessionExport from "../../services/SessionExport.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
const longResult = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join("\n")

const session = (): Session => ({
  ...Sessions.make({
    title: "Fix the <b>loader</b>",
    messages: [
      { role: "user", content: [{ type: "text", text: "Look: **bold** <script>alert(1)</script> ![x](https://tracker.example/p.png)" }, { type: "image", url: `data:image/png;base64,${PNG}`, mimeType: "image/png" }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", text: "check the file" },
          { type: "text", text: "Reading it." },
          { type: "tool_call", id: "c1", name: "read", arguments: "{\"path\":\"src/a.ts\",\"note\":\"```\"}" }
        ]
      },
      Message.toolResult("c1", longResult),
      Message.text("assistant", "Done.")
    ]
  }),
  usage: { promptTokens: 1000, completionTokens: 100, totalTokens: 1100, cacheReadTokens: null, cacheWriteTokens: null }
})

const setup = Effect.gen(function*() {
  const dir = yield* TempDir.make("codetether-export-")
  const store = SessionStore.makeFileSystem(NodePath.join(dir, "data", "sessions"))
  const sink = yield* DurableSink.makeMemory
  const saved = yield* store.save(session())
  yield* sink.sink.write(saved.id, SessionEvent.make.tokenUsage({ source: "root", model: "gpt-4o", promptTokens: 600, completionTokens: 60, durationMs: 1, messageIndex: 1 }))
  yield* sink.sink.write(saved.id, SessionEvent.make.tokenUsage({ source: "root", model: "gpt-4o", promptTokens: 400, completionTokens: 40, durationMs: 1, cacheReadTokens: 300, messageIndex: 3 }))
  const run = Effect.provide(Layer.merge(Layer.succeed(SessionStore.SessionStore, store), Layer.succeed(DurableSink.DurableSink, sink.sink)))
  return { dir, store, saved, run }
})

describe("SessionExport", () => {
  it.effect("Markdown: role headings, fenced tool calls with their arguments, results cut with their size, images as files beside it", () =>
    Effect.gen(function*() {
      const { dir, saved, run } = yield* setup
      const output = NodePath.join(dir, "out", "talk.md")
      NodeFs.mkdirSync(NodePath.dirname(output))
      const written = yield* SessionExport.exportSession(saved.id, output, { format: "md" }).pipe(run)
      expect(written).toEqual([output, NodePath.join(dir, "out", "talk.images", "message-0-1.png")])
      const md = NodeFs.readFileSync(output, "utf8")
      expect(md).toMatch(/^# Fix the <b>loader<\/b>\n/)
      expect(md).toContain(`- Session: \`${saved.id}\``)
      expect(md).toContain("- Cost: $")
      expect(md.match(/^## (User|Assistant|Tool) <sub>#\d<\/sub>$/gm)).toEqual([
        "## User <sub>#0</sub>",
        "## Assistant <sub>#1</sub>",
        "## Tool <sub>#2</sub>",
        "## Assistant <sub>#3</sub>"
      ])
      // the arguments hold ``` so the fence is longer
      expect(md).toContain("**Tool call** `read` (`c1`)\n\n````json\n{\n  \"path\": \"src/a.ts\",\n  \"note\": \"```\"\n}\n````")
      expect(md).toContain("**Result** of `c1` (")
      expect(md).toContain(`${Buffer.byteLength(longResult)} bytes, first 10 of 25 lines)`)
      expect(md).toContain("line 10\n```")
      expect(md).not.toContain("line 11")
      expect(md).toContain("> *Thinking:* check the file")
      expect(md).toContain("![image 0.1](<talk.images/message-0-1.png>)")
      expect(NodeFs.readFileSync(NodePath.join(dir, "out", "talk.images", "message-0-1.png")).equals(Buffer.from(PNG, "base64"))).toBe(true)
      // to stdout (no file): images are described, not written
      const rendered = yield* SessionExport.render(saved.id, { format: "md" }).pipe(run)
      expect(rendered.images).toEqual([])
      expect(new TextDecoder().decode(rendered.content)).toContain("*[image: image/png, 70 bytes; export with -o FILE to write it]*")
    }))

  it.effect("JSON is the on-disk encoding", () =>
    Effect.gen(function*() {
      const { store, saved, run } = yield* setup
      const rendered = yield* SessionExport.render(saved.id, { format: "json" }).pipe(run)
      expect(Buffer.from(rendered.content).equals(Buffer.from(SessionJson.encode(yield* store.load(saved.id))))).toBe(true)
    }))

  it.effect("HTML: one file, nothing fetched, collapsible tool calls, usage per step, Markdown rendered, raw HTML escaped", () =>
    Effect.gen(function*() {
      const { dir, saved, run } = yield* setup
      const output = NodePath.join(dir, "talk.html")
      yield* SessionExport.exportSession(saved.id, output, { format: "html", prices: { "gpt-4o": { input: 1, output: 10 } } }).pipe(run)
      const html = NodeFs.readFileSync(output, "utf8")
      expect(html).toMatch(/^<!doctype html>/)
      expect(html).toContain("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">")
      // nothing loads from elsewhere: no external src/href of a resource, no script
      expect(html).not.toMatch(/<(script|link|iframe)\b/i)
      expect(html).not.toMatch(/\ssrc="(?!data:image\/png;base64,)/)
      expect(html).toContain(`<img alt="image" src="data:image/png;base64,${PNG}">`)
      expect(html).toContain("<strong>bold</strong>")
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;")
      // a Markdown image is not rendered as an <img> (that would be a fetch), only as a link
      expect(html).not.toMatch(/<img[^>]*tracker/)
      expect(html).toContain("<a href=\"https://tracker.example/p.png\">x</a>")
      expect(html).toContain("<title>Fix the &lt;b&gt;loader&lt;/b&gt;</title>")
      expect(html).toContain("<details class=\"call\"><summary>tool call <code>read</code> <code>c1</code></summary>")
      expect(html).toMatch(/<details class="result"><summary>result of <code>c1<\/code> · \d+ bytes · 25 lines<\/summary><pre><code>line 1\n/)
      expect(html).toContain("<div class=\"usage\">step 1 · gpt-4o · 600 prompt · 60 completion · $0.0012</div>")
      expect(html).toContain("<div class=\"usage\">step 2 · gpt-4o · 400 prompt (300 cache read) · 40 completion · $0.0008</div>")
      expect(html).toContain("<dt>Cost</dt><dd>$0.0020</dd>")
    }))
})
