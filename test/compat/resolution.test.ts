/**
 * The compat run really uses this directory's effect: a module outside this
 * directory (as the sources are) gets the very `effect/Effect` module this
 * directory resolves, which is the version test/compat's lockfile pins.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as NodeModule from "node:module"
import * as NodePath from "node:path"
import * as Probe from "../utils/EffectProbe.ts"

const here = import.meta.dirname
const lock = JSON.parse(NodeFs.readFileSync(NodePath.join(here, "package-lock.json"), "utf8"))
const require = NodeModule.createRequire(NodePath.join(here, "package.json"))

describe("compat run", () => {
  it("the repository's modules get the effect of test/compat's lockfile", () => {
    expect(Probe.Effect.succeed).toBe(Effect.succeed)
    const resolved = require.resolve("effect/package.json")
    expect(resolved).toBe(NodePath.join(here, "node_modules", "effect", "package.json"))
    expect(JSON.parse(NodeFs.readFileSync(resolved, "utf8")).version).toBe(lock.packages["node_modules/effect"].version)
  })
})
