/**
 * The CLI bundle stays small only if library sources import Effect modules by
 * path (`effect/Effect`), never through a barrel (`effect`, `effect/cli`,
 * `@effect/platform-node`): esbuild keeps every module a barrel re-exports as
 * a namespace, which more than doubled the JS loaded by `codetether run`
 * (1.3 MB vs 0.72 MB) and cost ~80 ms of start-up.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"

const root = NodePath.resolve(import.meta.dirname, "../..")
const BARREL = /^import[^;]*?from "(effect|effect\/[a-z-]+|@effect\/platform-node)"$/gm

const sources = (dir: string): Array<string> =>
  NodeFs.readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => NodePath.join(dir, name))

describe("library sources", () => {
  it("import Effect modules by path, not through barrels", () => {
    const files = ["src", "services", "schemas"].flatMap((dir) => sources(NodePath.join(root, dir)))
    expect(files.length).toBeGreaterThan(40)
    const offending = files.flatMap((file) =>
      [...NodeFs.readFileSync(file, "utf8").matchAll(BARREL)].map((m) => `${NodePath.relative(root, file)}: ${m[0]}`)
    )
    expect(offending).toEqual([])
  })

  it("the pattern catches a barrel import", () => {
    const sample = `import { Effect } from "effect"\nimport { Command } from "effect/cli"\nimport * as Layer from "effect/Layer"\n`
    expect([...sample.matchAll(BARREL)].map((m) => m[1])).toEqual(["effect", "effect/cli"])
  })
})
