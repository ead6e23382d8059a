/**
 * Runs one program of src/ (`node src/<file>`) against the scripted model
 * server, in a temporary directory holding three files and a broken
 * codetether.toml (which `Codetether.layerValue` never reads), with
 * MODEL_BASE_URL and DATA_DIR set. Resolves to its exit status, output, the
 * model requests the server received and the session files it saved; removes
 * the directories afterwards.
 */
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { start } from "../scripted-model-server.mjs"

const app = NodePath.resolve(import.meta.dirname, "..")

export const runApp = async (file) => {
  const work = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-embed-work-"))
  const data = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-embed-data-"))
  for (const name of ["a.txt", "b.txt", "c.txt"]) NodeFs.writeFileSync(NodePath.join(work, name), name)
  NodeFs.writeFileSync(NodePath.join(work, "codetether.toml"), "default_model = [\n")
  const server = await start()
  try {
    // not spawnSync: the server answers from this process's event loop
    const child = await new Promise((resolve) => {
      const proc = NodeChild.spawn(process.execPath, [NodePath.join(app, "src", file)], {
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
    const sessions = NodeFs.existsSync(NodePath.join(data, "sessions"))
      ? NodeFs.readdirSync(NodePath.join(data, "sessions")).filter((name) => name.endsWith(".json") && !name.startsWith("."))
      : []
    return { ...child, requests: server.requests.length, sessions }
  } finally {
    await server.close()
    NodeFs.rmSync(work, { recursive: true, force: true })
    NodeFs.rmSync(data, { recursive: true, force: true })
  }
}

/** Prints `message` as a failure and sets a non-zero exit code. */
export const fail = (name, message) => {
  console.error(`${name}: ${message}`)
  process.exitCode = 1
}
