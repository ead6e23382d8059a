/**
 * Every command family of the `codetether` binary on the PostgreSQL store
 * (the database selected by `CODETETHER_DATABASE_URL`), beside what
 * postgres.test.ts covers (store choice, `run`, `sessions list | last | show`,
 * `migrate` of live sessions): `sessions delete | trash | restore | purge`;
 * `sessions fork | export`, `run --fork` and the per-step costs of `show`,
 * whose durable events are the database's; `sessions search` (the database
 * searches the rows, same hits as the file search); `migrate` of the trash;
 * `import claude`; and `serve` (sessions in the database, A2A tasks in the
 * data dir). Nothing of the sessions goes to the data dir.
 */
import * as NodeFs from "node:fs"
import * as NodeChild from "node:child_process"
import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ClaudeTranscript from "../../schemas/ClaudeTranscript.ts"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"
import * as T from "../utils/ClaudeTranscripts.ts"
import * as Cli from "../utils/Cli.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Postgres from "../utils/Postgres.ts"
import type { ScriptedServer } from "../utils/ScriptedServer.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as TempDir from "../utils/TempDir.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** A repository, a fresh database, and the binary run in the repository with that database selected. */
const workspace = (server?: ScriptedServer) =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-pg-commands-")
    const repo = NodePath.join(root, "repo")
    NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
    const url = yield* promise(() => Postgres.database())
    const dataDir = NodePath.join(repo, ".codetether-agent")
    const env: Record<string, string | undefined> = Cli.isolatedEnv(root, {
      CODETETHER_DATABASE_URL: url,
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: server?.url ?? "http://127.0.0.1:9/v1"
    })
    /** The binary on the database (`more` on top of the workspace's environment). */
    const cli = (args: ReadonlyArray<string>, more: Record<string, string | undefined> = {}) =>
      promise(() => Cli.run(args, { cwd: repo, env: { ...env, ...more } }))
    /** The binary on the data dir `dir` (no database). */
    const files = (dir: string, args: ReadonlyArray<string>) => cli(["--data-dir", dir, ...args], { CODETETHER_DATABASE_URL: undefined })
    const { store } = yield* Postgres.store(url)
    const sql = yield* Postgres.client(url)
    /** What the data dir holds besides the files every command may write there (.gitignore). */
    const dataDirContents = () => (NodeFs.existsSync(dataDir) ? NodeFs.readdirSync(dataDir).filter((n) => n !== ".gitignore").sort() : [])
    return { root, repo, url, dataDir, env, cli, files, store, sql, dataDirContents }
  })

const eventKinds = (sql: Effect.Success<ReturnType<typeof Postgres.client>>, id: string) =>
  sql<{ kind: string; payload: string }>`SELECT kind, payload FROM codetether_events WHERE session_id = ${id} ORDER BY seq`.pipe(Effect.orDie)

describe("codetether commands on PostgreSQL", () => {
  it.live("sessions delete | trash | restore | purge: the database's trash, restored byte for byte, never over a live session", () =>
    Effect.gen(function*() {
      const { cli, dataDirContents, repo, sql, store } = yield* workspace()
      const keep = yield* store.save(Sessions.make({ directory: repo, title: "keep me", updatedAt: Sessions.at(100) }))
      const gone = yield* store.save(Sessions.make({ directory: repo, title: "delete me", messages: 3, toolUses: 1, updatedAt: Sessions.at(200) }))
      const bytes = (yield* cli(["sessions", "show", gone.id, "--json"])).stdoutBytes
      const before = Date.now()
      const deleted = yield* cli(["sessions", "delete", gone.id])
      expect([deleted.code, deleted.stdout]).toEqual([
        0,
        `Deleted session ${gone.id} (moved to the trash: codetether sessions restore ${gone.id} brings it back)\n`
      ])
      expect(JSON.parse((yield* cli(["sessions", "list", "--all", "--json"])).stdout).map((s: { id: string }) => s.id)).toEqual([keep.id])
      expect(JSON.parse((yield* cli(["sessions", "last", "--json"])).stdout).id).toBe(keep.id)
      const listed = JSON.parse((yield* cli(["sessions", "trash", "--json"])).stdout)
      expect(listed).toHaveLength(1)
      expect(listed[0]).toMatchObject({ id: gone.id, title: "delete me", message_count: 3, directory: repo })
      const deletedAt = Date.parse(listed[0].deleted_at)
      expect(deletedAt).toBeGreaterThanOrEqual(before - 1000)
      expect(deletedAt).toBeLessThanOrEqual(Date.now())

      const restored = yield* cli(["sessions", "restore", gone.id])
      expect([restored.code, restored.stdout]).toEqual([0, `Restored session ${gone.id} "delete me"\n`])
      expect((yield* cli(["sessions", "show", gone.id, "--json"])).stdoutBytes.equals(bytes)).toBe(true)
      // deleted again, then a new session with that id: the restore is refused
      yield* cli(["sessions", "delete", gone.id])
      yield* store.save(Sessions.make({ id: gone.id, directory: repo, title: "new life" }))
      const refused = yield* cli(["sessions", "restore", gone.id])
      expect([refused.code, refused.stderr]).toEqual([
        1,
        `codetether: session ${gone.id} exists; the trashed copy was not restored over it (delete or rename the live session first)\n`
      ])
      // purge by age: make the copy look deleted 40 days ago
      yield* cli(["sessions", "delete", keep.id])
      yield* sql`UPDATE codetether_trash SET deleted_ms = deleted_ms - ${40 * 86_400_000} WHERE session_id = ${gone.id}`.pipe(Effect.orDie)
      const aged = JSON.parse((yield* cli(["sessions", "purge", "--older-than", "30d", "--json"])).stdout)
      expect(aged.map((p: { id: string }) => p.id)).toEqual([gone.id])
      const all = yield* cli(["sessions", "purge"])
      expect(all.stdout).toMatch(new RegExp(`^purged ${keep.id} \\(deleted \\S+\\)\\n1 session deleted for good\\.\\n$`))
      expect((yield* cli(["sessions", "trash"])).stdout).toBe("The trash is empty.\n")
      expect(yield* sql`SELECT * FROM codetether_trash_messages`.pipe(Effect.orDie)).toEqual([])
      expect(dataDirContents()).toEqual([])
    }), 90_000)

  it.live("run, sessions fork, run --fork, export and show's per-step costs use the database's events", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      const { cli, dataDirContents, repo, sql, store } = yield* workspace(server)
      NodeFs.writeFileSync(NodePath.join(repo, "alpha.txt"), "alpha\n")
      server.enqueue(
        OpenAiServer.toolCalls([{ id: "call_cat", name: "bash", arguments: { command: "cat alpha.txt" } }], { usage: { input: 300, output: 20 } }),
        OpenAiServer.text("The file says alpha.", { usage: { input: 400, output: 30 } })
      )
      expect((yield* cli(["run", "what does alpha.txt say?"])).code).toBe(0)
      const [{ id }] = yield* store.list
      const show = yield* cli(["sessions", "show", id])
      expect(show.stdout).toMatch(/\n1\s+#1\s+gpt-4o\s+300\s+-\s+-\s+20\s/)
      expect(show.stdout).toMatch(/\n2\s+#3\s+gpt-4o\s+400\s+-\s+-\s+30\s/)

      const forked = yield* cli(["sessions", "fork", id, "--at", "0"])
      expect(forked.code).toBe(0)
      const forkId = forked.stdout.trim()
      expect((yield* store.load(forkId)).messages).toHaveLength(1)
      const forkEvents = yield* eventKinds(sql, forkId)
      expect(forkEvents[0]!.kind).toBe("session_forked")
      expect(JSON.parse(forkEvents[0]!.payload)).toMatchObject({ parent_id: id, message_index: 0 })

      server.enqueue(OpenAiServer.text("Forked answer."))
      const run = yield* cli(["run", "--fork", id, "and beta?"])
      expect([run.code, run.stdout]).toEqual([0, "Forked answer.\n"])
      const runFork = (yield* store.list).find((s) => s.id !== id && s.id !== forkId)!
      // the parent, the two steps' usage records carried over, the new step's
      expect((yield* eventKinds(sql, runFork.id)).map((e) => e.kind)).toEqual(["session_forked", "token_usage", "token_usage", "token_usage"])

      const json = yield* cli(["sessions", "export", id, "--format", "json"])
      expect(json.stdoutBytes.equals((yield* cli(["sessions", "show", id, "--json"])).stdoutBytes)).toBe(true)
      const md = yield* cli(["sessions", "export", id, "-o", "talk.md"])
      expect(md.code).toBe(0)
      expect(NodeFs.readFileSync(NodePath.join(repo, "talk.md"), "utf8")).toContain("what does alpha.txt say?")
      expect(dataDirContents()).toEqual([])
    }), 90_000)

  it.live("sessions search: the database finds the same hits as the file search (escaping, regex, directory, limit over many sessions)", () =>
    Effect.gen(function*() {
      const { cli, files, repo, root, store, url } = yield* workspace()
      const sessions: Array<Session> = []
      const add = (session: Session) => Effect.map(store.save(session), () => void sessions.push(session))
      const call: Message.Message = {
        role: "assistant",
        content: [{ type: "tool_call", id: "c1", name: "bash", arguments: JSON.stringify({ command: "grep -r \"TimeoutError\" ü/" }) }]
      }
      yield* add(Sessions.make({
        directory: repo,
        title: "here",
        updatedAt: Sessions.at(10),
        messages: [Message.text("user", "the flaky TimeoutError again"), call, Message.text("assistant", "raised the timeout to 30 s")]
      }))
      yield* add(Sessions.make({ directory: "/elsewhere", title: "there", updatedAt: Sessions.at(20), messages: [Message.text("user", "TimeoutError in CI")] }))
      // enough sessions for several statements, each with a hit
      for (let i = 0; i < 60; i++) {
        yield* add(Sessions.make({ directory: "/many", title: `many ${i}`, updatedAt: Sessions.at(100 + i), messages: [Message.text("user", `needle ${i} TimeoutError`)] }))
      }
      const local = yield* cli(["sessions", "search", "TimeoutError"])
      const args = call.content[0]!.type === "tool_call" ? call.content[0]!.arguments : ""
      expect(local.stdout).toBe(`${sessions[0]!.id}  here\n  #0 user: the flaky TimeoutError again\n  #1 assistant: ${args}\n`)
      // a query with a quote, a backslash and non-ASCII: looked for as the row's JSON-escaped bytes
      const quoted = JSON.parse((yield* cli(["sessions", "search", "\\\"TimeoutError\\\" ü", "--json"])).stdout)
      expect(quoted).toEqual([{ session_id: sessions[0]!.id, message_index: 1, role: "assistant", snippet: args }])

      // the same sessions in a data dir, each file's modification time its updated_at (the file search's order)
      const dataDir = NodePath.join(root, "files")
      expect((yield* files(dataDir, ["sessions", "migrate", "--from", url])).code).toBe(0)
      for (const s of sessions) {
        const at = new Date(Number(Timestamp.toEpochNanos(s.updatedAt) / 1_000_000n))
        NodeFs.utimesSync(NodePath.join(dataDir, "sessions", `${s.id}.json`), at, at)
      }
      for (const args of [
        ["TimeoutError", "--all", "--json", "--limit", "55"],
        ["TimeoutError", "--json"],
        ["(?i)timeout (to|in) \\d+|needle 5\\d", "--regex", "--all", "--json"],
        ["nothing like this", "--all"]
      ]) {
        const fromDatabase = yield* cli(["sessions", "search", ...args])
        const fromFiles = yield* files(dataDir, ["sessions", "search", ...args])
        expect(fromDatabase.code).toBe(0)
        expect(fromDatabase.stdout).toBe(fromFiles.stdout)
      }
      const limited = JSON.parse((yield* cli(["sessions", "search", "TimeoutError", "--all", "--json", "--limit", "55"])).stdout)
      expect(limited).toHaveLength(55)
      expect(limited[0]).toEqual({ session_id: sessions[61]!.id, message_index: 0, role: "user", snippet: "needle 59 TimeoutError" })
    }), 90_000)

  it.live("sessions migrate carries the trash both ways: same deletion times, same bytes, re-runs skip", () =>
    Effect.gen(function*() {
      const { cli, files, repo, root, store, url } = yield* workspace()
      const dataDir = NodePath.join(root, "files")
      const sessionsDir = NodePath.join(dataDir, "sessions")
      NodeFs.mkdirSync(sessionsDir, { recursive: true })
      const live = Sessions.make({ directory: repo, title: "live" })
      const first = Sessions.make({ directory: repo, title: "first life", messages: 3, toolUses: 2 })
      const second = Sessions.make({ id: first.id, directory: repo, title: "second life" })
      for (const s of [live, first]) NodeFs.writeFileSync(NodePath.join(sessionsDir, `${s.id}.json`), SessionJson.encode(s))
      expect((yield* files(dataDir, ["sessions", "delete", first.id])).code).toBe(0)
      NodeFs.writeFileSync(NodePath.join(sessionsDir, `${second.id}.json`), SessionJson.encode(second))
      yield* promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      expect((yield* files(dataDir, ["sessions", "delete", second.id])).code).toBe(0)
      // a trashed file that is not a session
      const junkDir = NodePath.join(dataDir, "trash", "2020-01-01T00-00-00.000Z")
      NodeFs.mkdirSync(junkDir)
      NodeFs.writeFileSync(NodePath.join(junkDir, "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b.json"), "{\"id\":")
      const trashedFiles = () =>
        NodeFs.readdirSync(NodePath.join(dataDir, "trash")).flatMap((d) =>
          NodeFs.readdirSync(NodePath.join(dataDir, "trash", d)).map((f) => `${d}/${f}`)
        ).sort()
      const originals = new Map(trashedFiles().map((f) => [f, NodeFs.readFileSync(NodePath.join(dataDir, "trash", f))]))

      const to = yield* files(dataDir, ["sessions", "migrate", "--to", url])
      expect([to.code, to.stdout]).toEqual([0, "copied 1, skipped 0, failed 0\ntrash: copied 2, skipped 1, failed 0\n"])
      const fromFiles = JSON.parse((yield* files(dataDir, ["sessions", "trash", "--json"])).stdout)
      const fromDatabase = JSON.parse((yield* cli(["sessions", "trash", "--json"])).stdout)
      expect(fromDatabase).toEqual(fromFiles.filter((t: { title?: string }) => t.title !== undefined))
      expect(fromDatabase.map((t: { title: string }) => t.title)).toEqual(["second life", "first life"])
      expect((yield* files(dataDir, ["sessions", "migrate", "--to", url])).stdout).toBe(
        "copied 0, skipped 1, failed 0\ntrash: copied 0, skipped 3, failed 0\n"
      )

      // back into another data dir: the same files, names (times) and bytes
      const back = NodePath.join(root, "back")
      const from = yield* files(back, ["sessions", "migrate", "--from", url])
      expect([from.code, from.stdout]).toEqual([0, "copied 1, skipped 0, failed 0\ntrash: copied 2, skipped 0, failed 0\n"])
      for (const [name, bytes] of originals) {
        if (name.startsWith("2020-")) continue
        expect(NodeFs.readFileSync(NodePath.join(back, "trash", name)).equals(bytes)).toBe(true)
      }
      expect((yield* files(back, ["sessions", "migrate", "--from", url])).stdout).toBe(
        "copied 0, skipped 1, failed 0\ntrash: copied 0, skipped 2, failed 0\n"
      )
      // restored from the database: the newest copy, byte for byte what the file store had
      expect((yield* cli(["sessions", "restore", first.id])).code).toBe(0)
      expect(Buffer.from(SessionJson.encode(yield* store.load(first.id))).equals(Buffer.from(SessionJson.encode(second)))).toBe(true)
    }), 90_000)

  it.live("import claude writes into the database", () =>
    Effect.gen(function*() {
      const { cli, dataDirContents, repo, root, store } = yield* workspace()
      const claude = NodePath.join(root, "claude-config")
      NodeFs.cpSync(T.FIXTURES, claude, { recursive: true })
      const id = "aaaaaaaa-1111-4222-8333-444455556666"
      T.write(claude, ClaudeTranscript.projectFolderName(repo), id, T.conversation(repo, "count the files here"))
      const imported = yield* cli(["import", "claude"], { CLAUDE_CONFIG_DIR: claude })
      expect([imported.code, imported.stdout]).toEqual([0, `imported ${id} "count the files here"\n1 imported, 0 skipped.\n`])
      expect((yield* store.load(id)).title).toBe("count the files here")
      expect((yield* cli(["import", "claude"], { CLAUDE_CONFIG_DIR: claude })).stdout).toContain("0 imported, 1 skipped.")
      expect(dataDirContents()).toEqual([])
    }), 60_000)

  it.live("serve: sessions created and prompted over HTTP and A2A live in the database; the token and A2A tasks in the data dir", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.make
      const { dataDir, env, repo, store } = yield* workspace(server)
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          NodeChild.spawn(process.execPath, [Cli.BIN, "serve", "--port", "0"], {
            cwd: repo,
            env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>,
            stdio: ["ignore", "pipe", "pipe"]
          })
        ),
        (c) => Effect.promise(() => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : (c.once("close", () => resolve()), c.kill("SIGKILL")))))
      )
      let stderr = ""
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
      const url = yield* promise(() =>
        new Promise<string>((resolve, reject) => {
          let out = ""
          child.stdout!.on("data", (d: Buffer) => {
            out += d.toString()
            const match = /^listening on (\S+)$/m.exec(out)
            if (match !== null && /^token: /m.test(out)) resolve(match[1]!)
          })
          child.once("close", () => reject(new Error(`serve exited: ${stderr}`)))
        })
      )
      const token = NodeFs.readFileSync(NodePath.join(dataDir, "server-token"), "utf8").trim()
      const call = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
        promise(() =>
          fetch(`${url}${path}`, {
            method: body === undefined ? "GET" : "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
          })
        )
      const created = yield* call("/api/session", { directory: repo })
      expect(created.status).toBe(201)
      const { id } = (yield* promise(() => created.json())) as { id: string }
      server.enqueue(OpenAiServer.text("Hello over HTTP."))
      const prompted = yield* call(`/api/session/${id}/prompt`, { message: "hi" })
      expect(prompted.status).toBe(200)
      const session = yield* store.load(id)
      expect(session.messages.map((m) => [m.role, Message.textOf(m)])).toEqual([["user", "hi"], ["assistant", "Hello over HTTP."]])
      const listing = yield* call("/api/session")
      const listed = (yield* promise(() => listing.json())) as ReadonlyArray<{ id: string }>
      expect(listed.map((s) => s.id)).toEqual([id])

      server.enqueue(OpenAiServer.text("Hello over A2A."))
      const sent = yield* call("/a2a", {
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: { messageId: "m1", role: "ROLE_USER", parts: [{ text: "hello agent" }] } }
      }, { "A2A-Version": "1.0" })
      const answer = (yield* promise(() => sent.json())) as { result: { task: { contextId: string } } }
      const contextId = answer.result.task.contextId
      expect((yield* store.load(contextId)).messages.map((m) => Message.textOf(m))).toEqual(["hello agent", "Hello over A2A."])
      // what stays in the data dir: the server token and the A2A tasks, no sessions or events
      expect(NodeFs.readdirSync(dataDir).filter((n) => n !== ".gitignore").sort()).toEqual(["a2a", "server-token"])
      expect(NodeFs.readdirSync(NodePath.join(dataDir, "a2a", "tasks")).length).toBeGreaterThan(0)
      child.kill("SIGTERM")
      expect(yield* promise(() => new Promise((resolve) => child.once("close", resolve)))).toBe(0)
      expect(stderr).toBe("")
    }), 60_000)
})
