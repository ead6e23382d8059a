/**
 * SessionStore.layerFileSystem: the bytes on disk, 4.5.7 files, corrupt files
 * and the resume rules of 4.5.7 `last_for_directory`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit, Fiber, Layer, Stream } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as Logs from "../utils/Logs.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const fixtures = NodePath.join(import.meta.dirname, "../fixtures/sessions")

/** A temp dir with a data dir inside, a workspace dir, and a store on it. */
const setup = Effect.gen(function*() {
  const root = yield* TempDir.make()
  const data = NodePath.join(root, "data")
  const sessions = NodePath.join(data, "sessions")
  const workspace = NodePath.join(root, "ws")
  NodeFs.mkdirSync(workspace)
  const store = yield* SessionStore.SessionStore.pipe(
    Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
  )
  const file = (id: string) => NodePath.join(sessions, `${id}.json`)
  const write = (name: string, content: string | Uint8Array, mtimeSeconds?: number) => {
    NodeFs.mkdirSync(sessions, { recursive: true })
    const path = NodePath.join(sessions, name)
    NodeFs.writeFileSync(path, content)
    if (mtimeSeconds !== undefined) NodeFs.utimesSync(path, mtimeSeconds, mtimeSeconds)
    return path
  }
  const touch = (id: string, mtimeSeconds: number) => NodeFs.utimesSync(file(id), mtimeSeconds, mtimeSeconds)
  const index = () => JSON.parse(NodeFs.readFileSync(NodePath.join(sessions, ".workspace_index.json"), "utf8"))
  return { root, data, sessions, workspace, store, file, write, touch, index }
})

const failure = <A, E>(exit: Exit.Exit<A, E>): E & { readonly reason?: unknown; readonly message: string } => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error("expected a typed failure")
  return reason.error as E & { readonly reason?: unknown; readonly message: string }
}

describe("SessionStore.layerFileSystem", () => {
  it.effect("writes compact JSON without a trailing newline, 0600 files in 0700 directories, no temp file left", () =>
    Effect.gen(function*() {
      const { data, sessions, store, file, workspace } = yield* setup
      const session = Sessions.make({ directory: workspace })
      yield* store.save(session)
      const bytes = NodeFs.readFileSync(file(session.id))
      expect(bytes.equals(Buffer.from(SessionJson.encode(session)))).toBe(true)
      expect(bytes.at(-1)).toBe("}".charCodeAt(0))
      expect(NodeFs.statSync(file(session.id)).mode & 0o777).toBe(0o600)
      expect(NodeFs.statSync(sessions).mode & 0o777).toBe(0o700)
      expect(NodeFs.statSync(data).mode & 0o777).toBe(0o700)
      expect(NodeFs.readdirSync(sessions).sort()).toEqual([".workspace_index.json", `${session.id}.json`])
      expect(NodeFs.statSync(NodePath.join(sessions, ".workspace_index.json")).mode & 0o777).toBe(0o600)
    }))

  it.effect("loads 4.5.7 files and re-saves them byte-identically; legacy files come back compact in 4.5.7 order", () =>
    Effect.gen(function*() {
      const { store, write, file } = yield* setup
      const cases: Array<[string, string]> = [
        ["spec-example.json", "spec-example.json"],
        ["compact-all-parts.json", "compact-all-parts.json"],
        ["legacy-4.5.6-pretty.json", "legacy-4.5.6-pretty.expected.json"],
        ["legacy-four-keys.json", "legacy-four-keys.expected.json"]
      ]
      for (const [input, expected] of cases) {
        const content = NodeFs.readFileSync(NodePath.join(fixtures, input))
        const id = JSON.parse(content.toString()).id as string
        write(`${id}.json`, content)
        const session = yield* store.load(id)
        yield* store.save(session)
        expect(NodeFs.readFileSync(file(id)).toString()).toBe(
          NodeFs.readFileSync(NodePath.join(fixtures, expected)).toString()
        )
      }
    }))

  it.effect("names the file and the JSON path when a session does not decode", () =>
    Effect.gen(function*() {
      const { store, write } = yield* setup
      const value = JSON.parse(NodeFs.readFileSync(NodePath.join(fixtures, "spec-example.json"), "utf8"))
      value.messages[3].content[0].type = "video"
      const path = write(`${value.id}.json`, JSON.stringify(value))
      const error = failure(yield* Effect.exit(store.load(value.id)))
      expect(error.reason).toBe("Corrupt")
      expect(error.message).toContain(path)
      expect(error.message).toContain("[\"messages\"][3][\"content\"][0]")
      const tail = failure(yield* Effect.exit(store.loadTail(value.id, 1)))
      expect(tail.reason).toBe("Corrupt") // the bad message is the last one: kept, so type-checked
      expect(tail.message).toContain("[\"messages\"][3][\"content\"][0]")
      const dropped = yield* store.loadTail(value.id, 0)
      expect(dropped.dropped).toBe(4)
    }))

  it.effect("skips corrupt, truncated, empty, binary and non-session .json files with one warning each", () =>
    Effect.gen(function*() {
      const { store, write, workspace, sessions } = yield* setup
      const good = Sessions.make({ directory: workspace })
      yield* store.save(good)
      const encoded = SessionJson.encodeToString(Sessions.make({ directory: workspace }))
      const bad: Record<string, string | Uint8Array> = {
        "truncated.json": encoded.slice(0, encoded.length / 2),
        "empty.json": "",
        "binary.json": Uint8Array.from([0, 159, 146, 150, 255, 1, 2, 3]),
        "other.json": "{\"name\":\"not a session\"}",
        "array.json": "[1,2,3]",
        "bom.json": `\uFEFF${encoded}`
      }
      for (const [name, content] of Object.entries(bad)) write(name, content, Date.now() / 1000 + 100)
      NodeFs.mkdirSync(NodePath.join(sessions, "dir.json"))
      write(".workspace_index.json", "{not json")
      write("notes.txt", "ignored: not a .json file")
      write("x.json.tmp", "ignored: a temp file")
      write(`.${good.id}.json.123.0123456789ab.tmp`, "ignored: a temp file")
      write(`${good.id}.json.lock`, "ignored: a lock file")
      const { value: list, logs } = yield* Logs.capture(store.list)
      expect(list.map((s) => s.id)).toEqual([good.id])
      const warnings = logs.filter((l) => l.level === "Warn")
      expect(warnings).toHaveLength(Object.keys(bad).length + 1)
      for (const name of [...Object.keys(bad), "dir.json"]) {
        expect(warnings.filter((w) => w.message.includes(NodePath.join(sessions, name)))).toHaveLength(1)
      }
      const { value: last, logs: resumeLogs } = yield* Logs.capture(store.lastForDirectory(workspace))
      expect(last.session.id).toBe(good.id)
      expect(resumeLogs.some((l) => l.message.includes("workspace index"))).toBe(true)
    }))

  it.effect("listing again sees every change since the last listing: saves by another store, a renamed-in file, an in-place rewrite, a deletion, a corrupted file", () =>
    Effect.gen(function*() {
      const { data, store, file, workspace } = yield* setup
      const other = yield* SessionStore.SessionStore.pipe(
        Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
      )
      const [a, b, c, d] = [1, 2, 3, 4].map((n) => Sessions.make({ directory: workspace, title: `session ${n}`, messages: n }))
      for (const session of [a!, b!, c!, d!]) yield* store.save(session)
      const summaries = (list: ReadonlyArray<{ readonly id: string; readonly title: string | null; readonly messageCount: number }>) =>
        Object.fromEntries(list.map((s) => [s.id, [s.title, s.messageCount]]))
      expect(summaries(yield* store.list)).toEqual({
        [a!.id]: ["session 1", 1], [b!.id]: ["session 2", 2], [c!.id]: ["session 3", 3], [d!.id]: ["session 4", 4]
      })
      // another writer (another process) saves a; 4.5.7 renames a new b into place; c is rewritten in place; d is deleted
      yield* other.save({ ...(yield* other.load(a!.id)), title: "renamed by the other writer" })
      const newB = Sessions.make({ id: b!.id, directory: workspace, title: "written by 4.5.7", messages: 7 })
      NodeFs.writeFileSync(`${file(b!.id)}.tmp`, SessionJson.encodeToString(newB))
      NodeFs.renameSync(`${file(b!.id)}.tmp`, file(b!.id))
      NodeFs.writeFileSync(file(c!.id), SessionJson.encodeToString(Sessions.make({ id: c!.id, directory: workspace, title: "rewritten", messages: 5 })))
      NodeFs.rmSync(file(d!.id))
      expect(summaries(yield* store.list)).toEqual({
        [a!.id]: ["renamed by the other writer", 1], [b!.id]: ["written by 4.5.7", 7], [c!.id]: ["rewritten", 5]
      })
      // a file that turns corrupt is skipped with a warning, not listed from memory
      NodeFs.writeFileSync(file(c!.id), "{\"id\":")
      const { value: list, logs } = yield* Logs.capture(store.list)
      expect(Object.keys(summaries(list)).sort()).toEqual([a!.id, b!.id].sort())
      expect(logs.filter((l) => l.level === "Warn" && l.message.includes(file(c!.id)))).toHaveLength(1)
    }))

  it.effect("a FIFO named *.json blocks neither listing nor resume", () =>
    Effect.gen(function*() {
      const { store, workspace, sessions } = yield* setup
      const good = Sessions.make({ directory: workspace })
      yield* store.save(good)
      const fifo = NodePath.join(sessions, "fifo.json")
      NodeChildProcess.execFileSync("mkfifo", [fifo])
      NodeFs.rmSync(NodePath.join(sessions, ".workspace_index.json"))
      const { value: list, logs } = yield* Logs.capture(store.list)
      expect(list.map((s) => s.id)).toEqual([good.id])
      expect(logs.filter((l) => l.level === "Warn" && l.message.includes(fifo))).toHaveLength(1)
      expect((yield* store.lastForDirectory(workspace)).session.id).toBe(good.id)
    }))

  it.effect("resume prefers a valid index entry, even when a newer file exists (4.5.7 quirk 12)", () =>
    Effect.gen(function*() {
      const { store, workspace, touch, index } = yield* setup
      const a = Sessions.make({ directory: workspace })
      const b = Sessions.make({ directory: workspace })
      yield* store.save(a)
      yield* store.save(b)
      expect(index().entries[workspace]).toBe(b.id)
      touch(a.id, Date.now() / 1000 + 1000) // a is now the newest file
      expect((yield* store.lastForDirectory(workspace)).session.id).toBe(b.id)
    }))

  it.effect("resume falls back to the newest matching file and repairs a stale or wrong index", () =>
    Effect.gen(function*() {
      const { store, workspace, touch, index, file, root } = yield* setup
      const a = Sessions.make({ directory: workspace })
      const b = Sessions.make({ directory: workspace })
      yield* store.save(a)
      yield* store.save(b)
      touch(a.id, 1000)
      touch(b.id, 2000)
      NodeFs.rmSync(file(b.id)) // the index now points at a deleted file
      const resumed = yield* store.lastForDirectory(workspace)
      expect(resumed.session.id).toBe(a.id)
      expect(index().entries[workspace]).toBe(a.id)
      const elsewhere = NodePath.join(root, "elsewhere")
      NodeFs.mkdirSync(elsewhere)
      const moved = resumed.session
      yield* store.save({ ...moved, metadata: { ...moved.metadata, directory: elsewhere } }) // a moved: index entry for ws is wrong
      const c = Sessions.make({ directory: workspace })
      yield* store.save(c)
      touch(c.id, 500)
      expect(index().entries[workspace]).toBe(c.id)
      expect((yield* store.lastForDirectory(workspace)).session.id).toBe(c.id)
    }))

  it.effect("the directory appearing in a newer session's messages, or as a prefix of another directory, is not a match", () =>
    Effect.gen(function*() {
      const { store, workspace, touch } = yield* setup
      const mine = Sessions.make({ directory: workspace })
      const mentions = Sessions.make({
        directory: `${workspace}-archive`,
        messages: [Message.text("user", `please look at ${workspace}/src and "directory":"${workspace}"`)]
      })
      yield* store.save(mine)
      yield* store.save(mentions)
      touch(mine.id, 1000)
      touch(mentions.id, 2000)
      NodeFs.rmSync(NodePath.join(NodePath.dirname(workspace), "data/sessions/.workspace_index.json"))
      expect((yield* store.lastForDirectory(workspace)).session.id).toBe(mine.id)
      expect((yield* store.lastForDirectory(`${workspace}-archive`)).session.id).toBe(mentions.id)
    }))

  it.effect("finds sessions of directories with quotes, backslashes and non-ASCII characters", () =>
    Effect.gen(function*() {
      const { store, root } = yield* setup
      const odd = NodePath.join(root, "we\"ird\\dir café 日本")
      NodeFs.mkdirSync(odd)
      const other = Sessions.make({ directory: root })
      const session = Sessions.make({ directory: odd })
      yield* store.save(session)
      yield* store.save(other)
      NodeFs.rmSync(NodePath.join(root, "data/sessions/.workspace_index.json"))
      expect((yield* store.lastForDirectory(odd)).session.id).toBe(session.id)
    }))

  it.effect("matches a session stored through a symlink (4.5.7 prefilter false negative, fixed)", () =>
    Effect.gen(function*() {
      const { store, workspace, root, sessions } = yield* setup
      const link = NodePath.join(root, "link-to-ws")
      NodeFs.symlinkSync(workspace, link)
      const viaLink = Sessions.make({ directory: link })
      const unrelated = Sessions.make({ directory: root })
      yield* store.save(viaLink)
      yield* store.save(unrelated)
      NodeFs.rmSync(NodePath.join(sessions, ".workspace_index.json"))
      expect((yield* store.lastForDirectory(workspace)).session.id).toBe(viaLink.id)
      expect((yield* store.lastForDirectory(link)).session.id).toBe(viaLink.id)
      expect((yield* store.listForDirectory(workspace)).map((s) => s.id)).toEqual([viaLink.id])
    }))

  it.effect("finds legacy-layout files (metadata after a long transcript) through the byte prefilter", () =>
    Effect.gen(function*() {
      const { store, workspace, write } = yield* setup
      const long = Array.from({ length: 400 }, (_, i) => ({ role: "user", content: [{ type: "text", text: `line ${i} `.repeat(20) }] }))
      const legacy = (id: string, directory: string) => JSON.stringify({
        id,
        title: null,
        created_at: "2026-01-01T00:00:00Z",
        updated_at: "2026-01-01T00:00:00Z",
        messages: long,
        tool_uses: [],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        agent: "build",
        metadata: { directory, model: null, shared: false, share_url: null }
      }, null, 2)
      write("legacy-mine.json", legacy("legacy-mine", workspace), 1000)
      write("legacy-other.json", legacy("legacy-other", "/somewhere/else"), 2000)
      const found = yield* store.lastForDirectory(workspace, { window: 3 })
      expect([found.session.id, found.dropped, found.session.messages.length]).toEqual(["legacy-mine", 397, 3])
    }))

  it.effect("skips a newer file whose header matches but whose body is corrupt, with a warning (4.5.7 bug 10, fixed)", () =>
    Effect.gen(function*() {
      const { store, workspace, write, touch, sessions } = yield* setup
      const good = Sessions.make({ directory: workspace })
      yield* store.save(good)
      touch(good.id, 1000)
      const broken = JSON.parse(SessionJson.encodeToString(Sessions.make({ directory: workspace })))
      broken.messages[0].content[0].type = "video"
      const brokenPath = write("broken.json", JSON.stringify(broken), 2000)
      const torn = SessionJson.encodeToString(Sessions.make({ directory: workspace, messages: 50 }))
      const tornPath = write("torn.json", torn.slice(0, torn.length - 40), 3000)
      NodeFs.rmSync(NodePath.join(sessions, ".workspace_index.json"))
      const { value, logs } = yield* Logs.capture(store.lastForDirectory(workspace))
      expect(value.session.id).toBe(good.id)
      expect(logs.filter((l) => l.message.includes(brokenPath))).toHaveLength(1)
      expect(logs.filter((l) => l.message.includes(tornPath))).toHaveLength(1)
    }))

  it.effect("a save through a sessions dir that was replaced by a symlink fails with Io and writes nothing", () =>
    Effect.gen(function*() {
      const { store, workspace, sessions, root } = yield* setup
      const saved = yield* store.save(Sessions.make({ directory: workspace }))
      const real = NodePath.join(root, "elsewhere")
      NodeFs.renameSync(sessions, real)
      NodeFs.symlinkSync(real, sessions) // planted by a repository: writes must not go through it
      const before = NodeFs.readFileSync(NodePath.join(real, `${saved.id}.json`))
      const error = failure(yield* Effect.exit(store.save({ ...saved, title: "new" })))
      expect(error.reason).toBe("Io")
      expect(error.message).toContain("is a symlink")
      expect(NodeFs.readFileSync(NodePath.join(real, `${saved.id}.json`)).equals(before)).toBe(true)
      expect(NodeFs.readdirSync(real).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock"))).toEqual([])
    }))

  it.live("an interrupted save removes its temp file and keeps the previous content", () =>
    Effect.gen(function*() {
      const { store, workspace, file, sessions } = yield* setup
      const big = Sessions.make({ directory: workspace, messages: [Message.text("user", "x".repeat(80 << 20))] })
      const small = { ...big, messages: [Message.text("user", "small")] }
      const saved = yield* store.save(small)
      const before = NodeFs.readFileSync(file(big.id))
      const temps = () => NodeFs.readdirSync(sessions).filter((n) => n.endsWith(".tmp"))
      const fiber = yield* Effect.forkChild(store.save({ ...saved, messages: big.messages }))
      while (temps().length === 0) yield* Effect.sleep("1 millis")
      expect(temps()[0]).toMatch(new RegExp(`^\\.${big.id}\\.json\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`))
      yield* Fiber.interrupt(fiber)
      expect(temps()).toEqual([])
      expect(NodeFs.existsSync(`${file(big.id)}.lock`)).toBe(false)
      expect(NodeFs.readFileSync(file(big.id)).equals(before)).toBe(true)
    }))

  it.effect("saveStream writes the bytes save writes, and leaves no temp file when its stream fails", () =>
    Effect.gen(function*() {
      const { store, workspace, file, sessions } = yield* setup
      const session = Sessions.make({ directory: workspace, messages: 200 })
      yield* store.save(session)
      const saved = NodeFs.readFileSync(file(session.id))
      NodeFs.rmSync(file(session.id))
      const streamed = yield* store.saveStream({ ...session, messages: [] }, Stream.fromIterable(session.messages))
      expect(NodeFs.readFileSync(file(session.id)).equals(saved)).toBe(true)
      const exit = yield* Effect.exit(
        store.saveStream(streamed, Stream.concat(Stream.fromIterable(session.messages), Stream.fail("boom")))
      )
      expect(failure(exit)).toBe("boom")
      expect(NodeFs.readFileSync(file(session.id)).equals(saved)).toBe(true)
      expect(NodeFs.readdirSync(sessions).filter((n) => n.endsWith(".tmp"))).toEqual([])
    }))

  it.effect("concurrent saves of one new session leave no lock or temp file (the outcome is in the contract suite)", () =>
    Effect.gen(function*() {
      const { store, workspace, file, sessions } = yield* setup
      const base = Sessions.make({ directory: workspace })
      yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => ({ ...base, title: `v${i}` })),
        (v) => Effect.exit(store.save(v)),
        { concurrency: "unbounded" }
      )
      expect((yield* store.load(base.id)).title).toMatch(/^v\d+$/)
      expect(NodeFs.existsSync(`${file(base.id)}.lock`)).toBe(false)
      expect(NodeFs.readdirSync(sessions).filter((n) => n.endsWith(".tmp"))).toEqual([])
    }))

  it.effect("an index write failure never fails a save", () =>
    Effect.gen(function*() {
      const { store, workspace, sessions } = yield* setup
      yield* store.save(Sessions.make({ directory: workspace }))
      const indexPath = NodePath.join(sessions, ".workspace_index.json")
      NodeFs.rmSync(indexPath)
      NodeFs.mkdirSync(indexPath) // a directory where the index should be: its rename fails
      const other = NodePath.join(workspace, "sub")
      NodeFs.mkdirSync(other)
      const { logs } = yield* Logs.capture(store.save(Sessions.make({ directory: other })))
      expect(logs.some((l) => l.level === "Warn" && l.message.includes("workspace index"))).toBe(true)
    }))
})
