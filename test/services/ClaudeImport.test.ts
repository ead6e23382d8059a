/**
 * ClaudeImport over a Claude Code config dir on disk: the real sample, the
 * persist rule (idempotent, never over work continued in codetether),
 * discovery by the records' cwd, listings, import on the fly, and hostile
 * files (FIFOs, symlinks, caps, sub-agent files).
 */
import { assert, describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit, Option } from "effect"
import * as ClaudeTranscript from "../../schemas/ClaudeTranscript.ts"
import * as Message from "../../schemas/Message.ts"
import * as Session from "../../schemas/Session.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"
import * as ClaudeImport from "../../services/ClaudeImport.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as T from "../utils/ClaudeTranscripts.ts"
import * as Logs from "../utils/Logs.ts"
import * as TempDir from "../utils/TempDir.ts"
import { plain } from "./contracts/SessionStoreContract.ts"

const UUID = "0f1e2d3c-4b5a-4968-8776-655443322110"

/** A config dir (any name) holding the real sample, copied to a temp dir. */
const setup = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-claude-")
  const home = NodePath.join(root, "my-claude-config")
  NodeFs.cpSync(T.FIXTURES, home, { recursive: true })
  return { root, home }
})

type Store = SessionStore.SessionStore["Service"]

const make = (home: string | undefined, store: Store, options: Partial<ClaudeImport.MakeOptions> = {}) =>
  ClaudeImport.make({ home, uuid: () => UUID, ...options }).pipe(Effect.provideService(SessionStore.SessionStore, store))

const failure = <A>(exit: Exit.Exit<A, ClaudeImport.ClaudeImportError>): ClaudeImport.ClaudeImportError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return reason.error
}

describe("ClaudeImport", () => {
  it.effect("imports the real sample by id, equal to the pure mapping; a second import writes nothing", () =>
    Effect.gen(function*() {
      const { home } = yield* setup
      const store = SessionStore.makeMemory()
      const claude = yield* make(home, store)
      const session = yield* claude.importById(T.SAMPLE_ID)
      const pure = ClaudeTranscript.fromLines(NodeFs.readFileSync(T.SAMPLE, "utf8").split("\n"), {
        id: T.SAMPLE_ID,
        provenanceUuid: UUID,
        now: session.metadata.provenance!.issuedAt
      })
      expect(plain(session)).toEqual(pure.session)
      expect(session.messages).toHaveLength(4)
      const revision = Session.revisionOf(yield* store.load(T.SAMPLE_ID))
      expect(yield* claude.importOne(T.SAMPLE_ID)).toEqual({
        id: T.SAMPLE_ID,
        title: "List the files in the current directory with your shell t...",
        status: "skipped"
      })
      expect(Session.revisionOf(yield* store.load(T.SAMPLE_ID))).toBe(revision)
    }))

  it.effect("never overwrites work continued in codetether; a transcript continued in Claude Code is imported again", () =>
    Effect.gen(function*() {
      const { home } = yield* setup
      const store = SessionStore.makeMemory()
      const claude = yield* make(home, store)
      const imported = yield* claude.importById(T.SAMPLE_ID)
      const continued = Session.addMessage(imported, Message.text("user", "continued here"), Timestamp.fromString(T.at(0))!)
      yield* store.save({ ...continued, updatedAt: Timestamp.fromString("2026-11-23T00:00:00Z")! })
      expect((yield* claude.importOne(T.SAMPLE_ID)).status).toBe("skipped")
      expect((yield* store.load(T.SAMPLE_ID)).messages).toHaveLength(5)

      // Claude Code goes on later: the transcript is newer than the codetether copy
      const later = T.assistant("later", "060db259-fd27-462c-94de-0268eadaabcd", 0, "m-later", [T.text("more work in Claude")])
        .replace(T.at(0), "2026-11-24T00:00:00.000Z")
      NodeFs.appendFileSync(NodePath.join(home, "projects/-home-dev-demo", `${T.SAMPLE_ID}.jsonl`), `${later}\n`)
      expect((yield* claude.importOne(T.SAMPLE_ID)).status).toBe("imported")
      const reimported = yield* store.load(T.SAMPLE_ID)
      expect(Message.textOf(reimported.messages.at(-1)!)).toBe("more work in Claude")
    }))

  it.effect("importForDirectory takes the transcripts whose records' cwd is the directory, not just the folder name", () =>
    Effect.gen(function*() {
      const { home, root } = yield* setup
      const project = NodePath.join(root, "work", "my.app")
      NodeFs.mkdirSync(project, { recursive: true })
      const folder = ClaudeTranscript.projectFolderName(project)
      T.write(home, folder, "11111111-1111-4111-8111-111111111111", T.conversation(project, "here"))
      // same (lossy) folder name, another directory: not this directory's
      const lookalike = NodePath.join(root, "work", "my-app")
      T.write(home, folder, "22222222-2222-4222-8222-222222222222", T.conversation(lookalike, "lookalike"))
      const store = SessionStore.makeMemory()
      const claude = yield* make(home, store)
      const report = yield* claude.importForDirectory(project)
      expect(report.importedIds).toEqual(["11111111-1111-4111-8111-111111111111"])
      expect((yield* store.load("11111111-1111-4111-8111-111111111111")).metadata.directory).toBe(project)
      expect((yield* claude.listForDirectory(project)).map((s) => s.title)).toEqual(["here"])
      expect(yield* claude.importForDirectory(NodePath.join(root, "nowhere"))).toMatchObject({ imported: 0, skipped: 0 })
    }))

  it.effect("importAll and listAll: every session with its state; sub-agent files, symlinked folders and non-transcripts skipped", () =>
    Effect.gen(function*() {
      const { home, root } = yield* setup
      T.write(home, "-work-b", "33333333-3333-4333-8333-333333333333", T.conversation("/work/b", "b", 100))
      T.write(home, "-work-b", "agent-1234", [T.user("s", null, 1, "sub-agent", { isSidechain: true })])
      T.write(home, "-work-b", "44444444-4444-4444-8444-444444444444", [T.queueOperation(1)])
      const elsewhere = NodePath.join(root, "elsewhere")
      T.write(elsewhere, "-work-c", "55555555-5555-4555-8555-555555555555", T.conversation("/work/c"))
      NodeFs.symlinkSync(NodePath.join(elsewhere, "projects", "-work-c"), NodePath.join(home, "projects", "-work-c"))
      const store = SessionStore.makeMemory()
      const claude = yield* make(home, store)
      const before = yield* claude.listAll
      expect(before.map((s) => [s.summary.id, s.state])).toEqual([
        ["33333333-3333-4333-8333-333333333333", "new"],
        [T.SAMPLE_ID, "new"]
      ])
      expect(before[0]!.summary).toMatchObject({ title: "b", messageCount: 4, directory: "/work/b", agent: "build" })
      const report = yield* claude.importAll
      expect(report).toMatchObject({ imported: 2, skipped: 0, failed: [] })
      expect((yield* claude.listAll).map((s) => s.state)).toEqual(["current", "current"])
      expect((yield* store.list).map((s) => s.id).sort()).toEqual(["33333333-3333-4333-8333-333333333333", T.SAMPLE_ID].sort())
    }))

  it.effect("importIfFound: imports a Claude id on the fly; None for other ids; a broken transcript never hides a native session", () =>
    Effect.gen(function*() {
      const { home } = yield* setup
      const store = SessionStore.makeMemory()
      const claude = yield* make(home, store)
      const found = yield* claude.importIfFound(T.SAMPLE_ID)
      assert(Option.isSome(found))
      expect(found.value.messages).toHaveLength(4)
      expect(Session.revisionOf(found.value)).toBeDefined()
      expect(yield* claude.importIfFound("not-a-claude-id")).toEqual(Option.none())
      expect(failure(yield* Effect.exit(claude.importIfFound("../x")))).toMatchObject({ reason: "InvalidId" })

      const id = "66666666-6666-4666-8666-666666666666"
      T.write(home, "-work-d", id, [T.queueOperation(1)]) // no conversation
      expect(failure(yield* Effect.exit(claude.importIfFound(id)))).toMatchObject({ reason: "NotATranscript" })
      const native = yield* store.save(Session.make({ id, now: Timestamp.fromString(T.at(0))!, directory: "/work/d", provenanceUuid: UUID }))
      const logs = yield* Logs.capture(claude.importIfFound(id))
      assert(Option.isSome(logs.value))
      expect(plain(logs.value.value)).toEqual(plain(native))
      expect(logs.logs.map((l) => l.message).join("\n")).toContain("using the native session")
    }))

  it.effect("errors: no config dir, unknown id, invalid id", () =>
    Effect.gen(function*() {
      const { root } = yield* setup
      const store = SessionStore.makeMemory()
      const missing = yield* make(NodePath.join(root, "none"), store)
      expect(failure(yield* Effect.exit(missing.importAll))).toMatchObject({ reason: "HomeNotFound" })
      expect(failure(yield* Effect.exit(missing.importAll)).message).toContain("Claude Code config directory not found")
      expect(yield* missing.listAll).toEqual([])
      expect(yield* missing.importIfFound(T.SAMPLE_ID)).toEqual(Option.none())
      const { home } = yield* setup
      const claude = yield* make(home, store)
      expect(failure(yield* Effect.exit(claude.importById("nope")))).toMatchObject({
        reason: "NotFound",
        message: "Claude Code session not found: nope"
      })
      expect(failure(yield* Effect.exit(claude.importById("a/b")))).toMatchObject({ reason: "InvalidId" })
    }))

  it.effect("a truncated last line is skipped with a warning, the rest imported", () =>
    Effect.gen(function*() {
      const { home } = yield* setup
      const id = "77777777-7777-4777-8777-777777777777"
      const lines = [...T.conversation("/work/e"), T.assistant("a3", "a2", 9, "m9", [T.text("cut off")]).slice(0, 60)]
      T.write(home, "-work-e", id, lines, false)
      const store = SessionStore.makeMemory()
      const claude = yield* make(home, store)
      const logs = yield* Logs.capture(claude.importById(id))
      expect(logs.value.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect(logs.logs.some((l) => l.message.includes("Skipping malformed line 6"))).toBe(true)
    }))

  it.effect("caps: a transcript over the size cap fails, a line over the line cap is skipped; a FIFO never blocks", () =>
    Effect.gen(function*() {
      const { home } = yield* setup
      const store = SessionStore.makeMemory()
      const small = yield* make(home, store, { maxFileBytes: 1000 })
      const tooBig = failure(yield* Effect.exit(small.importById(T.SAMPLE_ID)))
      expect(tooBig.reason).toBe("Io")
      expect(tooBig.message).toContain("limit")

      const id = "88888888-8888-4888-8888-888888888888"
      const huge = T.user("big", "u2", 3, [T.toolResult("toolu_1", "x".repeat(5000))])
      T.write(home, "-work-f", id, [...T.conversation("/work/f").slice(0, 3), huge, ...T.conversation("/work/f").slice(3)])
      const narrow = yield* make(home, store, { maxLineBytes: 2000 })
      const logs = yield* Logs.capture(narrow.importById(id))
      expect(logs.value.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect(logs.logs.map((l) => l.message).join("\n")).toContain("longer than the 2000-byte line limit")

      const fifoId = "99999999-9999-4999-8999-999999999999"
      const fifo = NodePath.join(home, "projects", "-work-g", `${fifoId}.jsonl`)
      NodeFs.mkdirSync(NodePath.dirname(fifo), { recursive: true })
      NodeChild.execFileSync("mkfifo", [fifo])
      const claude = yield* make(home, store)
      expect(failure(yield* Effect.exit(claude.importPath(fifo)))).toMatchObject({ reason: "Io" })
      // discovery skips it (a FIFO is not a regular file), listing goes on
      expect((yield* claude.listAll).map((s) => s.summary.id)).toContain(T.SAMPLE_ID)
    }))

  it.effect("an import keeps the transcript as written: redaction is for what a prompt appends", () =>
    Effect.gen(function*() {
      const { home } = yield* setup
      const id = "bbbbbbbb-1111-4222-8333-444455556666"
      const key = `ghp_${"x1Y2".repeat(9)}`
      T.write(home, "-work-h", id, T.conversation("/work/h", `use ${key} to push`))
      const store = SessionStore.makeMemory()
      const session = yield* (yield* make(home, store)).importById(id)
      expect(Message.textOf(session.messages[0]!)).toBe(`use ${key} to push`)
    }))

  it("resolveHome: CLAUDE_CONFIG_DIR (trimmed, relative to cwd), else ~/.claude", () => {
    expect(ClaudeImport.resolveHome({ configDir: " /x/claude ", home: "/home/dev", cwd: "/w" })).toBe("/x/claude")
    expect(ClaudeImport.resolveHome({ configDir: "rel", home: "/home/dev", cwd: "/w" })).toBe("/w/rel")
    expect(ClaudeImport.resolveHome({ configDir: "  ", home: "/home/dev", cwd: "/w" })).toBe("/home/dev/.claude")
    expect(ClaudeImport.resolveHome({ configDir: undefined, home: undefined, cwd: "/w" })).toBeUndefined()
  })
})
