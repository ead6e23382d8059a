/**
 * Benchmarks of the PostgreSQL store (issue 9), on a throwaway server started
 * for the run (test/utils/PostgresServer.ts: `fsync=off`, so these measure
 * the store and the server's work, not this machine's disk flushes). Every
 * figure is a ratio against a baseline measured in the same run, or a
 * reported rate.
 */
import * as NodeChild from "node:child_process"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Context, Effect, Exit, Layer, Redacted, Scope, Stream } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Message from "../schemas/Message.ts"
import * as Session_ from "../schemas/Session.ts"
import type { Session } from "../schemas/Session.ts"
import * as DataDir from "../services/DataDir.ts"
import * as SessionSearch from "../services/SessionSearch.ts"
import * as SessionSearchPostgres from "../services/SessionSearchPostgres.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as SessionStorePostgres from "../services/SessionStorePostgres.ts"
import * as PostgresServer from "../test/utils/PostgresServer.ts"
import { writeSessionFile } from "./corpus.ts"
import { compare, mb, median, ms, repo, type Row, runChild } from "./harness.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`

/** A store built in a scope of its own (closed by `close`). */
const open = async (layer: Layer.Layer<SessionStore.SessionStore, unknown>) => {
  const scope = await run(Scope.make())
  const context = await run(Layer.buildWithScope(layer, scope) as Effect.Effect<Context.Context<SessionStore.SessionStore>>)
  return { store: Context.get(context, SessionStore.SessionStore), close: () => run(Scope.close(scope, Exit.void)) }
}
const pgStore = (url: string) => open(SessionStore.layerPostgres({ url: Redacted.make(url) }))
const fileStore = (data: string) => open(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))

/** A new database on the server; returns its URL. */
const database = async (serverUrl: string): Promise<string> => {
  const name = `bench_${NodeCrypto.randomBytes(4).toString("hex")}`
  await run(Effect.scoped(Effect.gen(function*() {
    const sql = yield* PgClient.makeClient({ url: Redacted.make(serverUrl) })
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
  })).pipe(Effect.provide(Reactivity.layer), Effect.orDie))
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** A realistic coding session with at least `messages` messages (generated as a file, loaded with the file store). */
const generated = async (work: string, id: string, messages: number, seed: number, directory: string): Promise<Session> => {
  const data = NodePath.join(work, `gen-${id}`)
  NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
  // ~330 bytes per message with 300-byte tool outputs
  writeSessionFile(NodePath.join(data, "sessions", `${id}.json`), {
    id,
    directory,
    targetBytes: Math.max(4096, messages * 500),
    seed,
    averageToolBytes: 300
  })
  const { close, store } = await fileStore(data)
  const session = await run(store.load(id))
  await close()
  NodeFs.rmSync(data, { recursive: true, force: true })
  if (session.messages.length < messages) throw new Error(`generated ${session.messages.length} < ${messages} messages`)
  return Session_.withRevision({ ...session, messages: session.messages.slice(0, messages), toolUses: [] }, undefined)
}

const appendOne = (session: Session, i: number): Session => ({
  ...session,
  messages: [...session.messages, Message.text("user", `one more message ${i} ${"x".repeat(200)}`)]
})

/** 1. Save after appending one message: 10,000-message session vs 10-message one (PostgreSQL), and the file store's. */
const appendSave = async (work: string, serverUrl: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const big = await generated(work, uuid(1), quick ? 2_000 : 10_000, 1, work)
  const small = await generated(work, uuid(2), 10, 2, work)
  const rows: Array<Row> = []
  const measure = async (store: SessionStore.SessionStore["Service"]) => {
    let b = await run(store.save(big))
    let s = await run(store.save(small))
    let i = 0
    return compare(
      15,
      async () => {
        b = await run(store.save(appendOne(b, i++)))
      },
      async () => {
        s = await run(store.save(appendOne(s, i++)))
      }
    )
  }
  const pg = await pgStore(await database(serverUrl))
  const result = await measure(pg.store)
  await pg.close()
  const data = NodePath.join(work, "append-files")
  const files = await fileStore(data)
  const fileResult = await measure(files.store)
  await files.close()
  rows.push({
    name: `PostgreSQL: save after appending 1 message to a ${big.messages.length.toLocaleString("en")}-message session`,
    value: ms(result.subject),
    baseline: `the same on a 10-message session ${ms(result.baseline)}`,
    ratio: result.ratio,
    target: "<= 1.5x",
    ok: result.ratio <= 1.5,
    note: `the file store, same sessions: ${ms(fileResult.subject)} vs ${ms(fileResult.baseline)}, ${fileResult.ratio.toFixed(1)}x`
  })
  return rows
}

/** 2. Resume the last session of a directory among 10,000 (PostgreSQL) vs the file store's index hit. */
const resume = async (work: string, serverUrl: string, quick: boolean): Promise<{ rows: ReadonlyArray<Row>; data: string; url: string }> => {
  const count = quick ? 1_000 : 10_000
  const data = NodePath.join(work, "resume")
  const sessionsDir = NodePath.join(data, "sessions")
  NodeFs.mkdirSync(sessionsDir, { recursive: true })
  const workspaces = Array.from({ length: 100 }, (_, i) => {
    const dir = NodePath.join(work, "resume-ws", `project-${i}`)
    NodeFs.mkdirSync(dir, { recursive: true })
    return dir
  })
  for (let i = 0; i < count; i++) {
    const id = uuid(1000 + i)
    // the session resumed in workspace 0 is a ~1 MB coding session, the others ~8 KB
    const targetBytes = i === count - workspaces.length ? 1 << 20 : 8 << 10
    writeSessionFile(NodePath.join(sessionsDir, `${id}.json`), { id, directory: workspaces[i % workspaces.length]!, targetBytes, seed: i, createdSeconds: i })
  }
  // the same sessions in PostgreSQL, written in the same order (the last one of each workspace last)
  const url = await database(serverUrl)
  const files = await fileStore(data)
  const pg = await pgStore(url)
  const ids = NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)).sort()
  for (let i = 0; i < ids.length; i += 16) {
    await run(Effect.forEach(ids.slice(i, i + 16), (id) => Effect.flatMap(files.store.load(id), (s) => pg.store.save(Session_.withRevision(s, undefined))), { concurrency: 16 }))
  }
  // the file store's index: one resume per workspace writes it
  await run(Effect.forEach(workspaces, (w) => files.store.lastForDirectory(w)))
  const result = await compare(41, () => run(pg.store.lastForDirectory(workspaces[0]!)), () => run(files.store.lastForDirectory(workspaces[0]!)))
  await pg.close()
  await files.close()
  return {
    data,
    url,
    rows: [{
      name: `PostgreSQL: resume the last session of a directory among ${count.toLocaleString("en")} (1 MB session)`,
      value: ms(result.subject),
      baseline: `file store, index hit ${ms(result.baseline)}`,
      ratio: result.ratio,
      target: "<= 2x",
      ok: result.ratio <= 2
    }]
  }
}

/** 3. Tail load (window 100) of a 100,000-message session vs a 100-message one. */
const tailLoad = async (work: string, serverUrl: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const huge = await generated(work, uuid(3), quick ? 20_000 : 100_000, 3, work)
  const small = await generated(work, uuid(4), 100, 4, work)
  const pg = await pgStore(await database(serverUrl))
  await run(pg.store.save(huge))
  await run(pg.store.save(small))
  const result = await compare(21, () => run(pg.store.loadTail(huge.id, 100)), () => run(pg.store.loadTail(small.id, 100)))
  await pg.close()
  const data = NodePath.join(work, "tail-files")
  const files = await fileStore(data)
  await run(files.store.save(huge))
  await run(files.store.save(small))
  const fileResult = await compare(5, () => run(files.store.loadTail(huge.id, 100)), () => run(files.store.loadTail(small.id, 100)))
  await files.close()
  return [{
    name: `PostgreSQL: tail load (window 100) of a ${huge.messages.length.toLocaleString("en")}-message session`,
    value: ms(result.subject),
    baseline: `the same on a 100-message session ${ms(result.baseline)}`,
    ratio: result.ratio,
    target: "<= 2x",
    ok: result.ratio <= 2,
    note: `the file store, same sessions: ${ms(fileResult.subject)} vs ${ms(fileResult.baseline)}, ${fileResult.ratio.toFixed(1)}x`
  }]
}

const bin = NodePath.join(repo, "dist/bin/codetether.js")

/** 4. `sessions list --all --json` of 1,000 sessions through the binary: PostgreSQL vs the file store. */
const listAll = async (work: string, serverUrl: string): Promise<ReadonlyArray<Row>> => {
  const repoDir = NodePath.join(work, "list-repo")
  const data = NodePath.join(repoDir, ".codetether-agent")
  NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
  NodeFs.mkdirSync(NodePath.join(repoDir, ".git"))
  for (let i = 0; i < 1_000; i++) {
    const id = uuid(20_000 + i)
    writeSessionFile(NodePath.join(data, "sessions", `${id}.json`), { id, directory: repoDir, targetBytes: 8 << 10, seed: i, createdSeconds: i })
  }
  const url = await database(serverUrl)
  const env = { XDG_CONFIG_HOME: NodePath.join(work, "config"), CODEX_HOME: NodePath.join(work, "codex"), CODETETHER_DATA_DIR: "" }
  delete (env as Record<string, string | undefined>).CODETETHER_DATA_DIR
  const migrated = await runChild([bin, "sessions", "migrate", "--to", url], { cwd: repoDir, env })
  if (!migrated.stdout.startsWith("copied 1000,")) throw new Error(`migrate failed: ${migrated.stdout}`)
  const once = async (databaseUrl: string | undefined) => {
    const result = await runChild([bin, "sessions", "list", "--all", "--json"], {
      cwd: repoDir,
      env: { ...env, ...(databaseUrl === undefined ? {} : { CODETETHER_DATABASE_URL: databaseUrl }) }
    })
    if (result.code !== 0 || JSON.parse(result.stdout).length !== 1_000) throw new Error(`list failed: ${result.stdout.slice(0, 200)}`)
    return result.wallMs
  }
  const pg: Array<number> = []
  const files: Array<number> = []
  await once(url)
  await once(undefined)
  for (let i = 0; i < 7; i++) {
    pg.push(await once(url))
    files.push(await once(undefined))
  }
  const ratio = median(pg) / median(files)
  return [{
    name: "PostgreSQL: `sessions list --all --json`, 1,000 sessions (whole process)",
    value: ms(median(pg)),
    baseline: `file store ${ms(median(files))}`,
    ratio,
    note: "report"
  }]
}

/** 5. Eight worker processes × 20 prompts each on sessions of their own: prompts/s and p99 save latency. */
const workers = async (work: string, serverUrl: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const prompts = quick ? 5 : 20
  const worker = NodePath.join(repo, "bench/child/prompt-worker.ts")
  const runAll = async (target: string) => {
    const outputs = await Promise.all(Array.from({ length: 8 }, () =>
      new Promise<{ start: number; end: number; saves: Array<number> }>((resolve, reject) => {
        NodeChild.execFile(process.execPath, [worker, target, String(prompts)], { maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
          if (error !== null) return reject(new Error(`worker failed: ${stderr}`))
          resolve(JSON.parse(stdout.trim().split("\n").at(-1)!))
        })
      })))
    const start = Math.min(...outputs.map((o) => o.start))
    const end = Math.max(...outputs.map((o) => o.end))
    const saves = outputs.flatMap((o) => o.saves).sort((a, b) => a - b)
    return {
      rate: (8 * prompts) / ((end - start) / 1000),
      p99: saves[Math.min(saves.length - 1, Math.ceil(saves.length * 0.99) - 1)]!,
      p50: median(saves)
    }
  }
  const pg = await runAll(await database(serverUrl))
  const data = NodePath.join(work, "workers-files")
  NodeFs.mkdirSync(data)
  const files = await runAll(data)
  return [
    {
      name: `PostgreSQL: 8 concurrent workers × ${prompts} prompts, prompts/s`,
      value: `${pg.rate.toFixed(0)} prompts/s`,
      baseline: `file store ${files.rate.toFixed(0)} prompts/s`,
      ratio: pg.rate / files.rate,
      note: "report"
    },
    {
      name: "PostgreSQL: 8 concurrent workers, save latency under the lease",
      value: `p99 ${ms(pg.p99)} (p50 ${ms(pg.p50)})`,
      baseline: `file store p99 ${ms(files.p99)} (p50 ${ms(files.p50)})`,
      ratio: pg.p99 / files.p99,
      note: "report"
    }
  ]
}

/** 6. `sessions migrate --to` of 1,000 sessions of 1 MB (1 GB) through the binary: MB/s. */
const migrate = async (work: string, serverUrl: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const count = quick ? 100 : 1_000
  const repoDir = NodePath.join(work, "migrate-repo")
  const sessionsDir = NodePath.join(repoDir, ".codetether-agent", "sessions")
  NodeFs.mkdirSync(sessionsDir, { recursive: true })
  NodeFs.mkdirSync(NodePath.join(repoDir, ".git"))
  let bytes = 0
  for (let i = 0; i < count; i++) {
    const id = uuid(30_000 + i)
    const path = NodePath.join(sessionsDir, `${id}.json`)
    writeSessionFile(path, { id, directory: repoDir, targetBytes: 1 << 20, seed: i, createdSeconds: i })
    bytes += NodeFs.statSync(path).size
  }
  const url = await database(serverUrl)
  const env = { XDG_CONFIG_HOME: NodePath.join(work, "config"), CODEX_HOME: NodePath.join(work, "codex") }
  const result = await runChild([bin, "sessions", "migrate", "--to", url], { cwd: repoDir, env })
  if (result.code !== 0 || !result.stdout.startsWith(`copied ${count},`)) throw new Error(`migrate failed: ${result.stdout}`)
  // baseline: reading and decoding the same files with the file store (what the copy starts with)
  const files = await fileStore(NodePath.join(repoDir, ".codetether-agent"))
  const started = performance.now()
  for (const name of NodeFs.readdirSync(sessionsDir)) await run(files.store.load(name.slice(0, -5)))
  const readMs = performance.now() - started
  await files.close()
  const rate = bytes / 2 ** 20 / (result.wallMs / 1000)
  return [{
    name: `PostgreSQL: \`sessions migrate --to\`, ${count.toLocaleString("en")} sessions / ${(bytes / 2 ** 20).toFixed(0)} MB (whole process)`,
    value: `${rate.toFixed(1)} MB/s (${ms(result.wallMs)})`,
    baseline: `loading the same sessions with the file store ${(bytes / 2 ** 20 / (readMs / 1000)).toFixed(1)} MB/s`,
    ratio: result.wallMs / readMs,
    note: `report; peak RSS ${(result.maxRssBytes / 2 ** 20).toFixed(0)} MB`
  }]
}

export const benchPostgres = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const server = await PostgresServer.start({ maxConnections: 200 })
  try {
    return [
      ...await appendSave(work, server.url, quick),
      ...(await resume(work, server.url, quick)).rows,
      ...await tailLoad(work, server.url, quick),
      ...await listAll(work, server.url),
      ...await workers(work, server.url, quick),
      ...await migrate(work, server.url, quick)
    ]
  } finally {
    server.stop()
  }
}

/**
 * `sessions search` on the PostgreSQL store (a plain-text query the corpus
 * holds once, in its oldest session: every row is searched): the database
 * looking for the query's bytes in the message rows (SessionSearchPostgres,
 * what the CLI uses) vs the same store searched session by session
 * (`SessionSearch.layerStore`: every session loaded); the file search over
 * the same files is reported beside them.
 */
export const benchPostgresSearch = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const server = await PostgresServer.start({ maxConnections: 50 })
  try {
    const count = quick ? 50 : 200
    const data = NodePath.join(work, "search-data")
    const sessionsDir = NodePath.join(data, "sessions")
    NodeFs.mkdirSync(sessionsDir, { recursive: true })
    const rare = "zanzibar-quokka-42"
    let totalBytes = 0
    for (let i = 0; i < count; i++) {
      const id = uuid(50_000 + i)
      const path = NodePath.join(sessionsDir, `${id}.json`)
      writeSessionFile(path, { id, directory: work, targetBytes: 1 << 20, seed: 7 * i + 1, createdSeconds: i })
      totalBytes += NodeFs.statSync(path).size
    }
    const url = await database(server.url)
    const files = await fileStore(data)
    const options = { url: Redacted.make(url) }
    const scope = await run(Scope.make())
    const context = await run(Layer.buildWithScope(
      SessionSearchPostgres.layer.pipe(
        Layer.provideMerge(SessionStorePostgres.layerServices()),
        Layer.provideMerge(SessionStorePostgres.layerDatabase(options))
      ),
      scope
    ))
    const pg = Context.get(context, SessionStore.SessionStore)
    const ids = NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)).sort()
    // the rare text is said once, in the oldest session
    const oldest = await run(files.store.load(ids[0]!))
    await run(files.store.save(Session_.addMessage(oldest, Message.text("user", `the ${rare} bug again`), oldest.updatedAt)))
    for (let i = 0; i < ids.length; i += 8) {
      await run(Effect.forEach(ids.slice(i, i + 8), (id) =>
        Effect.flatMap(files.store.load(id), (s) => pg.save(Session_.withRevision(s, undefined))), { concurrency: 8 }))
    }
    const collect = (search: SessionSearch.SessionSearch["Service"]) => async () => {
      const hits = await run(Stream.runCollect(search.search({ query: rare }).pipe(Stream.take(50))))
      if (Array.from(hits).length !== 1) throw new Error(`expected one hit, got ${Array.from(hits).length}`)
    }
    const sql = collect(Context.get(context, SessionSearch.SessionSearch))
    const byStore = collect(SessionSearch.makeStore(pg))
    const result = await compare(quick ? 3 : 5, sql, byStore)
    const fileSearch = await compare(quick ? 3 : 5, collect(SessionSearch.makeFileSystem(sessionsDir)), byStore)
    await run(Scope.close(scope, Exit.void))
    await files.close()
    return [{
      name: `PostgreSQL: sessions search (one hit, every row searched), ${count} sessions, ${mb(totalBytes)}`,
      value: ms(result.subject),
      baseline: `the same store session by session (SessionSearch.layerStore) ${ms(result.baseline)}`,
      ratio: result.ratio,
      note: `report; the file search over the same files ${ms(fileSearch.subject)}`
    }]
  } finally {
    server.stop()
  }
}
