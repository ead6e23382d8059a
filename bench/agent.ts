/**
 * Benchmarks of `codetether run` (issue 3): the bundled binary on the 2-turn
 * task of the end-to-end tests (the model asks `bash` to list the files, then
 * answers), against a local OpenAI-compatible server, compared with a
 * minimal dependency-free loop doing the same task (bench/child/minimal-agent.mjs).
 * Median of 5 cold runs: each a new process with an empty module compile
 * cache. Also `codetether --help` start-up.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as OpenAiServer from "../test/utils/OpenAiServer.ts"
import { mb, median, ms, repo, type Row, runChild } from "./harness.ts"

const RUNS = 5

export const benchAgent = async (work: string): Promise<ReadonlyArray<Row>> => {
  const project = NodePath.join(work, "project")
  NodeFs.mkdirSync(NodePath.join(project, ".git"), { recursive: true })
  for (const name of ["README.md", "index.ts", "package.json", "test.ts"]) {
    NodeFs.writeFileSync(NodePath.join(project, name), `// ${name}\n`)
  }
  const bin = process.env.CODETETHER_BENCH_BIN ?? NodePath.join(repo, "dist/bin/codetether.js")
  const baseline = NodePath.join(repo, "bench/child/minimal-agent.mjs")
  const server = await OpenAiServer.start()
  let cache = 0
  const coldEnv = () => ({
    OPENAI_API_KEY: "sk-bench",
    OPENAI_BASE_URL: server.url,
    XDG_CONFIG_HOME: NodePath.join(work, "config"),
    CODEX_HOME: NodePath.join(work, "codex"),
    NODE_COMPILE_CACHE: NodePath.join(work, `compile-cache-${cache++}`)
  })
  const script = () =>
    server.enqueue(
      OpenAiServer.toolCalls([{ id: "call_1", name: "bash", arguments: { command: "ls -1" } }]),
      OpenAiServer.text("There are 4 files: README.md, index.ts, package.json and test.ts.")
    )
  try {
    const ours: Array<Awaited<ReturnType<typeof runChild>>> = []
    const theirs: Array<Awaited<ReturnType<typeof runChild>>> = []
    for (let i = 0; i < RUNS; i++) {
      script()
      const run = await runChild([bin, "run", "list the files and count them"], { cwd: project, env: coldEnv() })
      if (run.code !== 0 || !run.stdout.includes("4 files")) throw new Error(`codetether run failed: ${run.stdout}`)
      ours.push(run)
      script()
      const minimal = await runChild([baseline, server.url, "list the files and count them"], { cwd: project, env: coldEnv() })
      if (minimal.code !== 0 || !minimal.stdout.includes("4 files")) throw new Error(`baseline failed: ${minimal.stdout}`)
      theirs.push(minimal)
    }
    // the same task with a warm module compile cache (any run after the first one)
    const warmRun = { ...coldEnv(), NODE_COMPILE_CACHE: NodePath.join(work, "compile-cache-run") }
    script()
    await runChild([bin, "run", "list the files and count them"], { cwd: project, env: warmRun })
    const oursWarm: Array<Awaited<ReturnType<typeof runChild>>> = []
    for (let i = 0; i < RUNS; i++) {
      script()
      oursWarm.push(await runChild([bin, "run", "list the files and count them"], { cwd: project, env: warmRun }))
    }
    const help: Array<number> = []
    const helpWarm: Array<number> = []
    for (let i = 0; i < RUNS; i++) help.push((await runChild([bin, "--help"], { env: coldEnv() })).wallMs)
    const warm = { NODE_COMPILE_CACHE: NodePath.join(work, "compile-cache-warm") }
    await runChild([bin, "--help"], { env: warm })
    for (let i = 0; i < RUNS; i++) helpWarm.push((await runChild([bin, "--help"], { env: warm })).wallMs)

    const wall = median(ours.map((r) => r.wallMs))
    const baseWall = median(theirs.map((r) => r.wallMs))
    const rss = median(ours.map((r) => r.maxRssBytes))
    return [
      {
        name: "codetether run, 2-turn task (bash ls, then the answer), bundled bin, median of 5 cold runs",
        value: `${ms(wall)} wall, ${ms(median(ours.map((r) => r.cpuMs)))} CPU, peak RSS ${mb(rss)}`,
        baseline: `minimal dependency-free loop ${ms(baseWall)} wall, ${ms(median(theirs.map((r) => r.cpuMs)))} CPU, peak RSS ${
          mb(median(theirs.map((r) => r.maxRssBytes)))
        }`,
        ratio: wall / baseWall,
        target: "<= 1.5x wall",
        ok: wall / baseWall <= 1.5
      },
      { name: "  peak RSS of codetether run", value: mb(rss), target: "<= 120 MB", ok: rss <= 120 * 2 ** 20 },
      {
        name: "  same task with a warm compile cache (every run after the first)",
        value: `${ms(median(oursWarm.map((r) => r.wallMs)))} wall, ${ms(median(oursWarm.map((r) => r.cpuMs)))} CPU`,
        baseline: `minimal loop ${ms(baseWall)}`,
        ratio: median(oursWarm.map((r) => r.wallMs)) / baseWall
      },
      {
        name: "codetether --help, median of 5",
        value: `${ms(median(help))} cold, ${ms(median(helpWarm))} with a warm compile cache`,
        target: "<= 200 ms",
        ok: median(help) <= 200
      }
    ]
  } finally {
    await server.close()
  }
}
