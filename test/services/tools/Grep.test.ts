import { NodeServices } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import * as Grep from "../../../services/tools/Grep.ts"
import * as RegexSearch from "../../../services/tools/internal/RegexSearch.ts"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

const tree = {
  "src/a.ts": "export const alpha = 1\n  function main() {}\n",
  "src/b.js": "const beta = 2 // alpha\n",
  "docs/readme.md": "Alpha and omega\n",
  "bin/tool": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x61, 0x6c, 0x70, 0x68, 0x61]),
  "node_modules/x/index.js": "alpha\n",
  ".git/config": "alpha\n",
  ".codetether-agent/sessions/s.json": "{\"text\":\"alpha\"}\n"
}

describe("grep", () => {
  layer(registryLayer)((it) => {
    it.effect("finds regex matches as path:line: text, skipping binaries and ignored directories", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("grep", { pattern: "al[p]ha" }, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.output, "src/a.ts:1: export const alpha = 1\nsrc/b.js:1: const beta = 2 // alpha")
        assert.strictEqual(result.metadata?.count, 2)
      }))

    it.effect("filters files with include (by name or by path) and ignores case on request", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const byName = yield* run("grep", { pattern: "alpha", include: "*.{md,ts}", ignore_case: true }, dir)
        assert.strictEqual(byName.output, "docs/readme.md:1: Alpha and omega\nsrc/a.ts:1: export const alpha = 1")
        const byPath = yield* run("grep", { pattern: "alpha", include: "src/*.js" }, dir)
        assert.strictEqual(byPath.output, "src/b.js:1: const beta = 2 // alpha")
      }))

    it.effect("searches a single file or a subdirectory given by path", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const file = yield* run("grep", { pattern: "main\\(\\)", path: "src/a.ts" }, dir)
        assert.strictEqual(file.output, "src/a.ts:2: function main() {}")
        const sub = yield* run("grep", { pattern: "omega", path: "docs" }, dir)
        assert.strictEqual(sub.output, "docs/readme.md:1: Alpha and omega")
      }))

    it.effect("treats the pattern as plain text with literal", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("grep", { pattern: "main() {", literal: true }, dir)
        assert.strictEqual(result.output, "src/a.ts:2: function main() {}")
      }))

    it.effect("says when nothing matches", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, tree)
        const result = yield* run("grep", { pattern: "zeta", include: "*.ts" }, dir)
        assert.deepStrictEqual(result.output, "No matches for zeta in . (files matching *.ts)")
        assert.isTrue(result.success)
      }))

    it.effect("fails for an invalid regular expression, a binary file and a missing path", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const invalid = yield* run("grep", { pattern: "foo(" }, dir)
        assert.isFalse(invalid.success)
        assert.match(invalid.output, /^Error: Invalid regular expression: .*Escape special characters or set literal to true$/)
        writeFiles(dir, { "blob": new Uint8Array([0x61, 0x00, 0x62]) })
        assert.deepStrictEqual(yield* run("grep", { pattern: "a", path: "blob" }, dir), {
          output: "Error: blob looks like a binary file; grep searches text files",
          success: false
        })
        assert.deepStrictEqual(yield* run("grep", { pattern: "x", path: "nope" }, dir), {
          output: "Error: Path not found: nope",
          success: false
        })
      }))
  })

  layer(NodeServices.layer)("with caps", (it) => {
    it.effect("stops after limit matches with a note and skips large files", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "hit 1\nhit 2\nhit 3\n", "big.txt": `hit\n${"x".repeat(100)}\n` })
        const registry = ToolRegistry.make([yield* Grep.make({ maxFileBytes: 50, maxLineLength: 4 })])
        const result = yield* registry.execute({ name: "grep", args: { pattern: "hit", limit: 2 } }, { directory: dir })
        assert.strictEqual(
          result.output,
          "a.txt:1: hit …\na.txt:2: hit …\n\n" +
            "[Stopped after 2 matches; there are more. Narrow the search with path or include, or raise limit.]"
        )
        const all = yield* registry.execute({ name: "grep", args: { pattern: "hit" } }, { directory: dir })
        assert.strictEqual(
          all.output,
          "a.txt:1: hit …\na.txt:2: hit …\na.txt:3: hit …\n\n[Skipped 1 file larger than 50 bytes.]"
        )
      }))
  })
})

describe("grep time limit", () => {
  // 4.5.7 and the first codetether ran the pattern on the main thread: this
  // line froze the process at 100% CPU, deaf to SIGINT and SIGTERM.
  const catastrophic = { "f.txt": `ok\n${"a".repeat(50)}!\n` }

  it.live("a catastrophically backtracking pattern ends in a tool error naming the time limit", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      writeFiles(dir, catastrophic)
      yield* Effect.scoped(Effect.gen(function*() {
        const registry = ToolRegistry.make([yield* Grep.make({ timeoutMs: 300 })])
        const result = yield* registry.execute({ name: "grep", args: { pattern: "(a|aa)+$" } }, { directory: dir })
        assert.isFalse(result.success)
        assert.match(
          result.output,
          /^Error: grep stopped: matching took longer than the 300 ms time limit \(while searching f\.txt\)/
        )
        // the worker left matching was terminated, not kept
        assert.strictEqual(RegexSearch.activeWorkers(), 0)
        // the same tool still answers a sane pattern afterwards, and keeps that worker for the next call
        const sane = yield* registry.execute({ name: "grep", args: { pattern: "^ok$" } }, { directory: dir })
        assert.strictEqual(sane.output, "f.txt:1: ok")
        assert.strictEqual(RegexSearch.activeWorkers(), 1)
        const again = yield* registry.execute({ name: "grep", args: { pattern: "^a+!$" } }, { directory: dir })
        assert.strictEqual(again.output, `f.txt:2: ${"a".repeat(50)}!`)
        assert.strictEqual(RegexSearch.activeWorkers(), 1)
      }))
      // closing the scope the tool was built in terminates its idle worker
      assert.strictEqual(RegexSearch.activeWorkers(), 0)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("interrupting the call returns within a second and leaves no worker behind", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      writeFiles(dir, catastrophic)
      const grep = yield* Grep.make() // the default 10 s limit
      const fiber = yield* grep.run({ pattern: "(a|aa)+$", path: "f.txt" }, { directory: dir }).pipe(Effect.forkChild)
      // wait until the worker is matching (the main thread stays free meanwhile)
      while (RegexSearch.activeWorkers() === 0) yield* Effect.sleep("10 millis")
      yield* Effect.sleep("200 millis")
      assert.strictEqual(RegexSearch.activeWorkers(), 1)
      const started = performance.now()
      yield* Fiber.interrupt(fiber)
      const elapsed = performance.now() - started
      assert.isBelow(elapsed, 1000, `interruption took ${elapsed} ms`)
      assert.strictEqual(RegexSearch.activeWorkers(), 0)
    }).pipe(Effect.provide(NodeServices.layer)))
})
