import { assert, describe, layer } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

const read = (dir: string, file: string) => NodeFs.readFileSync(NodePath.join(dir, file), "utf8")

describe("edit", () => {
  layer(registryLayer)((it) => {
    it.effect("replaces a unique string and shows the edited region", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "src/a.ts": "one\ntwo\nthree\nfour\nfive\nsix\nseven\n" })
        const result = yield* run("edit", { path: "src/a.ts", old_string: "four", new_string: "FOUR\n4" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(
          result.output,
          "Edited src/a.ts: replaced 1 occurrence (line 4).\n\n" +
            "   2 | two\n   3 | three\n   4 | FOUR\n   5 | 4\n   6 | five\n   7 | six"
        )
        assert.strictEqual(read(dir, "src/a.ts"), "one\ntwo\nthree\nFOUR\n4\nfive\nsix\nseven\n")
      }))

    it.effect("replaces literally ($ patterns are not special)", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "price: X" })
        yield* run("edit", { path: "a.txt", old_string: "X", new_string: "$& $1 $$" }, dir)
        assert.strictEqual(read(dir, "a.txt"), "price: $& $1 $$")
      }))

    it.effect("fails when old_string is missing, without touching the file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "hello world" })
        const result = yield* run("edit", { path: "a.txt", old_string: "goodbye", new_string: "x" }, dir)
        assert.isFalse(result.success)
        assert.strictEqual(
          result.output,
          "Error: old_string not found in a.txt. It must match the file exactly, including whitespace, " +
            "indentation and line breaks; read the file to copy the exact text"
        )
        assert.strictEqual(read(dir, "a.txt"), "hello world")
      }))

    it.effect("fails when old_string is ambiguous, naming the count and lines", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "x = 1\ny = 2\nx = 1\n" })
        const result = yield* run("edit", { path: "a.txt", old_string: "x = 1", new_string: "x = 3" }, dir)
        assert.isFalse(result.success)
        assert.strictEqual(
          result.output,
          "Error: old_string found 2 times in a.txt (lines 1, 3); add surrounding context to make it unique, " +
            "or set replace_all to replace every occurrence"
        )
        assert.strictEqual(read(dir, "a.txt"), "x = 1\ny = 2\nx = 1\n")
      }))

    it.effect("replace_all replaces every occurrence", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "x = 1\ny = 2\nx = 1\n" })
        const result = yield* run("edit", { path: "a.txt", old_string: "x = 1", new_string: "x = 3", replace_all: true }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.output, "Edited a.txt: replaced 2 occurrences (lines 1, 3).")
        assert.strictEqual(read(dir, "a.txt"), "x = 3\ny = 2\nx = 3\n")
      }))

    it.effect("refuses identical or empty strings and a missing file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "same" })
        const same = yield* run("edit", { path: "a.txt", old_string: "same", new_string: "same" }, dir)
        assert.deepStrictEqual(same, {
          output: "Error: old_string and new_string are identical; nothing would change",
          success: false
        })
        const empty = yield* run("edit", { path: "a.txt", old_string: "", new_string: "x" }, dir)
        assert.isFalse(empty.success)
        assert.include(empty.output, "old_string is empty")
        const missing = yield* run("edit", { path: "nope.txt", old_string: "a", new_string: "b" }, dir)
        assert.deepStrictEqual(missing, { output: "Error: File not found: nope.txt", success: false })
      }))

    it.effect("matches LF-written text in a CRLF file and keeps CRLF", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "w.txt": "a\r\nb\r\nc\r\n" })
        const result = yield* run("edit", { path: "w.txt", old_string: "a\nb", new_string: "A\nB" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(read(dir, "w.txt"), "A\r\nB\r\nc\r\n")
      }))

    it.effect("accepts 4.5.7's camelCase and advanced_edit spellings", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "alpha beta", "b.txt": "gamma" })
        const camel = yield* run("edit", { filePath: "a.txt", oldString: "alpha", newString: "ALPHA" }, dir)
        assert.isTrue(camel.success)
        assert.strictEqual(read(dir, "a.txt"), "ALPHA beta")
        const advanced = yield* run("advanced_edit", { file: "b.txt", oldString: "gamma", newString: "GAMMA" }, dir)
        assert.isTrue(advanced.success)
        assert.strictEqual(read(dir, "b.txt"), "GAMMA")
      }))

    it.effect("names each missing field", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("edit", { path: "a.txt" }, dir)
        assert.strictEqual(
          result.output,
          "Error: Invalid arguments for tool 'edit': `old_string`: Missing key; `new_string`: Missing key"
        )
      }))
  })
})
