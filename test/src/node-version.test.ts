/**
 * On a Node older than 22 the binary stops with one line before loading
 * anything that would fail there, and `npm ci` refuses to install
 * (`engine-strict` in .npmrc). Node 20 is simulated by overriding
 * `process.versions` before the binary runs; the machine's own Node 20
 * (`/usr/bin/node`), when it has one, is checked too.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Cli from "../utils/Cli.ts"
import * as TempDir from "../utils/TempDir.ts"

const repo = NodePath.resolve(import.meta.dirname, "../..")

const spawn = (command: string, args: ReadonlyArray<string>, options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}) =>
  Effect.promise(() =>
    new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve, reject) => {
      const child = NodeChild.spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => (stderr += d))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, stdout, stderr }))
    })
  )

/** The machine's Node when it is older than 22 (its version), else undefined. */
const oldNode = (): string | undefined => {
  if (!NodeFs.existsSync("/usr/bin/node")) return undefined
  const version = NodeChild.execFileSync("/usr/bin/node", ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "")
  return Number(version.split(".")[0]) < 22 ? version : undefined
}

describe("Node older than 22", () => {
  it.live("the binary prints one line, `codetether needs Node 22 or newer (found X)`, and exits 1", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-node-")
      const fake = NodePath.join(dir, "node20.mjs")
      NodeFs.writeFileSync(fake, "Object.defineProperty(process, \"versions\", { value: { ...process.versions, node: \"20.20.2\" } })\n")
      for (const args of [["run", "hello"], ["--help"], ["sessions", "list"]]) {
        const result = yield* spawn(process.execPath, ["--import", fake, Cli.BIN, ...args], { cwd: dir })
        expect([result.code, result.stdout, result.stderr]).toEqual([1, "", "codetether needs Node 22 or newer (found 20.20.2)\n"])
      }
      const version = oldNode()
      if (version !== undefined) {
        const real = yield* spawn("/usr/bin/node", [Cli.BIN, "run", "hello"], { cwd: dir })
        expect([real.code, real.stdout, real.stderr]).toEqual([1, "", `codetether needs Node 22 or newer (found ${version})\n`])
      }
    }))

  it.live("npm ci refuses to install (engine-strict) before running any script", () =>
    Effect.gen(function*() {
      expect(NodeFs.readFileSync(NodePath.join(repo, ".npmrc"), "utf8")).toMatch(/^engine-strict=true$/m)
      expect(JSON.parse(NodeFs.readFileSync(NodePath.join(repo, "package.json"), "utf8")).engines).toEqual({ node: ">=22" })
      const version = oldNode()
      if (version === undefined || !NodeFs.existsSync("/usr/bin/npm")) return
      const dir = yield* TempDir.make("codetether-npm-")
      for (const name of ["package.json", "package-lock.json", ".npmrc"]) {
        NodeFs.copyFileSync(NodePath.join(repo, name), NodePath.join(dir, name))
      }
      const result = yield* spawn("/usr/bin/npm", ["ci", "--no-audit", "--no-fund", "--offline"], {
        cwd: dir,
        env: { ...process.env, PATH: "/usr/bin:/bin", npm_config_cache: NodePath.join(dir, "cache") }
      })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain("EBADENGINE")
      expect(result.stderr).toContain("Required: {\"node\":\">=22\"}")
      expect(NodeFs.existsSync(NodePath.join(dir, "node_modules"))).toBe(false)
    }))
})
