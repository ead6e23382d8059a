/**
 * CodexImport: discovery, import, persist rule, listings and
 * load-or-import over a real Codex home on disk (BEHAVIOUR §5.3, §10).
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { ConfigProvider, Effect, Exit, Layer, Result } from "effect"
import { Command } from "effect/cli"
import * as CodexRollout from "../../schemas/CodexRollout.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as CodexImport from "../../services/CodexImport.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as ImportCommand from "../../src/commands/import.ts"
import * as Logs from "../utils/Logs.ts"
import * as Sessions from "../utils/Sessions.ts"
import { plain } from "./contracts/SessionStoreContract.ts"
import * as TempDir from "../utils/TempDir.ts"

const fixtures = NodePath.join(import.meta.dirname, "../fixtures/codex")
const SAMPLE_ID = "01a2013b-c1ee-7120-b0ee-fab476a007fd"
const SAMPLE_NAME = `rollout-2026-11-22T03-10-23-${SAMPLE_ID}.jsonl`
const RICH_ID = "0199a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"
const LEGACY_ID = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
const EMOJI_ID = "0199a1b3-1111-7222-8333-444455556666"
const UUID = "0f1e2d3c-4b5a-4968-8776-655443322110"

/**
 * A Codex home named `my-codex-home` (not `.codex`): the fixture home plus
 * the real Codex CLI sample, copied to a temp dir.
 */
const setup = (name = "my-codex-home") =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-codex-")
    const home = NodePath.join(root, name)
    NodeFs.cpSync(NodePath.join(fixtures, "home"), home, { recursive: true })
    const day = NodePath.join(home, "sessions/2026/11/22")
    NodeFs.mkdirSync(day, { recursive: true })
    NodeFs.copyFileSync(NodePath.join(fixtures, SAMPLE_NAME), NodePath.join(day, SAMPLE_NAME))
    return { root, home, sessionsDir: NodePath.join(root, "data/sessions") }
  })

type Store = SessionStore.SessionStore["Service"]

const make = (home: string | undefined, store: Store) =>
  CodexImport.make({ home, uuid: () => UUID }).pipe(Effect.provideService(SessionStore.SessionStore, store))

const failure = <A>(exit: Exit.Exit<A, CodexImport.CodexImportError>): CodexImport.CodexImportError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error("expected a typed failure")
  return reason.error
}

const rolloutLine = (timestamp: string, type: string, payload: unknown) => JSON.stringify({ timestamp, type, payload })

const writeRollout = (home: string, id: string, lines: ReadonlyArray<string>, eol = "\n") => {
  const dir = NodePath.join(home, "sessions/2026/12/01")
  NodeFs.mkdirSync(dir, { recursive: true })
  const path = NodePath.join(dir, `rollout-2026-12-01T00-00-00-${id}.jsonl`)
  NodeFs.writeFileSync(path, lines.join(eol) + eol)
  return path
}

describe("CodexImport.importById", () => {
  it.effect("imports the real Codex CLI sample from a CODEX_HOME with any name and stores it", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      const session = yield* codex.importById(SAMPLE_ID)
      expect(session.id).toBe(SAMPLE_ID)
      expect(session.metadata.directory).toBe("/home/dev/demo")
      expect(session.metadata.model).toBe("mock-model")
      expect(session.createdAt).toBe("2026-11-22T03:10:23.220Z")
      expect(session.updatedAt).toBe("2026-11-22T03:10:23.641Z")
      expect(session.usage).toMatchObject({ promptTokens: 20251, completionTokens: 8, totalTokens: 20259 })
      expect(session.messages.at(-1)).toEqual({ role: "assistant", content: [{ type: "text", text: "DONE: 5 files" }] })
      expect(session.messages[2]!.content[0]).toEqual({
        type: "tool_call",
        id: "call_dd258a70f5cd100201d0ea30",
        name: "exec_command",
        arguments: "{\"cmd\":\"ls -1\"}"
      })
      expect(session.metadata.provenance?.provenanceId).toBe("ctprov_0f1e2d3c4b5a49688776655443322110")
      expect(yield* store.load(SAMPLE_ID)).toEqual(session)
    }))

  it.effect("finds an id past a broken rollout carrying it in its name; titles come from the index", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      const { logs, value: session } = yield* Logs.capture(codex.importById(RICH_ID))
      expect(session.title).toBe("Streaming parser refactor")
      expect(session.messages).toHaveLength(10)
      expect(session.metadata.model).toBe("gpt-5.1-codex")
      // the one malformed middle line: one warning naming the file and the line
      const warnings = logs.filter((l) => l.level === "Warn")
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain("Skipping malformed line 15 of")
      expect(warnings[0]!.message).toContain(`2026/01/05/rollout-2026-01-05T09-00-00-${RICH_ID}.jsonl`)
    }))

  it.effect("fails with the 4.5.7 texts: unknown id, no Codex home", () =>
    Effect.gen(function*() {
      const { home, root } = yield* setup()
      const codex = yield* make(home, SessionStore.makeMemory())
      const unknown = failure(yield* Effect.exit(codex.importById("no-such-session")))
      expect(unknown.reason).toBe("NotFound")
      expect(unknown.message).toBe("Codex session not found: no-such-session")
      const missing = failure(yield* Effect.exit((yield* make(NodePath.join(root, "absent"), SessionStore.makeMemory())).importById(SAMPLE_ID)))
      expect(missing.reason).toBe("HomeNotFound")
      expect(missing.message).toBe(`Codex home directory not found: ${NodePath.join(root, "absent")}`)
      const none = failure(yield* Effect.exit((yield* make(undefined, SessionStore.makeMemory())).importById(SAMPLE_ID)))
      expect(none.message).toBe("Codex home directory not found")
    }))
})

describe("CodexImport.importPath", () => {
  it.effect("names files that are not rollouts, invalid metas and unreadable files", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const codex = yield* make(home, SessionStore.makeMemory())
      const notes = NodePath.join(home, "sessions/2026/01/07/notes.jsonl")
      const notARollout = failure(yield* Effect.exit(codex.importPath(notes)))
      expect(notARollout.reason).toBe("NotARollout")
      expect(notARollout.message).toBe(`Missing session_meta in ${notes}`)
      const empty = NodePath.join(home, "sessions/2026/01/07/empty.jsonl")
      expect(failure(yield* Effect.exit(codex.importPath(empty))).message).toBe(`Missing session_meta in ${empty}`)
      const beef = NodePath.join(home, "sessions/2026/01/07/rollout-2026-01-07T00-00-00-0199a1b4-0000-7000-8000-00000000beef.jsonl")
      const invalid = failure(yield* Effect.exit(codex.importPath(beef)))
      expect(invalid.reason).toBe("NotARollout")
      expect(invalid.message).toMatch(new RegExp(`^Invalid session_meta in ${beef}: session_meta payload: Missing key`))
      const absent = NodePath.join(home, "nope.jsonl")
      const io = failure(yield* Effect.exit(codex.importPath(absent)))
      expect(io.reason).toBe("Io")
      expect(io.message).toMatch(new RegExp(`^Failed to open Codex session ${absent}: ENOENT`))
      const directory = NodePath.join(home, "sessions")
      const read = failure(yield* Effect.exit(codex.importPath(directory)))
      expect(read.reason).toBe("Io")
      expect(read.message).toBe(`Failed to open Codex session ${directory}: is a directory, not a regular file`)
    }))

  it.effect("reads lines across chunk boundaries: CRLF, a 300 KB line, multi-byte characters split between chunks", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      // 65535 ASCII bytes then a 4-byte emoji: the first 64 KiB read ends inside it
      const output = `${"x".repeat(65535 - 200)}🚀${"é漢".repeat(100_000)}`
      const path = writeRollout(home, "big-line", [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: "big-line", timestamp: "2026-12-01T00:00:00Z", cwd: "/w" }),
        rolloutLine("2026-12-01T00:00:01Z", "response_item", { type: "function_call_output", call_id: "c", output }),
        rolloutLine("2026-12-01T00:00:02Z", "response_item", { type: "message", role: "assistant", content: [{ type: "output_text", text: "fin" }] })
      ], "\r\n")
      const { session, status } = yield* codex.importPath(path)
      expect(status).toBe("imported")
      expect(session.messages).toHaveLength(2)
      expect(session.messages[0]!.content[0]).toEqual({ type: "tool_result", toolCallId: "c", content: output })
      expect(session.updatedAt).toBe("2026-12-01T00:00:02Z")
    }))

  it.effect("logs at most ten malformed lines per file, then one summary", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const codex = yield* make(home, SessionStore.makeMemory())
      const path = writeRollout(home, "noisy", [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: "noisy", timestamp: "2026-12-01T00:00:00Z", cwd: "/w" }),
        ...Array.from({ length: 14 }, (_, i) => `{broken ${i}`),
        rolloutLine("2026-12-01T00:00:02Z", "response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "kept" }] })
      ])
      const { logs, value } = yield* Logs.capture(codex.importPath(path))
      expect(value.session.messages).toHaveLength(1)
      const warnings = logs.filter((l) => l.level === "Warn").map((l) => l.message)
      expect(warnings).toHaveLength(11)
      expect(warnings[0]).toContain("Skipping malformed line 2 of")
      expect(warnings[10]).toBe(`Skipped 4 more malformed lines of ${path}`)
    }))
})

describe("CodexImport persist rule", () => {
  it.effect("re-importing an unchanged session writes nothing: same inode, mtime and bytes", () =>
    Effect.gen(function*() {
      const { home, sessionsDir } = yield* setup()
      const store = SessionStore.makeFileSystem(sessionsDir)
      const codex = yield* make(home, store)
      const first = yield* codex.importOne(SAMPLE_ID)
      expect(first).toEqual({ id: SAMPLE_ID, title: "List the files in the current directory with your shell t...", status: "imported" })
      const stored = yield* store.load(SAMPLE_ID)
      const file = NodePath.join(sessionsDir, `${SAMPLE_ID}.json`)
      const before = NodeFs.statSync(file, { bigint: true })
      const bytes = NodeFs.readFileSync(file)
      // compact and atomic through the store: exactly the 4.5.7 encoding of the session
      expect(Buffer.compare(bytes, Buffer.from(SessionJson.encode(stored)))).toBe(0)
      const again = yield* codex.importOne(SAMPLE_ID)
      expect(again.status).toBe("skipped")
      expect(yield* codex.importById(SAMPLE_ID)).toEqual(stored)
      const report = yield* codex.importForDirectory("/home/dev/demo")
      expect(report).toMatchObject({ imported: 0, skipped: 1, skippedIds: [SAMPLE_ID], failed: [] })
      const after = NodeFs.statSync(file, { bigint: true })
      expect(after.ino).toBe(before.ino)
      expect(after.mtimeNs).toBe(before.mtimeNs)
      expect(Buffer.compare(NodeFs.readFileSync(file), bytes)).toBe(0)
      expect(NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".tmp"))).toEqual([])
      // the workspace index knows the imported session
      expect(NodeFs.readFileSync(NodePath.join(sessionsDir, ".workspace_index.json"), "utf8")).toContain(SAMPLE_ID)
    }))

  it.effect("keeps a native session at least as new; replaces an older or undecodable one", () =>
    Effect.gen(function*() {
      const { home, sessionsDir } = yield* setup()
      const store = SessionStore.makeFileSystem(sessionsDir)
      const codex = yield* make(home, store)
      const imported = yield* codex.importById(SAMPLE_ID)
      // continued in codetether: newer than the rollout → the import leaves it alone
      const continued = { ...imported, title: "continued here", updatedAt: Sessions.at(400 * 86400) }
      const saved = yield* store.save(continued)
      expect(plain(yield* codex.importById(SAMPLE_ID))).toEqual(plain(continued))
      // same updatedAt (>=) → still skipped
      const same = yield* store.save({ ...saved, title: "same time", updatedAt: imported.updatedAt })
      expect((yield* codex.importOne(SAMPLE_ID)).status).toBe("skipped")
      // older native copy → replaced by the import
      yield* store.save({ ...same, title: "stale", updatedAt: Sessions.at(0) })
      const refreshed = yield* codex.importOne(SAMPLE_ID)
      expect(refreshed.status).toBe("imported")
      expect((yield* store.load(SAMPLE_ID)).title).toBe(imported.title)
      // a native file that does not decode is replaced, with a warning
      NodeFs.writeFileSync(NodePath.join(sessionsDir, `${SAMPLE_ID}.json`), "{\"id\":")
      const { logs, value } = yield* Logs.capture(codex.importOne(SAMPLE_ID))
      expect(value.status).toBe("imported")
      expect(logs.some((l) => l.level === "Warn" && l.message.includes("does not decode"))).toBe(true)
      expect((yield* store.load(SAMPLE_ID)).messages).toHaveLength(5)
    }))
})

describe("CodexImport for a directory", () => {
  it.effect("imports the sessions whose cwd is the directory (path-wise), then skips them", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      const first = yield* codex.importForDirectory("/home/dev/rich")
      expect(first.imported).toBe(2)
      expect(first.skipped).toBe(0)
      expect([...first.importedIds].sort()).toEqual([RICH_ID, EMOJI_ID].sort())
      expect(first.failed).toEqual([])
      expect(first.sessions.find((s) => s.id === RICH_ID)).toEqual({
        id: RICH_ID,
        title: "Streaming parser refactor",
        status: "imported"
      })
      const second = yield* codex.importForDirectory("/home/dev//rich/")
      expect(second).toMatchObject({ imported: 0, skipped: 2, failed: [] })
      const legacy = yield* codex.importForDirectory("/home/dev/legacy-app")
      expect(legacy.importedIds).toEqual([LEGACY_ID])
      expect((yield* store.load(LEGACY_ID)).title).toBe("First legacy title")
      const all = yield* codex.importAll
      expect(all).toMatchObject({ imported: 1, skipped: 3, importedIds: [SAMPLE_ID] })
    }))

  it.effect("compares canonical paths: a real directory reached through a symlink matches", () =>
    Effect.gen(function*() {
      const { home, root } = yield* setup()
      const real = NodePath.join(root, "work/project")
      NodeFs.mkdirSync(real, { recursive: true })
      NodeFs.symlinkSync(real, NodePath.join(root, "link"))
      writeRollout(home, "linked", [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: "linked", timestamp: "2026-12-01T00:00:00Z", cwd: NodePath.join(root, "link") }),
        rolloutLine("2026-12-01T00:00:01Z", "response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] })
      ])
      const codex = yield* make(home, SessionStore.makeMemory())
      expect((yield* codex.listForDirectory(real)).map((s) => s.id)).toEqual(["linked"])
      expect((yield* codex.importForDirectory(real)).importedIds).toEqual(["linked"])
    }))

  it.effect("listForDirectory: Codex summaries, newest first, with index or derived titles", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const codex = yield* make(home, SessionStore.makeMemory())
      const listed = yield* codex.listForDirectory("/home/dev/rich")
      expect(listed).toEqual([
        {
          id: EMOJI_ID,
          title: `${"a".repeat(56)}🚀...`,
          createdAt: "2026-01-06T08:00:00Z",
          updatedAt: "2026-01-06T08:00:02Z",
          messageCount: 2,
          agent: "build",
          directory: "/home/dev/rich/"
        },
        {
          id: RICH_ID,
          title: "Streaming parser refactor",
          createdAt: "2026-01-05T09:00:00.050Z",
          updatedAt: "2026-01-05T09:05:00.123456Z",
          messageCount: 10,
          agent: "build",
          directory: "/home/dev/rich"
        }
      ])
      expect((yield* codex.listForDirectory("/home/dev/legacy-app")).map((s) => s.id)).toEqual([LEGACY_ID])
      expect(yield* codex.listForDirectory("/nowhere")).toEqual([])
      expect(yield* (yield* make(undefined, SessionStore.makeMemory())).listForDirectory("/home/dev/rich")).toEqual([])
    }))

  it.effect("listAllForDirectory merges native and [Codex] summaries as 4.5.7 does", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      const native = Sessions.make({ directory: "/home/dev/rich", title: "native only", updatedAt: Sessions.at(10 * 365 * 86400) })
      const olderCopy = Sessions.make({ id: RICH_ID, directory: "/home/dev/rich", title: "older native copy", updatedAt: Sessions.at(0) })
      const elsewhere = Sessions.make({ directory: "/elsewhere", title: "other directory" })
      const saved = []
      for (const s of [native, olderCopy, elsewhere]) saved.push(yield* store.save(s))
      const merged = yield* codex.listAllForDirectory("/home/dev/rich")
      expect(merged.map((s) => [s.id, s.title])).toEqual([
        [native.id, "native only"],
        [EMOJI_ID, `[Codex] ${"a".repeat(56)}🚀...`],
        [RICH_ID, "[Codex] Streaming parser refactor"]
      ])
      // once the native copy is newer, it wins with its own title
      yield* store.save({ ...saved[1]!, updatedAt: Sessions.at(9 * 365 * 86400) })
      const again = yield* codex.listAllForDirectory("/home/dev/rich")
      expect(again.map((s) => s.title)).toEqual(["native only", "older native copy", `[Codex] ${"a".repeat(56)}🚀...`])
    }))

  it.effect("listAll: every Codex session with its import state; symlinks and non-rollouts are ignored", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      NodeFs.symlinkSync(
        NodePath.join(home, `sessions/2026/11/22/${SAMPLE_NAME}`),
        NodePath.join(home, "sessions/2026/11/22/rollout-link-copy.jsonl")
      )
      NodeFs.symlinkSync(NodePath.join(home, "sessions/2026"), NodePath.join(home, "sessions/linked-dir"))
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      const before = yield* codex.listAll
      expect(before.map((i) => [i.summary.id, i.state])).toEqual([
        [SAMPLE_ID, "new"],
        [EMOJI_ID, "new"],
        [RICH_ID, "new"],
        [LEGACY_ID, "new"]
      ])
      expect(before[0]!.path).toBe(NodePath.join(home, `sessions/2026/11/22/${SAMPLE_NAME}`))
      expect(before[0]!.summary.title).toBe("List the files in the current directory with your shell t...")
      const imported = yield* codex.importById(SAMPLE_ID)
      yield* store.save({ ...(yield* codex.importById(RICH_ID)), updatedAt: Sessions.at(0) })
      const after = yield* codex.listAll
      expect(after.map((i) => [i.summary.id, i.state])).toEqual([
        [SAMPLE_ID, "current"],
        [EMOJI_ID, "new"],
        [RICH_ID, "stale"],
        [LEGACY_ID, "new"]
      ])
      expect(imported.id).toBe(SAMPLE_ID)
    }))
})

describe("CodexImport.loadOrImport", () => {
  it.effect("loads a native session although broken rollouts exist (4.5.7 failed here)", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      NodeFs.writeFileSync(NodePath.join(home, "sessions/2026/01/07/garbage.jsonl"), Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]))
      const store = SessionStore.makeMemory()
      const native = Sessions.make({ title: "native" })
      yield* store.save(native)
      const codex = yield* make(home, store)
      expect(plain(yield* codex.loadOrImport(native.id))).toEqual(native)
      // with no Codex home at all
      expect(plain(yield* (yield* make(undefined, store)).loadOrImport(native.id))).toEqual(native)
    }))

  it.effect("imports a Codex session, keeps a newer native copy, and reports unknown ids", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const codex = yield* make(home, store)
      const imported = yield* codex.loadOrImport(SAMPLE_ID)
      expect(imported.messages).toHaveLength(5)
      expect(yield* store.load(SAMPLE_ID)).toEqual(imported)
      const newer = { ...imported, title: "resumed in codetether", updatedAt: Sessions.at(400 * 86400) }
      yield* store.save(newer)
      expect(plain(yield* codex.loadOrImport(SAMPLE_ID))).toEqual(plain(newer))
      const unknown = failure(yield* Effect.exit(codex.loadOrImport("00000000-0000-4000-8000-00000000dead")))
      expect(unknown.reason).toBe("NotFound")
      expect(unknown.message).toBe("Codex session not found: 00000000-0000-4000-8000-00000000dead")
      const invalid = failure(yield* Effect.exit(codex.loadOrImport("../etc/passwd")))
      expect(invalid.reason).toBe("InvalidId")
      expect(invalid.message).toContain("Invalid session id")
    }))

  it.effect("falls back to the native session when its rollout cannot be imported", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const native = Sessions.make({ id: "0199a1b5-0000-7000-8000-000000000001", title: "native copy" })
      yield* store.save(native)
      // the rollout's meta is fine but its id cannot be stored as it is written: make the save fail
      writeRollout(home, native.id, [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: native.id, timestamp: "2026-12-01T00:00:00Z", cwd: "/w" })
      ])
      const diskFull = () => Effect.fail(new SessionStore.SessionStoreError({ reason: "Io", message: "disk full" }))
      const failing: Store = { ...store, save: diskFull, saveStream: diskFull, replaceIfOlder: diskFull }
      const codex = yield* make(home, failing)
      const { logs, value } = yield* Logs.capture(codex.loadOrImport(native.id))
      expect(plain(value)).toEqual(plain(native))
      expect(logs.some((l) => l.level === "Warn" && l.message.includes("disk full"))).toBe(true)
      // without a native copy the import error is returned
      const alone = failure(yield* Effect.exit((yield* make(home, failing)).loadOrImport(SAMPLE_ID)))
      expect(alone.reason).toBe("Store")
      expect(alone.message).toBe("disk full")
    }))
})

describe("CodexImport on oversized and hostile files", () => {
  const MiB = 1 << 20
  const makeCapped = (home: string, store: Store) =>
    CodexImport.make({ home, uuid: () => UUID, maxLineBytes: MiB }).pipe(Effect.provideService(SessionStore.SessionStore, store))
  // (the fixture home has one malformed line of its own, warned about every time)
  const warningsOf = (logs: ReadonlyArray<{ readonly level: string; readonly message: string }>) =>
    logs.filter((l) => l.level === "Warn" && !l.message.startsWith("Skipping malformed line")).map((l) => l.message)

  it.effect("a line over the cap is skipped with a warning naming the file and line; the rest of the rollout imports", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const path = writeRollout(home, "huge-line", [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: "huge-line", timestamp: "2026-12-01T00:00:00Z", cwd: "/w" }),
        rolloutLine("2026-12-01T00:00:01Z", "response_item", { type: "function_call_output", call_id: "c", output: "x".repeat(2 * MiB) }),
        rolloutLine("2026-12-01T00:00:02Z", "response_item", { type: "message", role: "assistant", content: [{ type: "output_text", text: "after the huge line" }] })
      ])
      const size = NodeFs.readFileSync(path, "utf8").split("\n")[1]!.length
      const store = SessionStore.makeMemory()
      const codex = yield* makeCapped(home, store)
      const { logs, value } = yield* Logs.capture(codex.importPath(path))
      expect(value.status).toBe("imported")
      expect(value.session.messages).toEqual([{ role: "assistant", content: [{ type: "text", text: "after the huge line" }] }])
      expect(warningsOf(logs)).toEqual([`Skipping line 2 of ${path}: ${size} bytes, over the ${MiB}-byte line limit`])
      // listings and bulk imports go on past it, with every other session
      const listed = yield* Logs.capture(codex.listAll)
      expect(listed.value.map((i) => i.summary.id)).toContain("huge-line")
      expect(listed.value).toHaveLength(5)
      expect(warningsOf(listed.logs)).toEqual([`Skipping line 2 of ${path}: ${size} bytes, over the ${MiB}-byte line limit`])
      const report = yield* codex.importAll
      expect(report.failed).toEqual([])
      expect(report.imported + report.skipped).toBe(5)
    }))

  it.effect("a rollout whose first line is over the cap is skipped with a warning; the others list and import", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const path = writeRollout(home, "huge-meta", [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: "huge-meta", timestamp: "2026-12-01T00:00:00Z", cwd: "/w", instructions: "i".repeat(MiB + 1) })
      ])
      const codex = yield* makeCapped(home, SessionStore.makeMemory())
      const listed = yield* Logs.capture(codex.listAll)
      expect(listed.value.map((i) => i.summary.id)).toEqual([SAMPLE_ID, EMOJI_ID, RICH_ID, LEGACY_ID])
      expect(warningsOf(listed.logs).some((w) => w.startsWith(`Skipping line 1 of ${path}: `))).toBe(true)
      const report = yield* Logs.capture(codex.importAll)
      expect(report.value.imported).toBe(4)
      expect(report.value.failed).toEqual([])
      const direct = failure(yield* Effect.exit(codex.importPath(path)))
      expect(direct.reason).toBe("NotARollout")
      expect(direct.message).toMatch(/^Invalid session_meta in .*: line 1 \(\d+ bytes\) is over the 1048576-byte line limit$/)
    }))

  it.effect("a FIFO, a device link or a symlink named *.jsonl is skipped with a warning, never opened", () =>
    Effect.gen(function*() {
      const { home, root } = yield* setup()
      const day = NodePath.join(home, "sessions/2026/12/02")
      NodeFs.mkdirSync(day, { recursive: true })
      const fifo = NodePath.join(day, "rollout-fifo.jsonl")
      NodeChildProcess.execFileSync("mkfifo", [fifo])
      const outside = NodePath.join(root, "outside.jsonl")
      NodeFs.copyFileSync(NodePath.join(fixtures, SAMPLE_NAME), outside)
      const link = NodePath.join(day, "rollout-link.jsonl")
      NodeFs.symlinkSync(outside, link)
      const device = NodePath.join(day, "rollout-zero.jsonl")
      NodeFs.symlinkSync("/dev/zero", device)
      const codex = yield* make(home, SessionStore.makeMemory())
      const { logs, value } = yield* Logs.capture(codex.listAll)
      expect(value.map((i) => i.summary.id)).toEqual([SAMPLE_ID, EMOJI_ID, RICH_ID, LEGACY_ID])
      expect(warningsOf(logs)).toEqual([
        `Skipping ${fifo}: a FIFO, not a regular file (Codex rollouts are read only as regular files)`,
        `Skipping ${link}: a symlink, not a regular file (Codex rollouts are read only as regular files)`,
        `Skipping ${device}: a symlink, not a regular file (Codex rollouts are read only as regular files)`
      ])
      // named directly, the FIFO fails at once instead of blocking the open
      const error = failure(yield* Effect.exit(codex.importPath(fifo)))
      expect(error.reason).toBe("Io")
      expect(error.message).toBe(`Failed to open Codex session ${fifo}: is a FIFO, not a regular file`)
      const symlink = failure(yield* Effect.exit(codex.importPath(link)))
      expect(symlink.message).toBe(`Failed to open Codex session ${link}: is a symlink (not followed)`)
    }))

  it.effect("session_index.jsonl that is a FIFO, a symlink out of the Codex home or over 16 MiB is ignored with a warning", () =>
    Effect.gen(function*() {
      const { home, root } = yield* setup()
      const index = NodePath.join(home, "session_index.jsonl")
      const titled = yield* (yield* make(home, SessionStore.makeMemory())).listAll
      expect(titled.find((i) => i.summary.id === RICH_ID)?.summary.title).toBe("Streaming parser refactor")
      const outside = NodePath.join(root, "index-elsewhere.jsonl")
      NodeFs.renameSync(index, outside)
      const cases: ReadonlyArray<readonly [string, () => void, string]> = [
        ["fifo", () => NodeChildProcess.execFileSync("mkfifo", [index]), "is a FIFO, not a regular file"],
        ["outside", () => NodeFs.symlinkSync(outside, index), `is a symlink to ${outside}, outside ${home} (not followed)`],
        ["large", () => NodeFs.writeFileSync(index, Buffer.alloc(16 * MiB + 1, 0x0a)), `is ${16 * MiB + 1} bytes, over the ${16 * MiB}-byte limit`]
      ]
      for (const [label, plant, detail] of cases) {
        NodeFs.rmSync(index, { force: true })
        plant()
        const { logs, value } = yield* Logs.capture((yield* make(home, SessionStore.makeMemory())).listAll)
        expect(value.map((i) => i.summary.id), label).toEqual([SAMPLE_ID, EMOJI_ID, RICH_ID, LEGACY_ID])
        expect(value.find((i) => i.summary.id === RICH_ID)?.summary.title, label).not.toBe("Streaming parser refactor")
        expect(warningsOf(logs), label).toEqual([`Ignoring Codex session index ${index}: ${detail}`])
      }
      // a symlink that stays inside the Codex home is followed
      NodeFs.rmSync(index, { force: true })
      NodeFs.renameSync(outside, NodePath.join(home, "index-copy.jsonl"))
      NodeFs.symlinkSync(NodePath.join(home, "index-copy.jsonl"), index)
      const { logs, value } = yield* Logs.capture((yield* make(home, SessionStore.makeMemory())).listAll)
      expect(value.find((i) => i.summary.id === RICH_ID)?.summary.title).toBe("Streaming parser refactor")
      expect(warningsOf(logs)).toEqual([])
    }))
})

describe("CodexImport layers", () => {
  it("resolveHome: CODEX_HOME (any name, relative to cwd), else <home>/.codex", () => {
    expect(CodexImport.resolveHome({ codexHome: "/x/codex-data", home: "/home/u", cwd: "/w" })).toBe("/x/codex-data")
    expect(CodexImport.resolveHome({ codexHome: "rel/dir", home: "/home/u", cwd: "/w" })).toBe("/w/rel/dir")
    expect(CodexImport.resolveHome({ codexHome: "  ", home: "/home/u", cwd: "/w" })).toBe("/home/u/.codex")
    expect(CodexImport.resolveHome({ codexHome: undefined, home: undefined, cwd: "/w" })).toBeUndefined()
  })

  it.effect("layer reads CODEX_HOME and the CODETETHER_* provenance variables through Config", () =>
    Effect.gen(function*() {
      const { home } = yield* setup("codex-state")
      const config = ConfigProvider.layer(ConfigProvider.fromUnknown({
        CODEX_HOME: home,
        HOME: "/nonexistent",
        CODETETHER_WORKER_ID: "worker-7",
        CODETETHER_TASK_ID: "task-9"
      }))
      const session = yield* Effect.gen(function*() {
        const codex = yield* CodexImport.CodexImport
        expect(codex.home).toBe(home)
        return yield* codex.importById(SAMPLE_ID)
      }).pipe(Effect.provide(CodexImport.layer.pipe(Layer.provide([SessionStore.layerMemory, config]))))
      expect(session.metadata.provenance?.identity).toMatchObject({ origin: "worker", workerId: "worker-7" })
      expect(session.metadata.provenance?.taskId).toBe("task-9")
      const fromHome = yield* Effect.gen(function*() {
        return (yield* CodexImport.CodexImport).home
      }).pipe(
        Effect.provide(CodexImport.layer.pipe(Layer.provide([
          SessionStore.layerMemory,
          ConfigProvider.layer(ConfigProvider.fromUnknown({ HOME: "/home/someone" }))
        ])))
      )
      expect(fromHome).toBe("/home/someone/.codex")
    }))
})

describe("codetether import codex", () => {
  const runCli = (home: string, store: Store, args: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const out: Array<string> = []
      const write = process.stdout.write
      const exit = yield* Effect.acquireUseRelease(
        Effect.sync(() => {
          process.stdout.write = ((chunk: string | Uint8Array, ...rest: Array<unknown>) => {
            out.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString())
            const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined
            callback?.()
            return true
          }) as typeof process.stdout.write
        }),
        () =>
          Command.runWith(ImportCommand.importCommand, { version: "test" })(args).pipe(
            Effect.provide(CodexImport.layerHome(home, { uuid: () => UUID })),
            Effect.provideService(SessionStore.SessionStore, store),
            Effect.provide(NodeServices.layer),
            Effect.exit
          ),
        () => Effect.sync(() => (process.stdout.write = write))
      )
      return { exit, stdout: out.join("") }
    })

  it.effect("--id imports one session, then reports it skipped; --json prints counts and ids", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const store = SessionStore.makeMemory()
      const first = yield* runCli(home, store, ["codex", "--id", RICH_ID])
      expect(Exit.isSuccess(first.exit)).toBe(true)
      expect(first.stdout).toBe(`imported ${RICH_ID} "Streaming parser refactor"\n1 imported, 0 skipped.\n`)
      const again = yield* runCli(home, store, ["codex", "--id", RICH_ID, "--json"])
      expect(JSON.parse(again.stdout)).toEqual({
        imported: 0,
        skipped: 1,
        importedIds: [],
        skippedIds: [RICH_ID],
        failed: []
      })
    }))

  it.effect("--all imports every Codex session; default imports those of the current directory", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      writeRollout(home, "here", [
        rolloutLine("2026-12-01T00:00:00Z", "session_meta", { id: "here", timestamp: "2026-12-01T00:00:00Z", cwd: process.cwd() }),
        rolloutLine("2026-12-01T00:00:01Z", "response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "in cwd" }] })
      ])
      const store = SessionStore.makeMemory()
      const here = yield* runCli(home, store, ["codex", "--json"])
      expect(JSON.parse(here.stdout)).toMatchObject({ imported: 1, importedIds: ["here"] })
      const all = yield* runCli(home, store, ["codex", "--all"])
      expect(Exit.isSuccess(all.exit)).toBe(true)
      expect(all.stdout).toContain(`imported ${SAMPLE_ID} "List the files in the current directory with your shell t..."`)
      expect(all.stdout).toContain(`skipped  here "in cwd" (already up to date)`)
      expect(all.stdout.trim().split("\n").at(-1)).toBe("4 imported, 1 skipped.")
      const both = yield* runCli(home, store, ["codex", "--all", "--id", "x"])
      assert(Exit.isFailure(both.exit))
      expect(String(both.exit.cause)).toContain("--id and --all cannot be used together")
    }))
})

describe("CodexRollout and CodexImport agree", () => {
  it.effect("the service's streamed import equals the pure mapping of the same lines", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      const codex = yield* make(home, SessionStore.makeMemory())
      const streamed = yield* codex.importById(RICH_ID)
      const path = NodePath.join(home, `sessions/2026/01/05/rollout-2026-01-05T09-00-00-${RICH_ID}.jsonl`)
      const pure = CodexRollout.fromLines(NodeFs.readFileSync(path, "utf8").split("\n"), {
        provenanceUuid: UUID,
        now: streamed.metadata.provenance!.issuedAt,
        indexTitle: "Streaming parser refactor"
      })
      assert(Result.isSuccess(pure))
      expect(plain(streamed)).toEqual(pure.success.session)
    }))
})
