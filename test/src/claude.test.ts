/**
 * Claude Code sessions through the bundled binary: `import claude` (current
 * directory, --id, --all, --json), `sessions list --all` listing the ones
 * not imported yet as `[Claude] ...`, and `run --session <claude id>`
 * importing on the fly and continuing the conversation, which a later import
 * never overwrites.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as ClaudeTranscript from "../../schemas/ClaudeTranscript.ts"
import * as AnthropicServer from "../utils/AnthropicServer.ts"
import * as T from "../utils/ClaudeTranscripts.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

const HERE_ID = "aaaaaaaa-1111-4222-8333-444455556666"
const SAMPLE_TITLE = "List the files in the current directory with your shell t..."

const setup = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-claude-cli-")
  const claude = NodePath.join(root, "claude-config")
  NodeFs.cpSync(T.FIXTURES, claude, { recursive: true })
  const ws = NodePath.join(root, "ws")
  NodeFs.mkdirSync(ws)
  T.write(claude, ClaudeTranscript.projectFolderName(ws), HERE_ID, T.conversation(ws, "count the files here"))
  const data = NodePath.join(root, "data")
  const env = Cli.isolatedEnv(root, {
    CLAUDE_CONFIG_DIR: claude
  })
  const cli = (args: ReadonlyArray<string>, extra: Record<string, string | undefined> = {}) =>
    Effect.promise(() => Cli.run(["--data-dir", data, ...args], { cwd: ws, env: { ...env, ...extra } }))
  return { root, claude, ws, data, cli }
})

describe("codetether and Claude Code sessions", () => {
  it.live("import claude: this directory's sessions by default, --id one, --all every one; re-imports are skipped", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const here = yield* cli(["import", "claude"])
      expect(here.stderr).toBe("")
      expect([here.code, here.stdout]).toEqual([0, `imported ${HERE_ID} "count the files here"\n1 imported, 0 skipped.\n`])
      const one = yield* cli(["import", "claude", "--id", T.SAMPLE_ID, "--json"])
      expect(JSON.parse(one.stdout)).toEqual({ imported: 1, skipped: 0, importedIds: [T.SAMPLE_ID], skippedIds: [], failed: [] })
      const all = yield* cli(["import", "claude", "--all"])
      expect(all.code).toBe(0)
      expect(all.stdout).toContain(`skipped  ${T.SAMPLE_ID} "${SAMPLE_TITLE}" (already up to date)`)
      expect(all.stdout.trim().split("\n").at(-1)).toBe("0 imported, 2 skipped.")
      const shown = JSON.parse((yield* cli(["sessions", "show", T.SAMPLE_ID, "--json"])).stdout)
      expect(shown.messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect(shown.metadata.model).toBe("anthropic/claude-opus-5-5")
      const missing = yield* cli(["import", "claude", "--id", "nope"])
      expect([missing.code, missing.stderr]).toEqual([1, "codetether: Claude Code session not found: nope\n"])
      const both = yield* cli(["import", "claude", "--id", "x", "--all"])
      expect([both.code, both.stderr]).toEqual([1, "codetether: --id and --all cannot be used together\n"])
      const none = yield* cli(["import", "claude"], { CLAUDE_CONFIG_DIR: "/nonexistent/claude" })
      expect(none.code).toBe(1)
      expect(none.stderr).toContain("Claude Code config directory not found")
    }))

  it.live("sessions list --all shows Claude Code sessions not imported yet as [Claude] ...", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const before = JSON.parse((yield* cli(["sessions", "list", "--all", "--json"])).stdout)
      expect(before.map((s: { title: string }) => s.title).sort()).toEqual(
        ["[Claude] count the files here", `[Claude] ${SAMPLE_TITLE}`].sort()
      )
      yield* cli(["import", "claude", "--id", T.SAMPLE_ID])
      const after = JSON.parse((yield* cli(["sessions", "list", "--all", "--json"])).stdout)
      expect(after.map((s: { title: string }) => s.title).sort()).toEqual(["[Claude] count the files here", SAMPLE_TITLE].sort())
      // without --all only native sessions of this directory
      expect(JSON.parse((yield* cli(["sessions", "list", "--json"])).stdout)).toEqual([])
    }))

  it.live("run --session <claude id> imports on the fly, sends the transcript, and a later import keeps the continued session", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const server = yield* AnthropicServer.make
      server.enqueue(OpenAiServer.text("Still 5 files."))
      const run = yield* cli(["run", "--session", T.SAMPLE_ID, "are there still 5?"], {
        ANTHROPIC_API_KEY: "sk-ant-test",
        ANTHROPIC_BASE_URL: server.url
      })
      expect(run.stderr).toBe("")
      expect([run.code, run.stdout]).toEqual([0, "Still 5 files.\n"])
      const body = server.requests[0]!.body
      expect(body.model).toBe("claude-opus-5-5")
      const blocks = body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [{ type: "text", text: m.content }]))
      expect(blocks.find((b: any) => b.type === "tool_use")).toMatchObject({ name: "Bash", input: { command: "ls -1" } })
      expect(blocks.at(-1)).toMatchObject({ type: "text", text: "are there still 5?" })
      const again = yield* cli(["import", "claude", "--id", T.SAMPLE_ID])
      expect(again.stdout).toContain("(already up to date)")
      const shown = JSON.parse((yield* cli(["sessions", "show", T.SAMPLE_ID, "--json"])).stdout)
      expect(shown.messages).toHaveLength(6)
    }))

  it.live("--help documents import claude", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const group = yield* cli(["import", "--help"])
      expect(group.stdout).toContain("claude")
      const help = yield* cli(["import", "claude", "--help"])
      expect(help.code).toBe(0)
      expect(help.stdout).toContain("CLAUDE_CONFIG_DIR")
      expect(help.stdout).toContain("--all")
      const run = yield* cli(["run", "--help"])
      expect(run.stdout).toContain("Claude Code")
    }))
})
