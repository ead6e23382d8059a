/**
 * Benchmarks of sharing a session between writers (issue 8): what the lease
 * and the conditional check cost a save of a 52 MB session, how long taking
 * and releasing a lease takes, and the two-process contention run through
 * the real binary (turns lost must be 0).
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer, Result } from "effect"
import * as Message from "../schemas/Message.ts"
import type { Session } from "../schemas/Session.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import * as DataDir from "../services/DataDir.ts"
import { writeFileAtomic } from "../services/internal/AtomicWrite.ts"
import { canonicalize } from "../services/internal/Paths.ts"
import * as WorkspaceIndexFile from "../services/internal/WorkspaceIndexFile.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as OpenAiServer from "../test/utils/OpenAiServer.ts"
import { writeSessionFile } from "./corpus.ts"
import { compare, mb, median, ms, repo, type Row, runChild } from "./harness.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

const storeAt = (data: string) =>
  Effect.runSync(SessionStore.SessionStore.pipe(
    Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
  ))

const appendOne = (session: Session, i: number): Session => ({
  ...session,
  messages: [...session.messages, Message.text("user", `one more message ${i}`)]
})

/** 1. A save under a lease (lock check + conditional check + mtime stamp) vs the unconditional atomic save. */
const leasedSave = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const data = NodePath.join(work, "leased")
  const sessions = NodePath.join(data, "sessions")
  NodeFs.mkdirSync(sessions, { recursive: true })
  const id = "00000000-0000-4000-8000-000000000052"
  const path = NodePath.join(sessions, `${id}.json`)
  writeSessionFile(path, { id, directory: work, targetBytes: quick ? 10 << 20 : 52 << 20, seed: 52 })
  const size = NodeFs.statSync(path).size
  const store = storeAt(data)
  const loaded = await run(store.load(id))
  const baselinePath = NodePath.join(sessions, "baseline.json")
  let i = 0
  const rows: Array<Row> = []
  await run(Effect.scoped(Effect.gen(function*() {
    const lease = yield* store.lease(loaded)
    let session = yield* lease.save(loaded)
    let plain = SessionJson.decode(NodeFs.readFileSync(path))
    if (Result.isFailure(plain)) throw new Error(plain.failure.message)
    let unconditional = plain.success
    const result = yield* Effect.promise(() =>
      compare(
        9,
        async () => {
          session = await run(lease.save(appendOne(session, i++)))
        },
        // the save path before leases: encode, temp file, write, fsync, rename, index upsert
        async () => {
          unconditional = appendOne(unconditional, i++)
          await run(writeFileAtomic(baselinePath, SessionJson.encodeChunks(unconditional), { sync: true }))
          await run(WorkspaceIndexFile.upsert(sessions, canonicalize(work), id))
        }
      )
    )
    rows.push({
      name: `save under a lease, conditional, after appending one message to a ${mb(size)} session`,
      value: ms(result.subject),
      baseline: `the pre-lease save path (atomic write + fsync + index) ${ms(result.baseline)}`,
      ratio: result.ratio,
      target: "<= 1.1x",
      ok: result.ratio <= 1.1
    })
  })))
  // a plain SessionStore.save takes a short lock per save
  let saved = await run(store.load(id))
  let other = saved
  const plainResult = await compare(
    9,
    async () => {
      saved = await run(store.save(appendOne(saved, i++)))
    },
    async () => {
      other = appendOne(other, i++)
      await run(writeFileAtomic(baselinePath, SessionJson.encodeChunks(other), { sync: true }))
      await run(WorkspaceIndexFile.upsert(sessions, canonicalize(work), id))
    }
  )
  rows.push({
    name: "  same with SessionStore.save (a short lock taken per save)",
    value: ms(plainResult.subject),
    baseline: ms(plainResult.baseline),
    ratio: plainResult.ratio,
    target: "<= 1.1x",
    ok: plainResult.ratio <= 1.1
  })
  return rows
}

/** 2. Taking and releasing a lease (lock file create, stat, remove). */
const leaseCycle = async (work: string): Promise<Row> => {
  const data = NodePath.join(work, "cycle")
  NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
  const id = "00000000-0000-4000-8000-000000000001"
  writeSessionFile(NodePath.join(data, "sessions", `${id}.json`), { id, directory: work, targetBytes: 8 << 10, seed: 1 })
  const store = storeAt(data)
  const session = await run(store.load(id))
  const times: Array<number> = []
  for (let k = 0; k < 400; k++) {
    const start = performance.now()
    await run(Effect.scoped(store.lease(session)))
    times.push(performance.now() - start)
  }
  const stats: Array<number> = []
  for (let k = 0; k < 400; k++) {
    const start = performance.now()
    NodeFs.statSync(NodePath.join(data, "sessions", `${id}.json`), { bigint: true })
    stats.push(performance.now() - start)
  }
  return {
    name: "lease acquire + release (400 cycles, median)",
    value: `${median(times).toFixed(3)} ms`,
    baseline: `one stat ${median(stats).toFixed(3)} ms`,
    ratio: median(times) / median(stats)
  }
}

/** 3. Two `codetether run` processes on one session, 20 trials: turns lost (must be 0), prompts refused. */
const contention = async (work: string): Promise<Row> => {
  const repoDir = NodePath.join(work, "contention")
  NodeFs.mkdirSync(NodePath.join(repoDir, ".git"), { recursive: true })
  const server = await OpenAiServer.start()
  server.respond((request) => {
    const messages = (request.body as { messages: Array<{ role: string }> }).messages
    return messages.at(-1)!.role === "tool"
      ? OpenAiServer.text("done")
      : OpenAiServer.toolCalls([{ id: `call_${messages.length}`, name: "bash", arguments: { command: "sleep 0.3" } }])
  })
  const bin = NodePath.join(repo, "dist/bin/codetether.js")
  const env = {
    OPENAI_API_KEY: "sk-bench",
    OPENAI_BASE_URL: server.url,
    XDG_CONFIG_HOME: NodePath.join(work, "config"),
    CODEX_HOME: NodePath.join(work, "codex")
  }
  try {
    const first = await runChild([bin, "run", "turn 0"], { cwd: repoDir, env })
    if (first.code !== 0) throw new Error(`codetether run failed: ${first.stdout}`)
    const sessions = NodePath.join(repoDir, ".codetether-agent", "sessions")
    const id = NodeFs.readdirSync(sessions).find((n) => n.endsWith(".json") && !n.startsWith("."))!.slice(0, -5)
    const accepted = ["turn 0"]
    let refused = 0
    const trials = 20
    for (let t = 0; t < trials; t++) {
      const names = [`t${t} A`, `t${t} B`]
      const results = await Promise.all(names.map((n) => runChild([bin, "run", "--session", id, n], { cwd: repoDir, env })))
      results.forEach((r, k) => (r.code === 0 ? accepted.push(names[k]!) : refused++))
    }
    const stored = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessions, `${id}.json`)))
    if (Result.isFailure(stored)) throw new Error(`torn session: ${stored.failure.message}`)
    const texts = new Set(stored.success.messages.filter((m) => m.role === "user").map((m) => Message.textOf(m)))
    const lost = accepted.filter((name) => !texts.has(name)).length
    return {
      name: `2 processes x ${trials} trials prompting one session`,
      value: `${lost} turns lost, ${refused} prompts refused, ${accepted.length - 1} accepted`,
      target: "0 lost",
      ok: lost === 0
    }
  } finally {
    await server.close()
  }
}

export const benchWriters = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => [
  ...await leasedSave(work, quick),
  await leaseCycle(work),
  await contention(work)
]
