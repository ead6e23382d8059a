import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Redacted } from "effect"
import * as ServerToken from "../../services/ServerToken.ts"
import * as Logs from "../utils/Logs.ts"
import * as TempDir from "../utils/TempDir.ts"

const resolve = (dataDir: string, envToken?: string) => ServerToken.resolve({ dataDir, envToken })
const tokenOf = (service: ServerToken.ServerToken["Service"]) => Redacted.value(service.token)
const mode = (path: string) => NodeFs.statSync(path).mode & 0o777

describe("ServerToken", () => {
  it.effect("CODETETHER_SERVER_TOKEN wins; nothing is written", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make()
      const service = yield* resolve(dir, "my-secret-token")
      expect(service.source).toBe("env")
      expect(tokenOf(service)).toBe("my-secret-token")
      expect(NodeFs.existsSync(NodePath.join(dir, ServerToken.FILE_NAME))).toBe(false)
      expect(service.matches("my-secret-token")).toBe(true)
      expect(service.matches("my-secret-tokeN")).toBe(false)
      expect(service.matches("")).toBe(false)
      // a blank variable is unset
      expect((yield* resolve(dir, "  ")).source).toBe("generated")
    }))

  it.effect("a new token is written 0600 in a 0700 data dir, then read back from it", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make()
      const dir = NodePath.join(root, ".codetether-agent")
      const first = yield* resolve(dir)
      const path = NodePath.join(dir, ServerToken.FILE_NAME)
      expect(first.source).toBe("generated")
      expect(first.path).toBe(path)
      expect(tokenOf(first)).toMatch(/^[A-Za-z0-9_-]{43}\.[0-9a-f]{16}$/)
      expect(NodeFs.readFileSync(path, "utf8")).toBe(`${tokenOf(first)}\n`)
      expect(mode(path)).toBe(0o600)
      expect(mode(dir)).toBe(0o700)
      const second = yield* resolve(dir)
      expect(second.source).toBe("file")
      expect(tokenOf(second)).toBe(tokenOf(first))
      expect(NodeFs.readdirSync(dir)).toEqual([ServerToken.FILE_NAME])
    }))

  it.effect("a token file this program did not create is never used: a committed copy, wrong mode, a symlink, a FIFO", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make()
      const original = NodePath.join(root, "original")
      const valid = tokenOf(yield* resolve(original))
      const dir = NodePath.join(root, "repo", ".codetether-agent")
      NodeFs.mkdirSync(dir, { recursive: true })
      const path = NodePath.join(dir, ServerToken.FILE_NAME)
      const planted: ReadonlyArray<readonly [string, () => void]> = [
        // the same bytes, even 0600 (a checkout with umask 077): another inode
        ["was not created here", () => NodeFs.writeFileSync(path, `${valid}\n`, { mode: 0o600 })],
        ["has mode 644", () => {
          NodeFs.writeFileSync(path, `${valid}\n`)
          NodeFs.chmodSync(path, 0o644)
        }],
        ["is a symlink", () => NodeFs.symlinkSync(NodePath.join(original, ServerToken.FILE_NAME), path)],
        ["does not hold a token", () => NodeFs.writeFileSync(path, "password\n", { mode: 0o600 })],
        ["has other hard links", () => NodeFs.linkSync(NodePath.join(original, ServerToken.FILE_NAME), path)],
        ["is not a regular file", () => NodeChild.execFileSync("mkfifo", ["-m", "600", path])]
      ]
      for (const [problem, plant] of planted) {
        NodeFs.rmSync(path, { force: true })
        plant()
        const { value: result, logs } = yield* Logs.capture(resolve(dir))
        expect(result.source, problem).toBe("generated")
        expect(tokenOf(result)).not.toBe(valid)
        expect(logs.map((l) => l.message).join("\n")).toContain(problem)
        // the log never shows a token
        expect(logs.map((l) => l.message).join("\n")).not.toContain(valid)
        expect(NodeFs.lstatSync(path).isSymbolicLink()).toBe(false)
        expect(mode(path)).toBe(0o600)
        expect((yield* resolve(dir)).source).toBe("file")
      }
      // the symlink's target (the other data dir's token) was never touched
      expect(tokenOf(yield* resolve(original))).toBe(valid)
    }))

  it.effect("matches compares in constant time over digests; isLoopback knows the loopback names", () =>
    Effect.sync(() => {
      expect(ServerToken.matches("abc", "abc")).toBe(true)
      expect(ServerToken.matches("abc", "abcd")).toBe(false)
      expect(ServerToken.matches("", "")).toBe(false)
      for (const host of ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3", "LOCALHOST"]) {
        expect(ServerToken.isLoopback(host), host).toBe(true)
      }
      for (const host of ["0.0.0.0", "::", "192.168.1.4", "example.com", "128.0.0.1", "localhost.example.com"]) {
        expect(ServerToken.isLoopback(host), host).toBe(false)
      }
    }))
})
