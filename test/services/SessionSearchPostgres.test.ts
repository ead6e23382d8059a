/**
 * `SessionSearch` on the PostgreSQL store (SessionSearchPostgres): the
 * database looks for a plain-text query's bytes in the message rows; the hits
 * are those of the same store searched session by session
 * (`SessionSearch.makeStore`), and a search that reached its limit sends no
 * further statement.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as SessionSearch from "../../services/SessionSearch.ts"
import * as SessionSearchPostgres from "../../services/SessionSearchPostgres.ts"
import * as Postgres from "../utils/Postgres.ts"
import { statements } from "../utils/Postgres.ts"
import * as Sessions from "../utils/Sessions.ts"

const collect = (search: SessionSearch.SessionSearch["Service"], query: SessionSearch.Query, limit = 1_000) =>
  Effect.map(Stream.runCollect(search.search(query).pipe(Stream.take(limit))), (hits) => Array.from(hits))

describe("SessionSearchPostgres", () => {
  it.effect("the same hits as the store searched session by session; a limit stops the statements", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => Postgres.database())
      const { db, store } = yield* Postgres.store(url)
      const call: Message.Message = {
        role: "assistant",
        content: [{ type: "tool_call", id: "c1", name: "bash", arguments: JSON.stringify({ command: "grep \"needle\" ü\u0000/" }) }]
      }
      yield* store.save(Sessions.make({
        directory: "/work/here",
        updatedAt: Sessions.at(5),
        messages: [Message.text("user", "a needle\nin a line\u2028break"), call, Message.text("assistant", "no match")]
      }))
      for (let i = 0; i < 120; i++) {
        yield* store.save(Sessions.make({
          updatedAt: Sessions.at(100 + i),
          messages: [Message.text("user", `haystack ${i}`), Message.text("assistant", i % 3 === 0 ? `needle ${i}` : "hay")]
        }))
      }
      const sql = SessionSearchPostgres.make(db, store)
      const byStore = SessionSearch.makeStore(store)
      for (const query of [
        { query: "needle" },
        { query: "needle", directory: "/work/here" },
        { query: "\\\"needle\\\" ü\u0000" },
        { query: "in a line\u2028break" },
        { query: "(?i)NEEDLE 1\\d", regex: true },
        { query: "absent" }
      ]) {
        expect(yield* collect(sql, query)).toEqual(yield* collect(byStore, query))
      }
      expect((yield* collect(sql, { query: "needle" })).length).toBe(40 + 2)
      const all = yield* statements(collect(sql, { query: "needle" }))
      const first = yield* statements(collect(sql, { query: "needle" }, 3))
      expect(first.value.map((h) => h.snippet)).toEqual(["needle 117", "needle 114", "needle 111"])
      // the listing, then one statement per 50 sessions searched: 3 for all 121, 1 for the first hits
      expect(all.count - first.count).toBe(2)
    }))
})
