import { NodeServices } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Exit, Fiber } from "effect"
import * as ToolRegistry from "../../../services/ToolRegistry.ts"
import * as Bash from "../../../services/tools/Bash.ts"
import { isAlive, registryLayer, run, tempDir, waitForFile, writeFiles } from "./helpers.ts"

/** A command that starts a background `sleep`, records both pids, then waits. */
const SLEEPER = "sleep 30 & echo $! > child.pid; echo $$ > shell.pid; wait"

describe("bash", () => {
  layer(registryLayer, { excludeTestServices: true })((it) => {
    it.effect("runs in context.directory, not process.cwd()", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("bash", { command: "pwd" }, dir)
        assert.deepStrictEqual(result.output, dir)
        assert.isTrue(result.success)
        assert.strictEqual(result.metadata?.exit_code, 0)
      }))

    it.effect("runs in a cwd relative to the context directory, and fails for a missing one", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "sub/f.txt": "" })
        const result = yield* run("bash", { command: "ls", cwd: "sub" }, dir)
        assert.strictEqual(result.output, "f.txt")
        assert.deepStrictEqual(yield* run("bash", { command: "ls", cwd: "nope" }, dir), {
          output: "Error: Working directory not found: nope",
          success: false
        })
      }))

    it.effect("combines stdout and stderr in the order written", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("bash", { command: "echo one; echo two >&2; echo three" }, dir)
        assert.strictEqual(result.output, "one\ntwo\nthree")
      }))

    it.effect("reports a non-zero exit code as a failure with the code", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("bash", { command: "echo oops >&2; exit 3" }, dir)
        assert.isFalse(result.success)
        assert.strictEqual(result.output, "oops\n\n[exit code: 3]")
        assert.strictEqual(result.metadata?.exit_code, 3)
      }))

    it.effect("says when there is no output", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("bash", { command: "true" }, dir)
        assert.deepStrictEqual([result.output, result.success], ["(no output)", true])
      }))

    it.effect("closes stdin so commands never wait for input", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("bash", { command: "read line; echo \"got:$line status:$?\"" }, dir)
        assert.strictEqual(result.output, "got: status:1")
      }))

    it.effect("reports a process killed by a signal", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const result = yield* run("bash", { command: "kill -9 $$" }, dir)
        assert.isFalse(result.success)
        assert.strictEqual(result.output, "(no output)\n\n[command killed by SIGKILL]")
        assert.strictEqual(result.metadata?.exit_code, null)
      }))

    it.effect("rejects a missing or empty command", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        assert.strictEqual(
          (yield* run("bash", {}, dir)).output,
          "Error: Invalid arguments for tool 'bash': `command`: Missing key"
        )
        assert.strictEqual((yield* run("bash", { command: "  " }, dir)).output, "Error: command is empty")
        const badTimeout = yield* run("bash", { command: "true", timeout: "soon" }, dir)
        assert.include(badTimeout.output, "`timeout`")
      }))
  })

  // A short SIGTERM -> SIGKILL grace keeps these fast where zombies are reaped late (containers without an init).
  layer(NodeServices.layer, { excludeTestServices: true })("process groups", (it) => {
    const call = (args: unknown, directory: string) =>
      Effect.flatMap(Bash.make({ killGraceMs: 200 }), (tool) => ToolRegistry.make([tool]).execute({ name: "bash", args }, { directory }))

      it.effect("kills the process group on timeout", () =>
        Effect.gen(function*() {
          const dir = yield* tempDir
          const result = yield* call({ command: `echo started; ${SLEEPER}`, timeout: 300 }, dir)
          assert.isFalse(result.success)
          assert.strictEqual(result.output, "started\n\n[command timed out after 300 ms and was killed]")
          assert.strictEqual(result.metadata?.timed_out, true)
          const shell = Number(NodeFs.readFileSync(NodePath.join(dir, "shell.pid"), "utf8"))
          const child = Number(NodeFs.readFileSync(NodePath.join(dir, "child.pid"), "utf8"))
          assert.isFalse(isAlive(shell), "the shell is gone")
          assert.isFalse(isAlive(child), "its background child is gone")
        }))

      it.effect("kills the process group when the call is interrupted", () =>
        Effect.gen(function*() {
          const dir = yield* tempDir
          const fiber = yield* Effect.forkChild(call({ command: SLEEPER }, dir))
          const shell = Number(yield* waitForFile(NodePath.join(dir, "shell.pid")))
          const child = Number(yield* waitForFile(NodePath.join(dir, "child.pid")))
          assert.isTrue(isAlive(shell) && isAlive(child), "both run before the interruption")
          yield* Fiber.interrupt(fiber)
          const exit = yield* Fiber.await(fiber)
          assert.isTrue(Exit.hasInterrupts(exit), "the interruption propagates")
          assert.isFalse(isAlive(shell), "the shell is gone")
          assert.isFalse(isAlive(child), "its background child is gone")
        }))

      it.effect("stops background processes when the command finishes", () =>
        Effect.gen(function*() {
          const dir = yield* tempDir
          const result = yield* call({ command: "sleep 30 & echo $! > bg.pid; echo done" }, dir)
          assert.strictEqual(result.output, "done")
          const bg = Number(NodeFs.readFileSync(NodePath.join(dir, "bg.pid"), "utf8"))
          assert.isFalse(isAlive(bg))
        }))
  })

  layer(NodeServices.layer, { excludeTestServices: true })("with caps", (it) => {
    it.effect("keeps the head and the tail of long output with a note", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const registry = ToolRegistry.make([yield* Bash.make({ maxOutputBytes: 100 })])
        // `seq 1 1000` prints 3893 bytes.
        const result = yield* registry.execute({ name: "bash", args: { command: "seq 1 1000" } }, { directory: dir })
        assert.isTrue(result.success)
        // The first 50 bytes end inside "20\n"; the last 50 start with the newline after "988".
        const head = Array.from({ length: 20 }, (_, i) => `${i + 1}`).join("\n")
        const tail = ["", ...Array.from({ length: 12 }, (_, i) => `${989 + i}`)].join("\n")
        assert.strictEqual(
          result.output,
          `${head}\n[... 3793 bytes omitted (3893 bytes in total); showing the first 50 and last 50 bytes ...]\n${tail}`
        )
        assert.strictEqual(result.metadata?.truncated, true)
        assert.strictEqual(result.metadata?.output_bytes, 3893)
      }))

    it.effect("lowers a timeout above the maximum and says so", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const registry = ToolRegistry.make([yield* Bash.make({ maxTimeoutMs: 200 })])
        const result = yield* registry.execute(
          { name: "bash", args: { command: "sleep 30", timeout: 999_999 } },
          { directory: dir }
        )
        assert.strictEqual(
          result.output,
          "(no output)\n\n[timeout lowered to the maximum, 200 ms]\n[command timed out after 200 ms and was killed]"
        )
      }))

    it.effect("passes extra environment variables and keeps the parent's", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const registry = ToolRegistry.make([yield* Bash.make({ env: { CT_TEST_VAR: "42" } })])
        const result = yield* registry.execute(
          { name: "bash", args: { command: "echo $CT_TEST_VAR $GIT_TERMINAL_PROMPT; test -n \"$PATH\" && echo path" } },
          { directory: dir }
        )
        assert.strictEqual(result.output, "42 0\npath")
      }))
  })
})
