/**
 * The file store against other writers and a data dir a repository controls:
 * lock files (format, stale and foreign holders), the file name as identity,
 * symlinks and FIFOs planted in the data dir, and the sweep of dead writers'
 * temporary files.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Effect, Exit, Layer, Option } from "effect"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import { removeStaleTemps } from "../../services/internal/AtomicWrite.ts"
import * as Logs from "../utils/Logs.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

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
  return { root, data, sessions, workspace, store, file }
})

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") throw new Error(`expected a typed failure: ${String(exit.cause)}`)
  return reason.error
}

/** The pid of a process that has exited. */
const deadPid = (): number => {
  const child = NodeChild.spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"])
  return Number(child.stdout.toString())
}

const lockJson = (fields: Record<string, unknown>) =>
  JSON.stringify({ started_at: "2026-11-30T18:02:11.000Z", purpose: "prompt", token: "t-1", ...fields })

describe("SessionStore.layerFileSystem: leases, identity and a hostile data dir", () => {
  it.effect("a lease is <id>.json.lock (0600, the holder as JSON), never listed, removed when released", () =>
    Effect.gen(function*() {
      const { store, file, workspace } = yield* setup
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lease(session)
        const lock = `${file(session.id)}.lock`
        expect(NodeFs.statSync(lock).mode & 0o777).toBe(0o600)
        const holder = JSON.parse(NodeFs.readFileSync(lock, "utf8"))
        expect(holder).toMatchObject({ pid: process.pid, host: NodeOs.hostname(), purpose: "prompt" })
        expect(typeof holder.token).toBe("string")
        expect(Number.isNaN(Date.parse(holder.started_at))).toBe(false)
        expect((yield* store.list).map((s) => s.id)).toEqual([session.id])
      }))
      expect(NodeFs.existsSync(`${file(session.id)}.lock`)).toBe(false)
    }))

  it.effect("a lock left by a killed process, or by a reused pid, is taken over", () =>
    Effect.gen(function*() {
      const { store, file, workspace } = yield* setup
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      const lock = `${file(session.id)}.lock`
      NodeFs.writeFileSync(lock, lockJson({ pid: deadPid(), host: NodeOs.hostname() }))
      yield* Effect.scoped(Effect.flatMap(store.lease(session), (lease) => lease.save(session)))
      // a live pid, but not the process that wrote the lock (another start time): stale too
      NodeFs.writeFileSync(lock, lockJson({ pid: process.ppid, host: NodeOs.hostname(), process_start: "1" }))
      const saved = yield* store.save(yield* store.load(session.id))
      expect(saved.id).toBe(session.id)
      // garbage where a lock should be: a repository can commit anything there
      NodeFs.writeFileSync(lock, "not a lock")
      yield* store.delete(session.id)
      expect(NodeFs.existsSync(file(session.id))).toBe(false)
      expect(NodeFs.existsSync(lock)).toBe(false)
    }))

  it.effect("holder reads the lock file: none for a gone holder or garbage, the holder for a live one of another host", () =>
    Effect.gen(function*() {
      const { store, file, workspace } = yield* setup
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      const lock = `${file(session.id)}.lock`
      NodeFs.writeFileSync(lock, lockJson({ pid: deadPid(), host: NodeOs.hostname() }))
      expect(yield* store.holder(session.id)).toEqual(Option.none())
      NodeFs.writeFileSync(lock, lockJson({ pid: process.ppid, host: NodeOs.hostname(), process_start: "1" }))
      expect(yield* store.holder(session.id)).toEqual(Option.none())
      NodeFs.writeFileSync(lock, "not a lock")
      expect(yield* store.holder(session.id)).toEqual(Option.none())
      NodeFs.writeFileSync(lock, lockJson({ pid: 4242, host: "build-7.example", started_at: "2026-11-30T18:02:11.000Z" }))
      expect(yield* store.holder(session.id)).toEqual(
        Option.some({ pid: 4242, host: "build-7.example", startedAt: "2026-11-30T18:02:11.000Z", purpose: "prompt" })
      )
      // a live process of this host (the parent, with its real start time) holding a short save
      NodeFs.writeFileSync(lock, lockJson({ pid: process.ppid, host: NodeOs.hostname(), purpose: "save" }))
      expect(Option.getOrThrow(yield* store.holder(session.id))).toMatchObject({ pid: process.ppid, purpose: "save" })
      // reading touched nothing
      expect(JSON.parse(NodeFs.readFileSync(lock, "utf8")).purpose).toBe("save")
      NodeFs.rmSync(lock)
    }))

  it.effect("a lock of another host is never taken over silently; force takes it with a warning", () =>
    Effect.gen(function*() {
      const { store, file, workspace } = yield* setup
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      const lock = `${file(session.id)}.lock`
      NodeFs.writeFileSync(lock, lockJson({ pid: deadPid(), host: "build-7.example" }))
      const busy = failure(yield* Effect.exit(Effect.scoped(store.lease(session))))
      expect(busy).toBeInstanceOf(SessionStore.SessionBusy)
      expect((busy as SessionStore.SessionBusy).message).toMatch(
        new RegExp(`^session ${session.id} is busy: a prompt started by pid \\d+ on host build-7\\.example at .+ is running$`)
      )
      expect(failure(yield* Effect.exit(store.delete(session.id)))).toBeInstanceOf(SessionStore.SessionBusy)
      const { logs } = yield* Logs.capture(Effect.scoped(store.lease(session, { force: true })))
      expect(logs.filter((l) => l.level === "Warn" && l.message.includes("build-7.example") && l.message.includes("--force")))
        .toHaveLength(1)
      expect(NodeFs.existsSync(lock)).toBe(false)
    }))

  it.effect("the file name is the identity: a copy such as backup.json is never loaded, listed or resumed", () =>
    Effect.gen(function*() {
      const { store, file, sessions, workspace } = yield* setup
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      const backup = NodePath.join(sessions, "backup.json")
      NodeFs.copyFileSync(file(session.id), backup)
      const later = Date.now() / 1000 + 1000
      NodeFs.utimesSync(backup, later, later) // the copy is the newest file
      const error = failure(yield* Effect.exit(store.load("backup"))) as SessionStore.SessionStoreError
      expect(error.reason).toBe("IdMismatch")
      expect(error.message).toContain(backup)
      expect(error.message).toContain(session.id)
      expect(failure(yield* Effect.exit(store.loadTail("backup", 1)))).toMatchObject({ reason: "IdMismatch" })
      const { value: list, logs } = yield* Logs.capture(store.list)
      expect(list.map((s) => s.id)).toEqual([session.id])
      expect(logs.filter((l) => l.level === "Warn" && l.message.includes(backup))).toHaveLength(1)
      NodeFs.rmSync(NodePath.join(sessions, ".workspace_index.json"))
      const { value: last } = yield* Logs.capture(store.lastForDirectory(workspace))
      expect(last.session.id).toBe(session.id)
      // an index entry that points at the copy is not trusted either
      NodeFs.writeFileSync(
        NodePath.join(sessions, ".workspace_index.json"),
        JSON.stringify({ entries: { [workspace]: "backup" } })
      )
      expect((yield* Logs.capture(store.lastForDirectory(workspace))).value.session.id).toBe(session.id)
    }))

  it.effect("symlinked sessions and index are read only when they point inside the data dir", () =>
    Effect.gen(function*() {
      const { store, file, sessions, workspace, root, data } = yield* setup
      const inside = yield* store.save(Sessions.make({ directory: workspace }))
      const outsideSession = Sessions.make({ directory: workspace })
      const outside = NodePath.join(root, "outside")
      NodeFs.mkdirSync(outside)
      // a session file outside the data dir, linked in by a repository
      const elsewhere = yield* store.save(outsideSession)
      // listed once as regular files: the store keeps their summaries, and a rename keeps a
      // file's revision, so the links below must not be answered from that cache
      expect((yield* store.list).map((s) => s.id).sort()).toEqual([inside.id, elsewhere.id].sort())
      NodeFs.renameSync(file(elsewhere.id), NodePath.join(outside, `${elsewhere.id}.json`))
      NodeFs.symlinkSync(NodePath.join(outside, `${elsewhere.id}.json`), file(elsewhere.id))
      // a session linked from another place inside the data dir
      const archive = NodePath.join(data, "archive")
      NodeFs.mkdirSync(archive)
      NodeFs.renameSync(file(inside.id), NodePath.join(archive, `${inside.id}.json`))
      NodeFs.symlinkSync(NodePath.join(archive, `${inside.id}.json`), file(inside.id))
      const { value: list, logs } = yield* Logs.capture(store.list)
      expect(list.map((s) => s.id)).toEqual([inside.id])
      expect(logs.filter((l) => l.message.includes(file(elsewhere.id)) && l.message.includes("outside"))).toHaveLength(1)
      expect(failure(yield* Effect.exit(store.load(elsewhere.id)))).toMatchObject({ reason: "Io" })
      expect((yield* store.load(inside.id)).id).toBe(inside.id)
      // the index: a symlink out of the data dir is ignored with a warning
      const index = NodePath.join(sessions, ".workspace_index.json")
      NodeFs.writeFileSync(NodePath.join(outside, "index.json"), JSON.stringify({ entries: { [workspace]: elsewhere.id } }))
      NodeFs.rmSync(index)
      NodeFs.symlinkSync(NodePath.join(outside, "index.json"), index)
      const resumed = yield* Logs.capture(store.lastForDirectory(workspace))
      expect(resumed.value.session.id).toBe(inside.id)
      expect(resumed.logs.some((l) => l.message.includes("ignoring the workspace index") && l.message.includes("outside")))
        .toBe(true)
    }))

  it.effect("an index that is /dev/zero or a FIFO is skipped with a warning, never read", () =>
    Effect.gen(function*() {
      const { store, sessions, workspace } = yield* setup
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      const index = NodePath.join(sessions, ".workspace_index.json")
      NodeFs.rmSync(index)
      NodeFs.symlinkSync("/dev/zero", index)
      const zero = yield* Logs.capture(store.lastForDirectory(workspace))
      expect(zero.value.session.id).toBe(session.id)
      expect(zero.logs.some((l) => l.message.includes("ignoring the workspace index"))).toBe(true)
      NodeFs.rmSync(index)
      NodeChild.execFileSync("mkfifo", [index])
      const fifo = yield* Logs.capture(store.lastForDirectory(workspace))
      expect(fifo.value.session.id).toBe(session.id)
      expect(fifo.logs.some((l) => l.message.includes("FIFO"))).toBe(true)
    }))

  it.effect("a symlink planted at a temp-file name is never written through (the ~/.bashrc reproduction)", () =>
    Effect.gen(function*() {
      const { store, sessions, workspace, root } = yield* setup
      const victim = NodePath.join(root, "bashrc")
      NodeFs.writeFileSync(victim, "export PATH=...\n")
      NodeFs.chmodSync(victim, 0o644)
      NodeFs.mkdirSync(sessions, { recursive: true })
      NodeFs.symlinkSync(victim, NodePath.join(sessions, ".workspace_index.json.tmp"))
      const session = yield* store.save(Sessions.make({ directory: workspace }))
      yield* store.save({ ...session, title: "again" })
      expect(NodeFs.readFileSync(victim, "utf8")).toBe("export PATH=...\n")
      expect(NodeFs.statSync(victim).mode & 0o777).toBe(0o644)
      expect(JSON.parse(NodeFs.readFileSync(NodePath.join(sessions, ".workspace_index.json"), "utf8")).entries[workspace])
        .toBe(session.id)
    }))

  it.effect("the durable sink never appends through a symlink planted at events/<id>.jsonl", () =>
    Effect.gen(function*() {
      const { data, root } = yield* setup
      const victim = NodePath.join(root, "bashrc")
      NodeFs.writeFileSync(victim, "original\n")
      const events = NodePath.join(data, "events")
      NodeFs.mkdirSync(events, { recursive: true })
      const id = "00000000-0000-4000-8000-00000000beef"
      NodeFs.symlinkSync(victim, NodePath.join(events, `${id}.jsonl`))
      const sink = DurableSink.makeJsonl(events)
      const event = SessionEvent.make.tokenUsage({ source: "root", model: "m", promptTokens: 1, completionTokens: 1, durationMs: 1 })
      const error = failure(yield* Effect.exit(sink.write(id, event)))
      expect(error.reason).toBe("Io")
      expect(NodeFs.readFileSync(victim, "utf8")).toBe("original\n")
      // and a symlinked events directory is not written through either
      NodeFs.rmSync(events, { recursive: true })
      const elsewhere = NodePath.join(root, "elsewhere")
      NodeFs.mkdirSync(elsewhere)
      NodeFs.symlinkSync(elsewhere, events)
      expect(failure(yield* Effect.exit(sink.write(id, event))).message).toContain("symlink")
      expect(NodeFs.readdirSync(elsewhere)).toEqual([])
    }))

  it.effect("temp files of dead writers are swept once an hour old; young ones and live writers' are kept", () =>
    Effect.gen(function*() {
      const { sessions } = yield* setup
      NodeFs.mkdirSync(sessions, { recursive: true })
      const dead = deadPid()
      const names = {
        oldDead: `.a.json.${dead}.0123456789ab.tmp`,
        youngDead: `.b.json.${dead}.0123456789ab.tmp`,
        oldLive: `.c.json.${process.ppid}.0123456789ab.tmp`,
        notOurs: `.d.json.tmp`
      }
      for (const name of Object.values(names)) NodeFs.writeFileSync(NodePath.join(sessions, name), "partial")
      const old = Date.now() / 1000 - 2 * 3600
      for (const name of [names.oldDead, names.oldLive, names.notOurs]) {
        NodeFs.utimesSync(NodePath.join(sessions, name), old, old)
      }
      expect(removeStaleTemps(sessions)).toBe(1)
      expect(NodeFs.readdirSync(sessions).sort()).toEqual([names.youngDead, names.oldLive, names.notOurs].sort())
    }))
})
