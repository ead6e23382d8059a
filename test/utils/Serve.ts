/**
 * A real `codetether serve` for tests: the server layer on 127.0.0.1 with an
 * ephemeral port, the file store in a temporary data dir, the agent services
 * of the CLI with the OpenAI provider pointed at a scripted model server,
 * and helpers for plain `fetch` and SSE (`eventsource-parser`).
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { ConfigProvider, Effect, Layer } from "effect"
import type * as Scope from "effect/Scope"
import { EventSourceParserStream } from "eventsource-parser/stream"
import type { EventSourceMessage } from "eventsource-parser"
import * as Codetether from "../../src/Codetether.ts"
import * as Server from "../../src/Server.ts"
import * as A2ATaskStore from "../../services/A2ATaskStore.ts"
import * as DataDir from "../../services/DataDir.ts"
import * as ServerToken from "../../services/ServerToken.ts"
import * as SessionSearch from "../../services/SessionSearch.ts"
import * as OpenAiServer from "./OpenAiServer.ts"
import type { ScriptedServer } from "./ScriptedServer.ts"
import * as TempDir from "./TempDir.ts"

export const TOKEN = "test-token-0123456789abcdef"

export interface Harness {
  readonly url: string
  readonly token: string
  /** The directory the server runs in (a git repository root). */
  readonly repo: string
  readonly dataDir: string
  readonly sessionsDir: string
  readonly model: ScriptedServer
  readonly running: Server.Running
  /** `fetch(url + path)` with the token (unless `auth: false`). */
  readonly fetch: (path: string, init?: RequestInit & { readonly auth?: boolean | string }) => Promise<Response>
  /** POST `body` as JSON. */
  readonly post: (path: string, body: unknown, init?: RequestInit) => Promise<Response>
  /** Creates a session in the repo and returns its id. */
  readonly createSession: (body?: Record<string, unknown>) => Promise<string>
  /** The stored session file's bytes. */
  readonly sessionBytes: (id: string) => Buffer
}

export const make = (
  options: Partial<Server.Options> & {
    readonly env?: Record<string, string>
    /**
     * The `SessionSearch` the app provides (default: the data dir's scanner,
     * as the CLI does); `"none"`: none, the server searches through the store.
     */
    readonly search?: "none" | SessionSearch.SessionSearch["Service"]
  } = {}
): Effect.Effect<Harness, never, Scope.Scope> =>
  Effect.gen(function*() {
    const root = yield* TempDir.make("codetether-serve-")
    const repo = NodePath.join(root, "repo")
    NodeFs.mkdirSync(NodePath.join(repo, ".git"), { recursive: true })
    const dataDir = NodePath.join(repo, ".codetether-agent")
    const model = yield* OpenAiServer.make
    const env = {
      HOME: root,
      XDG_CONFIG_HOME: NodePath.join(root, "config"),
      CODEX_HOME: NodePath.join(root, "codex"),
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: model.url,
      ...options.env
    }
    const layer = Layer.mergeAll(
      Codetether.layerAgentNoDepsWith({ cwd: repo }),
      ServerToken.layerValue(TOKEN),
      A2ATaskStore.layerFileSystem,
      // as `codetether serve` runs: the data dir's own search
      options.search === "none"
        ? Layer.empty
        : options.search === undefined
        ? SessionSearch.layerFileSystem
        : Layer.succeed(SessionSearch.SessionSearch, options.search)
    ).pipe(
      Layer.provideMerge(Codetether.layerStoreNoDeps),
      Layer.provideMerge(DataDir.layerPath(dataDir)),
      Layer.provideMerge(NodeServices.layer),
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
    )
    const context = yield* Layer.build(layer).pipe(Effect.orDie)
    const { env: _env, search: _search, ...serverOptions } = options
    const running = yield* Server.make({ port: 0, directory: repo, webRoot: false, ...serverOptions }).pipe(
      Effect.provide(context),
      Effect.orDie
    )
    const url = running.url
    const call: Harness["fetch"] = (path, init = {}) => {
      const headers = new Headers(init.headers)
      if (init.auth !== false && !headers.has("authorization")) {
        headers.set("authorization", `Bearer ${typeof init.auth === "string" ? init.auth : TOKEN}`)
      }
      return fetch(url + path, { ...init, headers })
    }
    const post: Harness["post"] = (path, body, init = {}) => {
      const headers = new Headers(init.headers)
      headers.set("content-type", "application/json")
      return call(path, { ...init, method: "POST", headers, body: JSON.stringify(body) })
    }
    const createSession: Harness["createSession"] = async (body = {}) => {
      const response = await post("/api/session", { directory: repo, ...body })
      if (response.status !== 201) throw new Error(`create: ${response.status} ${await response.text()}`)
      return (await response.json() as { id: string }).id
    }
    return {
      url,
      token: TOKEN,
      repo,
      dataDir,
      sessionsDir: NodePath.join(dataDir, "sessions"),
      model,
      running,
      fetch: call,
      post,
      createSession,
      sessionBytes: (id) => NodeFs.readFileSync(NodePath.join(dataDir, "sessions", `${id}.json`))
    } satisfies Harness
  })

/** The server-sent events of a response, as they arrive. */
export const events = (response: Response): ReadableStream<EventSourceMessage> => {
  if (response.body === null) throw new Error("no body")
  return response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
}

/** Every event of an SSE response, until the server closes it. */
export const collect = async (response: Response): Promise<Array<EventSourceMessage>> => {
  const out: Array<EventSourceMessage> = []
  for await (const event of events(response)) out.push(event)
  return out
}

/** Reads events until `until` matches one (inclusive); returns them and a reader for the rest. */
export const readUntil = async (
  reader: ReadableStreamDefaultReader<EventSourceMessage>,
  until: (event: EventSourceMessage) => boolean,
  timeoutMs = 10_000
): Promise<Array<EventSourceMessage>> => {
  const out: Array<EventSourceMessage> = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) throw new Error(`timed out waiting for an event; got ${out.map((e) => e.event).join(", ")}`)
    const next = await Promise.race([
      reader.read(),
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), remaining))
    ])
    if (next === "timeout") throw new Error(`timed out waiting for an event; got ${out.map((e) => e.event).join(", ")}`)
    if (next.done) throw new Error(`the stream ended; got ${out.map((e) => e.event).join(", ")}`)
    out.push(next.value)
    if (until(next.value)) return out
  }
}
