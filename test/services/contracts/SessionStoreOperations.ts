/**
 * The store operations derived from the SessionStore contract
 * (`SessionStore.last`, `listPaged`, `listAll`: 4.5.7's `last()`,
 * `list_sessions_paged`, `list_all_sessions_for_directory`), run against
 * every store with {@link runOperations}, beside the contract itself.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as SessionStore from "../../../services/SessionStore.ts"
import * as Logs from "../../utils/Logs.ts"
import * as Sessions from "../../utils/Sessions.ts"
import { failure, type MakeStore } from "./SessionStoreContract.ts"

export const runOperations = (name: string, makeStore: MakeStore): void => {
  describe(`SessionStore operations: ${name}`, () => {
    it.effect("last: the newest session of any directory, with a window; NotFound when there is none", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const last = (options?: SessionStore.LastOptions) =>
          SessionStore.last(options).pipe(Effect.provideService(SessionStore.SessionStore, store))
        expect(failure(yield* Effect.exit(last()))).toMatchObject({ reason: "NotFound", message: "No sessions found" })
        const older = Sessions.make({ updatedAt: Sessions.at(100), directory: "/work/project" })
        const newest = Sessions.make({ updatedAt: Sessions.at(300), directory: "/work/elsewhere", messages: 6 })
        const middle = Sessions.make({ updatedAt: Sessions.at(200), directory: null })
        for (const s of [newest, older, middle]) yield* store.save(s)
        const found = yield* last()
        expect([found.session.id, found.dropped]).toEqual([newest.id, 0])
        const tail = yield* last({ window: 2 })
        expect([tail.session.id, tail.dropped, tail.session.messages]).toEqual([newest.id, 4, newest.messages.slice(4)])
        // what it returns carries its revision: it can be saved again
        yield* store.save({ ...found.session, title: "continued" })
        yield* store.delete(newest.id)
        expect((yield* last()).session.id).toBe(middle.id)
        expect(failure(yield* Effect.exit(last({ window: -1 })))).toMatchObject({ reason: "InvalidId" })
      }))

    it.effect("listPaged: the directory's sessions newest first, offset skipped and limit taken", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const page = (limit: number, offset?: number) =>
          SessionStore.listPaged("/work/project", { limit, offset }).pipe(Effect.provideService(SessionStore.SessionStore, store))
        const sessions = [1, 2, 3, 4, 5].map((n) => Sessions.make({ updatedAt: Sessions.at(n * 10) }))
        for (const s of sessions) yield* store.save(s)
        yield* store.save(Sessions.make({ updatedAt: Sessions.at(1000), directory: "/work/other" }))
        const newestFirst = [...sessions].reverse().map((s) => s.id)
        expect((yield* page(2)).map((s) => s.id)).toEqual(newestFirst.slice(0, 2))
        expect((yield* page(2, 1)).map((s) => s.id)).toEqual(newestFirst.slice(1, 3))
        expect((yield* page(10, 3)).map((s) => s.id)).toEqual(newestFirst.slice(3))
        expect(yield* page(10, 5)).toEqual([])
        expect(yield* page(0)).toEqual([])
        for (const [limit, offset] of [[-1, 0], [1.5, 0], [1, -2]] as const) {
          expect(failure(yield* Effect.exit(page(limit, offset)))).toMatchObject({ reason: "InvalidId" })
        }
      }))

    it.effect("listAll: native and Codex summaries merged as 4.5.7 does; a Codex failure is a warning", () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const a = Sessions.make({ updatedAt: Sessions.at(100), title: "native a" })
        const b = Sessions.make({ updatedAt: Sessions.at(300), title: "native b" })
        for (const s of [a, b]) yield* store.save(s)
        const summary = (id: string, seconds: number, title: string) => ({
          id,
          title,
          createdAt: Sessions.at(0),
          updatedAt: Sessions.at(seconds),
          messageCount: 1,
          agent: "build",
          directory: "/work/project"
        })
        const codex: SessionStore.CodexListing = {
          listForDirectory: (directory) =>
            Effect.succeed(
              directory === "/work/project"
                ? [summary(b.id, 200, "older codex b"), summary(a.id, 150, "newer codex a"), summary("codex-c", 400, "c")]
                : []
            )
        }
        const all = yield* SessionStore.listAll("/work/project", codex).pipe(
          Effect.provideService(SessionStore.SessionStore, store)
        )
        expect(all.map((s) => [s.id, s.title])).toEqual([
          ["codex-c", "[Codex] c"],
          [b.id, "native b"],
          [a.id, "[Codex] newer codex a"]
        ])
        const broken: SessionStore.CodexListing<Error> = { listForDirectory: () => Effect.fail(new Error("no codex home")) }
        const { logs, value: result } = yield* Logs.capture(
          SessionStore.listAll("/work/project", broken).pipe(Effect.provideService(SessionStore.SessionStore, store))
        )
        expect(result.map((s) => s.id)).toEqual([b.id, a.id])
        expect(logs).toContainEqual({ level: "Warn", message: "Codex sessions of /work/project are not listed: no codex home" })
        const nativeOnly = yield* SessionStore.listAll("/work/project").pipe(Effect.provideService(SessionStore.SessionStore, store))
        expect(nativeOnly.map((s) => s.id)).toEqual([b.id, a.id])
      }))
  })
}
