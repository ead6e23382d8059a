/**
 * Files that never end: the file tools given a FIFO or a device return a
 * tool error instead of blocking forever (a FIFO without a writer or reader
 * blocks a plain open), and a directory search skips FIFOs.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Files from "../../../services/tools/internal/Files.ts"
import { registryLayer, run, tempDir, writeFiles } from "./helpers.ts"

const mkfifo = (path: string) => NodeChild.execFileSync("mkfifo", [path])

describe("tools and files that never end", () => {
  layer(registryLayer, { excludeTestServices: true })((it) => {
    it.effect("read, write, edit, grep and list given a FIFO give a tool error", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        mkfifo(NodePath.join(dir, "pipe"))
        const fifo = "pipe is a FIFO, not a regular file"
        assert.deepStrictEqual(yield* run("read", { path: "pipe" }, dir), {
          output: "Error: pipe is not a regular file",
          success: false
        })
        assert.deepStrictEqual(yield* run("write", { path: "pipe", content: "x" }, dir), {
          output: `Error: ${fifo}; write works on regular files only`,
          success: false
        })
        assert.deepStrictEqual(yield* run("edit", { path: "pipe", old_string: "a", new_string: "b" }, dir), {
          output: "Error: pipe is not a regular file; edit works on files",
          success: false
        })
        assert.deepStrictEqual(yield* run("grep", { pattern: "x", path: "pipe" }, dir), {
          output: "Error: pipe is a FIFO; grep searches regular files and directories",
          success: false
        })
        assert.deepStrictEqual(yield* run("list", { path: "pipe" }, dir), {
          output: "Error: pipe is not a directory; use the read tool for files",
          success: false
        })
      }))

    it.effect("the open itself refuses a FIFO (a file swapped for one after the tool's check)", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const path = NodePath.join(dir, "pipe")
        mkfifo(path)
        const read = yield* Effect.flip(Files.readRegular(path, "pipe", "read", 1024))
        assert.strictEqual(read.message, "pipe is a FIFO, not a regular file; read works on regular files only")
        const opened = yield* Effect.flip(Effect.scoped(Files.openRegular(path, "pipe", "read")))
        assert.strictEqual(opened.reason, "InvalidInput")
        const write = yield* Effect.flip(Files.writeRegular(path, "pipe", "write", "x"))
        assert.strictEqual(write.message, "pipe is not a regular file (a FIFO or socket); write works on regular files only")
      }))

    it.effect("a symlink to a FIFO is no different", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        mkfifo(NodePath.join(dir, "pipe"))
        NodeFs.symlinkSync(NodePath.join(dir, "pipe"), NodePath.join(dir, "link"))
        const write = yield* run("write", { path: "link", content: "x" }, dir)
        assert.isFalse(write.success)
        assert.include(write.output, "FIFO")
        const grep = yield* run("grep", { pattern: "x", path: "link" }, dir)
        assert.isFalse(grep.success)
        assert.include(grep.output, "FIFO")
      }))

    it.effect("devices are refused, never read to the end nor written", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        assert.deepStrictEqual(yield* run("read", { path: "/dev/zero" }, dir), {
          output: "Error: /dev/zero is not a regular file",
          success: false
        })
        assert.deepStrictEqual(yield* run("write", { path: "/dev/null", content: "x" }, dir), {
          output: "Error: /dev/null is a device, not a regular file; write works on regular files only",
          success: false
        })
        const grep = yield* run("grep", { pattern: "x", path: "/dev/zero" }, dir)
        assert.isFalse(grep.success)
      }))

    it.effect("a directory search skips FIFOs and finds the rest; list marks them", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "needle one\n", "sub/b.txt": "needle two\n" })
        mkfifo(NodePath.join(dir, "pipe"))
        mkfifo(NodePath.join(dir, "sub", "pipe.txt"))
        NodeFs.symlinkSync(NodePath.join(dir, "pipe"), NodePath.join(dir, "link.txt"))
        const grep = yield* run("grep", { pattern: "needle" }, dir)
        assert.strictEqual(grep.output, "a.txt:1: needle one\nsub/b.txt:1: needle two")
        assert.strictEqual(grep.metadata?.files_searched, 2)
        const list = yield* run("list", {}, dir)
        assert.strictEqual(list.output, "a.txt\nlink.txt@\npipe|\nsub/")
      }))

    it.effect("the file tools still work on regular files and through symlinks to them", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "real.txt": "alpha\nbeta\n" })
        NodeFs.symlinkSync(NodePath.join(dir, "real.txt"), NodePath.join(dir, "link.txt"))
        assert.isTrue((yield* run("edit", { path: "link.txt", old_string: "beta", new_string: "gamma" }, dir)).success)
        assert.strictEqual(NodeFs.readFileSync(NodePath.join(dir, "real.txt"), "utf8"), "alpha\ngamma\n")
        assert.isTrue(NodeFs.lstatSync(NodePath.join(dir, "link.txt")).isSymbolicLink())
        assert.isTrue((yield* run("write", { path: "real.txt", content: "short" }, dir)).success)
        assert.strictEqual(NodeFs.readFileSync(NodePath.join(dir, "real.txt"), "utf8"), "short")
        assert.strictEqual((yield* run("read", { path: "link.txt" }, dir)).output, "   1 | short")
      }))
  })
})
