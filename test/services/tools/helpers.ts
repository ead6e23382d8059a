/**
 * Shared helpers for the tool tests: a scoped temp directory with files, a
 * one-call runner over a registry, and process liveness checks.
 */
import { NodeServices } from "@effect/platform-node"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Effect, Layer } from "effect"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import type { ToolResult } from "../../../schemas/Tool.ts"

/** A temp directory under `os.tmpdir()`, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-tools-")))),
  (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
)

/** Creates `files` (relative path -> content) under `dir`, with parent directories. */
export const writeFiles = (dir: string, files: Readonly<Record<string, string | Uint8Array>>): void => {
  for (const [relative, content] of Object.entries(files)) {
    const path = NodePath.join(dir, relative)
    NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
    NodeFs.writeFileSync(path, content)
  }
}

/** Runs one call through the registry in the environment. */
export const run = (
  name: string,
  args: unknown,
  directory: string
): Effect.Effect<ToolResult, never, ToolRegistry.ToolRegistry> =>
  Effect.gen(function*() {
    const registry = yield* ToolRegistry.ToolRegistry
    return yield* registry.execute({ name, args }, { directory })
  })

/** The registry with every built-in tool over the Node platform. */
export const registryLayer: Layer.Layer<ToolRegistry.ToolRegistry> = ToolRegistry.layer.pipe(
  Layer.provide(NodeServices.layer)
)

/** Whether `pid` is a live (non-zombie) process. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // A zombie (exited, not yet reaped by its parent) is not running.
    const stat = NodeFs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

/** Polls until `path` exists and holds a non-empty line, then returns its trimmed content. */
export const waitForFile = (path: string): Effect.Effect<string> =>
  Effect.gen(function*() {
    for (;;) {
      const text = NodeFs.existsSync(path) ? NodeFs.readFileSync(path, "utf8") : ""
      if (text.endsWith("\n")) return text.trim()
      yield* Effect.sleep("10 millis")
    }
  })

/** Polls until `pid` is no longer alive. */
export const waitForExit = (pid: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (isAlive(pid)) yield* Effect.sleep("10 millis")
  })
