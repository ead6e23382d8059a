/**
 * The lock file of a session's lease (services/internal/SessionLock.ts): it
 * appears with its content, so another process never reads it empty and
 * takes it over as garbage (which made an ordinary overlap look like a
 * forced takeover).
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as SessionLock from "../../../services/internal/SessionLock.ts"

// A reader in another process: reads the lock as fast as it can until told to
// stop, and counts what it saw (absent, a lock, or something that is not one).
const READER = `
const fs = require("node:fs")
const path = process.argv[2]
const seen = { absent: 0, lock: 0, other: 0 }
let stop = false
process.on("message", () => { stop = true })
const spin = () => {
  for (let i = 0; i < 2000 && !stop; i++) {
    let text
    try { text = fs.readFileSync(path, "utf8") } catch { seen.absent++; continue }
    try { JSON.parse(text).token ? seen.lock++ : seen.other++ } catch { seen.other++ }
  }
  if (stop) process.send(seen, () => process.exit(0))
  else setImmediate(spin)
}
process.send("ready")
spin()
`

describe("SessionLock", () => {
  it("a lock is never seen empty or half-written by another process while it is taken and released", async () => {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-lock-"))
    const path = NodePath.join(dir, "s.json.lock")
    const script = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-lock-reader-")), "reader.cjs")
    NodeFs.writeFileSync(script, READER)
    const reader = NodeChild.fork(script, [path], { execArgv: [], stdio: ["ignore", "ignore", "inherit", "ipc"] })
    try {
      await new Promise<void>((resolve) => reader.once("message", () => resolve()))
      for (let i = 0; i < 3000; i++) {
        const taken = SessionLock.tryAcquire(path, "prompt")
        expect(taken._tag).toBe("Acquired")
        if (taken._tag === "Acquired") SessionLock.release(path, taken.holder)
        if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      const seen = await new Promise<{ absent: number; lock: number; other: number }>((resolve) => {
        reader.once("message", (m) => resolve(m as { absent: number; lock: number; other: number }))
        reader.send("stop")
      })
      expect(seen.lock).toBeGreaterThan(0)
      expect(seen.other).toBe(0)
      // no temp file or lock left behind
      expect(NodeFs.readdirSync(dir)).toEqual([])
    } finally {
      reader.kill()
      NodeFs.rmSync(dir, { recursive: true, force: true })
      NodeFs.rmSync(NodePath.dirname(script), { recursive: true, force: true })
    }
  })
})
