/**
 * `codetether sessions ...` through the bundled binary.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Cli from "../utils/Cli.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const fixtures = NodePath.join(import.meta.dirname, "../fixtures/sessions")

const setup = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-cli-")
  const data = NodePath.join(root, "data")
  const sessions = NodePath.join(data, "sessions")
  const ws = NodePath.join(root, "ws")
  NodeFs.mkdirSync(sessions, { recursive: true })
  NodeFs.mkdirSync(ws)
  const put = (session: ReturnType<typeof Sessions.make>) =>
    NodeFs.writeFileSync(NodePath.join(sessions, `${session.id}.json`), SessionJson.encode(session))
  const cli = (args: ReadonlyArray<string>, cwd = ws) => Effect.promise(() => Cli.run(["--data-dir", data, ...args], { cwd }))
  return { root, data, sessions, ws, put, cli }
})

describe("codetether sessions", () => {
  it.live("list shows the sessions of the current directory; --all every session; --json 4.5.7 summaries", () =>
    Effect.gen(function*() {
      const { ws, put, cli } = yield* setup
      const mine = Sessions.make({ directory: ws, title: "mine", updatedAt: Sessions.at(200) })
      const older = Sessions.make({ directory: ws, title: "older", updatedAt: Sessions.at(100) })
      const other = Sessions.make({ directory: "/elsewhere", title: "other", updatedAt: Sessions.at(300) })
      for (const s of [mine, older, other]) put(s)
      const table = yield* cli(["sessions", "list"])
      expect(table.code).toBe(0)
      expect(table.stdout).toContain("mine")
      expect(table.stdout).not.toContain("other")
      expect(table.stdout.indexOf("mine")).toBeLessThan(table.stdout.indexOf("older"))
      const all = yield* cli(["sessions", "list", "--all", "--json"])
      const parsed = JSON.parse(all.stdout)
      expect(parsed.map((s: { title: string }) => s.title)).toEqual(["other", "mine", "older"])
      expect(Object.keys(parsed[0])).toEqual(["id", "title", "created_at", "updated_at", "message_count", "agent", "directory"])
      expect(parsed[1]).toEqual({
        id: mine.id,
        title: "mine",
        created_at: mine.createdAt,
        updated_at: mine.updatedAt,
        message_count: 2,
        agent: "build",
        directory: ws
      })
      const limited = yield* cli(["sessions", "list", "--all", "--json", "--limit", "1"])
      expect(JSON.parse(limited.stdout)).toHaveLength(1)
    }))

  it.live("show --json prints the exact on-disk bytes; --tail limits the transcript; human output is a transcript", () =>
    Effect.gen(function*() {
      const { sessions, cli } = yield* setup
      const bytes = NodeFs.readFileSync(NodePath.join(fixtures, "compact-all-parts.json"))
      const id = "0b9f6d1e-2a3c-4d5e-8f70-1a2b3c4d5e6f"
      NodeFs.writeFileSync(NodePath.join(sessions, `${id}.json`), bytes)
      const json = yield* cli(["sessions", "show", id, "--json"])
      expect(json.code).toBe(0)
      expect(json.stdoutBytes.equals(bytes)).toBe(true)
      const tail = yield* cli(["sessions", "show", id, "--json", "--tail", "1"])
      const tailSession = JSON.parse(tail.stdout)
      expect(tailSession.messages).toHaveLength(1)
      expect(tailSession.tool_uses).toHaveLength(1)
      const human = yield* cli(["sessions", "show", id])
      expect(human.stdout).toContain("Fix the 🚀 launch")
      expect(human.stdout).toContain("→ read {\"path\":\"src/main.rs\"}")
      expect(human.stdout).toContain("Done.")
    }))

  it.live("last prints the session a resume would pick; delete removes a session", () =>
    Effect.gen(function*() {
      const { ws, put, cli, sessions } = yield* setup
      const a = Sessions.make({ directory: ws, title: "first" })
      const b = Sessions.make({ directory: ws, title: "second" })
      put(a)
      put(b)
      NodeFs.utimesSync(NodePath.join(sessions, `${a.id}.json`), 1000, 1000)
      const last = yield* cli(["sessions", "last", "--json"])
      expect(JSON.parse(last.stdout).id).toBe(b.id)
      const deleted = yield* cli(["sessions", "delete", b.id])
      expect([deleted.code, deleted.stdout.trim()]).toEqual([
        0,
        `Deleted session ${b.id} (moved to the trash: codetether sessions restore ${b.id} brings it back)`
      ])
      expect(NodeFs.existsSync(NodePath.join(sessions, `${b.id}.json`))).toBe(false)
      expect(JSON.parse((yield* cli(["sessions", "last", "--json"])).stdout).id).toBe(a.id)
    }))

  it.live("errors are one line on stderr with exit code 1; warnings never touch stdout", () =>
    Effect.gen(function*() {
      const { root, sessions, cli, put, ws } = yield* setup
      const missing = yield* cli(["sessions", "show", "no-such-session"])
      expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, "", "codetether: Session not found: no-such-session\n"])
      const traversal = yield* cli(["sessions", "show", "../../etc/passwd"])
      expect(traversal.code).toBe(1)
      expect(traversal.stderr).toBe("codetether: Invalid session id \"../../etc/passwd\": it contains a path separator\n")
      const none = yield* cli(["sessions", "last"], root)
      expect([none.code, none.stderr]).toEqual([1, "codetether: No sessions found\n"])
      const deleteMissing = yield* cli(["sessions", "delete", "nope"])
      expect([deleteMissing.code, deleteMissing.stderr]).toEqual([1, "codetether: Session not found: nope\n"])
      put(Sessions.make({ directory: ws }))
      NodeFs.writeFileSync(NodePath.join(sessions, "bad.json"), "{\"truncated")
      const listed = yield* cli(["sessions", "list", "--json"])
      expect(listed.code).toBe(0)
      expect(JSON.parse(listed.stdout)).toHaveLength(1)
      expect(listed.stderr.trim().split("\n")).toHaveLength(1)
      expect(listed.stderr).toMatch(/^codetether: warning: skipping .*bad\.json/)
      // a corrupt session file can still be deleted
      const deleteCorrupt = yield* cli(["sessions", "delete", "bad"])
      expect([deleteCorrupt.code, deleteCorrupt.stdout.trim()]).toEqual([0, "Deleted session bad (moved to the trash: codetether sessions restore bad brings it back)"])
      expect(NodeFs.existsSync(NodePath.join(sessions, "bad.json"))).toBe(false)
      const usage = yield* cli(["sessions", "show"])
      expect(usage.code).toBe(1)
      expect(usage.stderr).toContain("Missing")
    }))

  it.live("--help and --version work and exit 0", () =>
    Effect.gen(function*() {
      const help = yield* Effect.promise(() => Cli.run(["--help"]))
      expect(help.code).toBe(0)
      expect(help.stdout).toContain("sessions")
      expect(help.stdout).toContain("--data-dir")
      const version = yield* Effect.promise(() => Cli.run(["--version"]))
      expect(version.code).toBe(0)
      expect(version.stdout).toMatch(/\d+\.\d+\.\d+/)
    }))
})
