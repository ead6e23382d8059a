/**
 * The SessionStore contract, run against every implementation.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import { Effect, Exit, Layer, Stream } from "effect"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const implementations: ReadonlyArray<[string, Effect.Effect<SessionStore.SessionStore["Service"], never, import("effect").Scope.Scope>]> = [
  ["layerMemory", Effect.sync(SessionStore.makeMemory)],
  [
    "layerFileSystem",
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      NodeFs.mkdirSync(`${dir}/work/project`, { recursive: true })
      return yield* SessionStore.SessionStore.pipe(
        Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(`${dir}/data`))))
      )
    })
  ]
]

const failure = <A>(exit: Exit.Exit<A, SessionStore.SessionStoreError>) => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") throw new Error("expected a typed failure")
  return error.error
}

for (const [name, makeStore] of implementations) {
  describe(`SessionStore contract: ${name}`, () => {
    it.effect("saves and loads a session unchanged", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 5, toolUses: 2 })
        yield* store.save(session)
        expect(yield* store.load(session.id)).toEqual(session)
        const changed = { ...session, title: "renamed" }
        yield* store.save(changed)
        expect((yield* store.load(session.id)).title).toBe("renamed")
      }))

    it.effect("fails with NotFound for an unknown id and InvalidId for unsafe ids, touching nothing", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        expect(failure(yield* Effect.exit(store.load("no-such-id"))).reason).toBe("NotFound")
        for (const id of ["", ".", "..", "../escape", "a/b", "a\\b", "nul\u0000x", "bell\u0007", "x".repeat(201)]) {
          const exits: Array<Exit.Exit<unknown, SessionStore.SessionStoreError>> = [
            yield* Effect.exit(store.load(id)),
            yield* Effect.exit(store.loadTail(id, 5)),
            yield* Effect.exit(store.delete(id)),
            yield* Effect.exit(store.save(Sessions.make({ id })))
          ]
          for (const exit of exits) {
            const error = failure(exit)
            expect(error.reason).toBe("InvalidId")
            expect(error.message).toContain("Invalid session id")
          }
        }
        expect(yield* store.list).toEqual([])
      }))

    it.effect("accepts every id shape 4.5.7 produces", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        for (const id of ["3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b", "01a2013b-c1ee-7120-b0ee-fab476a007fd", "ses_01J.x-y"]) {
          yield* store.save(Sessions.make({ id }))
          expect((yield* store.load(id)).id).toBe(id)
        }
      }))

    it.effect("loadTail keeps the last N of each array and counts what it dropped (4.5.7 tail cap)", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 7, toolUses: 3 })
        yield* store.save(session)
        const two = yield* store.loadTail(session.id, 2)
        expect(two.dropped).toBe(6)
        expect(two.session.messages).toEqual(session.messages.slice(5))
        expect(two.session.toolUses).toEqual(session.toolUses.slice(1))
        expect(two.fileBytes).toBeGreaterThan(0)
        const none = yield* store.loadTail(session.id, 0)
        expect([none.dropped, none.session.messages.length, none.session.toolUses.length]).toEqual([10, 0, 0])
        const all = yield* store.loadTail(session.id, Number.POSITIVE_INFINITY)
        expect([all.dropped, all.session]).toEqual([0, session])
        expect(failure(yield* Effect.exit(store.loadTail(session.id, -1))).reason).toBe("InvalidId")
      }))

    it.effect("saveStream writes the same session as save, with messages taken from a stream", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 50, toolUses: 3 })
        yield* store.saveStream({ ...session, messages: [] }, Stream.fromIterable(session.messages))
        expect(yield* store.load(session.id)).toEqual(session)
        const empty = Sessions.make({ messages: 0 })
        yield* store.saveStream(empty, Stream.empty)
        expect(yield* store.load(empty.id)).toEqual(empty)
      }))

    it.effect("saveStream keeps the previous session when the stream fails", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 3 })
        yield* store.save(session)
        const failing = Stream.concat(Stream.fromIterable(session.messages), Stream.fail("the source broke"))
        const exit = yield* Effect.exit(store.saveStream({ ...session, title: "new", messages: [] }, failing))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* store.load(session.id)).toEqual(session)
      }))

    it.effect("delete removes a session and is a no-op when it is missing", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make()
        yield* store.save(session)
        expect(yield* store.delete(session.id)).toBe(true)
        expect(failure(yield* Effect.exit(store.load(session.id))).reason).toBe("NotFound")
        expect(yield* store.delete(session.id)).toBe(false)
      }))

    it.effect("lists newest updated_at first, comparing instants with nanosecond precision", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const a = Sessions.make({ updatedAt: Sessions.at(100) }) // "...:40Z": sorts after ".5Z" as a string
        const b = Sessions.make({ updatedAt: Sessions.at(100, 500_000_000) })
        const c = Sessions.make({ updatedAt: Sessions.at(100, 1), directory: null })
        const d = Sessions.make({ updatedAt: Sessions.at(50) })
        for (const s of [d, a, c, b]) yield* store.save(s)
        const list = yield* store.list
        expect(list.map((s) => s.id)).toEqual([b.id, c.id, a.id, d.id])
        expect(list[0]).toEqual({
          id: b.id,
          title: b.title,
          createdAt: b.createdAt,
          updatedAt: b.updatedAt,
          messageCount: 2,
          agent: "build",
          directory: "/work/project"
        })
      }))

    it.effect("lists the sessions of one directory, comparing paths component-wise", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const here = Sessions.make({ directory: "/work/project" })
        const hereToo = Sessions.make({ directory: "/work/project/" })
        const other = Sessions.make({ directory: "/work/project-archive" })
        for (const s of [here, hereToo, other]) yield* store.save(s)
        const ids = (yield* store.listForDirectory("/work//project/.")).map((s) => s.id).sort()
        expect(ids).toEqual([here.id, hereToo.id].sort())
      }))

    it.effect("lastForDirectory returns the session saved last for the directory, with a window", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        expect(failure(yield* Effect.exit(store.lastForDirectory("/work/project"))).message).toBe("No sessions found")
        const older = Sessions.make({ messages: 4 })
        const newer = Sessions.make({ messages: 6 })
        const elsewhere = Sessions.make({ directory: "/work/other" })
        yield* store.save(older)
        yield* store.save(newer)
        yield* store.save(elsewhere)
        const last = yield* store.lastForDirectory("/work/project")
        expect(last.session.id).toBe(newer.id)
        expect(last.dropped).toBe(0)
        const tail = yield* store.lastForDirectory("/work/project", { window: 2 })
        expect([tail.session.id, tail.dropped, tail.session.messages]).toEqual([newer.id, 4, newer.messages.slice(4)])
        expect((yield* store.lastForDirectory("/work/other")).session.id).toBe(elsewhere.id)
        expect(failure(yield* Effect.exit(store.lastForDirectory("/nowhere"))).reason).toBe("NotFound")
        yield* store.delete(newer.id)
        expect((yield* store.lastForDirectory("/work/project")).session.id).toBe(older.id)
      }))
  })
}
