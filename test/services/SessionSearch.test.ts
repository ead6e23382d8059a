/**
 * Search: one contract for the streamed file search and the search over any
 * store (memory and file stores); then what only the file search does:
 * files of several chunks, messages over the parse cap, files that are not
 * sessions.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Stream } from "effect"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as SessionSearch from "../../services/SessionSearch.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Logs from "../utils/Logs.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

const older = (): Session =>
  Sessions.make({
    id: "00000000-0000-4000-8000-00000000000a",
    title: "older",
    directory: "/work/a",
    updatedAt: Sessions.at(100),
    messages: [
      Message.text("user", "Where is load_config defined?"),
      {
        role: "assistant",
        content: [
          { type: "thinking", text: "grep for it" },
          { type: "tool_call", id: "c1", name: "grep", arguments: "{\"pattern\":\"load_config\"}" }
        ]
      },
      Message.toolResult("c1", "src/main.rs:12: load_config()\nsrc/lib.rs:3: fn load_config() {"),
      Message.text("assistant", "It is in src/lib.rs — café ☕")
    ]
  })

const newer = (): Session =>
  Sessions.make({
    id: "00000000-0000-4000-8000-00000000000b",
    title: "newer",
    directory: "/work/b",
    updatedAt: Sessions.at(200),
    messages: [
      { role: "user", content: [{ type: "text", text: "look at this screenshot" }, { type: "image", url: IMAGE, mimeType: "image/png" }] },
      Message.text("assistant", "I renamed load_config to read_config.\nAll \"callers\" updated.")
    ]
  })

interface Fixture {
  readonly search: SessionSearch.SessionSearch["Service"]
}

const collect = (search: SessionSearch.SessionSearch["Service"], query: SessionSearch.Query, limit = 100) =>
  Effect.map(Stream.runCollect(search.search(query).pipe(Stream.take(limit))), (hits) => Array.from(hits))

const brief = (hits: ReadonlyArray<SessionSearch.Hit>) => hits.map((h) => [h.sessionId.slice(-1), h.messageIndex, h.role])

const implementations: ReadonlyArray<readonly [string, Effect.Effect<Fixture, never, import("effect/Scope").Scope>]> = [
  ["files, streamed", Effect.gen(function*() {
    const dir = yield* TempDir.make("codetether-search-")
    const store = SessionStore.makeFileSystem(NodePath.join(dir, "sessions"))
    yield* Effect.orDie(store.save(older()))
    yield* Effect.orDie(store.save(newer())) // saved last: newest modification time
    return { search: SessionSearch.makeFileSystem(NodePath.join(dir, "sessions")) }
  })],
  ["any store (files)", Effect.gen(function*() {
    const dir = yield* TempDir.make("codetether-search-")
    const store = SessionStore.makeFileSystem(NodePath.join(dir, "sessions"))
    yield* Effect.orDie(store.save(older()))
    yield* Effect.orDie(store.save(newer()))
    return { search: SessionSearch.makeStore(store) }
  })],
  ["any store (memory)", Effect.gen(function*() {
    const store = SessionStore.makeMemory()
    yield* Effect.orDie(store.save(older()))
    yield* Effect.orDie(store.save(newer()))
    return { search: SessionSearch.makeStore(store) }
  })]
]

for (const [name, make] of implementations) {
  describe(`SessionSearch (${name})`, () => {
    it.effect("hits: newest session first, message order within one, role and a snippet around the match", () =>
      Effect.gen(function*() {
        const { search } = yield* make
        const hits = yield* collect(search, { query: "load_config" })
        expect(brief(hits)).toEqual([["b", 1, "assistant"], ["a", 0, "user"], ["a", 1, "assistant"], ["a", 2, "tool"]])
        expect(hits[0]!.snippet).toBe("I renamed load_config to read_config. All \"callers\" updated.")
        expect(hits[0]!.title).toBe("newer")
        expect(hits[2]!.snippet).toBe("{\"pattern\":\"load_config\"}")
        expect(SessionSearch.toJson(hits[0]!)).toEqual({
          session_id: "00000000-0000-4000-8000-00000000000b",
          message_index: 1,
          role: "assistant",
          snippet: "I renamed load_config to read_config. All \"callers\" updated."
        })
      }))

    it.effect("matches the text as written (quotes, newlines, non-ASCII), never JSON keys, part types or image data", () =>
      Effect.gen(function*() {
        const { search } = yield* make
        expect(brief(yield* collect(search, { query: "read_config.\nAll \"callers\"" }))).toEqual([["b", 1, "assistant"]])
        expect(brief(yield* collect(search, { query: "\"pattern\":\"load" }))).toEqual([["a", 1, "assistant"]])
        expect(brief(yield* collect(search, { query: "café ☕" }))).toEqual([["a", 3, "assistant"]])
        expect(brief(yield* collect(search, { query: "grep for" }))).toEqual([["a", 1, "assistant"]])
        for (const query of ["tool_call_id", "tool_result", "\"role\"", "iVBORw0KGgo", "image/png", "mime_type"]) {
          expect(yield* collect(search, { query }), query).toEqual([])
        }
      }))

    it.effect("--regex: RE2 patterns, (?i) for case; invalid patterns and empty queries are refused", () =>
      Effect.gen(function*() {
        const { search } = yield* make
        const hits = yield* collect(search, { query: "(?i)SRC/(main|lib)\\.rs:\\d+", regex: true })
        expect(brief(hits)).toEqual([["a", 2, "tool"]])
        expect(hits[0]!.snippet).toContain("src/main.rs:12")
        const bad = yield* Effect.flip(collect(search, { query: "(?<=a)b", regex: true }))
        expect(bad._tag === "SessionSearchError" && bad.reason).toBe("InvalidQuery")
        const empty = yield* Effect.flip(collect(search, { query: "" }))
        expect(empty._tag === "SessionSearchError" && empty.reason).toBe("InvalidQuery")
      }))

    it.effect("a directory limits the search to its sessions; take(n) stops after n hits", () =>
      Effect.gen(function*() {
        const { search } = yield* make
        expect(brief(yield* collect(search, { query: "load_config", directory: "/work/a" }))).toEqual([
          ["a", 0, "user"],
          ["a", 1, "assistant"],
          ["a", 2, "tool"]
        ])
        expect(brief(yield* collect(search, { query: "load_config" }, 2))).toEqual([["b", 1, "assistant"], ["a", 0, "user"]])
      }))
  })
}

describe("SessionSearch (files only)", () => {
  const setup = Effect.gen(function*() {
    const dir = yield* TempDir.make("codetether-search-files-")
    const sessions = NodePath.join(dir, "sessions")
    NodeFs.mkdirSync(sessions)
    const put = (session: Session) => NodeFs.writeFileSync(NodePath.join(sessions, `${session.id}.json`), SessionJson.encode(session))
    return { dir, sessions, put }
  })

  it.effect("a file of several scanner chunks, with the match in its last message and in a message across a chunk boundary", () =>
    Effect.gen(function*() {
      const { sessions, put } = yield* setup
      const filler = "lorem ipsum dolor sit amet ".repeat(4000) // ~108 KB per message
      const messages = Array.from({ length: 60 }, (_, i) => Message.toolResult(`c${i}`, `${i} ${filler}`))
      const messages2 = [...messages, Message.text("assistant", "the needle is here")]
      messages2[19] = Message.toolResult("c19", `${filler}needle in the middle${filler}`)
      const session = Sessions.make({ id: "00000000-0000-4000-8000-0000000000c1", messages: messages2 })
      put(session)
      const bytes = NodeFs.readFileSync(NodePath.join(sessions, `${session.id}.json`))
      expect(bytes.length).toBeGreaterThan(6 << 20)
      // message 19 starts in the first 2 MiB scanner chunk and its match is in the second
      expect(bytes.indexOf("\"tool_call_id\":\"c19\"")).toBeLessThan(2 << 20)
      expect(bytes.indexOf("needle in the middle")).toBeGreaterThan(2 << 20)
      const hits = yield* collect(SessionSearch.makeFileSystem(sessions), { query: "needle" })
      expect(hits.map((h) => h.messageIndex)).toEqual([19, 60])
      expect(hits[0]!.snippet).toContain("needle in the middle")
    }))

  it.effect("a message larger than the parse cap is searched as raw bytes (literal and pattern)", () =>
    Effect.gen(function*() {
      const { sessions, put } = yield* setup
      const big = `${"x".repeat(50_000)} the "quoted"\nneedle ${"y".repeat(50_000)}`
      const session = Sessions.make({
        id: "00000000-0000-4000-8000-0000000000c2",
        messages: [Message.text("user", "small"), Message.toolResult("c1", big)]
      })
      put(session)
      const search = SessionSearch.makeFileSystem(sessions, { maxMessageBytes: 4096 })
      const literal = yield* collect(search, { query: "\"quoted\"\nneedle" })
      expect(brief(literal)).toEqual([["2", 1, "tool"]])
      expect(literal[0]!.snippet).toContain("the \"quoted\" needle")
      const pattern = yield* collect(search, { query: "quoted\"\\s+needle", regex: true })
      expect(brief(pattern)).toEqual([["2", 1, "tool"]])
    }))

  it.effect("files that are not sessions are skipped: corrupt or a copy holding another id with a warning, a FIFO without waiting on it", () =>
    Effect.gen(function*() {
      const { sessions, put } = yield* setup
      const good = Sessions.make({ id: "00000000-0000-4000-8000-0000000000d1", messages: [Message.text("user", "find me")] })
      put(good)
      const copy = NodePath.join(sessions, "00000000-0000-4000-8000-0000000000d2.json")
      NodeFs.writeFileSync(copy, SessionJson.encode(good)) // holds d1
      NodeFs.writeFileSync(NodePath.join(sessions, "00000000-0000-4000-8000-0000000000d3.json"), "{\"id\":\"00000000-0000-4000-8000-0000000000d3\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"find me\"}]}")
      NodeChild.execFileSync("mkfifo", [NodePath.join(sessions, "00000000-0000-4000-8000-0000000000d4.json")])
      const { logs, value } = yield* Logs.capture(collect(SessionSearch.makeFileSystem(sessions), { query: "find me" }))
      expect(brief(value)).toEqual([["1", 0, "user"]])
      const warnings = logs.filter((l) => l.level === "Warn").map((l) => l.message).join("\n")
      expect(warnings).toContain("0000000000d2.json: it holds session")
      expect(warnings).toContain("0000000000d3.json: invalid JSON")
    }))
})
