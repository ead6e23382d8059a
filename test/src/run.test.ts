/**
 * `codetether run` end to end: the bundled binary, in a temporary repository,
 * against local servers that speak the OpenAI and Anthropic wire protocols.
 * The model asks `bash` to list the files, then answers; `run --continue`
 * must send the whole earlier transcript.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as SessionEvent from "../../schemas/SessionEvent.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as AnthropicServer from "../utils/AnthropicServer.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { ScriptedServer } from "../utils/ScriptedServer.ts"
import * as TempDir from "../utils/TempDir.ts"

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64"
)

/** A temporary repository with three files and isolated config/Codex homes. */
const repository = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-run-")
  const repo = NodePath.join(root, "repo")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  for (const name of ["alpha.txt", "beta.txt", "gamma.txt"]) NodeFs.writeFileSync(NodePath.join(repo, name), `${name}\n`)
  NodeFs.writeFileSync(NodePath.join(repo, "pixel.png"), PNG)
  const env = Cli.isolatedEnv(root)
  const sessionsDir = NodePath.join(repo, ".codetether-agent", "sessions")
  const sessionFiles = () => (NodeFs.existsSync(sessionsDir) ? NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".json") && !n.startsWith(".")) : [])
  return { root, repo, env, sessionsDir, sessionFiles }
})

const providers = [
  {
    name: "openai",
    server: OpenAiServer.make,
    env: (server: ScriptedServer) => ({ OPENAI_API_KEY: "sk-test-openai", OPENAI_BASE_URL: server.url }),
    /** The messages the model received (OpenAI: role + content/tool_calls). */
    roles: (body: any) => body.messages.map((m: any) => m.role),
    toolOutputs: (body: any) => body.messages.filter((m: any) => m.role === "tool").map((m: any) => m.content),
    imageOf: (body: any) => body.messages.find((m: any) => m.role === "user").content.find((p: any) => p.type === "image_url")?.image_url.url
  },
  {
    name: "anthropic",
    server: AnthropicServer.make,
    env: (server: ScriptedServer) => ({ ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: server.url }),
    roles: (body: any) => ["system", ...body.messages.map((m: any) => m.role)],
    toolOutputs: (body: any) =>
      body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []).filter((b: any) => b.type === "tool_result"))
        .map((b: any) => (typeof b.content === "string" ? b.content : b.content.map((c: any) => c.text).join(""))),
    imageOf: (body: any) => {
      const block = body.messages[0].content.find((b: any) => b.type === "image")
      return block === undefined ? undefined : `data:${block.source.media_type};base64,${block.source.data}`
    }
  }
] as const

for (const provider of providers) {
  describe(`codetether run (${provider.name})`, () => {
    it.live("a two-turn task: the model lists the files with bash, then answers; --continue sends the whole transcript", () =>
      Effect.gen(function*() {
        const { repo, env, sessionsDir, sessionFiles } = yield* repository
        const server = yield* provider.server
        server.enqueue(
          OpenAiServer.toolCalls([{ id: "call_ls", name: "bash", arguments: { command: "ls -1" } }], { usage: { input: 300, output: 20 } }),
          OpenAiServer.text("There are 4 files: alpha.txt, beta.txt, gamma.txt and pixel.png.", { usage: { input: 400, output: 30 } })
        )
        const first = yield* Effect.promise(() =>
          Cli.run(["run", "list", "the", "files"], { cwd: repo, env: { ...env, ...provider.env(server) } })
        )
        expect(first.stderr).toBe("")
        expect(first.code).toBe(0)
        expect(first.stdout).toBe("There are 4 files: alpha.txt, beta.txt, gamma.txt and pixel.png.\n")
        expect(server.requests).toHaveLength(2)
        const second = server.requests[1]!.body
        expect(provider.toolOutputs(second)).toEqual(["alpha.txt\nbeta.txt\ngamma.txt\npixel.png"])
        const files = sessionFiles()
        expect(files).toHaveLength(1)
        const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessionsDir, files[0]!)))
        if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
        const session = decoded.success
        expect(session.metadata.directory).toBe(repo)
        expect(session.title).toBe("list the files")
        expect(session.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
        expect(session.toolUses).toEqual([
          { id: "call_ls", name: "bash", input: "{\"command\":\"ls -1\"}", output: "alpha.txt\nbeta.txt\ngamma.txt\npixel.png", success: true }
        ])
        expect(session.usage.completionTokens).toBe(50)

        server.enqueue(OpenAiServer.text("Yes, gamma.txt is the last one."))
        const again = yield* Effect.promise(() =>
          Cli.run(["run", "--continue", "is gamma the last one?"], { cwd: repo, env: { ...env, ...provider.env(server) } })
        )
        expect(again.code).toBe(0)
        expect(again.stdout).toBe("Yes, gamma.txt is the last one.\n")
        expect(sessionFiles()).toEqual(files)
        const third = server.requests[2]!.body
        expect(provider.roles(third)).toEqual(
          provider.name === "openai"
            ? ["system", "user", "assistant", "tool", "assistant", "user"]
            : ["system", "user", "assistant", "user", "assistant", "user"]
        )
        expect(provider.toolOutputs(third)).toEqual(["alpha.txt\nbeta.txt\ngamma.txt\npixel.png"])
        expect(JSON.stringify(third)).toContain("There are 4 files")
        expect(JSON.stringify(third)).toContain("is gamma the last one?")
      }))

    it.live("--json prints one SessionEvent per line; --image sends the picture and saves it as an image part", () =>
      Effect.gen(function*() {
        const { repo, env, sessionsDir, sessionFiles } = yield* repository
        const server = yield* provider.server
        server.enqueue(OpenAiServer.text("A single pixel."))
        const result = yield* Effect.promise(() =>
          Cli.run(["run", "--json", "--image", "pixel.png", "what is in this image?"], {
            cwd: repo,
            env: { ...env, ...provider.env(server) }
          })
        )
        expect(result.code).toBe(0)
        const events = yield* Effect.forEach(result.stdout.trim().split("\n"), (line) => SessionEvent.decode(JSON.parse(line)))
        expect(events[0]?._tag).toBe("Thinking")
        expect(events.at(-1)?._tag).toBe("Done")
        expect(events.map((e) => e._tag)).toContain("TokenUsage")
        const dataUrl = `data:image/png;base64,${PNG.toString("base64")}`
        expect(provider.imageOf(server.requests[0]!.body)).toBe(dataUrl)
        const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessionsDir, sessionFiles()[0]!)))
        if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
        expect(decoded.success.messages[0]!.content[1]).toEqual({ type: "image", url: dataUrl, mimeType: "image/png" })
        const events_file = NodePath.join(repo, ".codetether-agent", "events", `${decoded.success.id}.jsonl`)
        expect(JSON.parse(NodeFs.readFileSync(events_file, "utf8").split("\n")[0]!).kind).toBe("token_usage")
      }))

    it.live("a rejected key is one line on stderr naming the provider, exit code 1; the user message is saved", () =>
      Effect.gen(function*() {
        const { repo, env, sessionFiles, sessionsDir } = yield* repository
        const server = yield* provider.server
        server.enqueue(OpenAiServer.httpError(401, "Incorrect API key provided"))
        const result = yield* Effect.promise(() =>
          Cli.run(["run", "hello"], { cwd: repo, env: { ...env, ...provider.env(server) } })
        )
        expect(result.code).toBe(1)
        expect(result.stdout).toBe("")
        expect(result.stderr.trim().split("\n")).toHaveLength(1)
        expect(result.stderr).toContain(provider.name)
        expect(result.stderr).toContain("401")
        expect(result.stderr).not.toContain("sk-")
        const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessionsDir, sessionFiles()[0]!)))
        if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
        expect(decoded.success.messages.map((m) => m.role)).toEqual(["user"])
      }))
  })
}

describe("codetether run (usage)", () => {
  it.live("without credentials, without a message, or with --continue and nothing to continue: one clear line, exit 1", () =>
    Effect.gen(function*() {
      const { repo, env } = yield* repository
      const noProvider = yield* Effect.promise(() => Cli.run(["run", "hi"], { cwd: repo, env }))
      expect(noProvider.code).toBe(1)
      expect(noProvider.stderr).toMatch(/^codetether: No providers available\./)
      const noMessage = yield* Effect.promise(() => Cli.run(["run"], { cwd: repo, env: { ...env, OPENAI_API_KEY: "x" }, input: "" }))
      expect([noMessage.code, noMessage.stderr]).toEqual([1, expect.stringContaining("No message")])
      const nothing = yield* Effect.promise(() => Cli.run(["run", "-c", "more"], { cwd: repo, env: { ...env, OPENAI_API_KEY: "x" } }))
      expect([nothing.code, nothing.stderr.trim()]).toEqual([1, `codetether: No session to continue in ${repo}`])
    }))

  it.live("reads the message from stdin with '-', and providers lists what is configured without secrets", () =>
    Effect.gen(function*() {
      const { repo, env } = yield* repository
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("piped ok"))
      const piped = yield* Effect.promise(() =>
        Cli.run(["run", "-"], { cwd: repo, env: { ...env, OPENAI_API_KEY: "sk-secret", OPENAI_BASE_URL: server.url }, input: "from stdin\n" })
      )
      expect(piped.code).toBe(0)
      expect(JSON.stringify(server.requests[0]!.body.messages)).toContain("from stdin")
      const list = yield* Effect.promise(() =>
        Cli.run(["providers", "--json"], { cwd: repo, env: { ...env, OPENAI_API_KEY: "sk-secret" } })
      )
      expect(list.code).toBe(0)
      expect(list.stdout).toContain("openai")
      expect(list.stdout).not.toContain("sk-secret")
    }))

  it.live("--max-tokens reaches the request and --max-steps stops the loop (flags win over the environment)", () =>
    Effect.gen(function*() {
      const { repo, env } = yield* repository
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "a", name: "bash", arguments: { command: "true" } }]),
        OpenAiServer.toolCalls([{ id: "b", name: "bash", arguments: { command: "true" } }])
      )
      const result = yield* Effect.promise(() =>
        Cli.run(["run", "--max-tokens", "1234", "--max-steps", "1", "loop forever"], {
          cwd: repo,
          env: { ...env, OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: server.url, CODETETHER_SESSION_MAX_TOKENS: "999" }
        })
      )
      expect(result.code).toBe(0)
      expect(server.requests).toHaveLength(1)
      const body = server.requests[0]!.body
      expect(body.max_completion_tokens ?? body.max_tokens).toBe(1234)
    }))
})

describe("codetether and Codex CLI sessions", () => {
  const SAMPLE = NodePath.join(import.meta.dirname, "../fixtures/codex/rollout-2026-11-22T03-10-23-01a2013b-c1ee-7120-b0ee-fab476a007fd.jsonl")
  const SAMPLE_ID = "01a2013b-c1ee-7120-b0ee-fab476a007fd"

  it.live("sessions list --all shows a Codex session not imported yet; run --session <codex id> imports and continues it", () =>
    Effect.gen(function*() {
      const { repo, env, root } = yield* repository
      const codexHome = NodePath.join(root, "codex")
      NodeFs.mkdirSync(NodePath.join(codexHome, "sessions", "2026", "11", "22"), { recursive: true })
      NodeFs.copyFileSync(SAMPLE, NodePath.join(codexHome, "sessions", "2026", "11", "22", NodePath.basename(SAMPLE)))
      const listed = yield* Effect.promise(() => Cli.run(["sessions", "list", "--all", "--json"], { cwd: repo, env }))
      expect(listed.code).toBe(0)
      const rows = JSON.parse(listed.stdout) as Array<{ id: string; title: string; directory: string }>
      expect(rows).toHaveLength(1)
      expect(rows[0]!.id).toBe(SAMPLE_ID)
      expect(rows[0]!.title.startsWith("[Codex] ")).toBe(true)
      expect(rows[0]!.directory).toBe("/home/dev/demo")

      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("It found 5 files."))
      const run = yield* Effect.promise(() =>
        Cli.run(["run", "--session", SAMPLE_ID, "what did you find?"], {
          cwd: repo,
          env: { ...env, OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: server.url }
        })
      )
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      const sent = JSON.stringify(server.requests[0]!.body.messages)
      expect(sent).toContain("DONE: 5 files")
      expect(sent).toContain("exec_command")
      expect(sent).toContain("what did you find?")
      // now imported: listed once, without the [Codex] marker
      const again = JSON.parse((yield* Effect.promise(() => Cli.run(["sessions", "list", "--all", "--json"], { cwd: repo, env }))).stdout)
      expect(again.map((r: { id: string }) => r.id)).toEqual([SAMPLE_ID])
      expect(again[0].title.startsWith("[Codex]")).toBe(false)
    }))
})
