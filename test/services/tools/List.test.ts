import { NodeServices } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import * as List from "../../../services/tools/List.ts"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

describe("list", () => {
  layer(registryLayer)((it) => {
    it.effect("lists the context directory sorted, marking directories and links", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "b.txt": "", "a/x": "", ".hidden": "", "C.md": "" })
        NodeFs.symlinkSync(NodePath.join(dir, "b.txt"), NodePath.join(dir, "link"))
        const result = yield* run("list", {}, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.output, ".hidden\nC.md\na/\nb.txt\nlink@")
        assert.strictEqual(result.metadata?.count, 5)
      }))

    it.effect("lists a relative subdirectory", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "src/z.ts": "", "src/lib/y.ts": "" })
        const result = yield* run("list", { path: "src" }, dir)
        assert.strictEqual(result.output, "lib/\nz.ts")
      }))

    it.effect("reports an empty directory, a missing one and a file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        NodeFs.mkdirSync(NodePath.join(dir, "empty"))
        writeFiles(dir, { "f.txt": "" })
        assert.strictEqual((yield* run("list", { path: "empty" }, dir)).output, "(empty is empty)")
        assert.deepStrictEqual(yield* run("list", { path: "nope" }, dir), {
          output: "Error: Directory not found: nope",
          success: false
        })
        assert.deepStrictEqual(yield* run("list", { path: "f.txt" }, dir), {
          output: "Error: f.txt is not a directory; use the read tool for files",
          success: false
        })
      }))
  })

  layer(NodeServices.layer)("with a small cap", (it) => {
    it.effect("shows the first entries and says how many were left out", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a": "", "b": "", "c": "", "d": "", "e": "" })
        const registry = ToolRegistry.make([yield* List.make({ maxEntries: 2 })])
        const result = yield* registry.execute({ name: "list", args: {} }, { directory: dir })
        assert.strictEqual(
          result.output,
          "a\nb\n\n[3 more entries not shown (5 in total). Use glob with a pattern to find specific files.]"
        )
        assert.strictEqual(result.metadata?.truncated, true)
      }))
  })
})
