/**
 * The file store's trash on disk: `<data_dir>/trash/<time>/<id>.json`, the
 * session's bytes untouched, `delete` still 4.5.7's hard delete, and a
 * hostile data dir (a symlinked trash, a symlinked deletion directory) that
 * never makes trash, listing or purge touch anything outside the data dir.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const setup = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-trash-store-")
  const data = NodePath.join(root, "data")
  const store = SessionStore.makeFileSystem(NodePath.join(data, "sessions"))
  return { root, data, store, trash: NodePath.join(data, "trash") }
})

describe("SessionStore file trash", () => {
  it.effect("trash/<deletion time>/<id>.json holds the session's exact bytes; delete leaves nothing in the trash", () =>
    Effect.gen(function*() {
      const { data, store, trash } = yield* setup
      yield* TestClock.setTime(Date.parse("2026-11-30T20:21:29.123Z"))
      const session = yield* store.save(Sessions.make({ messages: 3 }))
      const bytes = NodeFs.readFileSync(NodePath.join(data, "sessions", `${session.id}.json`))
      yield* store.trash(session.id)
      const file = NodePath.join(trash, "2026-11-30T20-21-29.123Z", `${session.id}.json`)
      expect(NodeFs.readFileSync(file)).toEqual(bytes)
      expect(NodeFs.statSync(NodePath.join(trash, "2026-11-30T20-21-29.123Z")).mode & 0o777).toBe(0o700)
      yield* store.restore(session.id)
      expect(NodeFs.readdirSync(trash)).toEqual([]) // the emptied deletion directory is removed

      const hard = yield* store.save(Sessions.make())
      expect(yield* store.delete(hard.id)).toBe(true)
      expect(NodeFs.readdirSync(trash)).toEqual([])
      expect(yield* store.listTrash).toEqual([])
    }))

  it.effect("a corrupt or foreign file can be trashed and is listed with its problem", () =>
    Effect.gen(function*() {
      const { data, store } = yield* setup
      NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(data, "sessions", "broken.json"), "{\"truncated")
      expect(yield* store.trash("broken")).toBe(true)
      const [entry] = yield* store.listTrash
      expect(entry).toMatchObject({ id: "broken", summary: undefined })
      expect(entry!.problem).toContain("broken.json")
      yield* store.restore("broken")
      expect(NodeFs.readFileSync(NodePath.join(data, "sessions", "broken.json"), "utf8")).toBe("{\"truncated")
    }))

  it.effect("a symlinked trash is refused; a symlinked deletion directory is never listed, restored from or purged", () =>
    Effect.gen(function*() {
      const { data, root, store, trash } = yield* setup
      const outside = NodePath.join(root, "outside")
      NodeFs.mkdirSync(outside)
      const victim = Sessions.make({ title: "not yours" })
      NodeFs.writeFileSync(NodePath.join(outside, `${victim.id}.json`), SessionJson.encode(victim))

      // trash -> outside: trashing fails, nothing moves there
      const session = yield* store.save(Sessions.make())
      NodeFs.symlinkSync(outside, trash)
      const refused = yield* Effect.exit(store.trash(session.id))
      expect(Exit.isFailure(refused)).toBe(true)
      expect(NodeFs.readdirSync(outside)).toEqual([`${victim.id}.json`])
      expect(NodeFs.existsSync(NodePath.join(data, "sessions", `${session.id}.json`))).toBe(true)
      expect(Exit.isFailure(yield* Effect.exit(store.listTrash))).toBe(true)
      expect(Exit.isFailure(yield* Effect.exit(store.purge()))).toBe(true)
      expect(NodeFs.readdirSync(outside)).toEqual([`${victim.id}.json`])

      // trash/<time> -> outside: skipped
      NodeFs.unlinkSync(trash)
      NodeFs.mkdirSync(trash)
      NodeFs.symlinkSync(outside, NodePath.join(trash, "2026-01-01T00-00-00.000Z"))
      expect(yield* store.listTrash).toEqual([])
      expect(yield* store.purge()).toEqual([])
      expect(Exit.isFailure(yield* Effect.exit(store.restore(victim.id)))).toBe(true)
      expect(NodeFs.readdirSync(outside)).toEqual([`${victim.id}.json`])
    }))
})
