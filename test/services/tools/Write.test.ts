import { assert, describe, layer } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

describe("write", () => {
  layer(registryLayer)((it) => {
    it.effect("creates a file and its parent directories in the context directory", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("write", { path: "deep/er/new.txt", content: "héllo\n" }, dir)
        assert.isTrue(result.success)
        // "héllo\n" is 7 bytes in UTF-8.
        assert.strictEqual(result.output, "Wrote 7 bytes to deep/er/new.txt")
        assert.strictEqual(NodeFs.readFileSync(NodePath.join(dir, "deep/er/new.txt"), "utf8"), "héllo\n")
        assert.isFalse(NodeFs.existsSync(NodePath.join(process.cwd(), "deep/er/new.txt")))
        assert.strictEqual(result.metadata?.created, true)
      }))

    it.effect("overwrites an existing file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "old content that is longer" })
        const result = yield* run("write", { path: "a.txt", content: "new" }, dir)
        assert.strictEqual(result.output, "Wrote 3 bytes to a.txt")
        assert.strictEqual(result.metadata?.created, false)
        assert.strictEqual(NodeFs.readFileSync(NodePath.join(dir, "a.txt"), "utf8"), "new")
      }))

    it.effect("writes an absolute path outside the directory and shows it absolute", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const other = yield* tempDir
        const target = NodePath.join(other, "x.txt")
        const result = yield* run("write", { path: target, content: "" }, dir)
        assert.strictEqual(result.output, `Wrote 0 bytes to ${target}`)
        assert.isTrue(NodeFs.existsSync(target))
      }))

    it.effect("fails for a directory and for missing content", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "sub/f": "" })
        const directory = yield* run("write", { path: "sub", content: "x" }, dir)
        assert.deepStrictEqual(directory, {
          output: "Error: sub is a directory; give the path of a file to write",
          success: false
        })
        const missing = yield* run("write", { path: "x.txt" }, dir)
        assert.strictEqual(missing.output, "Error: Invalid arguments for tool 'write': `content`: Missing key")
        assert.isFalse(NodeFs.existsSync(NodePath.join(dir, "x.txt")))
      }))

    it.effect("reports a file in the way of the parent directory", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "file": "" })
        // The parent "file" is a regular file, so the directory cannot be created.
        const result = yield* run("write", { path: "file/child.txt", content: "x" }, dir)
        assert.deepStrictEqual(result, {
          output: "Error: Cannot create directory file: a file is in the way",
          success: false
        })
      }))
  })
})
