/**
 * `codetether run` with the loop behaviour of issue 11, through the bundled
 * binary against local OpenAI-compatible servers: the step-limit message, the
 * `ollama` preset (no native tools: `<tool_call>` markup), fail-over to
 * `fallback_models`, event-stream audit files and an oversized message.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as Compaction from "../../schemas/Compaction.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as TempDir from "../utils/TempDir.ts"

const repository = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-loop-")
  const repo = NodePath.join(root, "repo")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(repo, "a.txt"), "a\n")
  const config = NodePath.join(root, "config")
  const env: Record<string, string | undefined> = {
    HOME: root,
    XDG_CONFIG_HOME: config,
    CODEX_HOME: NodePath.join(root, "codex"),
    CODETETHER_DATA_DIR: undefined,
    CODETETHER_MODEL: undefined,
    CODETETHER_MAX_STEPS: undefined,
    CODETETHER_FALLBACK_MODELS: undefined,
    CODETETHER_EVENT_STREAM_PATH: undefined,
    OLLAMA_BASE_URL: undefined,
    OPENAI_API_KEY: undefined,
    OPENAI_BASE_URL: undefined,
    ANTHROPIC_API_KEY: undefined
  }
  const sessionsDir = NodePath.join(repo, ".codetether-agent", "sessions")
  const onlySession = () => {
    const [file] = NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".json") && !n.startsWith("."))
    const decoded = SessionJson.decode(NodeFs.readFileSync(NodePath.join(sessionsDir, file!)))
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
    return decoded.success
  }
  const cli = (args: ReadonlyArray<string>, extra: Record<string, string> = {}, input?: string) =>
    Effect.promise(() => Cli.run(args, { cwd: repo, env: { ...env, ...extra }, ...(input === undefined ? {} : { input }) }))
  return { root, repo, config, cli, onlySession }
})

const bashCall = (id: string) => OpenAiServer.toolCalls([{ id, name: "bash", arguments: { command: "ls" } }])

describe("codetether run: the loop of 4.5.7", () => {
  it.live("--max-steps 2 against a model that keeps calling tools: exit 0, stderr says the limit was reached and how to continue", () =>
    Effect.gen(function*() {
      const { cli } = yield* repository
      const server = yield* OpenAiServer.make
      server.enqueue(bashCall("1"), bashCall("2"))
      const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url }
      const result = yield* cli(["run", "--max-steps", "2", "keep listing"], env)
      expect(result.code).toBe(0)
      expect(result.stderr).toBe(
        "codetether: stopped at the step limit: 2 model steps ran and the model was still calling tools; continue with " +
          "codetether run -c \"<what next>\" (--max-steps N, session.max_steps or CODETETHER_MAX_STEPS sets the limit)\n"
      )
      server.enqueue(bashCall("3"), bashCall("4"))
      const json = yield* cli(["run", "--json", "--max-steps", "2", "again"], env)
      expect([json.code, json.stderr]).toEqual([0, ""])
      const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l))
      expect(lines.slice(-3).map((l) => l.type)).toEqual(["StepLimitReached", "SessionSync", "Done"])
      expect(lines.at(-3)).toEqual({ type: "StepLimitReached", steps: 2, max_steps: 2 })
    }))

  it.live("--model ollama/<model> (OLLAMA_BASE_URL): tools in the system prompt, <tool_call> markup runs bash, no tools parameter", () =>
    Effect.gen(function*() {
      const { cli, onlySession } = yield* repository
      const server = yield* OpenAiServer.make
      server.enqueue(
        OpenAiServer.text("I will look.\n<tool_call>{\"name\": \"bash\", \"arguments\": {\"command\": \"ls\"}}</tool_call>"),
        OpenAiServer.text("There is a.txt.")
      )
      const result = yield* cli(["run", "--model", "ollama/qwen2.5-coder", "what is here?"], { OLLAMA_BASE_URL: server.url })
      expect([result.code, result.stderr]).toEqual([0, ""])
      expect(result.stdout).toBe("I will look.\nThere is a.txt.\n")
      const [first, second] = server.requests.map((r) => r.body)
      expect(first.model).toBe("qwen2.5-coder")
      expect(first.tools).toBeUndefined()
      expect(server.requests[0]!.headers.authorization).toBeUndefined()
      expect(first.messages[0].content).toContain("# Tool Use")
      expect(first.messages[0].content).toContain("- bash: ")
      expect(second.messages.at(-1)).toEqual({ role: "user", content: "<tool_result name=\"bash\">\na.txt\n</tool_result>" })
      const session = onlySession()
      expect(session.metadata.model).toBe("ollama/qwen2.5-coder")
      expect(session.toolUses.map((u) => [u.name, u.output])).toEqual([["bash", "a.txt"]])
    }))

  it.live("fallback_models: the primary fails after its retries, the fallback answers; a durable model_fallback record; metadata.model unchanged", () =>
    Effect.gen(function*() {
      const { cli, config, repo, onlySession } = yield* repository
      const primary = yield* OpenAiServer.make
      const backup = yield* OpenAiServer.make
      for (let i = 0; i < 4; i++) primary.enqueue(OpenAiServer.httpError(503, "overloaded", { headers: { "retry-after": "0" } }))
      backup.enqueue(OpenAiServer.text("Answered by the backup."))
      const dir = NodePath.join(config, "codetether-agent")
      NodeFs.mkdirSync(dir, { recursive: true })
      NodeFs.writeFileSync(NodePath.join(dir, "config.toml"), "fallback_models = [\"backup/backup-model\"]\n")
      NodeFs.writeFileSync(
        NodePath.join(dir, "providers.json"),
        JSON.stringify({ providers: [{ name: "backup", base_url: backup.url }] })
      )
      const result = yield* cli(["run", "hello"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: primary.url })
      expect([result.code, result.stderr, result.stdout]).toEqual([0, "", "Answered by the backup.\n"])
      expect(primary.requests).toHaveLength(4)
      expect(backup.requests.map((r) => r.body.model)).toEqual(["backup-model"])
      const session = onlySession()
      expect(session.metadata.model).toBeNull()
      const events = NodeFs.readFileSync(NodePath.join(repo, ".codetether-agent", "events", `${session.id}.jsonl`), "utf8")
        .trim().split("\n").map((l) => JSON.parse(l))
      expect(events.map((e) => e.kind)).toEqual(["model_fallback", "token_usage"])
      expect(events[0].payload).toEqual({
        configured: "openai/gpt-4o",
        using: "backup/backup-model",
        reason: "openai: 503 overloaded (retry after 0 s)"
      })
      expect(events[1].payload.model).toBe("backup-model")
    }))

  it.live("CODETETHER_EVENT_STREAM_PATH: each executed tool call leaves 4.5.7's tool_result record", () =>
    Effect.gen(function*() {
      const { cli, root, onlySession } = yield* repository
      const server = yield* OpenAiServer.make
      server.enqueue(bashCall("1"), OpenAiServer.text("done"))
      const path = NodePath.join(root, "audit")
      const result = yield* cli(["run", "go"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url, CODETETHER_EVENT_STREAM_PATH: path })
      expect(result.code).toBe(0)
      const id = onlySession().id
      const [file, ...more] = NodeFs.readdirSync(NodePath.join(path, id))
      expect(more).toEqual([])
      expect(file).toMatch(/^\d{8}T\d{6}Z-chat-events-00000000000000020000-00000000000000030000\.jsonl$/)
      const record = JSON.parse(NodeFs.readFileSync(NodePath.join(path, id, file!), "utf8"))
      expect(record).toMatchObject({ type: "tool_result", tool_name: "bash", result: "a.txt", success: true })
    }))

  it.live("a 200 KB message to a 32k-window model is compressed before it is sent (it went out as a 51k-token request)", () =>
    Effect.gen(function*() {
      const { cli } = yield* repository
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("Summarised."))
      const message = Array.from({ length: 4000 }, (_, i) => `row ${i}: ${"some log text here ".repeat(3)}`).join("\n")
      expect(Buffer.byteLength(message)).toBeGreaterThan(200_000)
      const result = yield* cli(["run", "--model", "openai/mistral-small", "-"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url }, message)
      expect(result.code).toBe(0)
      const sent = server.requests[0]!.body.messages.find((m: { role: string }) => m.role === "user").content as string
      expect(Compaction.estimateTokens(sent)).toBeLessThan(Math.floor(32_000 * 0.35) + 200)
      expect(Compaction.estimateTokens(message)).toBeGreaterThan(32_000)
      expect(sent).toContain("row 0: ")
      expect(sent).toContain("row 3999: ")
    }))
})
