/**
 * The store operations derived from the contract (`last`, `listPaged`,
 * `listAll`), run against the in-memory and file-system stores (PostgreSQL:
 * SessionStoreContractPostgres.test.ts); and
 * `loadTailFromPath`, which reads a session file anywhere.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Session from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"
import { failure } from "./contracts/SessionStoreContract.ts"
import { runOperations } from "./contracts/SessionStoreOperations.ts"

runOperations("layerMemory", Effect.sync(SessionStore.makeMemory))

runOperations(
  "layerFileSystem",
  Effect.gen(function*() {
    const dir = yield* TempDir.make()
    return yield* SessionStore.SessionStore.pipe(
      Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(`${dir}/data`))))
    )
  })
)

describe("SessionStore.loadTailFromPath", () => {
  it.effect("loads a session file of any name with a window; the value carries no revision", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const session = Sessions.make({ messages: 7, toolUses: 3 })
      const path = NodePath.join(dir, "backup.json")
      NodeFs.writeFileSync(path, SessionJson.encode(session))
      const whole = yield* SessionStore.loadTailFromPath(path, Number.POSITIVE_INFINITY)
      expect(whole).toEqual({ session, dropped: 0, fileBytes: NodeFs.statSync(path).size })
      expect(Session.revisionOf(whole.session)).toBeUndefined()
      // 4.5.7's example: 7 messages, 3 tool uses, window 2 → 2 + 2 kept, 6 dropped
      const tail = yield* SessionStore.loadTailFromPath(path, 2)
      expect(tail.dropped).toBe(6)
      expect(tail.session.messages).toEqual(session.messages.slice(5))
      expect(tail.session.toolUses).toEqual(session.toolUses.slice(1))
      // relative paths resolve against the current directory
      const relative = NodePath.relative(process.cwd(), path)
      expect((yield* SessionStore.loadTailFromPath(relative, 0)).dropped).toBe(10)

      // saved to a store it is a new session: written when the id is free, a conflict when it is not
      const store = SessionStore.makeMemory()
      yield* store.save(whole.session)
      const again = failure(yield* Effect.exit(store.save(whole.session)))
      expect(again).toMatchObject({ _tag: "SessionConflict", reason: "Exists" })
    }))

  it.effect("follows a symlink to a session file; a FIFO, a missing file and a corrupt one are errors, never a hang", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const session = Sessions.make()
      const target = NodePath.join(dir, "elsewhere", `${session.id}.json`)
      NodeFs.mkdirSync(NodePath.dirname(target))
      NodeFs.writeFileSync(target, SessionJson.encode(session))
      NodeFs.symlinkSync(target, NodePath.join(dir, "link.json"))
      expect((yield* SessionStore.loadTailFromPath(NodePath.join(dir, "link.json"), 1)).session.id).toBe(session.id)

      const fifo = NodePath.join(dir, "fifo.json")
      NodeChild.execFileSync("mkfifo", [fifo])
      const fromFifo = failure(yield* Effect.exit(SessionStore.loadTailFromPath(fifo, 1)))
      expect(fromFifo.reason).toBe("Corrupt")
      expect(fromFifo.message).toContain(fifo)

      const missing = failure(yield* Effect.exit(SessionStore.loadTailFromPath(NodePath.join(dir, "none.json"), 1)))
      expect(missing).toMatchObject({ reason: "NotFound", message: `No session file at ${NodePath.join(dir, "none.json")}` })

      const corrupt = NodePath.join(dir, "corrupt.json")
      NodeFs.writeFileSync(corrupt, "{\"id\":\"x\",\"title\":")
      const bad = failure(yield* Effect.exit(SessionStore.loadTailFromPath(corrupt, 1)))
      expect(bad.reason).toBe("Corrupt")
      expect(bad.message).toContain(corrupt)

      const exit = yield* Effect.exit(SessionStore.loadTailFromPath(target, 1.5))
      assert(Exit.isFailure(exit))
      expect(failure(exit)).toMatchObject({ reason: "InvalidId" })
    }))
})
