/**
 * `fallback_models` (codetether): a list of model selectors from a config file
 * or `CODETETHER_FALLBACK_MODELS` (comma-separated), environment over files.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { ConfigProvider, Effect } from "effect"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as TempDir from "../utils/TempDir.ts"

const load = (files: { readonly user?: string; readonly project?: string }, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const dir = yield* TempDir.make()
    const home = NodePath.join(dir, "home")
    const project = NodePath.join(dir, "project")
    NodeFs.mkdirSync(NodePath.join(home, ".config", "codetether-agent"), { recursive: true })
    NodeFs.mkdirSync(project, { recursive: true })
    if (files.user !== undefined) NodeFs.writeFileSync(NodePath.join(home, ".config", "codetether-agent", "config.toml"), files.user)
    if (files.project !== undefined) NodeFs.writeFileSync(NodePath.join(project, "codetether.toml"), files.project)
    return yield* CodetetherConfig.make({ cwd: project }).pipe(
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: { HOME: home, ...env } }))
    )
  })

describe("CodetetherConfig fallback_models", () => {
  it.effect("none by default; a file's list, trimmed; the environment's comma-separated list wins, with its source", () =>
    Effect.gen(function*() {
      expect((yield* load({})).fallbackModels).toEqual([])
      const fromFile = yield* load({ user: "fallback_models = [\" openrouter/z-ai/glm-5 \", \"ollama/qwen3\"]\n" })
      expect(fromFile.fallbackModels).toEqual(["openrouter/z-ai/glm-5", "ollama/qwen3"])
      expect(fromFile.settings.fallbackModels.source.kind).toBe("file")
      const fromEnv = yield* load(
        { project: "fallback_models = [\"a/b\"]\n" },
        { CODETETHER_FALLBACK_MODELS: "anthropic/claude-3-5-haiku-latest, ,zai/glm-5" }
      )
      expect(fromEnv.fallbackModels).toEqual(["anthropic/claude-3-5-haiku-latest", "zai/glm-5"])
      expect(fromEnv.settings.fallbackModels.source).toEqual({ kind: "env", name: "CODETETHER_FALLBACK_MODELS" })
    }))

  it.effect("a value that is not a list of selectors is an error naming the file and the key", () =>
    Effect.gen(function*() {
      for (const bad of ["fallback_models = \"a/b\"\n", "fallback_models = [1]\n", "fallback_models = [\"\"]\n"]) {
        const error = yield* Effect.flip(load({ user: bad }))
        expect(error.reason).toBe("InvalidValue")
        expect(error.key).toBe("fallback_models")
        expect(error.message).toContain("must be an array of model selectors")
      }
    }))
})
