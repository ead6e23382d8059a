/**
 * `codetether serve` as an A2A agent, driven by the official `@a2a-js/sdk`
 * client (`ClientFactory.createFromUrl`, JSON-RPC transport) against the
 * running server: send, stream, get, cancel, and a second message in the
 * same context continuing the session.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { type Message, Role, type StreamResponse, type Task, TaskState } from "@a2a-js/sdk"
import { type Client, ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from "@a2a-js/sdk/client"
import { Effect, Result } from "effect"
import * as Message_ from "../../schemas/Message.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import { workerId } from "../../services/A2A.ts"
import { INTERRUPTED_CALL_TEXT } from "../../services/SessionLoop.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import * as Serve from "../utils/Serve.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const clientFor = (h: Serve.Harness, token = h.token): Promise<Client> => {
  const authFetch: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers)
    headers.set("authorization", `Bearer ${token}`)
    return fetch(input, { ...init, headers })
  }
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl: authFetch })]
  }))
  return factory.createFromUrl(h.url)
}

const userMessage = (text: string, contextId = ""): Message => ({
  messageId: NodeCrypto.randomUUID(),
  contextId,
  taskId: "",
  role: Role.ROLE_USER,
  parts: [{ content: { $case: "text", value: text }, metadata: {}, filename: "", mediaType: "text/plain" }],
  metadata: {},
  extensions: [],
  referenceTaskIds: []
})

const send = (message: Message, returnImmediately = false) => ({
  tenant: "",
  message,
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately },
  metadata: {}
})

const asTask = (result: unknown): Task => {
  if (typeof result !== "object" || result === null || !("status" in result)) throw new Error(`not a task: ${JSON.stringify(result)}`)
  return result as Task
}

const textOf = (task: Task): string =>
  task.artifacts.flatMap((a) => a.parts.flatMap((p) => (p.content?.$case === "text" ? [p.content.value] : []))).join("")

const loadSession = (h: Serve.Harness, id: string) => {
  const decoded = SessionJson.decode(h.sessionBytes(id))
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
}

describe("codetether serve: A2A", () => {
  it.live("send, a second message in the same context, get: tasks per prompt, one session, provenance of the latest task", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const client = yield* promise(() => clientFor(h))
      h.model.enqueue(OpenAiServer.text("First answer."), OpenAiServer.text("Second answer."))
      const first = asTask(yield* promise(() => client.sendMessage(send(userMessage("hello")))))
      expect(first.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
      expect(textOf(first)).toBe("First answer.")
      expect(first.artifacts.map((a) => a.name)).toEqual(["answer"])
      const sessionId = first.contextId
      expect(NodeFs.existsSync(NodePath.join(h.sessionsDir, `${sessionId}.json`))).toBe(true)
      expect(loadSession(h, sessionId).metadata.directory).toBe(h.repo)

      const second = asTask(yield* promise(() => client.sendMessage(send(userMessage("and again", sessionId)))))
      expect(second.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
      expect(second.contextId).toBe(sessionId)
      expect(second.id).not.toBe(first.id)
      expect(textOf(second)).toBe("Second answer.")

      const session = loadSession(h, sessionId)
      expect(session.messages.map((m) => [m.role, Message_.textOf(m)])).toEqual([
        ["user", "hello"],
        ["assistant", "First answer."],
        ["user", "and again"],
        ["assistant", "Second answer."]
      ])
      // the second prompt saw the first turn
      const request = h.model.requests[1]!.body as { messages: Array<{ role: string }> }
      expect(request.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"])
      const provenance = session.metadata.provenance!
      expect(provenance.taskId).toBe(second.id)
      expect(provenance.identity.origin).toBe("worker")
      expect(provenance.identity.workerId).toBe(workerId())
      expect(provenance.runId).toBe(second.metadata?.codetether?.run_id)
      expect(provenance.sessionId).toBe(sessionId)
      // tasks live beside the session, not in it
      expect(h.sessionBytes(sessionId).toString()).not.toContain(first.id)

      // GetTask answers for the earlier task too
      const earlier = yield* promise(() => client.getTask({ tenant: "", id: first.id, historyLength: undefined }))
      expect(earlier.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
      expect(textOf(earlier)).toBe("First answer.")
      expect(earlier.history.map((m) => m.role)).toContain(Role.ROLE_USER)
      const listed = yield* promise(() =>
        client.listTasks({
          tenant: "",
          contextId: sessionId,
          status: TaskState.TASK_STATE_UNSPECIFIED,
          pageSize: 10,
          pageToken: "",
          historyLength: undefined,
          statusTimestampAfter: undefined,
          includeArtifacts: false
        })
      )
      expect(listed.tasks.map((t) => t.id).sort()).toEqual([first.id, second.id].sort())
      const missing = yield* promise(() => client.getTask({ tenant: "", id: "no-such-task", historyLength: undefined }).then(() => "found", (e: Error) => e.message))
      expect(missing).toMatch(/not found/i)
    }), 30_000)

  it.live("stream: the task, working, tool calls as status messages, the answer as artifact, completed", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const client = yield* promise(() => clientFor(h))
      h.model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "echo streamed" } }]),
        OpenAiServer.text("It printed streamed.")
      )
      const events: Array<StreamResponse> = []
      yield* promise(async () => {
        for await (const event of client.sendMessageStream(send(userMessage("stream it")))) events.push(event)
      })
      const kinds = events.map((e) => e.payload?.$case)
      expect(kinds[0]).toBe("task")
      expect(kinds).toContain("artifactUpdate")
      const statuses = events.flatMap((e) => (e.payload?.$case === "statusUpdate" ? [e.payload.value.status!] : []))
      expect(statuses[0]!.state).toBe(TaskState.TASK_STATE_WORKING)
      expect(statuses.at(-1)!.state).toBe(TaskState.TASK_STATE_COMPLETED)
      const toolMessages = statuses.flatMap((s) =>
        s.message === undefined ? [] : s.message.parts.flatMap((p) => (p.content?.$case === "text" ? [p.content.value] : []))
      )
      expect(toolMessages[0]).toBe(`bash {"command":"echo streamed"}`)
      expect(toolMessages[1]).toMatch(/^bash finished in \d+ ms$/)
      const artifact = events.find((e) => e.payload?.$case === "artifactUpdate")!
      expect(artifact.payload?.$case === "artifactUpdate" && artifact.payload.value.artifact?.parts[0]?.content)
        .toEqual({ $case: "text", value: "It printed streamed." })
      expect(kinds.at(-1)).toBe("statusUpdate")
    }), 30_000)

  it.live("cancel interrupts the running prompt as Ctrl-C does; the task ends canceled", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const client = yield* promise(() => clientFor(h))
      h.model.enqueue(
        OpenAiServer.toolCalls([{ id: "c1", name: "bash", arguments: { command: "echo first" } }]),
        OpenAiServer.toolCalls([{ id: "c2", name: "bash", arguments: { command: "sleep 30" } }])
      )
      const started = asTask(yield* promise(() => client.sendMessage(send(userMessage("work long"), true))))
      expect([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING]).toContain(started.status?.state)
      yield* promise(async () => {
        const deadline = Date.now() + 15_000
        while (h.model.requests.length < 2) {
          if (Date.now() > deadline) throw new Error("the second step never started")
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
      })
      const cancelled = yield* promise(() => client.cancelTask({ tenant: "", id: started.id, metadata: {} }))
      expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED)
      const got = yield* promise(() => client.getTask({ tenant: "", id: started.id, historyLength: undefined }))
      expect(got.status?.state).toBe(TaskState.TASK_STATE_CANCELED)
      const session = loadSession(h, started.contextId)
      const results = session.messages.flatMap((m) => m.content.filter((p) => p.type === "tool_result"))
      expect(results.map((p) => (p as { content: string }).content.trim())).toEqual(["first", INTERRUPTED_CALL_TEXT])
      const info = yield* promise(() => h.fetch("/api/server").then((r) => r.json() as Promise<{ prompts: { running: number } }>))
      expect(info.prompts.running).toBe(0)
    }), 30_000)

  it.live("a context id that cannot name a session is refused; nothing is written outside the data dir", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const client = yield* promise(() => clientFor(h))
      const task = asTask(yield* promise(() => client.sendMessage(send(userMessage("hi", "../../escaped")))))
      expect(task.status?.state).toBe(TaskState.TASK_STATE_FAILED)
      expect(JSON.stringify(task.status?.message?.parts)).toContain("path separator")
      expect(NodeFs.existsSync(NodePath.join(h.dataDir, "..", "escaped.json"))).toBe(false)
      expect(NodeFs.existsSync(NodePath.join(h.repo, "..", "escaped.json"))).toBe(false)
      expect(h.model.requests).toHaveLength(0)
      const byTask = yield* promise(() =>
        client.sendMessage(send({ ...userMessage("hi"), taskId: "../../etc/passwd" })).then(() => "sent", (e: Error) => e.message)
      )
      expect(byTask).toMatch(/not found/i)
    }))

  it.live("a client without the token reads the card but cannot send", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make()
      const client = yield* promise(() => clientFor(h, "wrong"))
      const outcome = yield* promise(() => client.sendMessage(send(userMessage("hi"))).then(() => "sent", (e: Error) => e.message))
      expect(outcome).toMatch(/401/)
      expect(h.model.requests).toHaveLength(0)
    }))
})
