/**
 * The SessionStore contract (persistence, the lease and conditional saves),
 * as one suite that every implementation runs: `layerMemory`, the file store
 * and any later store call {@link runContract} with a way to make an empty
 * store.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import type * as Scope from "effect/Scope"
import * as Message from "../../../schemas/Message.ts"
import * as Session from "../../../schemas/Session.ts"
import * as SessionSummary from "../../../schemas/SessionSummary.ts"
import * as Timestamp from "../../../schemas/Timestamp.ts"
import * as SessionJson from "../../../schemas/SessionJson.ts"
import * as SessionStore from "../../../services/SessionStore.ts"
import * as Sessions from "../../utils/Sessions.ts"

/** An empty store for one test, with the directory sessions of `Sessions.make` use (`/work/project`). */
export type MakeStore = Effect.Effect<SessionStore.SessionStore["Service"], never, Scope.Scope>

/** The session without its revision, for comparing with a value that never went through a store. */
export const plain = (session: Session.Session): Session.Session => Session.withRevision(session, undefined)

/** The typed failure of an exit (fails the test when it succeeded). */
export const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

export const runContract = (name: string, makeStore: MakeStore): void => {
  describe(`SessionStore contract: ${name}`, () => {
    it.effect("saves and loads a session unchanged; save returns it with its new revision", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 5, toolUses: 2 })
        const saved = yield* store.save(session)
        expect(Session.revisionOf(session)).toBeUndefined()
        expect(Session.revisionOf(saved)).toBeDefined()
        expect(plain(saved)).toEqual(session)
        const loaded = yield* store.load(session.id)
        expect(plain(loaded)).toEqual(session)
        expect(Session.revisionOf(loaded)).toBe(Session.revisionOf(saved))
        const changed = yield* store.save({ ...loaded, title: "renamed" })
        expect((yield* store.load(session.id)).title).toBe("renamed")
        expect(Session.revisionOf(changed)).not.toBe(Session.revisionOf(saved))
        // values derived from a saved one keep saving
        const again = yield* store.save(Session.setTitle(changed, "again", Sessions.at(120)))
        expect(Session.revisionOf((yield* store.load(session.id)))).toBe(Session.revisionOf(again))
      }))

    it.effect("fails with NotFound for an unknown id and InvalidId for unsafe ids, touching nothing", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        expect(failure(yield* Effect.exit(store.load("no-such-id")))).toMatchObject({ reason: "NotFound" })
        for (const id of ["", ".", "..", "../escape", "a/b", "a\\b", "nul\u0000x", "bell\u0007", "x".repeat(201)]) {
          const exits: Array<Exit.Exit<unknown, unknown>> = [
            yield* Effect.exit(store.load(id)),
            yield* Effect.exit(store.loadTail(id, 5)),
            yield* Effect.exit(store.delete(id)),
            yield* Effect.exit(store.save(Sessions.make({ id }))),
            yield* Effect.exit(Effect.scoped(store.lease(Sessions.make({ id }))))
          ]
          for (const exit of exits) {
            const error = failure(exit) as SessionStore.SessionStoreError
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
        expect([all.dropped, plain(all.session)]).toEqual([0, session])
        expect(failure(yield* Effect.exit(store.loadTail(session.id, -1)))).toMatchObject({ reason: "InvalidId" })
      }))

    it.effect("saveStream writes the same session as save, with messages taken from a stream", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 50, toolUses: 3 })
        const saved = yield* store.saveStream({ ...session, messages: [] }, Stream.fromIterable(session.messages))
        expect(plain(yield* store.load(session.id))).toEqual(session)
        expect(Session.revisionOf(saved)).toBe(Session.revisionOf(yield* store.load(session.id)))
        const empty = Sessions.make({ messages: 0 })
        yield* store.saveStream(empty, Stream.empty)
        expect(plain(yield* store.load(empty.id))).toEqual(empty)
      }))

    it.effect("saveStream keeps the previous session when the stream fails", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 3 })
        const saved = yield* store.save(session)
        const failing = Stream.concat(Stream.fromIterable(session.messages), Stream.fail("the source broke"))
        const exit = yield* Effect.exit(store.saveStream({ ...saved, title: "new", messages: [] }, failing))
        expect(failure(exit)).toBe("the source broke")
        expect(plain(yield* store.load(session.id))).toEqual(session)
      }))

    it.effect("delete removes a session and is a no-op when it is missing", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make()
        yield* store.save(session)
        expect(yield* store.delete(session.id)).toBe(true)
        expect(failure(yield* Effect.exit(store.load(session.id)))).toMatchObject({ reason: "NotFound" })
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
        expect(failure(yield* Effect.exit(store.lastForDirectory("/nowhere")))).toMatchObject({ reason: "NotFound" })
        yield* store.delete(newer.id)
        expect((yield* store.lastForDirectory("/work/project")).session.id).toBe(older.id)
        // what a resume returns can be saved again
        yield* store.save({ ...last.session, title: "resumed" }).pipe(Effect.ignore)
        const resumed = yield* store.lastForDirectory("/work/project")
        yield* store.save({ ...resumed.session, title: "resumed" })
      }))

    it.effect("what it loads encodes to the bytes the file store writes (NUL, lone surrogates, non-ASCII kept)", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const odd = "nul\u0000 lone\ud800 pair\ud83d\ude00 é \\ \" \u2028"
        const session = {
          ...Sessions.make({ title: odd, toolUses: 2 }),
          agent: `agent ${odd}`,
          messages: [Message.text("user", odd), Message.text("assistant", "x".repeat(70_000))]
        }
        yield* store.save(session)
        const loaded = yield* store.load(session.id)
        expect(SessionJson.encode(loaded)).toEqual(SessionJson.encode(session))
        // the format has no lone surrogates: they are stored as U+FFFD, as 4.5.7 writes them
        const stored = odd.replace("\ud800", "\ufffd")
        expect(loaded.title).toBe(stored)
        const [summary] = yield* store.list
        expect(summary).toMatchObject({ id: session.id, title: stored, agent: `agent ${stored}`, messageCount: 2 })
        const tail = yield* store.loadTail(session.id, 1)
        expect(tail.fileBytes).toBe(SessionJson.encode(session).length)
      }))

    it.effect("saves after appending, compacting, truncating and answering an interrupted call store exactly the value", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const roundTrip = (session: Session.Session) =>
          Effect.gen(function*() {
            const saved = yield* store.save(session)
            const loaded = yield* store.load(session.id)
            expect(SessionJson.encode(loaded)).toEqual(SessionJson.encode(session))
            return saved
          })
        let session = yield* roundTrip(Sessions.make({ messages: 6, toolUses: 2 }))
        // a prompt appends turns (and a tool use)
        for (let i = 0; i < 3; i++) {
          session = yield* roundTrip(Session.addMessage(session, Message.text("user", `turn ${i}`), Sessions.at(100 + i)))
        }
        session = yield* roundTrip({ ...session, toolUses: [...session.toolUses, { ...session.toolUses[0]!, id: "call_new" }] })
        // compaction replaces the older messages by a summary, keeping the last 3
        session = yield* roundTrip({
          ...session,
          messages: [Message.text("assistant", "summary of the earlier turns"), ...session.messages.slice(-3)]
        })
        // an interrupted tool call answered in the middle of the transcript
        const call: Message.Message = {
          role: "assistant",
          content: [{ type: "tool_call", id: "call_9", name: "bash", arguments: "{}" }]
        }
        session = yield* roundTrip({ ...session, messages: [...session.messages.slice(0, 2), call, ...session.messages.slice(2)] })
        session = yield* roundTrip({
          ...session,
          messages: [...session.messages.slice(0, 3), Message.toolResult("call_9", "interrupted"), ...session.messages.slice(3)]
        })
        // truncation to the last 2, then growth again, then emptied
        session = yield* roundTrip({ ...session, messages: session.messages.slice(-2), toolUses: [] })
        session = yield* roundTrip(Session.addMessage(session, Message.text("user", "after truncation"), Sessions.at(300)))
        // the same message object at another position is stored at that position
        session = yield* roundTrip({ ...session, messages: [session.messages[2]!, ...session.messages] })
        yield* roundTrip({ ...session, messages: [] })
      }))

    it.effect("a tail-loaded value saves only the messages it kept, as the file store does", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 10, toolUses: 4 })
        yield* store.save(session)
        const tail = yield* store.loadTail(session.id, 3)
        const next = Session.addMessage(tail.session, Message.text("user", "more"), Sessions.at(400))
        yield* store.save(next)
        const loaded = yield* store.load(session.id)
        expect(loaded.messages.map((m) => Message.textOf(m))).toEqual(["message 7", "message 8", "message 9", "more"])
        expect(loaded.toolUses).toEqual(session.toolUses.slice(1))
        expect(SessionJson.encode(loaded)).toEqual(SessionJson.encode(next))
      }))

    it.effect("concurrent saves of one new session: exactly one lands, the others are conflicts", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const base = Sessions.make()
        const versions = Array.from({ length: 20 }, (_, i) => ({
          ...base,
          title: `v${i}`,
          messages: Array.from({ length: i + 1 }, (_, j) => Message.text("user", `m${j}`))
        }))
        const exits = yield* Effect.forEach(versions, (v) => Effect.exit(store.save(v)), { concurrency: "unbounded" })
        const landed = exits.filter(Exit.isSuccess)
        expect(landed).toHaveLength(1)
        for (const exit of exits.filter(Exit.isFailure)) {
          expect(failure(exit)).toMatchObject({ _tag: "SessionConflict", reason: "Exists" })
        }
        const loaded = yield* store.load(base.id)
        expect(plain(loaded)).toEqual(plain(landed[0]!.value))
      }))

    it.effect("concurrent saves of one loaded copy: exactly one lands, the others are Stale", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const base = yield* store.save(Sessions.make({ messages: 3 }))
        const exits = yield* Effect.forEach(
          Array.from({ length: 10 }, (_, i) => Session.addMessage(base, Message.text("user", `writer ${i}`), Sessions.at(500 + i))),
          (v) => Effect.exit(store.save(v)),
          { concurrency: "unbounded" }
        )
        expect(exits.filter(Exit.isSuccess)).toHaveLength(1)
        for (const exit of exits.filter(Exit.isFailure)) expect(failure(exit)).toMatchObject({ reason: "Stale" })
        expect((yield* store.load(base.id)).messages).toHaveLength(4)
      }))

    // --- conditional saves ----------------------------------------------------

    it.effect("a save of a value older than the stored one fails with SessionConflict and writes nothing", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const base = yield* store.save(Sessions.make({ messages: 2 }))
        const first = yield* store.load(base.id)
        const second = yield* store.load(base.id)
        // writer 2 adds a turn and saves
        const turnB = Session.addMessage(second, { role: "user", content: [{ type: "text", text: "turn B" }] }, Sessions.at(200))
        yield* store.save(turnB)
        // writer 1, still on the old copy, adds its own turn: refused, turn B stays
        const turnA = Session.addMessage(first, { role: "user", content: [{ type: "text", text: "turn A" }] }, Sessions.at(300))
        const error = failure(yield* Effect.exit(store.save(turnA)))
        expect(error).toBeInstanceOf(SessionStore.SessionConflict)
        expect(error).toMatchObject({ _tag: "SessionConflict", reason: "Stale", sessionId: base.id })
        expect((error as SessionStore.SessionConflict).message).toContain("changed since this copy was loaded")
        const stored = yield* store.load(base.id)
        expect(stored.messages.map((m) => Message.textOf(m))).toEqual(["message 0", "message 1", "turn B"])
        // saveStream is conditional too
        expect(failure(yield* Effect.exit(store.saveStream(turnA, Stream.empty)))).toMatchObject({ reason: "Stale" })
      }))

    it.effect("a new session whose id is already stored is a conflict, not an overwrite", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const stored = yield* store.save(Sessions.make({ title: "stored" }))
        const impostor = { ...plain(stored), title: "impostor" }
        expect(failure(yield* Effect.exit(store.save(impostor)))).toMatchObject({ _tag: "SessionConflict", reason: "Exists" })
        expect((yield* store.load(stored.id)).title).toBe("stored")
      }))

    it.effect("a save of a value whose session was deleted since is a conflict", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const saved = yield* store.save(Sessions.make())
        yield* store.delete(saved.id)
        expect(failure(yield* Effect.exit(store.save({ ...saved, title: "late" })))).toMatchObject({ reason: "Deleted" })
        expect(failure(yield* Effect.exit(store.load(saved.id)))).toMatchObject({ reason: "NotFound" })
      }))

    it.effect("replaceIfOlder writes a missing or older copy and keeps a newer one, without revisions", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const imported = Sessions.make({ id: "01a2013b-c1ee-7120-b0ee-fab476a007fd", updatedAt: Sessions.at(100) })
        expect(yield* store.replaceIfOlder(imported)).toBe(true)
        expect(yield* store.replaceIfOlder(imported)).toBe(false) // same age: unchanged
        const continued = Session.addMessage(yield* store.load(imported.id), Sessions.make().messages[0]!, Sessions.at(500))
        yield* store.save(continued)
        const reimport = { ...imported, updatedAt: Sessions.at(400), title: "reimported" }
        expect(yield* store.replaceIfOlder(reimport, Stream.fromIterable(reimport.messages))).toBe(false)
        expect((yield* store.load(imported.id)).messages.length).toBe(3)
        const newer = { ...imported, updatedAt: Sessions.at(900), title: "newer" }
        expect(yield* store.replaceIfOlder({ ...newer, messages: [] }, Stream.fromIterable(newer.messages))).toBe(true)
        expect(plain(yield* store.load(imported.id))).toEqual(newer)
      }))

    // --- the trash -------------------------------------------------------------

    it.effect("trash hides a session from loads, listings and resume; listTrash shows it with its time", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        yield* TestClock.setTime(Date.parse("2026-11-30T20:21:29.123Z"))
        const kept = yield* store.save(Sessions.make({ title: "kept", updatedAt: Sessions.at(10) }))
        const gone = yield* store.save(Sessions.make({ title: "gone", updatedAt: Sessions.at(20) }))
        expect(yield* store.trash(gone.id)).toBe(true)
        expect(failure(yield* Effect.exit(store.load(gone.id)))).toMatchObject({ reason: "NotFound" })
        expect(failure(yield* Effect.exit(store.loadTail(gone.id, 1)))).toMatchObject({ reason: "NotFound" })
        expect((yield* store.list).map((s) => s.id)).toEqual([kept.id])
        expect((yield* store.listForDirectory("/work/project")).map((s) => s.id)).toEqual([kept.id])
        expect((yield* store.lastForDirectory("/work/project")).session.id).toBe(kept.id)
        const trash = yield* store.listTrash
        expect(trash).toEqual([{
          id: gone.id,
          deletedAt: "2026-11-30T20:21:29.123Z",
          summary: { ...SessionSummary.fromSession(plain(gone)) }
        }])
        // a missing session: nothing to trash
        expect(yield* store.trash("no-such-id")).toBe(false)
        expect(failure(yield* Effect.exit(store.trash("../x")))).toMatchObject({ reason: "InvalidId" })
        expect(failure(yield* Effect.exit(store.restore("../x")))).toMatchObject({ reason: "InvalidId" })
      }))

    it.effect("restore brings the session back unchanged; it never overwrites a live session", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = Sessions.make({ messages: 4, toolUses: 1 })
        yield* store.save(session)
        yield* store.trash(session.id)
        const restored = yield* store.restore(session.id)
        expect(restored.id).toBe(session.id)
        expect(restored.summary?.title).toBe(session.title)
        const loaded = yield* store.load(session.id)
        expect(plain(loaded)).toEqual(session)
        expect(yield* store.listTrash).toEqual([])
        // what restore returns can be saved and leased again
        yield* store.save({ ...loaded, title: "after restore" })
        expect(failure(yield* Effect.exit(store.restore(session.id)))).toMatchObject({ reason: "NotFound" })
        // trashed, then a new session with the same id is saved: restore refuses
        yield* store.trash(session.id)
        const impostor = Sessions.make({ id: session.id, title: "new one" })
        yield* store.save(impostor)
        const conflict = failure(yield* Effect.exit(store.restore(session.id)))
        expect(conflict).toMatchObject({ _tag: "SessionConflict", reason: "Exists", sessionId: session.id })
        expect((conflict as SessionStore.SessionConflict).message).toContain("not restored")
        expect((yield* store.load(session.id)).title).toBe("new one")
        expect((yield* store.listTrash).map((t) => t.summary?.title)).toEqual(["after restore"])
      }))

    it.effect("a session trashed twice keeps both copies; restore takes the most recent one", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const first = Sessions.make({ title: "first life" })
        yield* store.save(first)
        yield* store.trash(first.id)
        yield* TestClock.adjust("1 hour")
        yield* store.save(Sessions.make({ id: first.id, title: "second life" }))
        yield* store.trash(first.id)
        const trash = yield* store.listTrash
        expect(trash.map((t) => t.summary?.title)).toEqual(["second life", "first life"])
        expect(Timestamp.compare(trash[0]!.deletedAt, trash[1]!.deletedAt)).toBe(1)
        yield* store.restore(first.id)
        expect((yield* store.load(first.id)).title).toBe("second life")
        expect((yield* store.listTrash).map((t) => t.summary?.title)).toEqual(["first life"])
        // the same id trashed twice within one millisecond: both kept
        yield* store.trash(first.id)
        yield* store.save(Sessions.make({ id: first.id, title: "third life" }))
        yield* store.trash(first.id)
        expect((yield* store.listTrash).map((t) => t.summary?.title).sort()).toEqual(["first life", "second life", "third life"])
      }))

    it.effect("trashing a leased session is SessionBusy unless forced; a forced trash ends the lease", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = yield* store.save(Sessions.make())
        yield* Effect.scoped(Effect.gen(function*() {
          const lease = yield* store.lease(session)
          expect(failure(yield* Effect.exit(store.trash(session.id)))).toMatchObject({ _tag: "SessionBusy", sessionId: session.id })
          expect(plain(yield* store.load(session.id))).toEqual(plain(session))
          expect(yield* store.trash(session.id, { force: true })).toBe(true)
          const error = failure(yield* Effect.exit(lease.save({ ...session, title: "after trash" })))
          expect(error).toMatchObject({ _tag: "SessionConflict", reason: "LeaseLost" })
          expect(failure(yield* Effect.exit(store.load(session.id)))).toMatchObject({ reason: "NotFound" })
        }))
        expect((yield* store.listTrash).map((t) => t.id)).toEqual([session.id])
        yield* store.restore(session.id)
        expect(plain(yield* store.load(session.id))).toEqual(plain(session))
      }))

    it.effect("purge deletes for good: everything, or what was trashed at least --older-than ago, or one id", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const old = yield* store.save(Sessions.make({ title: "old" }))
        const recent = yield* store.save(Sessions.make({ title: "recent" }))
        const other = yield* store.save(Sessions.make({ title: "other" }))
        yield* store.trash(old.id)
        yield* TestClock.adjust("40 days")
        yield* store.trash(recent.id)
        yield* store.trash(other.id)
        yield* TestClock.adjust("1 day")
        const purged = yield* store.purge({ olderThan: "30 days" })
        expect(purged.map((p) => p.id)).toEqual([old.id])
        expect((yield* store.listTrash).map((t) => t.id).sort()).toEqual([recent.id, other.id].sort())
        expect(failure(yield* Effect.exit(store.restore(old.id)))).toMatchObject({ reason: "NotFound" })
        expect((yield* store.purge({ id: other.id })).map((p) => p.id)).toEqual([other.id])
        expect(yield* store.purge({ olderThan: "2 days" })).toEqual([])
        expect((yield* store.purge()).map((p) => p.id)).toEqual([recent.id])
        expect(yield* store.listTrash).toEqual([])
        expect(yield* store.list).toEqual([])
      }))

    // --- the lease -------------------------------------------------------------

    it.effect("a lease refuses a second lease, saves and deletes by others with SessionBusy naming the holder", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = yield* store.save(Sessions.make())
        yield* Effect.scoped(Effect.gen(function*() {
          const lease = yield* store.lease(session)
          expect(lease.holder.purpose).toBe("prompt")
          expect(lease.holder.pid).toBe(process.pid)
          const second = failure(yield* Effect.exit(Effect.scoped(store.lease(session))))
          expect(second).toBeInstanceOf(SessionStore.SessionBusy)
          expect(second).toMatchObject({ _tag: "SessionBusy", sessionId: session.id, holder: { pid: process.pid, purpose: "prompt" } })
          expect((second as SessionStore.SessionBusy).message).toMatch(
            new RegExp(`^session ${session.id} is busy: a prompt started by pid ${process.pid}( on host \\S+)? at \\d\\d:\\d\\d:\\d\\d is running$`)
          )
          expect(failure(yield* Effect.exit(store.save({ ...session, title: "sneaky" })))).toMatchObject({ _tag: "SessionBusy" })
          expect(failure(yield* Effect.exit(store.delete(session.id)))).toMatchObject({ _tag: "SessionBusy" })
          expect(failure(yield* Effect.exit(store.replaceIfOlder({ ...session, updatedAt: Sessions.at(9999) }))))
            .toMatchObject({ _tag: "SessionBusy" })
          const saved = yield* lease.save(Session.setTitle(session, "under lease", Sessions.at(100)))
          const again = yield* lease.save(Session.setTitle(saved, "twice", Sessions.at(101)))
          expect(Session.revisionOf(again)).toBe(Session.revisionOf(yield* store.load(session.id)))
        }))
        // released with its scope
        const after = yield* store.load(session.id)
        expect(after.title).toBe("twice")
        yield* Effect.scoped(store.lease(after))
        yield* store.save({ ...after, title: "free again" })
      }))

    it.effect("holder names the lease's holder while it is held, and nobody before, after, or for another session", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = yield* store.save(Sessions.make())
        const other = yield* store.save(Sessions.make())
        expect(yield* store.holder(session.id)).toEqual(Option.none())
        // an id nothing is stored under has no holder either
        expect(yield* store.holder("never-stored")).toEqual(Option.none())
        yield* Effect.scoped(Effect.gen(function*() {
          const lease = yield* store.lease(session)
          const held = yield* store.holder(session.id)
          expect(held).toEqual(Option.some(lease.holder))
          expect(Option.getOrThrow(held)).toMatchObject({ pid: process.pid, purpose: "prompt" })
          // the holder is the one a refused lease names
          const busy = failure(yield* Effect.exit(Effect.scoped(store.lease(session)))) as SessionStore.SessionBusy
          expect(busy.holder).toEqual(Option.getOrThrow(held))
          expect(yield* store.holder(other.id)).toEqual(Option.none())
          // asking takes nothing: the lease still saves
          yield* lease.save(Session.setTitle(session, "still mine", Sessions.at(100)))
        }))
        expect(yield* store.holder(session.id)).toEqual(Option.none())
        // a new session leased before its first save has a holder too
        const fresh = Sessions.make()
        yield* Effect.scoped(Effect.gen(function*() {
          yield* store.lease(fresh)
          expect(Option.isSome(yield* store.holder(fresh.id))).toBe(true)
        }))
        for (const id of ["", "..", "a/b", "nul\u0000x"]) {
          expect(failure(yield* Effect.exit(store.holder(id)))).toMatchObject({ reason: "InvalidId" })
        }
      }))

    it.effect("a lease needs the current value: a stale copy or a new session with a stored id is refused", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const old = yield* store.save(Sessions.make())
        yield* store.save({ ...old, title: "newer" })
        expect(failure(yield* Effect.exit(Effect.scoped(store.lease(old))))).toMatchObject({ _tag: "SessionConflict", reason: "Stale" })
        expect(failure(yield* Effect.exit(Effect.scoped(store.lease(plain(old)))))).toMatchObject({ reason: "Exists" })
        // a refused lease is not held
        yield* Effect.scoped(store.lease(yield* store.load(old.id)))
        // a brand-new session can be leased and saved under the lease
        const fresh = Sessions.make()
        const saved = yield* Effect.scoped(Effect.flatMap(store.lease(fresh), (lease) => lease.save(fresh)))
        expect(plain(yield* store.load(fresh.id))).toEqual(fresh)
        expect(Session.revisionOf(saved)).toBeDefined()
      }))

    it.effect("a forced delete ends the lease: the holder's next save fails and does not recreate the session", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = yield* store.save(Sessions.make())
        yield* Effect.scoped(Effect.gen(function*() {
          const lease = yield* store.lease(session)
          expect(yield* store.delete(session.id, { force: true })).toBe(true)
          const error = failure(yield* Effect.exit(lease.save({ ...session, title: "after delete" })))
          expect(error).toMatchObject({ _tag: "SessionConflict", reason: "LeaseLost" })
          expect(failure(yield* Effect.exit(store.load(session.id)))).toMatchObject({ reason: "NotFound" })
        }))
        expect(failure(yield* Effect.exit(store.load(session.id)))).toMatchObject({ reason: "NotFound" })
      }))

    it.effect("a lease can be forced over a live one; the first holder's next save fails", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const session = yield* store.save(Sessions.make())
        yield* Effect.scoped(Effect.gen(function*() {
          const first = yield* store.lease(session)
          yield* Effect.scoped(Effect.gen(function*() {
            const second = yield* store.lease(session, { force: true })
            yield* second.save({ ...session, title: "forced" })
          }))
          expect(failure(yield* Effect.exit(first.save({ ...session, title: "first" })))).toMatchObject({
            _tag: "SessionConflict"
          })
        }))
        expect((yield* store.load(session.id)).title).toBe("forced")
      }))
  })
}
