/**
 * The PostgreSQL store through the real `codetether` binary: choosing the
 * store (environment, flag, user config file), `config` showing it, an
 * unreachable server, `sessions migrate` both ways, two processes on one
 * session (20 trials, no lost turn) and eight processes on eight sessions.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Message from "../../schemas/Message.ts"
import * as Session from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as SessionStorePostgres from "../../services/SessionStorePostgres.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Postgres from "../utils/Postgres.ts"
import { freePort } from "../utils/PostgresServer.ts"
import type { RecordedRequest, ScriptedServer } from "../utils/ScriptedServer.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

/** A model that calls `bash` with `command` once per prompt, then answers `done: <the prompt>`. */
const toolThenAnswer = (command: string) => (request: RecordedRequest) => {
  const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
  if (messages.at(-1)!.role === "tool") {
    const user = [...messages].reverse().find((m) => m.role === "user")!
    return OpenAiServer.text(`done: ${typeof user.content === "string" ? user.content : JSON.stringify(user.content)}`)
  }
  return OpenAiServer.toolCalls([{ id: `call_${messages.length}`, name: "bash", arguments: { command } }])
}

/** A repository, a fresh database, and the binary run in the repository with that database selected. */
const workspace = (server?: ScriptedServer) =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-pg-cli-")
    const repo = NodePath.join(root, "repo")
    NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
    const url = yield* Effect.promise(() => Postgres.database())
    const dataDir = NodePath.join(repo, ".codetether-agent")
    const base = Cli.isolatedEnv(root, {
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: server?.url ?? "http://127.0.0.1:9/v1"
    })
    /** The binary with `env` on top of the workspace's (the database selected through the environment by default). */
    const run = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = { CODETETHER_DATABASE_URL: url }, input?: string) =>
      Effect.promise(() => Cli.run(args, { cwd: repo, env: { ...base, ...env }, ...(input === undefined ? {} : { input }) }))
    const { store } = yield* Postgres.store(url)
    const userTexts = (id: string) =>
      Effect.map(store.load(id), (s) => s.messages.filter((m) => m.role === "user").map((m) => Message.textOf(m)))
    return { root, repo, url, dataDir, run, store, userTexts, configDir: NodePath.join(root, "config") }
  })

const REFUSED = /^codetether: session \S+ (is busy: a prompt started by pid \d+ at \d\d:\d\d:\d\d is running|changed since this copy was loaded)/

describe("codetether with PostgreSQL", () => {
  it.live("CODETETHER_DATABASE_URL, --database-url or the user config file select the database; nothing goes to the data dir", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(() => OpenAiServer.text("ok"))
      const { configDir, dataDir, run, store, url } = yield* workspace(server)
      expect((yield* run(["run", "from the environment"])).code).toBe(0)
      expect((yield* run(["run", "from the flag", "--database-url", url], {})).code).toBe(0)
      NodeFs.mkdirSync(NodePath.join(configDir, "codetether-agent"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(configDir, "codetether-agent", "config.toml"), `database_url = "${url}"\n`)
      expect((yield* run(["run", "from the user file"], {})).code).toBe(0)
      const titles = (yield* store.list).map((s) => s.title).sort()
      expect(titles).toEqual(["from the environment", "from the flag", "from the user file"])
      expect(NodeFs.existsSync(NodePath.join(dataDir, "sessions"))).toBe(false)
      // and the commands read it back from there
      const listed = yield* run(["sessions", "list", "--json"], {})
      expect(JSON.parse(listed.stdout)).toHaveLength(3)
      const last = yield* run(["sessions", "last", "--json"], {})
      expect(JSON.parse(last.stdout).title).toBe("from the user file")
      // durable events went to the database too
      expect(NodeFs.existsSync(NodePath.join(dataDir, "events"))).toBe(false)
      const sql = yield* Postgres.client(url)
      const kinds = yield* sql<{ kind: string }>`SELECT DISTINCT kind FROM codetether_events`.pipe(Effect.orDie)
      expect(kinds.map((k) => k.kind)).toEqual(["token_usage"])
    }), 60_000)

  it.live("config shows the active store with the password redacted; a project file cannot choose the database", () =>
    Effect.gen(function*() {
      const { repo, run } = yield* workspace()
      const secret = "postgres://app:db-SECRET-9@db.internal:5433/ct"
      const shown = yield* run(["config"], { CODETETHER_DATABASE_URL: secret })
      expect(shown.code).toBe(0)
      expect(shown.stdout).not.toContain("db-SECRET-9")
      expect(shown.stdout).toMatch(/^store +postgresql postgres:\/\/app:<redacted>@db\.internal:5433\/ct +env CODETETHER_DATABASE_URL$/m)
      NodeFs.writeFileSync(NodePath.join(repo, "codetether.toml"), `database_url = "postgres://evil:pw@attacker.example/db"\n`)
      const files = yield* run(["config", "--json"], {})
      const store = JSON.parse(files.stdout).settings.store
      expect(store).toEqual({
        value: `files ${repo}/.codetether-agent/sessions`,
        source: { kind: "git" }
      })
    }), 60_000)

  it.live("an unreachable database: one line naming host:port and the cause, never the password, exit 1", () =>
    Effect.gen(function*() {
      const { run } = yield* workspace()
      const port = yield* Effect.promise(freePort)
      const url = `postgres://app:hunter2-SECRET@127.0.0.1:${port}/ct`
      for (const args of [["run", "hello"], ["sessions", "list"], ["sessions", "show", "abc"]]) {
        const result = yield* run(args, { CODETETHER_DATABASE_URL: url })
        expect(result.code).toBe(1)
        expect(result.stderr).not.toContain("hunter2")
        expect(result.stderr.trim().split("\n")).toHaveLength(1)
        expect(result.stderr).toMatch(new RegExp(`^codetether: Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))
      }
    }), 60_000)

  it.live("sessions migrate --to and --from: idempotent, never over a newer copy, same bytes from either store", () =>
    Effect.gen(function*() {
      const { dataDir, run, store, url } = yield* workspace()
      const sessionsDir = NodePath.join(dataDir, "sessions")
      NodeFs.mkdirSync(sessionsDir, { recursive: true })
      const fixtures = NodePath.join(import.meta.dirname, "../fixtures/sessions")
      const ids: Array<string> = []
      for (const name of ["compact-all-parts.json", "legacy-4.5.6-pretty.json", "legacy-four-keys.json", "spec-example.json"]) {
        const bytes = NodeFs.readFileSync(NodePath.join(fixtures, name))
        const id = (JSON.parse(bytes.toString()) as { id: string }).id
        ids.push(id)
        NodeFs.writeFileSync(NodePath.join(sessionsDir, `${id}.json`), bytes)
      }
      NodeFs.writeFileSync(NodePath.join(sessionsDir, "not-a-session.json"), "{\"hello\":")
      NodeFs.mkdirSync(NodePath.join(dataDir, "events"))
      NodeFs.writeFileSync(
        NodePath.join(dataDir, "events", `${ids[0]}.jsonl`),
        `${JSON.stringify({ ts: "2026-01-01T00:00:00Z", session_id: ids[0], seq: 1, kind: "token_usage", payload: { model: "m" } })}\n`
      )
      const files = { CODETETHER_DATABASE_URL: undefined }
      const first = yield* run(["sessions", "migrate", "--to", url], files)
      expect(first.code).toBe(0)
      expect(first.stdout).toBe("copied 4, skipped 1, failed 0\n")
      expect(first.stderr).toContain("not-a-session.json")
      const again = yield* run(["sessions", "migrate", "--to", url], files)
      expect(again.stdout).toBe("copied 0, skipped 5, failed 0\n")
      for (const id of ids) {
        const fromFiles = yield* run(["sessions", "show", id, "--json"], files)
        const fromDatabase = yield* run(["sessions", "show", id, "--json"])
        expect(fromDatabase.code).toBe(0)
        expect(fromDatabase.stdoutBytes.equals(fromFiles.stdoutBytes)).toBe(true)
      }
      // a pretty or legacy file arrives compact, as a re-save would write it
      const legacy = NodeFs.readFileSync(NodePath.join(fixtures, "legacy-4.5.6-pretty.expected.json"))
      const legacyId = (JSON.parse(legacy.toString()) as { id: string }).id
      expect((yield* run(["sessions", "show", legacyId, "--json"])).stdoutBytes.equals(legacy)).toBe(true)

      // a newer copy in the database is never overwritten by an older file
      const continued = yield* store.save(
        Session.addMessage(yield* store.load(ids[1]!), Message.text("user", "continued in the database"), Sessions.at(10_000_000))
      )
      expect((yield* run(["sessions", "migrate", "--to", url], files)).stdout).toBe("copied 0, skipped 5, failed 0\n")
      expect((yield* store.load(ids[1]!)).messages.at(-1)).toEqual(continued.messages.at(-1))

      // back into an empty data dir: the same bytes, the events too
      NodeFs.rmSync(dataDir, { recursive: true })
      const back = yield* run(["sessions", "migrate", "--from", url], files)
      expect(back.code).toBe(0)
      expect(back.stdout).toBe("copied 4, skipped 0, failed 0\n")
      const { db } = yield* Postgres.store(url)
      for (const id of ids) {
        // each file is the compact encoding, byte for byte what the database rows assemble to
        const stored = yield* SessionStorePostgres.storedBytes(db, id)
        expect(NodeFs.readFileSync(NodePath.join(dataDir, "sessions", `${id}.json`)).equals(Buffer.from(stored!))).toBe(true)
      }
      const shown = yield* run(["sessions", "show", ids[1]!, "--json"], files)
      expect(shown.stdoutBytes.equals(Buffer.from((yield* SessionStorePostgres.storedBytes(db, ids[1]!))!))).toBe(true)
      const events = NodeFs.readFileSync(NodePath.join(dataDir, "events", `${ids[0]}.jsonl`), "utf8")
      expect(events.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual([1])
      expect((yield* run(["sessions", "migrate", "--from", url], files)).stdout).toBe("copied 0, skipped 4, failed 0\n")
    }), 120_000)

  it.live("migrate --to picks up a recovery file; a session that cannot be written makes the exit code 1", () =>
    Effect.gen(function*() {
      const { dataDir, run, store, url } = yield* workspace()
      const stored = yield* store.save(Sessions.make({ messages: 2 }))
      // what a prompt that lost the database left behind: the session with a later turn
      const recovered = Session.addMessage(stored, Message.text("user", "the turn the database missed"), Sessions.at(9_000))
      NodeFs.mkdirSync(NodePath.join(dataDir, "recovery"), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(dataDir, "recovery", `${stored.id}.json`), SessionJson.encode(recovered))
      const files = { CODETETHER_DATABASE_URL: undefined }
      const result = yield* run(["sessions", "migrate", "--to", url], files)
      expect(result.stdout).toBe("copied 1, skipped 0, failed 0\n")
      expect((yield* store.load(stored.id)).messages.map((m) => Message.textOf(m)).at(-1)).toBe("the turn the database missed")
      // --from into a data dir where that session's file cannot be written (a directory in its place)
      NodeFs.mkdirSync(NodePath.join(dataDir, "sessions", `${stored.id}.json`), { recursive: true })
      NodeFs.writeFileSync(NodePath.join(dataDir, "sessions", `${stored.id}.json`, "x"), "")
      yield* store.save(Sessions.make())
      const failed = yield* run(["sessions", "migrate", "--from", url], files)
      expect(failed.code).toBe(1)
      expect(failed.stdout).toBe("copied 1, skipped 0, failed 1\n")
      expect(failed.stderr).toContain(`cannot copy session ${stored.id}`)
      expect(failed.stderr).toMatch(/^codetether: 1 session could not be copied/m)
    }), 60_000)

  it.live("two processes prompting one session through PostgreSQL: over 20 trials no turn is lost; overlaps are refused", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(toolThenAnswer("sleep 0.3"))
      const { run, store, url, userTexts } = yield* workspace(server)
      expect((yield* run(["run", "turn 0"])).code).toBe(0)
      const id = (yield* store.list)[0]!.id
      const expected = ["turn 0"]
      let refused = 0
      for (let trial = 0; trial < 20; trial++) {
        const names = [`trial ${trial} A`, `trial ${trial} B`]
        const results = yield* Effect.all(names.map((name) => run(["run", "--session", id, name])), { concurrency: 2 })
        for (const [i, result] of results.entries()) {
          if (result.code === 0) {
            expected.push(names[i]!)
          } else {
            refused++
            expect(result.code).toBe(1)
            expect(result.stderr).toMatch(REFUSED)
            expect(result.stderr.trim().split("\n")).toHaveLength(1)
          }
        }
        expect(results.some((r) => r.code === 0)).toBe(true)
        expect([...(yield* userTexts(id))].sort()).toEqual([...expected].sort())
      }
      expect(refused).toBeGreaterThan(0)
      // every lease was released
      const sql = yield* Postgres.client(url)
      expect(yield* sql`SELECT * FROM codetether_leases`.pipe(Effect.orDie)).toEqual([])
    }), 240_000)

  it.live("eight processes prompting eight sessions at once: all complete, every turn stored", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      server.respond(toolThenAnswer("true"))
      const { run, store } = yield* workspace(server)
      const results = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) => run(["run", `worker ${i} turn 1`])),
        { concurrency: 8 }
      )
      for (const result of results) expect(result.code).toBe(0)
      const sessions = yield* store.list
      expect(sessions).toHaveLength(8)
      // a second turn on each, all at once
      const second = yield* Effect.all(
        sessions.map((s) => run(["run", "--session", s.id, `${s.title} then turn 2`])),
        { concurrency: 8 }
      )
      for (const result of second) expect(result.code).toBe(0)
      for (const summary of yield* store.list) {
        const session = yield* store.load(summary.id)
        const users = session.messages.filter((m) => m.role === "user").map((m) => Message.textOf(m))
        expect(users).toEqual([summary.title, `${summary.title} then turn 2`])
        // user, assistant tool call, tool result, assistant answer: twice
        expect(session.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"])
      }
    }), 120_000)
})
