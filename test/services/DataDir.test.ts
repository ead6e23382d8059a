/**
 * DataDir: 4.5.7's resolution, and the refusals codetether adds: an empty or
 * blank `CODETETHER_DATA_DIR` / `--data-dir ""`, and a path that exists but is
 * not a directory.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as DataDir from "../../services/DataDir.ts"
import * as TempDir from "../utils/TempDir.ts"

const get = <E>(layer: Layer.Layer<DataDir.DataDir, E>) =>
  Effect.provide(
    Effect.gen(function*() {
      return yield* DataDir.DataDir
    }),
    layer
  )

const fromEnv = (value: string) =>
  DataDir.layer.pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { CODETETHER_DATA_DIR: value }, preserveEmptyStrings: true })))
  )

describe("DataDir", () => {
  it("resolve: env, else git root, else cwd (4.5.7)", () => {
    const hasGit = (dir: string) => dir === "/w/repo"
    assert.strictEqual(DataDir.resolve({ env: " /d ", cwd: "/w/repo/sub", hasGit }).path, "/d")
    assert.strictEqual(DataDir.resolve({ env: undefined, cwd: "/w/repo/sub", hasGit }).path, "/w/repo/.codetether-agent")
    assert.strictEqual(DataDir.resolve({ env: undefined, cwd: "/x", hasGit }).path, "/x/.codetether-agent")
  })

  it.effect("an empty or blank CODETETHER_DATA_DIR is an error, not the current directory", () =>
    Effect.gen(function*() {
      for (const value of ["", "  \t"]) {
        const error = yield* Effect.flip(get(fromEnv(value)))
        assert.strictEqual(error._tag, "DataDirError")
        assert.strictEqual((error as DataDir.DataDirError).reason, "Empty")
        assert.include(error.message, "CODETETHER_DATA_DIR is set but empty")
      }
    }))

  it.effect("--data-dir \"\" is an error; a given directory (existing or not) is used", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(get(DataDir.layerFlag(" ")))
      assert.strictEqual(error.reason, "Empty")
      assert.strictEqual(error.name, "--data-dir")
      const dir = yield* TempDir.make()
      assert.strictEqual((yield* get(DataDir.layerFlag(dir))).path, dir)
      const fresh = NodePath.join(dir, "new", "data")
      assert.strictEqual((yield* get(DataDir.layerFlag(fresh))).source, "explicit")
      assert.strictEqual((yield* get(fromEnv(fresh))).path, fresh)
    }))

  it.effect("a data dir that is a file, a FIFO, or under a file is reported as such", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const file = NodePath.join(dir, "file")
      const fifo = NodePath.join(dir, "fifo")
      NodeFs.writeFileSync(file, "x")
      NodeChild.execFileSync("mkfifo", [fifo])
      const flagged = yield* Effect.flip(get(DataDir.layerFlag(file)))
      assert.strictEqual(flagged.reason, "NotDirectory")
      assert.strictEqual(flagged.message, `The data dir ${file} (from --data-dir) is a regular file, not a directory`)
      const env = yield* Effect.flip(get(fromEnv(fifo)))
      assert.strictEqual(env.message, `The data dir ${fifo} (from CODETETHER_DATA_DIR) is a FIFO, not a directory`)
      const under = yield* Effect.flip(get(DataDir.layerFlag(NodePath.join(file, "sub"))))
      assert.strictEqual(
        under.message,
        `The data dir ${file}/sub (from --data-dir) cannot be created: ${file} is a regular file, not a directory`
      )
    }))
})
