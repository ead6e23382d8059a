/**
 * Runs src/main.ts against the scripted model server, in a temporary
 * directory holding three files, and checks what it printed and saved.
 * Exits non-zero (with the reason) when anything differs.
 */
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { start } from "../scripted-model-server.mjs"

const app = NodePath.resolve(import.meta.dirname, "..")
const work = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-embed-e2e-"))
const data = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-embed-data-"))
for (const name of ["a.txt", "b.txt", "c.txt"]) NodeFs.writeFileSync(NodePath.join(work, name), name)
// a broken config file in the app's working directory: layerValue never reads it
NodeFs.writeFileSync(NodePath.join(work, "codetether.toml"), "default_model = [\n")

const server = await start()
const fail = (message) => {
  console.error(`e2e: ${message}`)
  process.exitCode = 1
}
try {
  // not spawnSync: the server answers from this process's event loop
  const child = await new Promise((resolve) => {
    const proc = NodeChild.spawn(process.execPath, [NodePath.join(app, "src/main.ts")], {
      cwd: work,
      env: { ...process.env, MODEL_BASE_URL: server.url, DATA_DIR: data }
    })
    let stdout = ""
    let stderr = ""
    proc.stdout.on("data", (d) => (stdout += d))
    proc.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => proc.kill("SIGTERM"), 120_000)
    proc.on("close", (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
  process.stdout.write(child.stdout)
  process.stderr.write(child.stderr)
  const sessions = NodeFs.existsSync(NodePath.join(data, "sessions"))
    ? NodeFs.readdirSync(NodePath.join(data, "sessions")).filter((name) => name.endsWith(".json") && !name.startsWith("."))
    : []
  if (child.status !== 0) fail(`src/main.ts exited with ${child.status}`)
  else if (child.stdout.trim() !== "There are 4 entries here.") fail(`unexpected answer: ${JSON.stringify(child.stdout)}`)
  else if (server.requests.length !== 2) fail(`expected 2 model requests, got ${server.requests.length}`)
  else if (sessions.length !== 1) fail(`expected one saved session in ${data}, found ${sessions.length}`)
  else console.log(`e2e: ok (2 model requests, session ${sessions[0]} saved)`)
} finally {
  await server.close()
  NodeFs.rmSync(work, { recursive: true, force: true })
  NodeFs.rmSync(data, { recursive: true, force: true })
}
