/**
 * codetether as an A2A agent (Agent2Agent protocol v1.0, JSON-RPC binding),
 * on the official `@a2a-js/sdk`: its `DefaultRequestHandler` and
 * transport-agnostic `JsonRpcTransportHandler` answer the protocol; this
 * module supplies the agent card, the task store ({@link A2ATaskStore}) and
 * the executor that runs prompts.
 *
 * - A context is a codetether session: a message's `contextId` names the
 *   session it continues; without one the SDK picks a new UUID and a new
 *   session with that id is created in the server's directory.
 * - A task is one prompt, run by the {@link PromptRunner.PromptRunner} (so
 *   the server's cap and the session's lease apply). Its events become task
 *   updates: `working` at the start, one `working` status message per tool
 *   call, the final answer as the artifact `answer`, then `completed`
 *   (`failed` with the error, `canceled` after `CancelTask`).
 * - `CancelTask` interrupts the prompt as Ctrl-C does (the completed steps
 *   are saved, an interrupted tool call is answered).
 * - The session's provenance records the latest task (4.5.7
 *   `attach_claim_provenance`): `origin` `worker`, `worker_id`
 *   `codetether-serve@<host>`, `task_id` the A2A task id, `run_id` a new id
 *   per prompt (also in the task's metadata, `codetether.run_id`).
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as NodeOs from "node:os"
import { AgentCard, formatSSEErrorEvent, formatSSEEvent, type Message, type Part, Role, TaskState } from "@a2a-js/sdk"
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBus,
  JsonRpcTransportHandler,
  type RequestContext,
  ServerCallContext,
  validateVersion
} from "@a2a-js/sdk/server"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as ImageAttachment from "../schemas/ImageAttachment.ts"
import * as Session from "../schemas/Session.ts"
import * as A2ATaskStore from "./A2ATaskStore.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import * as PromptRunner from "./PromptRunner.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * What the JSON-RPC endpoint answers: one JSON body (with its HTTP status),
 * or server-sent events (already formatted, `data: <json>\n\n`).
 *
 * @since 0.1.0
 * @category models
 */
export type Reply =
  | { readonly _tag: "Json"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "Sse"; readonly events: Stream.Stream<string> }

/**
 * @since 0.1.0
 * @category services
 */
export class A2A extends Context.Service<A2A, {
  /** The agent card, in its A2A JSON form. */
  readonly card: unknown
  /**
   * Answers one JSON-RPC request (`body`, the raw text) with the request's
   * headers (`a2a-version` selects the protocol version: only `1.0`).
   */
  readonly handle: (body: string, headers: Readonly<Record<string, string | undefined>>) => Effect.Effect<Reply>
}>()("codetether/A2A") {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The absolute URL of the JSON-RPC endpoint (in the card). */
  readonly url: string
  /** The agent's version (in the card). */
  readonly version: string
  /** Where a new context's session works (the server's directory). */
  readonly directory: string
}

/**
 * The worker id the provenance of A2A prompts names.
 *
 * @since 0.1.0
 * @category constants
 */
export const workerId = (): string => `codetether-serve@${NodeOs.hostname()}`

/**
 * The agent card: name, description, version, the JSON-RPC interface at
 * `url` (protocol 1.0), streaming, one `coding` skill, the bearer security
 * scheme.
 *
 * @since 0.1.0
 * @category constructors
 */
export const agentCard = (options: { readonly url: string; readonly version: string }): AgentCard => ({
  name: "codetether",
  description:
    "A coding agent with persistent sessions (codetether-agent 4.5.7 compatible): it reads, searches and edits files and runs shell commands in the session's directory until the task is done. A context is a session; every message continues it.",
  supportedInterfaces: [{ url: options.url, protocolBinding: "JSONRPC", tenant: "", protocolVersion: "1.0" }],
  provider: undefined,
  version: options.version,
  capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
  securitySchemes: {
    bearer: {
      scheme: {
        $case: "httpAuthSecurityScheme",
        value: {
          description: "The server's token: CODETETHER_SERVER_TOKEN, or <data_dir>/server-token",
          scheme: "Bearer",
          bearerFormat: ""
        }
      }
    }
  },
  securityRequirements: [{ schemes: { bearer: { list: [] } } }],
  defaultInputModes: ["text/plain", ...ImageAttachment.SUPPORTED_MIME_TYPES],
  defaultOutputModes: ["text/plain"],
  skills: [{
    id: "coding",
    name: "Coding",
    description:
      "Works on the code in its directory with tools (read, write, edit, list, glob, grep, bash): fixes bugs, writes features and tests, explains code, answers with a summary of what it did.",
    tags: ["coding", "software engineering", "shell", "files"],
    examples: ["Fix the failing test in src/parser.ts", "Add a --verbose flag and document it in the README"],
    inputModes: [],
    outputModes: [],
    securityRequirements: []
  }],
  signatures: []
})

const textPart = (text: string): Part => ({ content: { $case: "text", value: text }, metadata: {}, filename: "", mediaType: "text/plain" })

/** The prompt of a user message: its text parts (and data and URL parts as text), its images. */
const promptOf = (message: Message): { readonly text: string; readonly images: Array<ImageAttachment.ImageAttachment> } | string => {
  const texts: Array<string> = []
  const images: Array<ImageAttachment.ImageAttachment> = []
  for (const part of message.parts) {
    const content = part.content
    if (content === undefined) continue
    switch (content.$case) {
      case "text":
        texts.push(content.value)
        break
      case "data":
        texts.push(JSON.stringify(content.value))
        break
      case "url":
        texts.push(content.value)
        break
      case "raw": {
        const detected = ImageAttachment.detectType(content.value)
        if (detected === undefined || !detected.supported) {
          return `unsupported file part${part.filename === "" ? "" : ` ${part.filename}`}: ${
            detected?.label ?? "empty"
          } (only PNG, JPEG, GIF and WebP images can be attached)`
        }
        images.push(ImageAttachment.fromBase64(detected.mimeType, Buffer.from(content.value).toString("base64")))
        break
      }
    }
  }
  const text = texts.join("\n")
  if (text.trim().length === 0 && images.length === 0) return "the message has no text"
  return { text, images }
}

const authenticated = { isAuthenticated: true, userName: "token" }

/**
 * The A2A agent over the prompt runner, session store, configuration and
 * task store of the environment.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fn("A2A.make")(function*(options: Options) {
  const context = yield* Effect.context<
    PromptRunner.PromptRunner | SessionStore.SessionStore | CodetetherConfig.CodetetherConfig | A2ATaskStore.A2ATaskStore
  >()
  const runner = yield* PromptRunner.PromptRunner
  const store = yield* SessionStore.SessionStore
  const config = yield* CodetetherConfig.CodetetherConfig
  const tasks = yield* A2ATaskStore.A2ATaskStore
  const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromiseWith(context)(effect)
  const worker = workerId()
  const card = agentCard(options)
  /** task id -> session id, while its prompt runs */
  const running = new Map<string, string>()

  const execute = (request: RequestContext, bus: ExecutionEventBus) =>
    Effect.gen(function*() {
      const { taskId, contextId } = request
      const runId = NodeCrypto.randomUUID()
      const now = () => new Date().toISOString()
      const agentMessage = (text: string, metadata: Record<string, unknown> = {}): Message => ({
        messageId: NodeCrypto.randomUUID(),
        contextId,
        taskId,
        role: Role.ROLE_AGENT,
        parts: [textPart(text)],
        metadata,
        extensions: [],
        referenceTaskIds: []
      })
      const publish = (event: Parameters<ExecutionEventBus["publish"]>[0]) => Effect.sync(() => bus.publish(event))
      const status = (state: TaskState, text?: string, metadata: Record<string, unknown> = {}) =>
        publish(AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state, message: text === undefined ? undefined : agentMessage(text, metadata), timestamp: now() },
          metadata: {}
        }))

      yield* publish(AgentEvent.task({
        id: taskId,
        contextId,
        status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now() },
        artifacts: [],
        history: request.task?.history ?? [request.userMessage],
        metadata: { codetether: { session_id: contextId, run_id: runId } }
      }))
      const prompt = promptOf(request.userMessage)
      if (typeof prompt === "string") return yield* status(TaskState.TASK_STATE_REJECTED, prompt)

      const loaded = yield* store.load(contextId).pipe(
        Effect.map((session): Session.Session | undefined => session),
        Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(undefined)),
        Effect.result
      )
      if (loaded._tag === "Failure") return yield* status(TaskState.TASK_STATE_FAILED, loaded.failure.message)
      const session = loaded.success ?? (yield* Effect.map(config.newSession(options.directory), (fresh) => ({
        ...fresh,
        id: contextId,
        metadata: {
          ...fresh.metadata,
          provenance: fresh.metadata.provenance === null ? null : { ...fresh.metadata.provenance, sessionId: contextId }
        }
      })))

      const started = yield* runner.start({ session }, prompt.text, {
        images: prompt.images,
        follow: true,
        label: `a2a task ${taskId}`,
        prepare: (s) => Session.attachClaimProvenance(s, { workerId: worker, taskId, runId })
      }).pipe(Effect.result)
      if (started._tag === "Failure") {
        const error = started.failure
        const rejected = error._tag === "SessionBusy" || error._tag === "PromptRunnerError"
        return yield* status(rejected ? TaskState.TASK_STATE_REJECTED : TaskState.TASK_STATE_FAILED, error.message)
      }
      running.set(taskId, contextId)
      yield* status(TaskState.TASK_STATE_WORKING)
      yield* Stream.runForEach(started.success.events, ({ event }) => {
        switch (event._tag) {
          case "ToolCallStart":
            return status(TaskState.TASK_STATE_WORKING, `${event.name} ${event.arguments}`, {
              codetether: { event: "ToolCallStart", name: event.name, arguments: event.arguments }
            })
          case "ToolCallComplete":
            return status(
              TaskState.TASK_STATE_WORKING,
              `${event.name} ${event.success ? "finished" : "failed"} in ${event.durationMs} ms`,
              { codetether: { event: "ToolCallComplete", name: event.name, success: event.success, duration_ms: event.durationMs } }
            )
          default:
            return Effect.void
        }
      })
      const exit = yield* Effect.exit(started.success.result)
      running.delete(taskId)
      if (Exit.isSuccess(exit)) {
        const answer = exit.value.result.text
        yield* publish(AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: {
            artifactId: "answer",
            name: "answer",
            description: "The agent's final answer",
            parts: [textPart(answer)],
            metadata: {},
            extensions: []
          },
          append: false,
          lastChunk: true,
          metadata: {}
        }))
        return yield* status(TaskState.TASK_STATE_COMPLETED, answer, { codetether: { steps: exit.value.steps } })
      }
      if (PromptRunner.isInterruption(exit.cause)) {
        return yield* status(TaskState.TASK_STATE_CANCELED, "Cancelled: the prompt was interrupted; its completed steps are saved")
      }
      const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
      return yield* status(
        TaskState.TASK_STATE_FAILED,
        failure !== undefined && failure._tag === "Fail" ? failure.error.message : "the prompt failed unexpectedly"
      )
    }).pipe(Effect.scoped, Effect.ensuring(Effect.sync(() => running.delete(request.taskId))))

  const cancelTask = (taskId: string, bus: ExecutionEventBus) =>
    Effect.gen(function*() {
      const sessionId = running.get(taskId)
      // the executor publishes `canceled` once the prompt has stopped
      if (sessionId !== undefined && (yield* runner.cancel(sessionId))) return
      const task = yield* tasks.load(taskId).pipe(Effect.orElseSucceed(() => undefined))
      bus.publish(AgentEvent.statusUpdate({
        taskId,
        contextId: task?.contextId ?? "",
        status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: new Date().toISOString() },
        metadata: {}
      }))
    })

  const executor: AgentExecutor = {
    execute: (request, bus) => run(execute(request, bus)),
    cancelTask: (taskId, bus) => run(cancelTask(taskId, bus))
  }
  const handler = new DefaultRequestHandler(card, A2ATaskStore.toSdkStore(tasks, run), executor)
  const transport = new JsonRpcTransportHandler(handler)

  const errorReply = (id: unknown, error: unknown): Reply => {
    const mapped = JsonRpcTransportHandler.mapToJSONRPCError(error)
    return {
      _tag: "Json",
      status: mapped.code === -32603 ? 500 : 200,
      body: { jsonrpc: "2.0", id: id ?? null, error: mapped }
    }
  }

  const handle = (body: string, headers: Readonly<Record<string, string | undefined>>) =>
    Effect.promise(async (): Promise<Reply> => {
      let id: unknown = null
      try {
        id = (JSON.parse(body) as { id?: unknown })?.id ?? null
      } catch {
        // the transport answers a parse error itself
      }
      try {
        const requestedVersion = headers["a2a-version"]
        const callContext = new ServerCallContext({
          user: authenticated,
          ...(requestedVersion === undefined || requestedVersion === "" ? {} : { requestedVersion }),
          state: new Map([["headers", headers]])
        })
        validateVersion(callContext.requestedVersion, card, "JSONRPC")
        const answer = await transport.handle(body, callContext)
        if (!(Symbol.asyncIterator in Object(answer))) {
          return { _tag: "Json", status: 200, body: answer }
        }
        const iterator = (answer as AsyncGenerator<unknown>)[Symbol.asyncIterator]()
        let first: IteratorResult<unknown>
        try {
          first = await iterator.next()
        } catch (error) {
          return errorReply(id, error)
        }
        const rest: AsyncIterable<unknown> = { [Symbol.asyncIterator]: () => iterator }
        const events = Stream.concat(
          first.done === true ? Stream.empty : Stream.succeed(formatSSEEvent(first.value)),
          Stream.fromAsyncIterable(rest, (error) => error).pipe(
            Stream.map(formatSSEEvent),
            Stream.catch((error) =>
              Stream.succeed(formatSSEErrorEvent({
                jsonrpc: "2.0",
                id,
                error: JsonRpcTransportHandler.mapToJSONRPCError(error)
              }))
            )
          )
        )
        return { _tag: "Sse", events }
      } catch (error) {
        return errorReply(id, error)
      }
    })

  return A2A.of({ card: AgentCard.toJSON(card), handle })
})

/**
 * The agent over the environment's services (see {@link make}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<
  A2A,
  never,
  PromptRunner.PromptRunner | SessionStore.SessionStore | CodetetherConfig.CodetetherConfig | A2ATaskStore.A2ATaskStore
> => Layer.effect(A2A, make(options))
