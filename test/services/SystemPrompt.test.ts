/**
 * The system prompt's AGENTS.md discovery: nearest last, up to the git root;
 * a FIFO or device named AGENTS.md is skipped with one warning instead of
 * hanging the process; a symlink is followed only inside the searched tree.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as Logs from "../utils/Logs.ts"
import * as TempDir from "../utils/TempDir.ts"

const fixture = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-prompt-")
  const repo = NodePath.join(root, "repo")
  const sub = NodePath.join(repo, "pkg")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  NodeFs.mkdirSync(sub, { recursive: true })
  return { root, repo, sub }
})

const build = (directory: string) =>
  Logs.capture(Effect.gen(function*() {
    const prompt = yield* SystemPrompt.SystemPrompt
    const first = yield* prompt.build(directory)
    const second = yield* prompt.build(directory)
    assert.strictEqual(first, second)
    return first
  }).pipe(Effect.provide(SystemPrompt.layer)))

describe("SystemPrompt", () => {
  it.effect("appends the AGENTS.md files up to the git root, nearest last; cuts a long one", () =>
    Effect.gen(function*() {
      const { repo, root, sub } = yield* fixture
      NodeFs.writeFileSync(NodePath.join(root, "AGENTS.md"), "above the repository")
      NodeFs.writeFileSync(NodePath.join(repo, "AGENTS.md"), "repo rules")
      NodeFs.writeFileSync(NodePath.join(sub, "AGENTS.md"), "x".repeat(SystemPrompt.MAX_AGENTS_MD_BYTES + 10))
      const { value } = yield* build(sub)
      assert.notInclude(value, "above the repository")
      assert.isBelow(value.indexOf("repo rules"), value.indexOf("xxxx"))
      assert.include(value, `[... AGENTS.md cut at ${SystemPrompt.MAX_AGENTS_MD_BYTES} bytes]`)
    }))

  it.effect("a FIFO named AGENTS.md is skipped with one warning, never waited on", () =>
    Effect.gen(function*() {
      const { repo, sub } = yield* fixture
      NodeChild.execFileSync("mkfifo", [NodePath.join(sub, "AGENTS.md")])
      NodeFs.writeFileSync(NodePath.join(repo, "AGENTS.md"), "repo rules")
      const { logs, value } = yield* build(sub)
      assert.include(value, "repo rules")
      assert.deepStrictEqual(logs.map((l) => l.message), [
        `Skipping ${NodePath.join(sub, "AGENTS.md")}: is a FIFO, not a regular file`
      ])
    }))

  it.effect("a symlink is followed inside the repository only", () =>
    Effect.gen(function*() {
      const { repo, root, sub } = yield* fixture
      NodeFs.writeFileSync(NodePath.join(repo, "CLAUDE.md"), "shared rules")
      NodeFs.symlinkSync(NodePath.join(repo, "CLAUDE.md"), NodePath.join(repo, "AGENTS.md"))
      const secret = NodePath.join(root, "id_rsa")
      NodeFs.writeFileSync(secret, "PRIVATE KEY")
      NodeFs.symlinkSync(secret, NodePath.join(sub, "AGENTS.md"))
      const { logs, value } = yield* build(sub)
      assert.include(value, "shared rules")
      assert.notInclude(value, "PRIVATE KEY")
      assert.strictEqual(logs.length, 1)
      assert.include(logs[0]!.message, `is a symlink to ${secret}, outside ${repo}`)
    }))

  it.effect("a device behind a symlink is skipped too", () =>
    Effect.gen(function*() {
      const { sub } = yield* fixture
      NodeFs.symlinkSync("/dev/zero", NodePath.join(sub, "AGENTS.md"))
      const { logs, value } = yield* build(sub)
      assert.notInclude(value, "Instructions from")
      assert.strictEqual(logs.length, 1)
    }))
})

