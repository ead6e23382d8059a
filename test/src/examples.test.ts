/**
 * The embedding example of the README runs as written (with "codetether"
 * resolved to this repository's sources).
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const repo = NodePath.resolve(import.meta.dirname, "../..")

describe("package", () => {
  it("src/version.ts matches package.json", async () => {
    const { version } = await import("../../src/version.ts")
    expect(version).toBe(JSON.parse(NodeFs.readFileSync(NodePath.join(repo, "package.json"), "utf8")).version)
  })
})

describe("examples", () => {
  it("examples/embed/test/agent.test.ts is the README's test paragraph (the root suite runs it against the sources)", () => {
    const source = NodeFs.readFileSync(NodePath.join(repo, "examples/embed/test/agent.test.ts"), "utf8")
    expect(NodeFs.readFileSync(NodePath.join(repo, "README.md"), "utf8")).toContain(source.trim())
    expect(source).toContain("from \"codetether/testing\"")
    expect(source.match(/from "codetether[^"]*"/g)).toEqual(["from \"codetether/testing\""])
  })

  it.live("examples/resume.ts is the README's embedding example and resumes the last session", () =>
    Effect.gen(function*() {
      const source = NodeFs.readFileSync(NodePath.join(repo, "examples/resume.ts"), "utf8")
      expect(NodeFs.readFileSync(NodePath.join(repo, "README.md"), "utf8")).toContain(source.trim())
      const dir = yield* TempDir.make("codetether-example-")
      // inside the repository, so that "effect" resolves from its node_modules
      const scratch = NodePath.join(repo, "test/.tmp")
      NodeFs.mkdirSync(scratch, { recursive: true })
      const script = NodePath.join(scratch, `resume-${process.pid}.ts`)
      NodeFs.writeFileSync(script, source.replace("from \"codetether\"", `from ${JSON.stringify(NodePath.join(repo, "src/index.ts"))}`))
      const data = NodePath.join(dir, "data")
      NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
      const session = Sessions.make({ directory: dir, title: "the example", messages: 25 })
      NodeFs.writeFileSync(NodePath.join(data, "sessions", `${session.id}.json`), SessionJson.encode(session))
      const out = NodeChild.execFileSync(process.execPath, [script], {
        cwd: dir,
        env: { ...process.env, CODETETHER_DATA_DIR: data },
        encoding: "utf8"
      })
      NodeFs.rmSync(script)
      expect(out.trim()).toBe("the example: 20 messages shown, 5 older")
    }))

  it.live("examples/prompt.ts is the README's agent example and runs a prompt with tools", () =>
    Effect.gen(function*() {
      const source = NodeFs.readFileSync(NodePath.join(repo, "examples/prompt.ts"), "utf8")
      expect(NodeFs.readFileSync(NodePath.join(repo, "README.md"), "utf8")).toContain(source.trim())
      const dir = yield* TempDir.make("codetether-example-")
      NodeFs.mkdirSync(NodePath.join(dir, ".git"))
      for (const name of ["one.txt", "two.txt"]) NodeFs.writeFileSync(NodePath.join(dir, name), name)
      const scratch = NodePath.join(repo, "test/.tmp")
      NodeFs.mkdirSync(scratch, { recursive: true })
      const script = NodePath.join(scratch, `prompt-${process.pid}.ts`)
      NodeFs.writeFileSync(script, source.replace("from \"codetether\"", `from ${JSON.stringify(NodePath.join(repo, "src/index.ts"))}`))
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "ls | wc -l" } }]),
        OpenAiServer.text("There are 2 files.")
      )
      const result = yield* Effect.promise(() =>
        new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
          const child = NodeChild.spawn(process.execPath, [script], {
            cwd: dir,
            env: { ...process.env, OPENAI_API_KEY: "sk-example", OPENAI_BASE_URL: server.url, XDG_CONFIG_HOME: NodePath.join(dir, "cfg") }
          })
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (d) => (stdout += d))
          child.stderr.on("data", (d) => (stderr += d))
          child.on("close", (code) => resolve({ stdout, stderr, code }))
        })
      )
      NodeFs.rmSync(script)
      expect(result.code).toBe(0)
      expect(result.stdout.trim()).toBe("There are 2 files.")
      expect(result.stderr).toContain("running bash {\"command\":\"ls | wc -l\"}")
      const id = /saved session (\S+)/.exec(result.stderr)?.[1]
      expect(NodeFs.existsSync(NodePath.join(dir, ".codetether-agent", "sessions", `${id}.json`))).toBe(true)
      expect(server.requests[1]!.body.messages.at(-1)).toMatchObject({ role: "tool", content: "2" })
    }))
})
