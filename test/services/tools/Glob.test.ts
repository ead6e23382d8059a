import { NodeServices } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import * as Glob from "../../../services/tools/Glob.ts"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

const tree = {
  "README.md": "",
  "src/index.ts": "",
  "src/lib/util.ts": "",
  "src/lib/util.test.ts": "",
  "src/app.tsx": "",
  ".github/ci.ts": "",
  "node_modules/dep/index.ts": "",
  ".git/hooks/x.ts": "",
  ".codetether-agent/sessions/s.json": ""
}

describe("glob", () => {
  layer(registryLayer)((it) => {
    it.effect("finds files at any depth in path order, skipping .git, node_modules and the data dir", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("glob", { pattern: "**/*.ts" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.output, ".github/ci.ts\nsrc/index.ts\nsrc/lib/util.test.ts\nsrc/lib/util.ts")
        assert.strictEqual(result.metadata?.count, 4)
      }))

    it.effect("supports braces and leading literal directories", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("glob", { pattern: "src/*.{ts,tsx}" }, dir)
        assert.strictEqual(result.output, "src/app.tsx\nsrc/index.ts")
        const literal = yield* run("glob", { pattern: "src/lib/util.ts" }, dir)
        assert.strictEqual(literal.output, "src/lib/util.ts")
      }))

    it.effect("searches under path, shows paths relative to the context directory", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("glob", { pattern: "**/*.test.ts", path: "src" }, dir)
        assert.strictEqual(result.output, "src/lib/util.test.ts")
      }))

    it.effect("enters node_modules when the pattern names it", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("glob", { pattern: "**/node_modules/**/*.ts" }, dir)
        assert.strictEqual(result.output, "node_modules/dep/index.ts")
      }))

    it.effect("accepts an absolute pattern and shows absolute paths outside the directory", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const other = yield* tempDir
        writeFiles(other, { "a/one.md": "", "a/two.txt": "" })
        const result = yield* run("glob", { pattern: `${other}/a/*.md` }, dir)
        assert.strictEqual(result.output, NodePath.join(other, "a/one.md"))
      }))

    it.effect("says when nothing matches, with a hint for top-level-only patterns", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("glob", { pattern: "*.ts" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(
          result.output,
          "No files match *.ts in . (\"*.ts\" matches only the top level of the search directory; " +
            "use \"**/*.ts\" to search subdirectories)"
        )
      }))

    it.effect("does not follow symbolic links to directories", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "real/a.ts": "" })
        NodeFs.symlinkSync(NodePath.join(dir, "real"), NodePath.join(dir, "loop"))
        NodeFs.symlinkSync(NodePath.join(dir, "real/a.ts"), NodePath.join(dir, "alias.ts"))
        const result = yield* run("glob", { pattern: "**/*.ts" }, dir)
        assert.strictEqual(result.output, "alias.ts\nreal/a.ts")
      }))

    it.effect("fails for a missing search directory and bad arguments", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        assert.deepStrictEqual(yield* run("glob", { pattern: "*", path: "nope" }, dir), {
          output: "Error: Directory not found: nope",
          success: false
        })
        const bad = yield* run("glob", { pattern: 42 }, dir)
        assert.isFalse(bad.success)
        assert.include(bad.output, "Invalid arguments for tool 'glob': `pattern`")
      }))
  })

  layer(NodeServices.layer)("with caps", (it) => {
    it.effect("stops at limit with a note", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "", "b.txt": "", "c.txt": "" })
        const registry = ToolRegistry.make([yield* Glob.make({ maxLimit: 50 })])
        const result = yield* registry.execute({ name: "glob", args: { pattern: "*.txt", limit: 2 } }, { directory: dir })
        assert.strictEqual(
          result.output,
          "a.txt\nb.txt\n\n[Showing the first 2 matching files; more exist. Use a more specific pattern or path, or a larger limit.]"
        )
        assert.strictEqual(result.metadata?.truncated, true)
        const exact = yield* registry.execute({ name: "glob", args: { pattern: "*.txt", limit: 3 } }, { directory: dir })
        assert.strictEqual(exact.output, "a.txt\nb.txt\nc.txt")
      }))

    it.effect("lowers a limit above the maximum", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "", "b.txt": "", "c.txt": "" })
        const registry = ToolRegistry.make([yield* Glob.make({ maxLimit: 1 })])
        const result = yield* registry.execute({ name: "glob", args: { pattern: "*.txt", limit: 100 } }, { directory: dir })
        assert.match(result.output, /^a\.txt\n\n\[Showing the first 1 matching files/)
      }))
  })
})
