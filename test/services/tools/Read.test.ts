import { NodeServices } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import * as Read from "../../../services/tools/Read.ts"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

describe("read", () => {
  layer(registryLayer)((it) => {
    it.effect("numbers every line of a file relative to the context directory", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "src/a.txt": "alpha\nbeta\ngamma\n" })
        const result = yield* run("read", { path: "src/a.txt" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.output, "   1 | alpha\n   2 | beta\n   3 | gamma")
        assert.strictEqual(result.metadata?.total_lines, 3)
      }))

    it.effect("resolves against context.directory, not process.cwd()", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        // package.json exists in the process cwd but not in the context directory.
        const missing = yield* run("read", { path: "package.json" }, dir)
        assert.isFalse(missing.success)
        assert.strictEqual(missing.output, "Error: File not found: package.json")
        writeFiles(dir, { "package.json": "mine\n" })
        const found = yield* run("read", { path: "package.json" }, dir)
        assert.strictEqual(found.output, "   1 | mine")
      }))

    it.effect("accepts absolute paths", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const other = yield* tempDir
        writeFiles(other, { "x.txt": "outside" })
        const result = yield* run("read", { path: NodePath.join(other, "x.txt") }, dir)
        assert.strictEqual(result.output, "   1 | outside")
      }))

    it.effect("reads a line range with offset and limit and says how to continue", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "f.txt": Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join("\n") })
        const result = yield* run("read", { path: "f.txt", offset: 4, limit: 3 }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(
          result.output,
          "   4 | line 4\n   5 | line 5\n   6 | line 6\n\n[Showing lines 4-6 of 10. Use offset=7 to continue reading.]"
        )
        const tail = yield* run("read", { path: "f.txt", offset: 9 }, dir)
        assert.strictEqual(tail.output, "   9 | line 9\n  10 | line 10\n\n[Showing lines 9-10 of 10.]")
      }))

    it.effect("drops CR of CRLF line endings and counts a last line without newline", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "w.txt": "one\r\ntwo\r\nthree" })
        const result = yield* run("read", { path: "w.txt" }, dir)
        assert.strictEqual(result.output, "   1 | one\n   2 | two\n   3 | three")
      }))

    it.effect("reports an empty file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "empty.txt": "" })
        const result = yield* run("read", { path: "empty.txt" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.output, "(empty.txt is empty)")
      }))

    it.effect("fails clearly for an offset past the end, a directory and a binary file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, {
          "short.txt": "a\nb\n",
          "sub/inner.txt": "x",
          "blob.bin": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02])
        })
        const past = yield* run("read", { path: "short.txt", offset: 5 }, dir)
        assert.deepStrictEqual(past, {
          output: "Error: offset 5 is past the end of short.txt, which has 2 lines",
          success: false
        })
        const directory = yield* run("read", { path: "sub" }, dir)
        assert.isFalse(directory.success)
        assert.strictEqual(directory.output, "Error: sub is a directory, not a file; use the list tool to see its entries")
        const binary = yield* run("read", { path: "blob.bin" }, dir)
        assert.isFalse(binary.success)
        assert.strictEqual(binary.output, "Error: blob.bin looks like a binary file (7 bytes); read only shows text files")
      }))

    it.effect("rejects bad arguments naming the field", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const noPath = yield* run("read", {}, dir)
        assert.strictEqual(noPath.output, "Error: Invalid arguments for tool 'read': `path`: Missing key")
        const zero = yield* run("read", { path: "a", offset: 0 }, dir)
        assert.isFalse(zero.success)
        assert.include(zero.output, "`offset`: Expected a value greater than or equal to 1")
        const fractional = yield* run("read", { path: "a", limit: 1.5 }, dir)
        assert.include(fractional.output, "`limit`")
      }))

    it.effect("caps an unbounded read at 2000 lines by default", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "big.txt": Array.from({ length: 2500 }, (_, i) => `${i + 1}`).join("\n") + "\n" })
        const result = yield* run("read", { path: "big.txt" }, dir)
        const lines = result.output.split("\n")
        assert.strictEqual(lines[1999], "2000 | 2000")
        assert.strictEqual(lines.at(-1), "[Showing lines 1-2000 of 2500. Use offset=2001 to continue reading.]")
        assert.strictEqual(result.metadata?.truncated, true)
      }))
  })

  layer(NodeServices.layer)("with small caps", (it) => {
    const registry = (options: Read.Options) => Effect.map(Read.make(options), (tool) => ToolRegistry.make([tool]))

    it.effect("stops at the output budget and gives the offset to continue", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "f.txt": "aaaa\nbbbb\ncccc\ndddd\neeee\nffff\n" })
        const tools = yield* registry({ maxOutputBytes: 40 })
        const result = yield* tools.execute({ name: "read", args: { path: "f.txt" } }, { directory: dir })
        // Each line costs its text plus 8 bytes for the number: 3 lines fit in 40 bytes.
        assert.strictEqual(
          result.output,
          "   1 | aaaa\n   2 | bbbb\n   3 | cccc\n\n" +
            "[Showing lines 1-3 of 6 (output capped at 40 bytes). Use offset=4 to continue reading.]"
        )
      }))

    it.effect("shortens long lines with a note", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "long.txt": `${"x".repeat(100)}\nok\n` })
        const tools = yield* registry({ maxLineLength: 10 })
        const result = yield* tools.execute({ name: "read", args: { path: "long.txt" } }, { directory: dir })
        assert.strictEqual(
          result.output,
          `   1 | ${"x".repeat(10)}… [line truncated]\n   2 | ok\n\n` +
            "[1 line was longer than 10 characters and was shortened.]"
        )
      }))
  })
})
