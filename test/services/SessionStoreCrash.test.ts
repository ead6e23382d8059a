/**
 * Crash safety of SessionStore saves under a lease: a child process saving in
 * a loop is killed with SIGKILL at random moments; the session file must
 * always decode to one complete version, the next child takes over the lock
 * the killed one left, and the temporary files of dead writers are swept once
 * they are an hour old.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { build } from "esbuild"
import { Effect, Layer, Result } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as SessionStore from "../../services/SessionStore.ts"
import * as TempDir from "../utils/TempDir.ts"

const KILLS = 120

const runUntilReadyThenKill = (script: string, args: ReadonlyArray<string>, delayMs: number) =>
  new Promise<void>((resolve, reject) => {
    const child = NodeChild.spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), delayMs))
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))
    )
  })

describe("SessionStore crash safety", () => {
  it.live(`the file is always a complete session after ${KILLS} SIGKILLs mid-save`, () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make("codetether-crash-")
      const script = NodePath.join(dir, "save-loop.mjs")
      yield* Effect.promise(() =>
        build({
          entryPoints: [NodePath.join(import.meta.dirname, "../utils/SaveLoop.ts")],
          bundle: true,
          platform: "node",
          format: "esm",
          target: "node22",
          outfile: script,
          logLevel: "silent"
        })
      )
      const data = NodePath.join(dir, "data")
      const workspace = NodePath.join(dir, "ws")
      NodeFs.mkdirSync(workspace)
      const id = "c0ffee00-0000-4000-8000-000000000001"
      const file = NodePath.join(data, "sessions", `${id}.json`)
      let seed = 7
      const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
      const seen = { A: 0, B: 0 }
      let tempLeft = 0
      let lockLeft = 0
      const sessions = NodePath.dirname(file)
      const temps = () => NodeFs.readdirSync(sessions).filter((n) => n.endsWith(".tmp"))
      for (let i = 0; i < KILLS; i++) {
        yield* Effect.promise(() => runUntilReadyThenKill(script, [data, id, workspace], Math.floor(random() * 300)))
        const decoded = SessionJson.decode(NodeFs.readFileSync(file))
        if (Result.isFailure(decoded)) throw new Error(`kill ${i}: torn file: ${decoded.failure.message}`)
        const session = decoded.success
        expect(session.title === "A" || session.title === "B").toBe(true)
        expect(session.messages).toHaveLength(session.title === "A" ? 400 : 1500)
        seen[session.title as "A" | "B"]++
        if (temps().length > tempLeft) tempLeft = temps().length
        if (NodeFs.existsSync(`${file}.lock`)) lockLeft++
      }
      // both versions were observed, some kills landed mid-write (temp files were left behind),
      // and every child after the first took over the lock its killed predecessor left
      expect(seen.A).toBeGreaterThan(0)
      expect(seen.B).toBeGreaterThan(0)
      expect(tempLeft).toBeGreaterThan(0)
      expect(lockLeft).toBe(KILLS)
      const store = yield* SessionStore.SessionStore.pipe(
        Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
      )
      const session = yield* store.load(id)
      yield* store.save({ ...session, title: "after" }) // takes over the dead child's lock
      expect(NodeFs.existsSync(`${file}.lock`)).toBe(false)
      expect((yield* store.load(id)).title).toBe("after")
      // the dead writers' temp files are young: kept for now, swept by the next store once an hour old
      const left = temps()
      expect(left.length).toBeGreaterThan(0)
      const old = Date.now() / 1000 - 2 * 3600
      for (const name of left) NodeFs.utimesSync(NodePath.join(sessions, name), old, old)
      const fresh = yield* SessionStore.SessionStore.pipe(
        Effect.provide(SessionStore.layerFileSystem.pipe(Layer.provide(DataDir.layerPath(data))))
      )
      yield* fresh.save(yield* fresh.load(id))
      expect(temps()).toEqual([])
    }), 300_000)
})
