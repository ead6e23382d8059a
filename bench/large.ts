/**
 * Benchmark of `codetether run --session ID` on a 1 GiB session (issue 8,
 * "large sessions continue"): the bundled binary loads the session, compacts
 * it (the transcript is far over the model's window), asks a local scripted
 * OpenAI-compatible server, and saves. Peak RSS and wall time, against
 * baselines measured in the same run:
 * - the same command on a small (1 MiB) session: the fixed cost of a run;
 * - a raw read of the 1 GiB file by a bare Node process: whole (`fs.readFile`,
 *   the least memory that holds the file) and streamed in 2 MiB chunks (the
 *   least time to read it).
 *
 * The 1 GiB run is measured once (the run compacts and rewrites the session;
 * generating another takes longer than the run), the small one is the
 * median of 3. `--quick` uses a 128 MiB session.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as OpenAiServer from "../test/utils/OpenAiServer.ts"
import { writeSessionFile } from "./corpus.ts"
import { type ChildResult, mb, median, ms, repo, type Row, runChild } from "./harness.ts"

const GiB = 2 ** 30

export const benchLargeSession = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const bigBytes = quick ? 128 * 2 ** 20 : GiB
  const project = NodePath.join(work, "project")
  const data = NodePath.join(work, "data")
  const sessions = NodePath.join(data, "sessions")
  NodeFs.mkdirSync(NodePath.join(project, ".git"), { recursive: true })
  NodeFs.mkdirSync(sessions, { recursive: true })
  const bin = process.env.CODETETHER_BENCH_BIN ?? NodePath.join(repo, "dist/bin/codetether.js")
  const server = await OpenAiServer.start()
  const env = {
    OPENAI_API_KEY: "sk-bench",
    OPENAI_BASE_URL: server.url,
    CODETETHER_DATA_DIR: data,
    XDG_CONFIG_HOME: NodePath.join(work, "config"),
    CODEX_HOME: NodePath.join(work, "codex"),
    NODE_COMPILE_CACHE: NodePath.join(work, "compile-cache")
  }
  const session = (id: string, targetBytes: number, seed: number) => {
    const path = NodePath.join(sessions, `${id}.json`)
    // tool results of ~400 KB: a coding session whose tool output dominates
    const written = writeSessionFile(path, { id, directory: project, targetBytes, seed, averageToolBytes: 400_000 })
    return { path, ...written, bytes: NodeFs.statSync(path).size }
  }
  const runOn = async (id: string): Promise<ChildResult> => {
    server.enqueue(OpenAiServer.text("Continuing from the summary."))
    const result = await runChild([bin, "run", "--session", id, "continue where we left off"], { cwd: project, env })
    if (result.code !== 0 || !result.stdout.includes("Continuing from the summary.")) {
      throw new Error(`codetether run --session ${id} failed (exit ${result.code}): ${result.stdout}`)
    }
    return result
  }
  try {
    // warm the compile cache so neither measured run pays for compiling the bundle
    const warm = "00000000-0000-4000-8000-0000000000aa"
    session(warm, 64 << 10, 1)
    await runOn(warm)

    const small: Array<ChildResult> = []
    for (let i = 0; i < 3; i++) {
      const id = `00000000-0000-4000-8000-00000000010${i}`
      session(id, 1 << 20, 10 + i)
      small.push(await runOn(id))
    }

    const bigId = "00000000-0000-4000-8000-000000000bbb"
    const big = session(bigId, bigBytes, 42)
    const rawWhole = await runChild([NodePath.join(repo, "bench/child/raw-read.ts"), "readFile", big.path])
    const rawStream = await runChild([NodePath.join(repo, "bench/child/raw-read.ts"), "stream", big.path])
    const ours = await runOn(bigId)
    const after = NodeFs.statSync(big.path).size

    const smallWall = median(small.map((r) => r.wallMs))
    const smallRss = median(small.map((r) => r.maxRssBytes))
    const size = `${mb(big.bytes)} session, ${big.messages.toLocaleString("en")} messages`
    return [
      {
        name: `codetether run --session on a ${size}: peak RSS`,
        value: mb(ours.maxRssBytes),
        baseline: `raw fs.readFile of the file ${mb(rawWhole.maxRssBytes)}`,
        ratio: ours.maxRssBytes / rawWhole.maxRssBytes,
        // the transcript is held as JavaScript strings: 2 bytes a character once a text has
        // one character beyond Latin-1 (the corpus's tool output does), 1 byte otherwise
        target: "<= 3x",
        ok: ours.maxRssBytes / rawWhole.maxRssBytes <= 3,
        note: `the same run on a 1 MiB session: ${mb(smallRss)}; a streamed raw read: ${mb(rawStream.maxRssBytes)}`
      },
      {
        name: `codetether run --session on a ${size}: wall`,
        value: `${ms(ours.wallMs)} (${ms(ours.cpuMs)} CPU)`,
        baseline: `raw fs.readFile ${ms(rawWhole.wallMs)}, streamed read ${ms(rawStream.wallMs)}`,
        ratio: ours.wallMs / rawWhole.wallMs,
        note: `the same run on a 1 MiB session: ${ms(smallWall)} (median of 3); the session was compacted to ${
          mb(after)
        } (${after.toLocaleString("en")} bytes)`
      }
    ]
  } finally {
    await server.close()
  }
}
