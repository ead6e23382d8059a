/**
 * `codetether sessions delete | trash | restore | purge` through the bundled
 * binary: delete moves the file, unchanged, to `<data_dir>/trash/<time>/`;
 * listings and resume no longer see it; restore brings it back without ever
 * overwriting a live session; purge deletes for good, by age or id.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Cli from "../utils/Cli.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const setup = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-trash-")
  const data = NodePath.join(root, "data")
  const sessions = NodePath.join(data, "sessions")
  const trash = NodePath.join(data, "trash")
  const ws = NodePath.join(root, "ws")
  NodeFs.mkdirSync(sessions, { recursive: true })
  NodeFs.mkdirSync(ws)
  const put = (session: ReturnType<typeof Sessions.make>) => {
    const bytes = SessionJson.encode(session)
    NodeFs.writeFileSync(NodePath.join(sessions, `${session.id}.json`), bytes)
    return bytes
  }
  const cli = (args: ReadonlyArray<string>) =>
    Effect.promise(() => Cli.run(["--data-dir", data, ...args], { cwd: ws, env: { CODEX_HOME: NodePath.join(root, "codex") } }))
  /** `<time dir>/<file>` of everything in the trash. */
  const trashed = () =>
    NodeFs.existsSync(trash)
      ? NodeFs.readdirSync(trash).flatMap((dir) => NodeFs.readdirSync(NodePath.join(trash, dir)).map((f) => `${dir}/${f}`))
      : []
  return { root, data, sessions, trash, ws, put, cli, trashed }
})

describe("codetether sessions: the trash", () => {
  it.live("delete moves the file unchanged to the trash; listings and resume no longer see it; trash lists it", () =>
    Effect.gen(function*() {
      const { cli, put, sessions, trash, trashed, ws } = yield* setup
      const keep = Sessions.make({ directory: ws, title: "keep me", updatedAt: Sessions.at(100) })
      const gone = Sessions.make({ directory: ws, title: "delete me", updatedAt: Sessions.at(200) })
      put(keep)
      const bytes = put(gone)
      const before = Date.now()
      const deleted = yield* cli(["sessions", "delete", gone.id])
      expect(deleted.code).toBe(0)
      expect(deleted.stdout).toBe(
        `Deleted session ${gone.id} (moved to the trash: codetether sessions restore ${gone.id} brings it back)\n`
      )
      expect(NodeFs.existsSync(NodePath.join(sessions, `${gone.id}.json`))).toBe(false)
      const [entry] = trashed()
      expect(entry).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z/${gone.id}\\.json$`))
      expect(NodeFs.readFileSync(NodePath.join(trash, entry!))).toEqual(Buffer.from(bytes))
      const deletedAt = Date.parse(entry!.split("/")[0]!.replace(/T(\d\d)-(\d\d)-(\d\d)/, "T$1:$2:$3"))
      expect(deletedAt).toBeGreaterThanOrEqual(before - 1000)
      expect(deletedAt).toBeLessThanOrEqual(Date.now())

      const listed = JSON.parse((yield* cli(["sessions", "list", "--all", "--json"])).stdout)
      expect(listed.map((s: { id: string }) => s.id)).toEqual([keep.id])
      expect(JSON.parse((yield* cli(["sessions", "last", "--json"])).stdout).id).toBe(keep.id)
      const show = yield* cli(["sessions", "show", gone.id])
      expect([show.code, show.stderr]).toEqual([1, `codetether: Session not found: ${gone.id}\n`])

      const table = yield* cli(["sessions", "trash"])
      expect(table.code).toBe(0)
      expect(table.stdout).toMatch(/^ID +DELETED \(UTC\) +UPDATED \(UTC\) +MSGS +TITLE\n/)
      expect(table.stdout).toContain(gone.id)
      expect(table.stdout).toContain("delete me")
      const json = JSON.parse((yield* cli(["sessions", "trash", "--json"])).stdout)
      expect(json).toEqual([{
        id: gone.id,
        title: "delete me",
        created_at: gone.createdAt,
        updated_at: gone.updatedAt,
        message_count: 2,
        agent: "build",
        directory: ws,
        deleted_at: new Date(deletedAt).toISOString()
      }])
      // deleting it again: nothing left to delete
      const again = yield* cli(["sessions", "delete", gone.id])
      expect([again.code, again.stderr]).toEqual([1, `codetether: Session not found: ${gone.id}\n`])
    }))

  it.live("restore brings it back byte for byte, never over a live session", () =>
    Effect.gen(function*() {
      const { cli, put, sessions, trashed, ws } = yield* setup
      const session = Sessions.make({ directory: ws, title: "precious" })
      const bytes = put(session)
      yield* cli(["sessions", "delete", session.id])
      const restored = yield* cli(["sessions", "restore", session.id])
      expect([restored.code, restored.stdout]).toEqual([0, `Restored session ${session.id} "precious"\n`])
      expect(NodeFs.readFileSync(NodePath.join(sessions, `${session.id}.json`))).toEqual(Buffer.from(bytes))
      expect(trashed()).toEqual([])
      const nothing = yield* cli(["sessions", "restore", session.id])
      expect([nothing.code, nothing.stderr]).toEqual([1, `codetether: No trashed session ${session.id}\n`])

      yield* cli(["sessions", "delete", session.id])
      const impostor = put(Sessions.make({ id: session.id, directory: ws, title: "new life" }))
      const refused = yield* cli(["sessions", "restore", session.id])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toBe(
        `codetether: session ${session.id} exists; the trashed copy was not restored over it (delete or rename the live session first)\n`
      )
      expect(NodeFs.readFileSync(NodePath.join(sessions, `${session.id}.json`))).toEqual(Buffer.from(impostor))
      expect(trashed()).toHaveLength(1)
      const traversal = yield* cli(["sessions", "restore", "../x"])
      expect(traversal.stderr).toBe("codetether: Invalid session id \"../x\": it contains a path separator\n")
    }))

  it.live("purge --older-than deletes what was deleted long enough ago; purge ID one session; purge all", () =>
    Effect.gen(function*() {
      const { cli, put, trash, trashed, ws } = yield* setup
      const [old, recent, other] = [0, 1, 2].map((i) => Sessions.make({ directory: ws, title: `s${i}` }))
      for (const s of [old!, recent!, other!]) {
        put(s)
        yield* cli(["sessions", "delete", s.id])
      }
      // make `old` look deleted 40 days ago (the time is the name of its directory)
      const oldEntry = trashed().find((e) => e.endsWith(`${old!.id}.json`))!
      const fortyDaysAgo = new Date(Date.now() - 40 * 86_400_000).toISOString().replace(/:/g, "-")
      NodeFs.mkdirSync(NodePath.join(trash, fortyDaysAgo))
      NodeFs.renameSync(NodePath.join(trash, oldEntry), NodePath.join(trash, fortyDaysAgo, `${old!.id}.json`))

      const bad = yield* cli(["sessions", "purge", "--older-than", "soon"])
      expect([bad.code, bad.stderr]).toEqual([
        1,
        "codetether: --older-than \"soon\" is not an age: use e.g. 30d, 12h, 90m or 2w\n"
      ])
      const aged = yield* cli(["sessions", "purge", "--older-than", "30d", "--json"])
      expect(aged.code).toBe(0)
      expect(JSON.parse(aged.stdout)).toEqual([{ id: old!.id, deleted_at: `${fortyDaysAgo.replace(/T(\d\d)-(\d\d)-(\d\d)/, "T$1:$2:$3")}` }])
      expect(NodeFs.existsSync(NodePath.join(trash, fortyDaysAgo))).toBe(false)
      expect(trashed()).toHaveLength(2)
      const one = yield* cli(["sessions", "purge", other!.id])
      expect(one.stdout).toMatch(new RegExp(`^purged ${other!.id} \\(deleted .*\\)\\n1 session deleted for good\\.\\n$`))
      const all = yield* cli(["sessions", "purge"])
      expect(all.stdout).toContain(recent!.id)
      expect(all.stdout).toContain("1 session deleted for good.")
      expect(trashed()).toEqual([])
      expect((yield* cli(["sessions", "trash"])).stdout).toBe("The trash is empty.\n")
    }))

  it.live("--help documents delete, trash, restore and purge", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const group = yield* cli(["sessions", "--help"])
      for (const name of ["delete", "trash", "restore", "purge"]) expect(group.stdout).toContain(name)
      const purge = yield* cli(["sessions", "purge", "--help"])
      expect(purge.code).toBe(0)
      expect(purge.stdout).toContain("--older-than")
      const restore = yield* cli(["sessions", "restore", "--help"])
      expect(restore.stdout).toContain("never overwrites a live session")
      const del = yield* cli(["sessions", "delete", "--help"])
      expect(del.stdout).toContain("trash")
    }))
})
