/**
 * `[pricing."<model>"]` in config files: over the built-in table, per model,
 * later files win, shown by `codetether config`; bad values name the key.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { ConfigProvider, Effect, Exit } from "effect"
import * as Pricing from "../../schemas/Pricing.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as ConfigCommand from "../../src/commands/config.ts"
import * as TempDir from "../utils/TempDir.ts"

const fixture = Effect.gen(function*() {
  const dir = yield* TempDir.make()
  const home = NodePath.join(dir, "home")
  const project = NodePath.join(dir, "project")
  NodeFs.mkdirSync(project, { recursive: true })
  const write = (path: string, text: string) => {
    NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
    NodeFs.writeFileSync(path, text)
  }
  return {
    userFile: NodePath.join(home, ".config", "codetether-agent", "config.toml"),
    projectFile: NodePath.join(project, "codetether.toml"),
    write,
    load: CodetetherConfig.make({ cwd: project }).pipe(
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: { HOME: home } }))
    )
  }
})

describe("CodetetherConfig: pricing", () => {
  it.effect("without a [pricing] table the built-in prices apply", () =>
    Effect.gen(function*() {
      const f = yield* fixture
      const config = yield* f.load
      expect(config.pricing).toEqual(Pricing.builtIn)
      expect(config.settings.pricing).toBeUndefined()
    }))

  it.effect("[pricing.\"model\"] tables add or replace prices; a project file's win over the user file's", () =>
    Effect.gen(function*() {
      const f = yield* fixture
      f.write(f.userFile, `[pricing."gpt-4o"]\ninput = 1\noutput = 4\n\n[pricing."MiniMax-M2.5"]\ninput = 0.3\noutput = 1.2\ncache_read = 0.03\ncache_write = 0.375\n`)
      f.write(f.projectFile, `[pricing."gpt-4o"]\ninput = 2\noutput = 8\ncache_read = 0.5\n`)
      const config = yield* f.load
      expect(config.pricing["gpt-4o"]).toEqual({ input: 2, output: 8, cacheRead: 0.5 })
      expect(config.pricing["MiniMax-M2.5"]).toEqual({ input: 0.3, output: 1.2, cacheRead: 0.03, cacheWrite: 0.375 })
      expect(config.pricing["claude-sonnet-4-20250514"]).toEqual(Pricing.builtIn["claude-sonnet-4-20250514"])
      expect(config.settings.pricing?.source).toEqual({ kind: "file", path: f.projectFile })
      const dataDir = DataDir.DataDir.of({ path: "/data", sessionsDir: "/data/sessions", source: "flag" } as never)
      const rows = ConfigCommand.rows(config, dataDir).filter((r) => r.key.startsWith("pricing."))
      expect(rows.map((r) => [r.key, r.value])).toEqual([
        ["pricing.\"gpt-4o\"", "input 2, output 8, cache_read 0.5, cache_write 2 USD per million tokens"],
        ["pricing.\"MiniMax-M2.5\"", "input 0.3, output 1.2, cache_read 0.03, cache_write 0.375 USD per million tokens"]
      ])
    }))

  it.effect("a price that is not a number >= 0, or a table without input or output, is an error naming the key", () =>
    Effect.gen(function*() {
      for (const [text, key] of [
        [`[pricing."m"]\ninput = -1\noutput = 2\n`, "pricing.\"m\".input"],
        [`[pricing."m"]\ninput = 1\noutput = "2"\n`, "pricing.\"m\".output"],
        [`[pricing."m"]\ninput = 1\n`, "pricing.\"m\".output"],
        [`[pricing]\nm = 3\n`, "pricing.\"m\""]
      ] as const) {
        const f = yield* fixture
        f.write(f.userFile, text)
        const exit = yield* Effect.exit(f.load)
        expect(Exit.isFailure(exit), text).toBe(true)
        const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
        expect(error?._tag === "Fail" && error.error.key, text).toBe(key)
      }
    }))
})
