/**
 * Every boolean flag of every command, through the bundled binary: a boolean
 * flag never takes the word after it as its value (issue 11: `run -c no
 * thanks` started a new session titled "thanks"; `run -c yes` failed with "No
 * message"). The word is the command's argument, or, for a command without
 * arguments, an unexpected argument. `--flag=false` still sets it explicitly.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const setup = Effect.gen(function*() {
  const root = yield* TempDir.make("codetether-flags-")
  const data = NodePath.join(root, "data")
  const sessionsDir = NodePath.join(data, "sessions")
  const ws = NodePath.join(root, "ws")
  NodeFs.mkdirSync(sessionsDir, { recursive: true })
  NodeFs.mkdirSync(ws)
  NodeFs.mkdirSync(NodePath.join(root, "codex"))
  const env = Cli.isolatedEnv(root, {
    CODETETHER_DATA_DIR: data
  })
  const put = (session: ReturnType<typeof Sessions.make>) =>
    NodeFs.writeFileSync(NodePath.join(sessionsDir, `${session.id}.json`), SessionJson.encode(session))
  const cli = (args: ReadonlyArray<string>, extra: Record<string, string> = {}) =>
    Effect.promise(() => Cli.run(args, { cwd: ws, env: { ...env, ...extra } }))
  const stored = () =>
    NodeFs.readdirSync(sessionsDir).filter((n) => n.endsWith(".json") && !n.startsWith("."))
  return { root, data, sessionsDir, ws, put, cli, stored }
})

/** The user texts of the last request the model received. */
const userTexts = (server: { readonly requests: ReadonlyArray<{ readonly body: any }> }): Array<string> =>
  server.requests.at(-1)!.body.messages.filter((m: any) => m.role === "user").map((m: any) => m.content)

describe("boolean flags never consume the next word", () => {
  it.live("run -c no thanks: continues the last session with the message \"no thanks\"", () =>
    Effect.gen(function*() {
      const { ws, put, cli, stored } = yield* setup
      const earlier = Sessions.make({ directory: ws, title: "earlier", messages: 2 })
      put(earlier)
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("ok"))
      const result = yield* cli(["run", "-c", "no", "thanks"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url })
      expect([result.code, result.stderr]).toEqual([0, ""])
      expect(stored()).toEqual([`${earlier.id}.json`])
      expect(userTexts(server)).toEqual(["message 0", "no thanks"])
      const yes = yield* cli(["run", "--continue", "yes"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url })
      expect(yes.stderr).not.toContain("No message")
      expect(userTexts(server).at(-1)).toBe("yes")
    }))

  it.live("run --json yes please: the message is \"yes please\", the output JSON lines; --json=false turns it off", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("fine"), OpenAiServer.text("plain"))
      const env = { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url }
      const result = yield* cli(["run", "--json", "yes", "please"], env)
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout.trim().split("\n")[0]!)).toEqual({ type: "Thinking" })
      expect(userTexts(server)).toEqual(["yes please"])
      const off = yield* cli(["run", "--json=false", "hello"], env)
      expect(off.stdout).toBe("plain\n")
    }))

  it.live("run --force on it: the message is \"on it\"", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      const server = yield* OpenAiServer.make
      server.enqueue(OpenAiServer.text("done"))
      const result = yield* cli(["run", "--force", "on", "it"], { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: server.url })
      expect([result.code, result.stdout]).toEqual([0, "done\n"])
      expect(userTexts(server)).toEqual(["on it"])
    }))

  it.live("sessions list --all / --json: a following word is an unexpected argument, not the flag's value", () =>
    Effect.gen(function*() {
      const { put, cli } = yield* setup
      put(Sessions.make({ directory: "/elsewhere", title: "other" }))
      for (const flag of ["--all", "--json"]) {
        const result = yield* cli(["sessions", "list", flag, "no"])
        expect(result.code).toBe(1)
        expect(result.stderr).toContain("Unexpected positional argument: \"no\"")
      }
      const all = yield* cli(["sessions", "list", "--all", "--json"])
      expect(JSON.parse(all.stdout).map((s: { title: string }) => s.title)).toEqual(["other"])
      const notAll = yield* cli(["sessions", "list", "--all=false", "--json"])
      expect(JSON.parse(notAll.stdout)).toEqual([])
    }))

  it.live("sessions show --json yes: shows the session whose id is \"yes\"", () =>
    Effect.gen(function*() {
      const { put, cli } = yield* setup
      const session = Sessions.make({ id: "yes", title: "named yes" })
      put(session)
      const result = yield* cli(["sessions", "show", "--json", "yes"])
      expect(result.code).toBe(0)
      expect(result.stdoutBytes.equals(SessionJson.encode(session))).toBe(true)
    }))

  it.live("sessions last --json: a following word is an unexpected argument", () =>
    Effect.gen(function*() {
      const { ws, put, cli } = yield* setup
      const session = Sessions.make({ directory: ws, title: "here" })
      put(session)
      const wrong = yield* cli(["sessions", "last", "--json", "true"])
      expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringContaining("Unexpected positional argument: \"true\"")])
      const right = yield* cli(["sessions", "last", "--json"])
      expect(JSON.parse(right.stdout).id).toBe(session.id)
    }))

  it.live("sessions delete --force no: deletes the session whose id is \"no\"", () =>
    Effect.gen(function*() {
      const { put, cli, stored } = yield* setup
      put(Sessions.make({ id: "no" }))
      const result = yield* cli(["sessions", "delete", "--force", "no"])
      expect([result.code, result.stdout]).toEqual([
        0,
        "Deleted session no (moved to the trash: codetether sessions restore no brings it back)\n"
      ])
      expect(stored()).toEqual([])
    }))

  it.live("import codex --all / --json: a following word is an unexpected argument", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      for (const flag of ["--all", "--json"]) {
        const result = yield* cli(["import", "codex", flag, "off"])
        expect([result.code, result.stderr]).toEqual([1, expect.stringContaining("Unexpected positional argument: \"off\"")])
      }
      const right = yield* cli(["import", "codex", "--all", "--json"])
      expect([right.code, right.stderr]).toEqual([0, ""])
      expect(JSON.parse(right.stdout)).toMatchObject({ imported: 0, skipped: 0 })
    }))

  it.live("import claude --all / --json: a following word is an unexpected argument", () =>
    Effect.gen(function*() {
      const { root, cli } = yield* setup
      const claude = { CLAUDE_CONFIG_DIR: NodePath.join(root, "claude") }
      NodeFs.mkdirSync(NodePath.join(root, "claude", "projects"), { recursive: true })
      for (const flag of ["--all", "--json"]) {
        const result = yield* cli(["import", "claude", flag, "yes"], claude)
        expect([result.code, result.stderr]).toEqual([1, expect.stringContaining("Unexpected positional argument: \"yes\"")])
      }
      const right = yield* cli(["import", "claude", "--all", "--json"], claude)
      expect([right.code, right.stderr]).toEqual([0, ""])
      expect(JSON.parse(right.stdout)).toMatchObject({ imported: 0, skipped: 0 })
    }))

  it.live("sessions search --regex yes / --all no: the word is the text searched for; list --usage no is an unexpected argument", () =>
    Effect.gen(function*() {
      const { ws, put, cli } = yield* setup
      const session = Sessions.make({
        directory: ws,
        title: "answers",
        messages: [Message.text("user", "say yes"), Message.text("assistant", "no, thanks")]
      })
      put(session)
      const regex = yield* cli(["sessions", "search", "--regex", "yes", "--json"])
      expect([regex.code, regex.stderr]).toEqual([0, ""])
      expect(regex.stdout).toContain(session.id)
      expect(regex.stdout).toContain("say yes")
      const all = yield* cli(["sessions", "search", "--all", "no", "--json"])
      expect([all.code, all.stderr]).toEqual([0, ""])
      expect(all.stdout).toContain("no, thanks")
      const usage = yield* cli(["sessions", "list", "--usage", "no"])
      expect([usage.code, usage.stderr]).toEqual([1, expect.stringContaining("Unexpected positional argument: \"no\"")])
    }))

  it.live("providers --json and config --json: a following word is an unexpected argument (config: a subcommand)", () =>
    Effect.gen(function*() {
      const { cli } = yield* setup
      for (const [command, error] of [[["providers"], "Unexpected positional argument: \"1\""], [["config"], "Unknown subcommand \"1\""]] as const) {
        const result = yield* cli([...command, "--json", "1"], { OPENAI_API_KEY: "sk-test" })
        expect([result.code, result.stderr]).toEqual([1, expect.stringContaining(error)])
        const right = yield* cli([...command, "--json"], { OPENAI_API_KEY: "sk-test" })
        expect(right.code).toBe(0)
        expect(() => JSON.parse(right.stdout)).not.toThrow()
      }
    }))
})
