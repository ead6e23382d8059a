/**
 * What is particular to the PostgreSQL store (the contract itself runs in
 * SessionStore.test.ts): the rows hold the file store's exact bytes, appends
 * write only the new rows, leases are visible to other "machines" (other
 * pools) and die with their holder, a lost connection is retried and ends in
 * a recovery file, a newer schema is refused and an older one upgraded, the
 * trash moves rows unchanged, an unreachable server is one line without the
 * password.
 */
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted, Result, Schema } from "effect"
import * as Migrator from "effect/sql/Migrator"
import * as SqlClient from "effect/sql/SqlClient"
import * as Message from "../../schemas/Message.ts"
import * as Session from "../../schemas/Session.ts"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as SessionSummary from "../../schemas/SessionSummary.ts"
import * as CodetetherConfig from "../../services/CodetetherConfig.ts"
import * as DurableSink from "../../services/DurableSink.ts"
import * as PostgresSchema from "../../services/internal/Postgres.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"
import * as SessionBus from "../../services/SessionBus.ts"
import * as SessionLoop from "../../services/SessionLoop.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as SessionStorePostgres from "../../services/SessionStorePostgres.ts"
import * as SystemPrompt from "../../services/SystemPrompt.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import * as Logs from "../utils/Logs.ts"
import * as Postgres from "../utils/Postgres.ts"
import { statements } from "../utils/Postgres.ts"
import * as Scripted from "../utils/ScriptedProvider.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TcpProxy from "../utils/TcpProxy.ts"
import * as TempDir from "../utils/TempDir.ts"
import { failure, plain } from "./contracts/SessionStoreContract.ts"

const fresh = Effect.promise(() => Postgres.database())

interface RowVersion {
  readonly seq: number
  readonly xmin: string
  readonly bytes: Uint8Array
}

const rowsOf = (url: string, table: "codetether_messages" | "codetether_tool_uses", id: string) =>
  Effect.gen(function*() {
    const sql = yield* Postgres.client(url)
    return yield* sql<RowVersion>`SELECT seq, xmin::text AS xmin, bytes FROM ${sql(table)} WHERE session_id = ${id} ORDER BY seq`.pipe(
      Effect.orDie
    )
  })

const port = (url: string) => Number(new URL(url).port)

describe("SessionStore.layerPostgres", () => {
  it.effect("the rows hold the file store's exact bytes: the header, one row per message and tool use", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { db, store } = yield* Postgres.store(url)
      const session = Sessions.make({ messages: 7, toolUses: 3, title: "with \u0000 NUL" })
      yield* store.save(session)
      const bytes = yield* SessionStorePostgres.storedBytes(db, session.id)
      expect(Buffer.from(bytes!).equals(Buffer.from(SessionJson.encode(session)))).toBe(true)
      const messages = yield* rowsOf(url, "codetether_messages", session.id)
      expect(messages.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6])
      messages.forEach((row, i) => expect(Buffer.from(row.bytes).equals(Buffer.from(SessionJson.encodeMessageBytes(session.messages[i]!)))).toBe(true))
      const toolUses = yield* rowsOf(url, "codetether_tool_uses", session.id)
      expect(toolUses).toHaveLength(3)
      const sql = yield* Postgres.client(url)
      const [header] = yield* sql<{ title: string; message_count: number; revision: string }>`
        SELECT title, message_count, revision::text AS revision FROM codetether_sessions WHERE id = ${session.id}`.pipe(Effect.orDie)
      expect(header).toMatchObject({ title: "with \uFFFD NUL", message_count: 7 })
      expect(Session.revisionOf(yield* store.load(session.id))).toBe(header!.revision)
    }))

  it.effect("a save after appending writes only the new rows; a compaction rewrites from the first changed message", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { store } = yield* Postgres.store(url)
      let session = yield* store.save(Sessions.make({ messages: 50 }))
      const before = yield* rowsOf(url, "codetether_messages", session.id)
      session = yield* store.save(Session.addMessage(session, Message.text("user", "one more"), Sessions.at(100)))
      const after = yield* rowsOf(url, "codetether_messages", session.id)
      expect(after).toHaveLength(51)
      // the 50 stored rows are the same row versions (same writing transaction), only row 50 is new
      expect(after.slice(0, 50).map((r) => r.xmin)).toEqual(before.map((r) => r.xmin))
      expect(after[50]!.xmin).not.toBe(before[0]!.xmin)
      // a value loaded by another store instance (another machine) appends the same way
      const other = yield* Postgres.store(url)
      const loaded = yield* other.store.load(session.id)
      yield* other.store.save(Session.addMessage(loaded, Message.text("user", "from elsewhere"), Sessions.at(200)))
      const third = yield* rowsOf(url, "codetether_messages", session.id)
      expect(third.slice(0, 51).map((r) => r.xmin)).toEqual(after.map((r) => r.xmin))
      // compaction: message 40 changes, rows 0..39 stay, 40.. are rewritten
      const current = yield* store.load(session.id)
      const compacted = {
        ...current,
        messages: [...current.messages.slice(0, 40), Message.text("assistant", "summary"), ...current.messages.slice(-2)]
      }
      yield* store.save(compacted)
      const rewritten = yield* rowsOf(url, "codetether_messages", session.id)
      expect(rewritten).toHaveLength(43)
      expect(rewritten.slice(0, 40).map((r) => r.xmin)).toEqual(third.slice(0, 40).map((r) => r.xmin))
      expect(rewritten[40]!.xmin).not.toBe(third[40]!.xmin)
      expect(SessionJson.encode(yield* other.store.load(session.id))).toEqual(SessionJson.encode(compacted))
    }))

  it.effect("an append is one statement (one round trip); a rewrite is a transaction of several", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { store } = yield* Postgres.store(url)
      const saved = yield* store.save(Sessions.make({ messages: 20, toolUses: 1 }))
      yield* Effect.scoped(Effect.gen(function*() {
        const lease = yield* store.lease(saved)
        const appended = Session.addMessage(saved, Message.text("user", "one more"), Sessions.at(100))
        const first = yield* statements(lease.save({ ...appended, toolUses: [...appended.toolUses, { ...appended.toolUses[0]!, id: "t2" }] }))
        expect(first.count).toBe(1)
        const second = yield* statements(store.save(first.value).pipe(Effect.exit))
        expect(second.count).toBeGreaterThan(1) // refused (busy): the full transaction says why
        const compacted = { ...first.value, messages: [Message.text("assistant", "summary"), ...first.value.messages.slice(-3)] }
        const third = yield* statements(lease.save(compacted))
        expect(third.count).toBeGreaterThan(1)
        expect(SessionJson.encode(yield* store.load(saved.id))).toEqual(SessionJson.encode(compacted))
      }))
      // a plain save after a load (this store knows the stored state) appends in one statement too
      const loaded = yield* store.load(saved.id)
      const plainSave = yield* statements(store.save(Session.addMessage(loaded, Message.text("user", "again"), Sessions.at(200))))
      expect(plainSave.count).toBe(1)
    }))

  it.effect("trash moves the rows unchanged (exact bytes, revision kept); restore puts them back; copies of one id coexist", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { db, store } = yield* Postgres.store(url)
      const sql = yield* Postgres.client(url)
      const session = Sessions.make({ messages: 6, toolUses: 2, title: "with \u0000 NUL and \u2028" })
      const saved = yield* store.save(session)
      const bytes = Buffer.from((yield* SessionStorePostgres.storedBytes(db, session.id))!)
      const rows = yield* rowsOf(url, "codetether_messages", session.id)
      expect(yield* store.trash(session.id)).toBe(true)
      // nothing of it is left among the live rows
      expect(yield* SessionStorePostgres.storedBytes(db, session.id)).toBeUndefined()
      expect(yield* rowsOf(url, "codetether_messages", session.id)).toEqual([])
      const trashed = yield* sql<{ seq: number; bytes: Uint8Array }>`
        SELECT m.seq, m.bytes FROM codetether_trash_messages m JOIN codetether_trash t USING (trash_id)
        WHERE t.session_id = ${session.id} ORDER BY m.seq`.pipe(Effect.orDie)
      expect(trashed.map((r) => Buffer.from(r.bytes))).toEqual(rows.map((r) => Buffer.from(r.bytes)))
      // a new session with that id, trashed too: two copies, newest first
      const second = yield* store.save(Sessions.make({ id: session.id, title: "second" }))
      yield* store.trash(second.id)
      expect((yield* store.listTrash).map((t) => t.summary?.title)).toEqual(["second", session.title])
      const tools = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM codetether_trash_tool_uses`.pipe(Effect.orDie)
      expect(tools).toEqual([{ n: 2 }])
      // restore takes the newest; with that one gone for good, the first comes back byte for byte, same revision
      yield* store.restore(session.id)
      yield* store.delete(session.id)
      yield* store.restore(session.id)
      expect(Buffer.from((yield* SessionStorePostgres.storedBytes(db, session.id))!).equals(bytes)).toBe(true)
      expect(Session.revisionOf(yield* store.load(session.id))).toBe(Session.revisionOf(saved))
      expect((yield* rowsOf(url, "codetether_messages", session.id)).map((r) => Buffer.from(r.bytes)))
        .toEqual(rows.map((r) => Buffer.from(r.bytes)))
      // purge removes the rows with their entries
      yield* store.trash(session.id)
      expect((yield* store.purge({ id: session.id })).map((p) => p.id)).toEqual([session.id])
      expect(yield* store.listTrash).toEqual([])
      expect(yield* sql`SELECT * FROM codetether_trash_messages`.pipe(Effect.orDie)).toEqual([])
    }))

  it.effect("a restored session is the trashed state: its bytes, its revision, one-statement appends from another pool", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const a = yield* Postgres.store(url)
      const b = yield* Postgres.store(url)
      const saved = yield* a.store.save(Sessions.make({ messages: 5, toolUses: 1 }))
      const before = Buffer.from((yield* SessionStorePostgres.storedBytes(a.db, saved.id))!)
      const loadedByB = yield* b.store.load(saved.id)
      yield* a.store.trash(saved.id)
      // b sees the trash of a (one store for every machine)
      expect((yield* b.store.listTrash).map((t) => t.id)).toEqual([saved.id])
      expect(failure(yield* Effect.exit(b.store.save({ ...loadedByB, title: "late" })))).toMatchObject({ reason: "Deleted" })
      const entry = yield* b.store.restore(saved.id)
      expect(entry.summary).toEqual({ ...SessionSummary.fromSession(plain(saved)) })
      expect(Buffer.from((yield* SessionStorePostgres.storedBytes(a.db, saved.id))!).equals(before)).toBe(true)
      expect(Session.revisionOf(yield* a.store.load(saved.id))).toBe(Session.revisionOf(saved))
      // the value b loaded before the trash is current again: it appends, in one statement
      const appended = yield* statements(b.store.save(Session.addMessage(loadedByB, Message.text("user", "after restore"), Sessions.at(500))))
      expect(appended.count).toBe(1)
      expect(plain(yield* a.store.load(saved.id))).toEqual(plain(appended.value))
    }))

  it.effect("trash and restore from another machine are refused while a lease is held, naming the holder", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const a = yield* Postgres.store(url)
      const b = yield* Postgres.store(url)
      const session = yield* a.store.save(Sessions.make())
      const trashedOne = yield* a.store.save(Sessions.make({ title: "in the trash" }))
      yield* a.store.trash(trashedOne.id)
      yield* Effect.scoped(Effect.gen(function*() {
        const lease = yield* a.store.lease(session)
        const refused = failure(yield* Effect.exit(b.store.trash(session.id)))
        expect(refused).toMatchObject({ _tag: "SessionBusy", holder: lease.holder })
        // a lease on a new session with a trashed id holds restores of that id off
        yield* Effect.scoped(Effect.gen(function*() {
          yield* a.store.lease(Sessions.make({ id: trashedOne.id }))
          expect(failure(yield* Effect.exit(b.store.restore(trashedOne.id)))).toMatchObject({ _tag: "SessionBusy" })
        }))
        // forced from the other machine: the holder's next save is LeaseLost
        const logs = yield* Logs.capture(b.store.trash(session.id, { force: true }))
        expect(logs.value).toBe(true)
        expect(logs.logs.map((l) => l.message).join("\n")).toContain("trashing it anyway (--force)")
        expect(failure(yield* Effect.exit(lease.save({ ...session, title: "lost" })))).toMatchObject({ reason: "LeaseLost" })
      }))
      expect((yield* a.store.restore(trashedOne.id)).id).toBe(trashedOne.id)
      const sql = yield* Postgres.client(url)
      expect(yield* sql`SELECT * FROM codetether_leases`.pipe(Effect.orDie)).toEqual([])
    }))

  it.effect("a lease is visible to another machine (another pool), names its holder, and is released with its scope", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const a = yield* Postgres.store(url)
      const b = yield* Postgres.store(url)
      const session = yield* a.store.save(Sessions.make())
      yield* Effect.scoped(Effect.gen(function*() {
        const lease = yield* a.store.lease(session)
        const refused = failure(yield* Effect.exit(Effect.scoped(b.store.lease(yield* b.store.load(session.id)))))
        expect(refused).toBeInstanceOf(SessionStore.SessionBusy)
        expect((refused as SessionStore.SessionBusy).holder).toEqual(lease.holder)
        expect((refused as SessionStore.SessionBusy).message).toMatch(
          new RegExp(`^session ${session.id} is busy: a prompt started by pid ${process.pid} at \\d\\d:\\d\\d:\\d\\d is running$`)
        )
        expect(failure(yield* Effect.exit(b.store.save({ ...session, title: "b" })))).toMatchObject({ _tag: "SessionBusy" })
        expect(failure(yield* Effect.exit(b.store.delete(session.id)))).toMatchObject({ _tag: "SessionBusy" })
        yield* lease.save({ ...session, title: "a under lease" })
      }))
      const loaded = yield* b.store.load(session.id)
      expect(loaded.title).toBe("a under lease")
      yield* Effect.scoped(b.store.lease(loaded))
      const sql = yield* Postgres.client(url)
      expect(yield* sql`SELECT * FROM codetether_leases`.pipe(Effect.orDie)).toEqual([])
    }))

  it.live("a holder that dies (SIGKILL) releases the lease at once; its stale row is replaced", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { store } = yield* Postgres.store(url)
      const session = yield* store.save(Sessions.make())
      const child = NodeChild.spawn(process.execPath, [NodePath.join(import.meta.dirname, "../utils/child/hold-lease.ts"), url, session.id], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
      yield* Effect.promise(() =>
        new Promise<void>((resolve, reject) => {
          child.stdout.on("data", (d: Buffer) => d.toString().includes("held") && resolve())
          child.on("exit", (code) => reject(new Error(`the holder exited (${code}): ${stderr}`)))
        })
      )
      const busy = failure(yield* Effect.exit(Effect.scoped(store.lease(session))))
      expect(busy).toMatchObject({ _tag: "SessionBusy", holder: { pid: child.pid, purpose: "prompt" } })
      const exited = new Promise((resolve) => child.on("exit", resolve))
      child.kill("SIGKILL")
      yield* Effect.promise(() => exited)
      // the server sees the socket close and frees the lock; the row it left is stale
      let lease: SessionStore.Lease | undefined
      for (let i = 0; i < 100 && lease === undefined; i++) {
        const taken = yield* Effect.exit(Effect.scoped(Effect.map(store.lease(session), (l) => l)))
        if (taken._tag === "Success") lease = taken.value
        else yield* Effect.sleep("50 millis")
      }
      expect(lease?.holder.pid).toBe(process.pid)
      const sql = yield* Postgres.client(url)
      expect(yield* sql`SELECT * FROM codetether_leases`.pipe(Effect.orDie)).toEqual([]) // released with its scope
    }), 30_000)

  it.effect("a forced takeover from another machine ends the holder's connection; the holder's next save is LeaseLost", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const a = yield* Postgres.store(url)
      const b = yield* Postgres.store(url)
      const session = yield* a.store.save(Sessions.make())
      yield* Effect.scoped(Effect.gen(function*() {
        const first = yield* a.store.lease(session)
        const { logs } = yield* Logs.capture(Effect.gen(function*() {
          const second = yield* b.store.lease(yield* b.store.load(session.id), { force: true })
          yield* second.save({ ...session, title: "forced" })
        }))
        expect(logs.some((l) => l.level === "Warn" && l.message.includes("taking it over (--force)"))).toBe(true)
        expect(failure(yield* Effect.exit(first.save({ ...session, title: "first" })))).toMatchObject({
          _tag: "SessionConflict",
          reason: "LeaseLost"
        })
      }))
      expect((yield* a.store.load(session.id)).title).toBe("forced")
    }))

  it.effect("a lease whose connection dropped reconnects and keeps saving (its token is still in the row)", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { store } = yield* Postgres.store(url)
      const other = yield* Postgres.store(url)
      const session = yield* store.save(Sessions.make())
      const sql = yield* Postgres.client(url)
      yield* Effect.scoped(Effect.gen(function*() {
        const lease = yield* store.lease(session)
        const [row] = yield* sql<{ backend_pid: number }>`SELECT backend_pid FROM codetether_leases`.pipe(Effect.orDie)
        yield* sql`SELECT pg_terminate_backend(${row!.backend_pid})`.pipe(Effect.orDie)
        const { logs } = yield* Logs.capture(lease.save({ ...session, title: "after the drop" }))
        expect(logs.some((l) => l.level === "Warn" && l.message.includes("retrying"))).toBe(true)
        const [moved] = yield* sql<{ backend_pid: number }>`SELECT backend_pid FROM codetether_leases`.pipe(Effect.orDie)
        expect(moved!.backend_pid).not.toBe(row!.backend_pid)
        // still exclusive for everyone else
        expect(failure(yield* Effect.exit(other.store.save({ ...session, title: "x" })))).toMatchObject({ _tag: "SessionBusy" })
      }))
      expect((yield* store.load(session.id)).title).toBe("after the drop")
    }))

  it.effect("a lease's connection serves the next lease; one that died while idle is replaced", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { store } = yield* Postgres.store(url)
      const session = yield* store.save(Sessions.make())
      const sql = yield* Postgres.client(url)
      const backendOf = Effect.map(
        sql<{ backend_pid: number }>`SELECT backend_pid FROM codetether_leases`.pipe(Effect.orDie),
        (rows) => rows[0]!.backend_pid
      )
      const first = yield* Effect.scoped(Effect.andThen(store.lease(session), backendOf))
      const second = yield* Effect.scoped(Effect.andThen(store.lease(session), backendOf))
      expect(second).toBe(first)
      // the idle connection dies (a server restart, a proxy timeout): the next lease opens another
      yield* sql`SELECT pg_terminate_backend(${first})`.pipe(Effect.orDie)
      const third = yield* Effect.scoped(Effect.gen(function*() {
        const lease = yield* store.lease(session)
        yield* lease.save({ ...session, title: "third" })
        return yield* backendOf
      }))
      expect(third).not.toBe(first)
      expect((yield* store.load(session.id)).title).toBe("third")
    }))

  it.effect("a save retries while the connection is lost, and succeeds once it is back", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const proxy = yield* TcpProxy.make({ host: "127.0.0.1", port: port(url) })
      const proxied = url.replace(`:${port(url)}/`, `:${proxy.port}/`)
      const { store } = yield* Postgres.store(proxied, { retryMs: 10_000 })
      const session = yield* store.save(Sessions.make())
      proxy.cut()
      setTimeout(proxy.restore, 600)
      const saved = yield* store.save(Session.setTitle(session, "after the outage", Sessions.at(500)))
      expect((yield* store.load(session.id)).title).toBe("after the outage")
      expect(Session.revisionOf(saved)).toBe(Session.revisionOf(yield* store.load(session.id)))
    }).pipe(Logs.capture))

  it.effect("connection lost mid-prompt: retried, then the prompt ends with an error and the session is in recovery/", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const dir = yield* TempDir.make()
      const proxy = yield* TcpProxy.make({ host: "127.0.0.1", port: port(url) })
      const proxied = url.replace(`:${port(url)}/`, `:${proxy.port}/`)
      const recoveryDir = NodePath.join(dir, "recovery")
      const { context } = yield* Postgres.store(proxied, { retryMs: 1_200, recoveryDir })
      const cut = ToolRegistry.define({
        name: "cut",
        description: "Cuts the database connection.",
        parameters: Schema.Struct({}),
        handler: () => Effect.sync(() => (proxy.cut(), "the database is gone"))
      })
      const scripted = Scripted.make([Scripted.callTools([{ id: "c1", name: "cut", arguments: "{}" }]), Scripted.answer("never")])
      const loop = yield* SessionLoop.SessionLoop.pipe(Effect.provide(SessionLoop.layer.pipe(Layer.provide(Layer.mergeAll(
        Layer.succeedContext(context),
        ProviderRegistry.layerProviders([scripted.provider]),
        ToolRegistry.layerTools([cut]),
        SessionBus.layer().pipe(Layer.provide(DurableSink.layerNoop)),
        CodetetherConfig.layerDefaults,
        SystemPrompt.layerStatic("test")
      )))))
      const session = Sessions.make({ messages: 0, title: null })
      const { logs, value: exit } = yield* Logs.capture(Effect.exit(loop.prompt(session, "do the thing")))
      const error = failure(exit) as SessionLoop.SessionLoopError
      // the save was retried before giving up
      expect(logs.filter((l) => l.level === "Warn" && l.message.includes("retrying")).length).toBeGreaterThanOrEqual(2)
      const path = NodePath.join(recoveryDir, `${session.id}.json`)
      expect(error.message).toContain(`Cannot save session ${session.id}: `)
      expect(error.message).toContain(`cannot reach PostgreSQL at 127.0.0.1:${proxy.port}`)
      expect(error.message).toContain(`the session as it stood is in ${path}`)
      const recovered = SessionJson.decode(NodeFs.readFileSync(path))
      if (Result.isFailure(recovered)) throw new Error(recovered.failure.message)
      // the user message, the tool call and its result: no completed step lost
      expect(recovered.success.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      expect(NodeFs.statSync(path).mode & 0o777).toBe(0o600)
    }))

  it.effect("a database with a newer schema version is refused, untouched", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { store } = yield* Postgres.store(url)
      yield* store.save(Sessions.make())
      const sql = yield* Postgres.client(url)
      yield* sql`UPDATE codetether_schema SET version = 99`.pipe(Effect.orDie)
      const newer = yield* Postgres.store(url)
      const error = failure(yield* Effect.exit(newer.store.list))
      expect(error).toMatchObject({ _tag: "SessionStoreError", reason: "Io" })
      expect(error.message).toMatch(/has codetether schema version 99, but this codetether knows versions up to 2: upgrade codetether/)
      expect(yield* sql`SELECT version FROM codetether_schema`.pipe(Effect.orDie)).toEqual([{ version: 99 }])
    }))

  it.effect("a version 1 database (sessions, no trash) is upgraded to version 2 in place; its sessions are kept", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const sql = yield* Postgres.client(url)
      // the schema exactly as version 1 created it, with a session in it
      yield* Migrator.make({})({ loader: Migrator.fromRecord({ "1_sessions": PostgresSchema.migrations["1_sessions"]! }), table: "codetether_migrations" })
        .pipe(Effect.provideService(SqlClient.SqlClient, sql), Effect.orDie)
      expect(yield* sql`SELECT version FROM codetether_schema`.pipe(Effect.orDie)).toEqual([{ version: 1 }])
      // its rows as a store writes them (made in another database, copied as they are)
      const session = Sessions.make({ messages: 3, toolUses: 1 })
      const other = yield* fresh
      yield* (yield* Postgres.store(other)).store.save(session)
      const source = yield* Postgres.client(other)
      for (const table of ["codetether_sessions", "codetether_messages", "codetether_tool_uses"]) {
        const rows = yield* source`SELECT * FROM ${source(table)}`.pipe(Effect.orDie)
        yield* sql`INSERT INTO ${sql(table)} ${sql.insert(rows as unknown as readonly [Record<string, unknown>, ...Array<Record<string, unknown>>])}`.pipe(Effect.orDie)
      }
      const { store } = yield* Postgres.store(url)
      expect(plain(yield* store.load(session.id))).toEqual(session)
      expect(yield* sql`SELECT version FROM codetether_schema`.pipe(Effect.orDie)).toEqual([{ version: 2 }])
      yield* store.trash(session.id)
      expect(plain(yield* store.load((yield* store.restore(session.id)).id))).toEqual(session)
    }))

  it.effect("migrations run once however many stores start at the same time", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const stores = yield* Effect.forEach([1, 2, 3, 4], () => Postgres.store(url))
      yield* Effect.forEach(stores, ({ store }) => store.list, { concurrency: "unbounded" })
      const sql = yield* Postgres.client(url)
      const migrations = yield* sql<{ migration_id: number }>`SELECT migration_id FROM codetether_migrations`.pipe(Effect.orDie)
      expect(migrations.map((m) => m.migration_id)).toEqual([1, 2])
      const versions = yield* sql<{ version: number }>`SELECT version FROM codetether_schema`.pipe(Effect.orDie)
      expect(versions).toEqual([{ version: 2 }])
    }))

  it.live("an unreachable server fails with one line naming host:port, never the password", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.promise(() => import("../utils/PostgresServer.ts").then((m) => m.freePort()))
      const layer = SessionStore.layerPostgres({
        url: Redacted.make(`postgres://app:hunter2-SECRET@127.0.0.1:${closed}/codetether`),
        connectTimeoutMs: 2_000
      })
      const store = Context.get(yield* Layer.build(layer), SessionStore.SessionStore)
      const error = failure(yield* Effect.exit(store.load("3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b")))
      expect(error.message).toMatch(new RegExp(`^Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`))
      expect(error.message).not.toContain("hunter2")
      expect(error.message.split("\n")).toHaveLength(1)
    }))
})

describe("DurableSink.layerPostgres", () => {
  it.effect("records have the JSONL sink's shape and per-session seq; read returns those after a seq", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const { sink } = yield* Postgres.store(url)
      const dir = yield* TempDir.make()
      const jsonl = DurableSink.makeJsonl(dir)
      const events = [
        SessionEvent.make.tokenUsage({ source: "root", model: "m", promptTokens: 1, completionTokens: 2, durationMs: 3 }),
        SessionEvent.make.tokenUsage({ source: "rlm_subcall", model: "m2 \u0000 é", promptTokens: 4, completionTokens: 5, durationMs: 6 })
      ]
      const written: Array<DurableSink.DurableRecord> = []
      for (const event of events) {
        written.push(yield* sink.write("s-1", event))
        const line = yield* jsonl.write("s-1", event)
        expect(Object.keys(written.at(-1)!)).toEqual(Object.keys(line))
        expect({ ...written.at(-1)!, ts: "" }).toEqual({ ...line, ts: "" })
      }
      yield* sink.write("s-2", events[0]!)
      expect(written.map((r) => r.seq)).toEqual([1, 2])
      expect(yield* sink.read("s-1")).toEqual(written)
      expect(yield* sink.read("s-1", { after: 1 })).toEqual([written[1]])
      expect((yield* sink.read("s-2")).map((r) => r.seq)).toEqual([1])
      expect(yield* sink.read("nobody")).toEqual([])
    }))

  it.effect("two machines writing one session's events get distinct, consecutive seqs", () =>
    Effect.gen(function*() {
      const url = yield* fresh
      const a = yield* Postgres.store(url)
      const b = yield* Postgres.store(url)
      const event = SessionEvent.make.tokenUsage({ source: "root", model: "m", promptTokens: 1, completionTokens: 2, durationMs: 3 })
      yield* Effect.forEach(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b)), (m) => m.sink.write("s", event), {
        concurrency: 8
      })
      expect((yield* a.sink.read("s")).map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    }))
})
