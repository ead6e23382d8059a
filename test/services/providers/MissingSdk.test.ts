/**
 * `openai` and `@anthropic-ai/sdk` are optional peer dependencies: an app
 * that uses a provider without installing its SDK gets an `Unavailable`
 * error naming the package to install, not a crash, and the library loads
 * without them. The import is made to fail for real: a child Node process
 * whose module resolution cannot find either package (a `registerHooks`
 * resolve hook), running the library's sources.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as TempDir from "../../utils/TempDir.ts"

const repo = NodePath.resolve(import.meta.dirname, "../../..")

const script = (registry: string) => `
import { registerHooks } from "node:module"
const hidden = ["openai", "@anthropic-ai/sdk"]
registerHooks({
  resolve(specifier, context, next) {
    if (hidden.some((name) => specifier === name || specifier.startsWith(name + "/"))) {
      const error = new Error("Cannot find package '" + hidden.find((name) => specifier === name || specifier.startsWith(name + "/")) + "' imported from " + context.parentURL)
      error.code = "ERR_MODULE_NOT_FOUND"
      throw error
    }
    return next(specifier, context)
  }
})
const { Effect, Exit, Redacted, Stream } = await import("effect")
const ProviderRegistry = await import(${JSON.stringify(registry)})
const request = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], tools: [], maxTokens: 16 }
const providers = [
  ProviderRegistry.openAiCompatible({ name: "local", baseUrl: "http://127.0.0.1:9/v1", defaultModel: "m" }),
  ProviderRegistry.anthropic({ apiKey: Redacted.make("sk-secret-key-123"), baseUrl: "http://127.0.0.1:9" })
]
for (const provider of providers) {
  const exit = await Effect.runPromise(Effect.exit(Stream.runDrain(provider.stream(request))))
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail")?.error : undefined
  console.log(JSON.stringify({ reason: error?.reason, message: error?.message }))
}
`

describe("provider SDKs are optional peer dependencies", () => {
  it.live("a missing SDK is an Unavailable error naming the package to install", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-missing-sdk-")
      // inside the repository, so that "effect" resolves from its node_modules
      const scratch = NodePath.join(repo, "test/.tmp")
      NodeFs.mkdirSync(scratch, { recursive: true })
      const file = NodePath.join(scratch, `missing-sdk-${process.pid}.mjs`)
      NodeFs.writeFileSync(file, script(NodePath.join(repo, "services/ProviderRegistry.ts")))
      const out = yield* Effect.sync(() =>
        NodeChild.execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_NO_WARNINGS: "1" } })
      ).pipe(Effect.ensuring(Effect.sync(() => NodeFs.rmSync(file, { force: true }))))
      const [openai, anthropic] = out.trim().split("\n").map((line) => JSON.parse(line))
      expect(openai).toEqual({
        reason: "Unavailable",
        message: "local: the \"openai\" package is not installed: install it next to codetether (npm install openai@^7.57.0)"
      })
      expect(anthropic).toEqual({
        reason: "Unavailable",
        message:
          "anthropic: the \"@anthropic-ai/sdk\" package is not installed: install it next to codetether (npm install @anthropic-ai/sdk@^1.12.0)"
      })
    }))
})
