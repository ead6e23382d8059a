/**
 * Load test of `codetether serve` (issue 10), loopback only and bounded: the
 * bundled binary serves a data dir of 10,000 sessions while 20 prompts run
 * on 20 sessions (three prompts each, one after the other; the model is a
 * local scripted server whose every step calls the `list` tool) and 50 SSE
 * subscribers follow one of those sessions. Ten of the subscribers stop
 * reading until the prompts are half done (slow UIs).
 *
 * Reported: durable events lost by the subscribers (must be 0: every
 * subscriber must have every record of the session's durable log, once),
 * the ephemeral events they lost (allowed), p50/p99 of `GET /api/session`
 * during the load vs `SessionStore.list` on the same corpus in this
 * process, the server's peak RSS, and how long SIGTERM takes to stop it
 * with nothing running.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Layer } from "effect"
import { EventSourceParserStream } from "eventsource-parser/stream"
import * as DataDir from "../services/DataDir.ts"
import * as SessionStore from "../services/SessionStore.ts"
import * as OpenAiServer from "../test/utils/OpenAiServer.ts"
import type { RecordedRequest } from "../test/utils/ScriptedServer.ts"
import { writeSessionFile } from "./corpus.ts"
import { mb, ms, repo, type Row, startServe } from "./harness.ts"

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Steps per prompt: the model calls `list` this many times, then answers. */
const STEPS = { hot: 12, other: 4 } as const
const ROUNDS = 3
const ANSWER = "Done. ".repeat(200)

const model = (request: RecordedRequest) => {
  const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
  const lastUser = messages.map((m) => m.role).lastIndexOf("user")
  const user = messages[lastUser]!
  const text = typeof user.content === "string" ? user.content : JSON.stringify(user.content)
  const isHot = text.startsWith("hot")
  const steps = isHot ? STEPS.hot : STEPS.other
  const done = messages.slice(lastUser).filter((m) => m.role === "tool").length
  // the followed session streams ~4 KB of text per step in 40 snapshots
  // (~80 KB of SSE per step and subscriber: more than a paused client buffers)
  return done < steps
    ? OpenAiServer.reply([
      { type: "text", text: `Step ${done + 1}: listing the files again. `.repeat(isHot ? 100 : 20) },
      // "." and "./" in turn: the loop's detection of repeated identical steps
      // (the fourth in a row is forced to answer) must not cut the prompt short
      { type: "tool_call", id: `call_${messages.length}`, name: "list", arguments: JSON.stringify({ path: done % 2 === 0 ? "." : "./" }) }
    ], { chunkSize: isHot ? 100 : 40 })
    : OpenAiServer.text(ANSWER, { chunkSize: 40 })
}

interface Subscriber {
  readonly durable: Set<number>
  duplicates: number
  ephemeral: number
  done: Promise<void>
  readonly stop: () => void
}

const subscribe = (
  url: string,
  token: string,
  id: string,
  gate: Promise<void> | undefined,
  until: () => number | undefined
): Subscriber => {
  const controller = new AbortController()
  const state: Subscriber = {
    durable: new Set(),
    duplicates: 0,
    ephemeral: 0,
    done: Promise.resolve(),
    stop: () => controller.abort()
  }
  state.done = (async () => {
    const response = await fetch(`${url}/api/session/${id}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal
    })
    if (response.status !== 200 || response.body === null) throw new Error(`subscribe: ${response.status}`)
    const reader = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader()
    try {
      if (gate !== undefined) await gate
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        if (value.id !== undefined) {
          const seq = Number(value.id)
          if (state.durable.has(seq)) state.duplicates++
          state.durable.add(seq)
        } else {
          state.ephemeral++
        }
        const last = until()
        if (last !== undefined && state.durable.size >= last) return
      }
    } catch (e) {
      if (!controller.signal.aborted) throw e
    } finally {
      controller.abort()
    }
  })()
  return state
}

export const benchServe = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const count = quick ? 1000 : 10_000
  const subscribers = quick ? 10 : 50
  const promptSessions = quick ? 5 : 20
  const project = NodePath.join(work, "project")
  NodeFs.mkdirSync(NodePath.join(project, ".git"), { recursive: true })
  for (const name of ["README.md", "index.ts", "package.json"]) NodeFs.writeFileSync(NodePath.join(project, name), `// ${name}\n`)
  const data = NodePath.join(project, ".codetether-agent")
  const sessionsDir = NodePath.join(data, "sessions")
  NodeFs.mkdirSync(sessionsDir, { recursive: true })
  for (let i = 0; i < count; i++) {
    writeSessionFile(NodePath.join(sessionsDir, `${uuid(i)}.json`), {
      id: uuid(i),
      directory: NodePath.join(work, `project-${i % 100}`),
      targetBytes: 8 << 10,
      seed: i,
      createdSeconds: i
    })
  }
  // a new store each time: a cold listing (a store lists again from its summary cache)
  const freshStore = () =>
    Effect.runSync(SessionStore.SessionStore.pipe(
      Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
    ))
  const server = await OpenAiServer.start()
  server.respond(model)
  const bin = process.env.CODETETHER_BENCH_BIN ?? NodePath.join(repo, "dist/bin/codetether.js")
  const served = startServe(bin, ["--port", "0", "--max-prompts", "32"], {
    cwd: project,
    reportUsage: true,
    env: {
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: server.url,
      XDG_CONFIG_HOME: NodePath.join(work, "config"),
      CODEX_HOME: NodePath.join(work, "codex"),
      CODETETHER_DATA_DIR: data,
      CODETETHER_SERVER_TOKEN: "bench-token"
    }
  })
  const { child, exited } = served
  try {
    const url = await served.url
    const headers = { authorization: "Bearer bench-token", "content-type": "application/json" }
    const ids: Array<string> = []
    for (let i = 0; i < promptSessions; i++) {
      const response = await fetch(`${url}/api/session`, { method: "POST", headers, body: JSON.stringify({ directory: project }) })
      ids.push(((await response.json()) as { id: string }).id)
    }
    const hot = ids[0]!

    // subscribers connect before anything runs
    let expected: number | undefined
    let releaseSlow: () => void = () => undefined
    const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve))
    const subs = Array.from({ length: subscribers }, (_, i) =>
      subscribe(url, "bench-token", hot, i < subscribers / 5 ? slowGate : undefined, () => expected))

    // the prompts, and GET /api/session while they run
    let completed = 0
    const total = promptSessions * ROUNDS
    const started = performance.now()
    const prompts = Promise.all(ids.map(async (id, i) => {
      for (let round = 0; round < ROUNDS; round++) {
        const response = await fetch(`${url}/api/session/${id}/prompt`, {
          method: "POST",
          headers,
          body: JSON.stringify({ message: `${i === 0 ? "hot" : "cold"} ${i} round ${round}` })
        })
        if (response.status !== 200) throw new Error(`prompt ${id}: ${response.status} ${await response.text()}`)
        await response.json()
        if (++completed === Math.floor(total / 2)) releaseSlow()
      }
    }))
    const listTimes: Array<number> = []
    let listing = true
    const lists = (async () => {
      while (listing) {
        const t = performance.now()
        const response = await fetch(`${url}/api/session?limit=100`, { headers })
        const body = (await response.json()) as Array<unknown>
        if (response.status !== 200 || body.length !== 100) throw new Error(`list: ${response.status}`)
        listTimes.push(performance.now() - t)
      }
    })()
    await prompts
    const promptsMs = performance.now() - started
    listing = false
    await lists
    releaseSlow()

    // every subscriber must get every durable record of the hot session
    const log = NodePath.join(data, "events", `${hot}.jsonl`)
    const records = NodeFs.readFileSync(log, "utf8").split("\n").filter((l) => l.trim().length > 0)
      .map((l) => (JSON.parse(l) as { seq: number }).seq)
    expected = records.length
    const deadline = Date.now() + 30_000
    while (subs.some((s) => s.durable.size < expected!) && Date.now() < deadline) await sleep(50)
    for (const s of subs) s.stop()
    await Promise.allSettled(subs.map((s) => s.done))
    const lost = subs.reduce((n, s) => n + records.filter((seq) => !s.durable.has(seq)).length, 0)
    const duplicates = subs.reduce((n, s) => n + s.duplicates, 0)
    const ephemeral = subs.map((s) => s.ephemeral)

    // the baseline: a new store's own (cold) listing of the same corpus, in this process
    const baseline: Array<number> = []
    for (let i = 0; i < Math.max(5, Math.min(20, listTimes.length)); i++) {
      const store = freshStore()
      const t = performance.now()
      await Effect.runPromise(store.list)
      baseline.push(performance.now() - t)
    }
    const idleTimes: Array<number> = []
    for (let i = 0; i < 10; i++) {
      const t = performance.now()
      await (await fetch(`${url}/api/session?limit=100`, { headers })).json()
      idleTimes.push(performance.now() - t)
    }
    // 10 clients at once share one listing
    const concurrentTimes: Array<number> = []
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, async () => {
        const t = performance.now()
        await (await fetch(`${url}/api/session?limit=100`, { headers })).json()
        concurrentTimes.push(performance.now() - t)
      }))
    }

    const stopAt = performance.now()
    child.kill("SIGTERM")
    const code = await exited
    const stopMs = performance.now() - stopAt
    const usage = /__USAGE__ (\d+) (\d+) (\d+)/.exec(served.stderr())
    const rss = usage === null ? Number.NaN : Number(usage[3]) * 1024
    const p50 = percentile(listTimes, 50)
    const base50 = percentile(baseline, 50)
    return [
      {
        name: `${subscribers} SSE subscribers on one session while ${promptSessions} prompts run on ${promptSessions} sessions (${ROUNDS} prompts each, ${total} in all, ${
          (promptsMs / 1000).toFixed(1)
        } s)`,
        value: `durable events lost ${lost} of ${records.length * subscribers} (${records.length} records x ${subscribers}), duplicated ${duplicates}`,
        target: "0 lost",
        ok: lost === 0 && duplicates === 0
      },
      {
        name: "  ephemeral events seen per subscriber (lossy by design; slow ones see fewer)",
        value: `min ${Math.min(...ephemeral)}, max ${Math.max(...ephemeral)}`
      },
      {
        name: `GET /api/session?limit=100 among ${count.toLocaleString("en")} sessions, during the load (${listTimes.length} requests)`,
        value: `p50 ${ms(p50)}, p99 ${ms(percentile(listTimes, 99))}`,
        baseline: `cold SessionStore.list in-process p50 ${ms(base50)}`,
        ratio: p50 / base50
      },
      {
        name: "  the same, 10 clients at once (3 rounds)",
        value: `p50 ${ms(percentile(concurrentTimes, 50))}, p99 ${ms(percentile(concurrentTimes, 99))}`,
        baseline: `cold SessionStore.list p50 ${ms(base50)}`,
        ratio: percentile(concurrentTimes, 50) / base50
      },
      {
        name: "  the same with the server idle (10 requests, one at a time)",
        value: `p50 ${ms(percentile(idleTimes, 50))}, p99 ${ms(percentile(idleTimes, 99))}`,
        baseline: `cold SessionStore.list p50 ${ms(base50)}`,
        ratio: percentile(idleTimes, 50) / base50
      },
      { name: "server peak RSS", value: mb(rss), target: "<= 400 MB", ok: rss <= 400 * 2 ** 20 },
      { name: "SIGTERM to exit (idle server)", value: `${ms(stopMs)}, exit code ${code}`, target: "< 5 s, 0", ok: stopMs < 5000 && code === 0 }
    ]
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL")
    await server.close()
  }
}
