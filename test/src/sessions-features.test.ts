/**
 * `codetether sessions fork | export | search`, costs in `sessions list` and
 * `sessions show`, and `run --fork`, through the bundled binary, on
 * sessions made by a real `run` against a local OpenAI-compatible server.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as Pricing from "../../schemas/Pricing.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const repository = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-features-")
  const repo = NodePath.join(root, "repo")
  NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(repo, "alpha.txt"), "alpha\n")
  const server = yield* OpenAiServer.make
  const env = Cli.isolatedEnv(root, {
    OPENAI_API_KEY: "sk-test-openai",
    OPENAI_BASE_URL: server.url
  })
  const data = NodePath.join(repo, ".codetether-agent")
  const cli = (args: ReadonlyArray<string>) => Effect.promise(() => Cli.run(args, { cwd: repo, env }))
  /** A two-step session: the model reads alpha.txt with bash, then answers. */
  const runTask = Effect.gen(function*() {
    server.enqueue(
      OpenAiServer.toolCalls([{ id: "call_cat", name: "bash", arguments: { command: "cat alpha.txt" } }], { usage: { input: 300, output: 20 } }),
      OpenAiServer.text("The file says alpha.", { usage: { input: 400, output: 30 } })
    )
    const result = yield* cli(["run", "what does alpha.txt say?"])
    expect(result.code).toBe(0)
    const ids = NodeFs.readdirSync(NodePath.join(data, "sessions")).filter((n) => n.endsWith(".json") && !n.startsWith("."))
    return ids.map((n) => n.slice(0, -5))
  })
  return { root, repo, data, server, cli, runTask }
})

const gpt4o = (prompt: number, completion: number) => Pricing.costOf(Pricing.builtIn, "gpt-4o", { promptTokens: prompt, completionTokens: completion })!

describe("codetether sessions: costs", () => {
  it.live("list shows tokens and cost; --json stays 4.5.7's summary; --json --usage adds usage and cost_usd; show breaks it down per step", () =>
    Effect.gen(function*() {
      const { cli, data, runTask } = yield* repository
      const [id] = yield* runTask
      // a session of another model without a price, and no per-step records
      const unpriced = {
        ...Sessions.make({ directory: NodePath.dirname(data), title: "local model", updatedAt: Sessions.at(1) }),
        usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15, cacheReadTokens: null, cacheWriteTokens: null }
      }
      const withModel = { ...unpriced, metadata: { ...unpriced.metadata, model: "local_cuda/qwen3.5-9b" } }
      NodeFs.writeFileSync(NodePath.join(data, "sessions", `${withModel.id}.json`), SessionJson.encode(withModel))

      const table = yield* cli(["sessions", "list"])
      expect(table.code).toBe(0)
      const header = table.stdout.split("\n")[0]!
      expect(header).toMatch(/^ID\s+UPDATED \(UTC\)\s+MSGS\s+TOKENS\s+COST\s+TITLE$/)
      const row = table.stdout.split("\n").find((l) => l.startsWith(id!))!
      expect(row).toMatch(new RegExp(`\\s750\\s+\\${Pricing.format(gpt4o(700, 50))}\\s+what does alpha`))
      const unpricedRow = table.stdout.split("\n").find((l) => l.startsWith(withModel.id))!
      expect(unpricedRow).toMatch(/\s15\s+\?\s+local model/)

      const plain = JSON.parse((yield* cli(["sessions", "list", "--json"])).stdout)
      expect(Object.keys(plain[0])).toEqual(["id", "title", "created_at", "updated_at", "message_count", "agent", "directory"])
      const withUsage = JSON.parse((yield* cli(["sessions", "list", "--json", "--usage"])).stdout)
      const mine = withUsage.find((s: { id: string }) => s.id === id)
      expect(Object.keys(mine)).toEqual(["id", "title", "created_at", "updated_at", "message_count", "agent", "directory", "usage", "cost_usd"])
      expect(mine.usage).toEqual({ prompt_tokens: 700, completion_tokens: 50, total_tokens: 750, cache_read_tokens: null, cache_write_tokens: null })
      expect(mine.cost_usd).toBeCloseTo(gpt4o(700, 50), 12)
      const other = withUsage.find((s: { id: string }) => s.id === withModel.id)
      expect(other).toHaveProperty("cost_usd", null)

      const show = yield* cli(["sessions", "show", id!])
      expect(show.stdout).toMatch(/STEP\s+MSG\s+MODEL\s+PROMPT\s+CACHE R\s+CACHE W\s+COMPLETION\s+COST/)
      expect(show.stdout).toMatch(new RegExp(`\\n1\\s+#1\\s+gpt-4o\\s+300\\s+-\\s+-\\s+20\\s+\\${Pricing.format(gpt4o(300, 20))}\\n`))
      expect(show.stdout).toMatch(new RegExp(`\\n2\\s+#3\\s+gpt-4o\\s+400\\s+-\\s+-\\s+30\\s+\\${Pricing.format(gpt4o(400, 30))}\\n`))
      expect(show.stdout).toContain(`total 700 prompt, 50 completion: ${Pricing.format(gpt4o(700, 50))}`)
      const showOther = yield* cli(["sessions", "show", withModel.id])
      expect(showOther.stdout).toContain("no per-step records: the total is priced at the session's model")
      expect(showOther.stdout).toContain("model local_cuda/qwen3.5-9b: ?")
      // a price from the user config file
      const configFile = NodePath.join(NodePath.dirname(data), "..", "config", "codetether-agent", "config.toml")
      NodeFs.mkdirSync(NodePath.dirname(configFile), { recursive: true })
      NodeFs.writeFileSync(configFile, `[pricing."qwen3.5-9b"]\ninput = 1000\noutput = 1000\n`)
      expect((yield* cli(["sessions", "show", withModel.id])).stdout).toContain("model local_cuda/qwen3.5-9b: $0.0150")
    }))
})

describe("codetether sessions fork, export, search; run --fork", () => {
  it.live("fork --at N prints the new id; --json its summary; the original is untouched; run --fork prompts a fork", () =>
    Effect.gen(function*() {
      const { cli, data, server, runTask } = yield* repository
      const [id] = yield* runTask
      const original = NodeFs.readFileSync(NodePath.join(data, "sessions", `${id}.json`))
      const forked = yield* cli(["sessions", "fork", id!, "--at", "0"])
      expect(forked.code).toBe(0)
      const newId = forked.stdout.trim()
      expect(newId).toMatch(/^[0-9a-f-]{36}$/)
      const fork = JSON.parse(NodeFs.readFileSync(NodePath.join(data, "sessions", `${newId}.json`), "utf8"))
      expect(fork.title).toBe("what does alpha.txt say? (fork)")
      expect(fork.messages).toEqual([{ role: "user", content: [{ type: "text", text: "what does alpha.txt say?" }] }])
      expect(fork.usage.prompt_tokens).toBe(0)
      const log = NodeFs.readFileSync(NodePath.join(data, "events", `${newId}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l))
      expect(log[0]).toMatchObject({ seq: 1, kind: "session_forked", payload: { parent_id: id, message_index: 0 } })
      expect(NodeFs.readFileSync(NodePath.join(data, "sessions", `${id}.json`)).equals(original)).toBe(true)

      const asJson = yield* cli(["sessions", "fork", id!, "--json"])
      const summary = JSON.parse(asJson.stdout)
      expect(Object.keys(summary)).toEqual(["id", "title", "created_at", "updated_at", "message_count", "agent", "directory"])
      expect(summary.message_count).toBe(4)

      const cut = yield* cli(["sessions", "fork", id!, "--at", "1"])
      expect(cut.code).toBe(1)
      expect(cut.stderr).toContain("fork at 2")

      server.enqueue(OpenAiServer.text("Forked answer."))
      const run = yield* cli(["run", "--fork", id!, "and beta?"])
      expect(run.code).toBe(0)
      expect(run.stdout).toBe("Forked answer.\n")
      const body = server.requests.at(-1)!.body
      expect(body.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user", "assistant", "tool", "assistant", "user"])
      expect(NodeFs.readFileSync(NodePath.join(data, "sessions", `${id}.json`)).equals(original)).toBe(true)
      const both = yield* cli(["run", "--fork", id!, "--continue", "x"])
      expect(both.code).toBe(1)
      expect(both.stderr).toContain("--fork alone")
    }))

  it.live("export writes Markdown with its images, HTML and the on-disk JSON; to stdout without -o", () =>
    Effect.gen(function*() {
      const { cli, data, repo } = yield* repository
      const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
      const session = Sessions.make({
        directory: repo,
        title: "picture",
        messages: [
          { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image", url: `data:image/png;base64,${png}`, mimeType: "image/png" }] },
          Message.text("assistant", "A pixel.")
        ]
      })
      NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
      const bytes = SessionJson.encode(session)
      NodeFs.writeFileSync(NodePath.join(data, "sessions", `${session.id}.json`), bytes)
      const md = yield* cli(["sessions", "export", session.id, "-o", "out/talk.md"])
      expect(md.code).toBe(0)
      expect(md.stdout).toContain("(and 1 images)")
      expect(NodeFs.readFileSync(NodePath.join(repo, "out", "talk.md"), "utf8")).toContain("![image 0.1](<talk.images/message-0-1.png>)")
      expect(NodeFs.readFileSync(NodePath.join(repo, "out", "talk.images", "message-0-1.png")).equals(Buffer.from(png, "base64"))).toBe(true)
      const html = yield* cli(["sessions", "export", session.id, "--format", "html"])
      expect(html.stdout).toMatch(/^<!doctype html>/)
      expect(html.stdout).toContain(`src="data:image/png;base64,${png}"`)
      const json = yield* cli(["sessions", "export", session.id, "--format", "json"])
      expect(json.stdoutBytes.equals(Buffer.from(bytes))).toBe(true)
      const bad = yield* cli(["sessions", "export", session.id, "--format", "pdf"])
      expect(bad.code).toBe(1)
    }))

  it.live("search: hits of this directory or --all, newest first, --regex, --json, --limit", () =>
    Effect.gen(function*() {
      const { cli, data, repo } = yield* repository
      NodeFs.mkdirSync(NodePath.join(data, "sessions"), { recursive: true })
      const here = Sessions.make({ directory: repo, title: "here", messages: [Message.text("user", "the flaky TimeoutError again"), Message.text("assistant", "raised the timeout to 30 s")] })
      const there = Sessions.make({ directory: "/elsewhere", title: "there", messages: [Message.text("user", "TimeoutError in CI")] })
      NodeFs.writeFileSync(NodePath.join(data, "sessions", `${here.id}.json`), SessionJson.encode(here))
      NodeFs.writeFileSync(NodePath.join(data, "sessions", `${there.id}.json`), SessionJson.encode(there))
      const past = new Date(Date.now() - 60_000)
      NodeFs.utimesSync(NodePath.join(data, "sessions", `${here.id}.json`), past, past)

      const local = yield* cli(["sessions", "search", "TimeoutError"])
      expect(local.code).toBe(0)
      expect(local.stdout).toBe(`${here.id}  here\n  #0 user: the flaky TimeoutError again\n`)
      const all = JSON.parse((yield* cli(["sessions", "search", "TimeoutError", "--all", "--json"])).stdout)
      expect(all).toEqual([
        { session_id: there.id, message_index: 0, role: "user", snippet: "TimeoutError in CI" },
        { session_id: here.id, message_index: 0, role: "user", snippet: "the flaky TimeoutError again" }
      ])
      const limited = JSON.parse((yield* cli(["sessions", "search", "TimeoutError", "--all", "--json", "--limit", "1"])).stdout)
      expect(limited.map((h: { session_id: string }) => h.session_id)).toEqual([there.id])
      const regex = JSON.parse((yield* cli(["sessions", "search", "(?i)timeout (to|in) \\d+", "--regex", "--json"])).stdout)
      expect(regex).toEqual([{ session_id: here.id, message_index: 1, role: "assistant", snippet: "raised the timeout to 30 s" }])
      expect((yield* cli(["sessions", "search", "nothing like this"])).stdout).toBe("No matches.\n")
      const invalid = yield* cli(["sessions", "search", "(a", "--regex"])
      expect(invalid.code).toBe(1)
      expect(invalid.stderr).toContain("invalid regular expression")
    }))

  it.live("--help documents the new commands and flags", () =>
    Effect.gen(function*() {
      const { cli } = yield* repository
      const sessions = (yield* cli(["sessions", "--help"])).stdout
      for (const name of ["fork", "export", "search"]) expect(sessions).toContain(name)
      expect((yield* cli(["sessions", "search", "--help"])).stdout).toMatch(/--regex[\s\S]*--limit/)
      expect((yield* cli(["sessions", "fork", "--help"])).stdout).toContain("--at")
      expect((yield* cli(["sessions", "export", "--help"])).stdout).toMatch(/--format[\s\S]*--output/)
      expect((yield* cli(["sessions", "list", "--help"])).stdout).toContain("--usage")
      expect((yield* cli(["run", "--help"])).stdout).toContain("--fork")
    }))
})
