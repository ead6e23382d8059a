/**
 * `SessionSearch` over the PostgreSQL store (what `sessions search` uses when
 * a database URL is set): the same hits, in the same order, as
 * `SessionSearch.layerStore` over that store, without loading whole
 * sessions. A plain-text query is looked for by the database in the message
 * rows' bytes (the query JSON-escaped, as the file search does: each row
 * holds a message's exact encoding), a few sessions per statement, newest
 * `updated_at` first; only the rows that contain those bytes are sent back,
 * parsed and checked exactly. A regular expression (RE2, which PostgreSQL
 * does not speak) goes session by session through the store
 * (`SessionSearch.makeStore`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Message_ from "../schemas/Message.ts"
import type { SessionSummary } from "../schemas/SessionSummary.ts"
import type * as Postgres from "./internal/Postgres.ts"
import * as SessionSearch from "./SessionSearch.ts"
import * as SessionStore from "./SessionStore.ts"
import { Database } from "./SessionStorePostgres.ts"

/** Sessions whose candidate rows one statement asks for. */
const SESSIONS_PER_STATEMENT = 50

const utf8 = new TextDecoder("utf-8", { fatal: true })
const decodeMessage = Schema.decodeUnknownOption(Message_.Message)

interface CandidateRow {
  readonly session_id: string
  readonly seq: number
  readonly bytes: Uint8Array
}

/**
 * The search over `db`, listing sessions with `store` (the PostgreSQL store
 * on the same database). Fails with `SessionSearchError` (`InvalidQuery`; `Io`
 * when a statement fails) or the store's `SessionStoreError` (the listing).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (db: Postgres.Database, store: SessionStore.SessionStore["Service"]): SessionSearch.SessionSearch["Service"] => {
  const bySession = SessionSearch.makeStore(store)
  return SessionSearch.SessionSearch.of({
    search: (query) =>
      Stream.unwrap(Effect.gen(function*() {
        const matcher = yield* SessionSearch.compile(query)
        if (matcher.needle === undefined) return bySession.search(query)
        const needle = new Uint8Array(matcher.needle)
        const summaries = query.directory === undefined ? yield* store.list : yield* store.listForDirectory(query.directory)
        const chunks: Array<ReadonlyArray<SessionSummary>> = []
        for (let i = 0; i < summaries.length; i += SESSIONS_PER_STATEMENT) chunks.push(summaries.slice(i, i + SESSIONS_PER_STATEMENT))

        /** The hits of a few sessions, in the listing's order, messages in order. */
        const hitsOf = (chunk: ReadonlyArray<SessionSummary>) =>
          Effect.gen(function*() {
            const ids = chunk.map((s) => s.id)
            const rows = yield* db.sql<CandidateRow>`
              SELECT session_id, seq, bytes FROM codetether_messages
              WHERE session_id = ANY(${ids}::text[]) AND position(${needle}::bytea in bytes) > 0
              ORDER BY session_id, seq`.pipe(
              Effect.mapError((e) =>
                new SessionSearch.SessionSearchError({ reason: "Io", message: db.fail("Cannot search the sessions")(e).message, cause: e })
              )
            )
            const bySessionId = new Map<string, Array<CandidateRow>>()
            for (const row of rows) {
              const list = bySessionId.get(row.session_id)
              if (list === undefined) bySessionId.set(row.session_id, [row])
              else list.push(row)
            }
            const hits: Array<SessionSearch.Hit> = []
            for (const summary of chunk) {
              for (const row of bySessionId.get(summary.id) ?? []) {
                let parsed: unknown
                try {
                  parsed = JSON.parse(utf8.decode(row.bytes))
                } catch (e) {
                  yield* Effect.logWarning(`search: skipping message ${row.seq} of session ${summary.id}: ${(e as Error).message}`)
                  continue
                }
                const message = decodeMessage(parsed)
                if (Option.isNone(message)) {
                  yield* Effect.logWarning(`search: skipping message ${row.seq} of session ${summary.id}: not a valid message`)
                  continue
                }
                const found = SessionSearch.matchMessage(message.value, matcher)
                if (found !== undefined) {
                  hits.push({ sessionId: summary.id, messageIndex: row.seq, role: message.value.role, snippet: found, title: summary.title })
                }
              }
            }
            return hits
          })

        return Stream.fromIterable(chunks).pipe(
          Stream.mapEffect(hitsOf),
          Stream.flatMap((hits) => Stream.fromIterable(hits))
        )
      }))
  })
}

/**
 * The search over the {@link Database} and the PostgreSQL `SessionStore` of
 * the context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SessionSearch.SessionSearch, never, Database | SessionStore.SessionStore> = Layer.effect(
  SessionSearch.SessionSearch,
  Effect.gen(function*() {
    return make(yield* Database, yield* SessionStore.SessionStore)
  })
)
