/**
 * Redaction through the binary: a key read by a tool, and the provider's own
 * key pasted in a message, never reach the session file nor the next
 * request; each redaction is a `secrets_redacted` record of the durable log;
 * a repository's `[redaction] enabled = false` is ignored, the user's own
 * config turns it off.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Corpus from "../utils/SecretCorpus.ts"
import * as TempDir from "../utils/TempDir.ts"

const AWS = Corpus.secrets.find((s) => s.name === "access key id")!.value
const PROVIDER_KEY = "sk-test-provider-key-0123456789"

const repository = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-redact-")
  const repo = NodePath.join(root, "repo")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(repo, ".env"), `AWS_ACCESS_KEY_ID=${AWS}\nREGION=eu-west-1\n`)
  const server = yield* OpenAiServer.make
  const env = Cli.isolatedEnv(root, {
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: server.url
  })
  const data = NodePath.join(repo, ".codetether-agent")
  const only = (dir: string) =>
    NodeFs.readdirSync(dir).filter((n) => !n.startsWith(".") && (n.endsWith(".json") || n.endsWith(".jsonl")))
  const run = (message: string) => Effect.promise(() => Cli.run(["run", message], { cwd: repo, env }))
  return { root, repo, env, server, data, only, run }
})

describe("codetether run: redaction", () => {
  it.live("a key read by a tool and the provider key in a message are redacted in the file, the next request and the log", () =>
    Effect.gen(function*() {
      const { data, only, run, server } = yield* repository
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "call_env", name: "bash", arguments: { command: "cat .env" } }]),
        OpenAiServer.text("Your AWS key is set.")
      )
      const result = yield* run(`check my settings; my OpenAI key is ${PROVIDER_KEY}`)
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      // what the model received
      expect(JSON.stringify(server.requests[0]!.body)).not.toContain(PROVIDER_KEY)
      expect(server.requests[0]!.body.messages.at(-1).content).toContain("[REDACTED:env:OPENAI_API_KEY]")
      const second = server.requests[1]!.body
      expect(second.messages.find((m: any) => m.role === "tool").content).toBe(
        "AWS_ACCESS_KEY_ID=[REDACTED:aws]\nREGION=eu-west-1"
      )
      // what was saved
      const [file] = only(NodePath.join(data, "sessions"))
      const bytes = NodeFs.readFileSync(NodePath.join(data, "sessions", file!), "utf8")
      expect(bytes).not.toContain(AWS)
      expect(bytes).not.toContain(PROVIDER_KEY)
      expect(bytes).toContain("[REDACTED:aws]")
      // the durable log
      const [log] = only(NodePath.join(data, "events"))
      const records = NodeFs.readFileSync(NodePath.join(data, "events", log!), "utf8").trim().split("\n").map((l) => JSON.parse(l))
      const redactions = records.filter((r) => r.kind === "secrets_redacted")
      expect(redactions.map((r) => r.payload)).toEqual([
        { target: "message", index: 0, counts: { env: 1 }, total: 1 },
        { target: "message", index: 2, counts: { aws: 1 }, total: 1 },
        { target: "tool_use", index: 0, counts: { aws: 1 }, total: 1 }
      ])
      expect(JSON.stringify(records)).not.toContain(AWS)
      // the data dir codetether created in the repository keeps itself out of git
      expect(NodeFs.readFileSync(NodePath.join(data, ".gitignore"), "utf8")).toBe("*\n")
    }))

  it.live("a project config cannot turn redaction off; the user config can", () =>
    Effect.gen(function*() {
      const { data, env, only, repo, root, run, server } = yield* repository
      NodeFs.writeFileSync(NodePath.join(repo, "codetether.toml"), "[redaction]\nenabled = false\n")
      server.enqueue(OpenAiServer.text("noted"))
      const project = yield* run(`remember ${AWS}`)
      expect(project.code).toBe(0)
      expect(project.stderr).toContain("redaction")
      const sessions = NodePath.join(data, "sessions")
      const [first] = only(sessions)
      expect(NodeFs.readFileSync(NodePath.join(sessions, first!), "utf8")).toContain("remember [REDACTED:aws]")

      NodeFs.mkdirSync(NodePath.join(root, "config", "codetether-agent"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(root, "config", "codetether-agent", "config.toml"), "[redaction]\nenabled = false\n")
      server.enqueue(OpenAiServer.text("noted again"))
      const user = yield* Effect.promise(() => Cli.run(["run", "--continue", `and ${AWS}`], { cwd: repo, env }))
      expect(user.code).toBe(0)
      const bytes = NodeFs.readFileSync(NodePath.join(sessions, first!), "utf8")
      expect(bytes).toContain(`and ${AWS}`)
      expect(bytes).toContain("remember [REDACTED:aws]") // what was redacted stays redacted
    }))
})
