/**
 * `codetether serve`: the HTTP server of {@link ServerApi.Api} on Effect's
 * HTTP stack (`HttpApiBuilder` routes, `NodeHttpServer`), with the A2A
 * agent mounted at `/a2a`.
 *
 * Works on any `SessionStore` layer: it only uses the store's contract
 * (load, save, lease, delete, list), the durable sink's `read` and the
 * session bus. Prompts run in the {@link PromptRunner.PromptRunner}, so they
 * outlive their requests; {@link Running} `shutdown` stops the server as
 * SIGINT/SIGTERM should: no new connections or prompts, running prompts
 * interrupted as Ctrl-C does (their completed steps saved), event streams
 * closed.
 *
 * Hardening, besides the token of every route but the agent card:
 * - request bodies are capped (`maxBodyBytes`, 25 MiB): a larger declared
 *   body gets `413` before it is read, a larger streamed one when it passes
 *   the cap;
 * - on a loopback address, requests whose `Host` is not the server's own
 *   (`127.0.0.1:<port>`, `localhost:<port>`, `[::1]:<port>`) get `403`: a
 *   web page that rebinds its DNS name to 127.0.0.1 cannot reach the API;
 * - CORS headers only for the `cors` origins;
 * - session ids are checked by the store before any path is built.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import type { AddressInfo } from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerError from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as HttpApiError from "effect/http-api/HttpApiError"
import * as OpenApi from "effect/http-api/OpenApi"
import * as ImageAttachment from "../schemas/ImageAttachment.ts"
import * as ServerApi from "../schemas/ServerApi.ts"
import * as Session from "../schemas/Session.ts"
import * as SessionEvent from "../schemas/SessionEvent.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import type * as SessionSummary from "../schemas/SessionSummary.ts"
import * as A2A from "../services/A2A.ts"
import * as A2ATaskStore from "../services/A2ATaskStore.ts"
import * as CodetetherConfig from "../services/CodetetherConfig.ts"
import * as DurableSink from "../services/DurableSink.ts"
import * as LazyModule from "../services/internal/LazyModule.ts"
import * as Images from "../services/Images.ts"
import * as PromptRunner from "../services/PromptRunner.ts"
import type * as ProviderRegistry from "../services/ProviderRegistry.ts"
import * as ServerToken from "../services/ServerToken.ts"
import type * as SessionBus from "../services/SessionBus.ts"
import * as SessionCost from "../services/SessionCost.ts"
import * as SessionEvents from "../services/SessionEvents.ts"
import type * as SessionLoop from "../services/SessionLoop.ts"
import * as SessionSearch from "../services/SessionSearch.ts"
import * as SessionStore from "../services/SessionStore.ts"
import type * as SystemPrompt from "../services/SystemPrompt.ts"
import type * as ToolRegistry from "../services/ToolRegistry.ts"
import * as Version from "./version.ts"
import * as WebPage from "./WebPage.ts"

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Address to bind (default `127.0.0.1`). */
  readonly host?: string | undefined
  /** Port (`0`: any free one). */
  readonly port: number
  /** The server's directory: where A2A contexts without a session start one (default: the process cwd). */
  readonly directory?: string | undefined
  /** Cap on prompts running at once (default 8). */
  readonly maxPrompts?: number | undefined
  /** Origins allowed by CORS (default none: no CORS headers). */
  readonly cors?: ReadonlyArray<string> | undefined
  /** Cap of a request body in bytes (default 25 MiB). */
  readonly maxBodyBytes?: number | undefined
  /** How often event streams read the durable sink for events written elsewhere (default 500 ms). */
  readonly pollInterval?: number | undefined
  /** Durable events a follower may fall behind before it is disconnected (default 10,000). */
  readonly maxLag?: number | undefined
  /**
   * The web page's directory (`index.html`, `assets/`), read once at start;
   * default: the package's own (`dist/web`); `false`: no page (`/` is 404).
   */
  readonly webRoot?: string | false | undefined
}

/**
 * A running server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Running {
  /** `http://<host>:<port>` as clients reach it. */
  readonly url: string
  readonly host: string
  readonly port: number
  /**
   * Stops the server: refuses new connections, interrupts the running
   * prompts (each saves its completed steps), closes event streams and open
   * connections. Waits at most `timeoutMs` (default 4000) for streams to end.
   */
  readonly shutdown: (timeoutMs?: number) => Effect.Effect<void>
}

/**
 * Default cap of a request body: 25 MiB (images included).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024

/**
 * Seconds a `429` asks the client to wait (`retry-after`).
 *
 * @since 0.1.0
 * @category constants
 */
export const RETRY_AFTER_SECONDS = 2

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

const apiError = ServerApi.errorFor

const fromStoreError = (e: SessionStore.SessionStoreError): ServerApi.ApiError => {
  switch (e.reason) {
    case "NotFound":
      return apiError(404, "NotFound", e.message)
    case "InvalidId":
      return apiError(400, "InvalidId", e.message)
    default:
      return apiError(500, e.reason, e.message)
  }
}

type PromptFailure =
  | SessionStore.SessionStoreError
  | SessionStore.SessionBusy
  | SessionStore.SessionConflict
  | SessionLoop.SessionLoopError
  | PromptRunner.PromptRunnerError

const fromPromptError = (e: PromptFailure): ServerApi.ApiError => {
  switch (e._tag) {
    case "SessionStoreError":
      return fromStoreError(e)
    case "SessionBusy":
      return apiError(409, "SessionBusy", e.message)
    case "SessionConflict":
      return apiError(409, "SessionConflict", e.message)
    case "SessionLoopError":
      return e.reason === "Provider" ? apiError(502, "Provider", e.message) : apiError(500, "Store", e.message)
    case "PromptRunnerError":
      return e.reason === "TooManyPrompts" ? apiError(429, e.reason, e.message) : apiError(500, e.reason, e.message)
  }
}

const validId = (id: string) => Effect.mapError(SessionStore.validateId(id), fromStoreError)

const errorResponse = (status: number, code: string, message: string) =>
  HttpServerResponse.jsonUnsafe({ error: { code, message } }, { status })

const STATUS_CODES: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  408: "RequestTimeout",
  413: "PayloadTooLarge",
  415: "UnsupportedMediaType",
  426: "UpgradeRequired",
  429: "TooManyPrompts",
  500: "ServerError",
  503: "Unavailable"
}

// ---------------------------------------------------------------------------
// Request helpers
// ---------------------------------------------------------------------------

const rawJson = (bytes: Uint8Array, status = 200) =>
  HttpServerResponse.uint8Array(bytes, { status, contentType: "application/json" })

/** One event as SSE: `id:` (durable events), `event:` the type, `data:` the `run --json` line. */
const sseEvent = (item: SessionEvents.Item): string =>
  `${item.seq === undefined ? "" : `id: ${item.seq}\n`}event: ${item.event._tag}\ndata: ${SessionEvent.toJsonLine(item.event)}\n\n`

/** Seconds between the comments that keep an idle event stream open through proxies. */
const HEARTBEAT = "15 seconds"

/**
 * An SSE response of `items`: a comment first, so the headers go out at
 * once (a follower learns it is subscribed before any event), then the
 * events, and a comment every 15 s while nothing happens.
 */
const sseResponse = (items: Stream.Stream<SessionEvents.Item>) =>
  HttpServerResponse.stream(
    Stream.concat(
      Stream.succeed(": codetether events\n\n"),
      Stream.merge(
        Stream.map(items, sseEvent),
        Stream.map(Stream.tick(HEARTBEAT), () => ": keep-alive\n\n").pipe(Stream.drop(1)),
        { haltStrategy: "left" }
      )
    ).pipe(Stream.encodeText),
    { contentType: "text/event-stream", headers: { "cache-control": "no-cache", "x-accel-buffering": "no" } }
  )

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The prompt's images, checked: base64, a supported format recognised from the bytes. */
const imagesOf = (images: ReadonlyArray<ServerApi.PromptImage> | undefined) =>
  Effect.forEach(images ?? [], (image, i) => {
    let base64: string
    if ("dataUrl" in image) {
      const match = /^data:[^;,]*;base64,(.*)$/s.exec(image.dataUrl)
      if (match === null) return Effect.fail(apiError(400, "InvalidImage", `images[${i}]: data_url is not a base64 data: URL`))
      base64 = match[1]!
    } else {
      base64 = image.data
    }
    base64 = base64.replace(/\s+/g, "")
    if (!BASE64.test(base64)) return Effect.fail(apiError(400, "InvalidImage", `images[${i}]: data is not base64`))
    const bytes = Buffer.from(base64, "base64")
    if (bytes.length > Images.MAX_IMAGE_BYTES) {
      return Effect.fail(apiError(400, "InvalidImage", `images[${i}] is ${bytes.length} bytes, over the ${Images.MAX_IMAGE_BYTES}-byte limit`))
    }
    const detected = ImageAttachment.detectType(bytes)
    if (detected === undefined || !detected.supported) {
      return Effect.fail(
        apiError(400, "InvalidImage", `images[${i}] is ${detected?.label ?? "empty"}: only PNG, JPEG, GIF and WebP images can be attached`)
      )
    }
    return Effect.succeed(ImageAttachment.fromBase64(detected.mimeType, base64))
  })

const wantsEventStream = (request: HttpServerRequest.HttpServerRequest): boolean =>
  (request.headers["accept"] ?? "").split(",").some((part) => part.trim().toLowerCase().startsWith("text/event-stream"))

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

interface HandlerContext {
  readonly directory: string
  readonly closing: Deferred.Deferred<void>
  readonly pollInterval: number | undefined
  readonly maxLag: number | undefined
}

/** A step of `SessionCost` in the wire shape of `ServerApi.UsageStep`. */
const usageStep = (step: SessionCost.Step): ServerApi.UsageStep => ({
  seq: step.seq,
  ts: step.ts,
  source: step.source,
  model: step.model,
  prompt_tokens: step.promptTokens,
  completion_tokens: step.completionTokens,
  cache_read_tokens: step.cacheReadTokens,
  cache_write_tokens: step.cacheWriteTokens,
  message_index: step.messageIndex,
  duration_ms: step.durationMs,
  cost_usd: step.costUsd
})

const sessionsHandlers = (ctx: HandlerContext) =>
  HttpApiBuilder.group(ServerApi.Api, "sessions", Effect.fn(function*(handlers) {
    const store = yield* SessionStore.SessionStore
    const config = yield* CodetetherConfig.CodetetherConfig
    const sink = yield* DurableSink.DurableSink
    const runner = yield* PromptRunner.PromptRunner
    // the data dir's own search when the app provides one (the CLI: the file scanner), else any store's
    const search = Option.getOrElse(yield* Effect.serviceOption(SessionSearch.SessionSearch), () => SessionSearch.makeStore(store))
    const scope = yield* Effect.scope
    /** The cost report of a session (header and usage only, and its durable log) and its log's last seq. */
    const usageOf = (id: string) =>
      Effect.gen(function*() {
        const { session } = yield* store.loadTail(id, 0)
        const records = yield* sink.read(id).pipe(
          Effect.catch((e) => Effect.as(Effect.logWarning(`cannot read the durable log of ${id}: ${e.message}`), []))
        )
        return {
          report: SessionCost.report(session, records, config.pricing, config.model),
          lastSeq: records.length === 0 ? 0 : records[records.length - 1]!.seq
        }
      })
    // Concurrent listings of the same directory share one store listing (it
    // reads every session: seconds for 10,000 of them). It runs in the
    // server's scope, so a client that gives up does not cancel it for the others.
    const listings = new Map<string, Fiber.Fiber<ReadonlyArray<SessionSummary.SessionSummary>, SessionStore.SessionStoreError>>()
    const listing = (directory: string | undefined) =>
      Effect.gen(function*() {
        const key = directory ?? ""
        let fiber = listings.get(key)
        if (fiber === undefined) {
          fiber = yield* (directory === undefined ? store.list : store.listForDirectory(directory)).pipe(
            Effect.ensuring(Effect.sync(() => listings.delete(key))),
            Effect.forkIn(scope, { startImmediately: true })
          )
          if (fiber.pollUnsafe() === undefined) listings.set(key, fiber)
        }
        return yield* Fiber.join(fiber)
      })
    return handlers.handleAll({
      list: ({ query }) =>
        Effect.gen(function*() {
          const all = yield* listing(query.directory === undefined ? undefined : NodePath.resolve(ctx.directory, query.directory))
          const offset = query.offset ?? 0
          const shown: ReadonlyArray<ServerApi.SessionListItem> = all.slice(offset, offset + (query.limit ?? 100))
          if (query.usage !== true) return shown
          // tokens and cost of each listed session; unknown (null) when it cannot be read (deleted meanwhile, ...)
          return yield* Effect.forEach(shown, (summary) =>
            usageOf(summary.id).pipe(
              Effect.map(({ report }): ServerApi.SessionListItem => ({ ...summary, usage: report.usage, costUsd: report.costUsd })),
              Effect.orElseSucceed((): ServerApi.SessionListItem => ({ ...summary, usage: null, costUsd: null }))
            ), { concurrency: 4 })
        }).pipe(Effect.mapError(fromStoreError)),
      search: ({ query }) =>
        Effect.gen(function*() {
          const directory = query.directory === undefined ? undefined : NodePath.resolve(ctx.directory, query.directory)
          const hits = yield* Stream.runCollect(
            search.search({ query: query.q, regex: query.regex, directory }).pipe(Stream.take(query.limit ?? 50))
          )
          return Array.from(hits, (hit): ServerApi.SearchHit => ({ ...SessionSearch.toJson(hit), title: hit.title }))
        }).pipe(Effect.mapError((e) =>
          e._tag === "SessionSearchError"
            ? apiError(e.reason === "InvalidQuery" ? 400 : 500, e.reason, e.message)
            : fromStoreError(e)
        )),
      usage: ({ params }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          const { lastSeq, report } = yield* usageOf(params.id)
          return {
            session_id: report.sessionId,
            usage: report.usage,
            model: report.model,
            from_steps: report.fromSteps,
            cost_usd: report.costUsd,
            last_seq: lastSeq,
            steps: report.steps.map(usageStep)
          } satisfies ServerApi.SessionUsage
        }).pipe(Effect.mapError((e) => (e instanceof SessionStore.SessionStoreError ? fromStoreError(e) : e))),
      lease: ({ params }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          const holder = yield* store.holder(params.id).pipe(Effect.mapError(fromStoreError))
          const here = (yield* runner.running).some((r) => r.sessionId === params.id)
          if (Option.isNone(holder)) return { session_id: params.id, holder: null, message: null, here } satisfies ServerApi.SessionLease
          const h = holder.value
          return {
            session_id: params.id,
            holder: { pid: h.pid, host: h.host, started_at: h.startedAt, purpose: h.purpose },
            message: SessionStore.busyMessage(params.id, h, NodeOs.hostname()),
            here
          } satisfies ServerApi.SessionLease
        }),
      create: ({ payload }) =>
        Effect.gen(function*() {
          const directory = NodePath.resolve(ctx.directory, payload.directory)
          const stat = NodeFs.statSync(directory, { throwIfNoEntry: false })
          if (stat === undefined || !stat.isDirectory()) {
            return yield* apiError(400, "InvalidDirectory", `${directory} is not an existing directory`)
          }
          let session = yield* config.newSession(directory)
          if (payload.model !== undefined) session = { ...session, metadata: { ...session.metadata, model: payload.model } }
          if (payload.agent !== undefined && payload.agent.trim().length > 0) {
            session = Session.setAgentName(session, payload.agent)
          }
          const saved = yield* store.save(session).pipe(Effect.mapError(fromPromptError))
          return rawJson(SessionJson.encode(saved), 201)
        }),
      get: ({ params, query }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          const session = query.tail === undefined
            ? yield* store.load(params.id)
            : (yield* store.loadTail(params.id, query.tail)).session
          return rawJson(SessionJson.encode(session))
        }).pipe(Effect.mapError((e) => (e instanceof SessionStore.SessionStoreError ? fromStoreError(e) : e))),
      delete: ({ params }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          const deleted = yield* store.delete(params.id).pipe(Effect.mapError(fromPromptError))
          if (!deleted) return yield* apiError(404, "NotFound", `Session not found: ${params.id}`)
        })
    })
  }))

const promptsHandlers = (ctx: HandlerContext) =>
  HttpApiBuilder.group(ServerApi.Api, "prompts", Effect.fn(function*(handlers) {
    const store = yield* SessionStore.SessionStore
    const runner = yield* PromptRunner.PromptRunner
    const events = yield* SessionEvents.SessionEvents
    return handlers.handleAll({
      prompt: ({ params, payload, request }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          const images = yield* imagesOf(payload.images)
          if (payload.message.trim().length === 0 && images.length === 0) {
            return yield* apiError(400, "EmptyMessage", "the message is empty")
          }
          const stream = wantsEventStream(request)
          const started = yield* runner.start({ sessionId: params.id }, payload.message, {
            images,
            maxSteps: payload.max_steps,
            model: payload.model,
            follow: stream
          }).pipe(Effect.mapError(fromPromptError))
          if (stream) return sseResponse(started.events)
          const exit = yield* Effect.exit(started.result)
          if (Exit.isSuccess(exit)) {
            return { text: exit.value.result.text, session_id: exit.value.result.sessionId, steps: exit.value.steps }
          }
          if (Cause.hasInterruptsOnly(exit.cause)) {
            return yield* apiError(409, "Cancelled", `the prompt on session ${params.id} was cancelled; its completed steps are saved`)
          }
          const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
          if (failure !== undefined && failure._tag === "Fail") return yield* fromPromptError(failure.error)
          return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
        }),
      cancel: ({ params }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          if (!(yield* runner.cancel(params.id))) {
            return yield* apiError(404, "NoRunningPrompt", `no prompt of this server is running on session ${params.id}`)
          }
          return { session_id: params.id, cancelled: true }
        }),
      events: ({ params, headers }) =>
        Effect.gen(function*() {
          yield* validId(params.id)
          const lastEventId = headers["last-event-id"]?.trim()
          let after: number | undefined
          if (lastEventId !== undefined && lastEventId !== "") {
            if (!/^\d+$/.test(lastEventId)) {
              return yield* apiError(400, "InvalidLastEventId", `Last-Event-ID ${JSON.stringify(lastEventId)} is not a durable event id`)
            }
            after = Number(lastEventId)
          }
          yield* store.loadTail(params.id, 0).pipe(Effect.mapError(fromStoreError))
          const followed = yield* events.follow(params.id, {
            after,
            pollInterval: ctx.pollInterval,
            maxLag: ctx.maxLag
          })
          return sseResponse(followed.pipe(Stream.interruptWhen(Deferred.await(ctx.closing))))
        })
    })
  }))

const systemHandlers = (ctx: HandlerContext) =>
  HttpApiBuilder.group(ServerApi.Api, "system", Effect.fn(function*(handlers) {
    const runner = yield* PromptRunner.PromptRunner
    let document: HttpServerResponse.HttpServerResponse | undefined
    return handlers.handleAll({
      info: () =>
        Effect.map(runner.running, (running): ServerApi.ServerInfo => ({
          name: "codetether",
          version: Version.version,
          directory: ctx.directory,
          pid: process.pid,
          prompts: { running: running.length, max: runner.maxPrompts, sessions: running.map((r) => r.sessionId) }
        })),
      openapi: () => Effect.sync(() => (document ??= HttpServerResponse.jsonUnsafe(OpenApi.fromApi(ServerApi.Api))))
    })
  }))

const a2aHandlers = HttpApiBuilder.group(ServerApi.Api, "a2a", Effect.fn(function*(handlers) {
  const a2a = yield* A2A.A2A
  return handlers.handleRaw("jsonrpc", ({ request }) =>
    Effect.gen(function*() {
      const body = yield* Effect.orDie(request.text)
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(request.headers)) if (k !== "authorization") headers[k] = v
      const reply = yield* a2a.handle(body, headers)
      if (reply._tag === "Json") return HttpServerResponse.jsonUnsafe(reply.body, { status: reply.status })
      return HttpServerResponse.stream(Stream.encodeText(reply.events), {
        contentType: "text/event-stream",
        headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
      })
    }))
}))

const publicHandlers = HttpApiBuilder.group(ServerApi.Api, "public", Effect.fn(function*(handlers) {
  const a2a = yield* A2A.A2A
  const card = HttpServerResponse.jsonUnsafe(a2a.card)
  return handlers.handleAll({ agentCard: () => Effect.succeed(card) })
}))

/** Headers of every file of the page. */
const WEB_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin"
}

const webFile = (
  request: HttpServerRequest.HttpServerRequest,
  file: WebPage.File,
  headers: Record<string, string>
): HttpServerResponse.HttpServerResponse => {
  const all = { ...WEB_HEADERS, ...headers, etag: file.etag }
  if (request.headers["if-none-match"] === file.etag) return HttpServerResponse.empty({ status: 304, headers: all })
  return HttpServerResponse.uint8Array(file.bytes, { contentType: file.contentType, headers: all })
}

const webHandlers = (page: WebPage.Page | undefined) =>
  HttpApiBuilder.group(ServerApi.Api, "web", (handlers) =>
    handlers.handleAll({
      page: ({ request }) =>
        page === undefined
          ? Effect.fail(apiError(404, "NoWebPage", "this codetether has no web page built in (npm run build:web builds it)") as ServerApi.NotFound)
          : Effect.succeed(webFile(request, page.index, {
            "cache-control": "no-cache",
            "content-security-policy": WebPage.CONTENT_SECURITY_POLICY,
            "x-frame-options": "DENY"
          })),
      asset: ({ params, request }) => {
        const file = page?.assets.get(params.name)
        return file === undefined
          ? Effect.fail(apiError(404, "NotFound", `no file ${params.name} in the web page`) as ServerApi.NotFound)
          // names carry a content hash: a name always means the same bytes
          : Effect.succeed(webFile(request, file, { "cache-control": "public, max-age=31536000, immutable" }))
      }
    }))

const authorization = Layer.effect(
  ServerApi.Authorization,
  Effect.gen(function*() {
    const token = yield* ServerToken.ServerToken
    return ServerApi.Authorization.of({
      bearer: (httpEffect, { credential }) =>
        token.matches(Redacted.value(credential))
          ? httpEffect
          : Effect.fail(
            apiError(401, "Unauthorized", "missing or wrong bearer token: send Authorization: Bearer <token>") as ServerApi.Unauthorized
          )
    })
  })
)

// ---------------------------------------------------------------------------
// Whole-server middleware
// ---------------------------------------------------------------------------

/** The request's problem that every route answers the same way, if any. */
const guard = (
  request: HttpServerRequest.HttpServerRequest,
  options: { readonly maxBodyBytes: number; readonly allowedHosts: ReadonlySet<string> | undefined }
): HttpServerResponse.HttpServerResponse | undefined => {
  const host = request.headers["host"]?.toLowerCase()
  if (options.allowedHosts !== undefined && host !== undefined && !options.allowedHosts.has(host)) {
    return errorResponse(403, "Forbidden", `this server answers requests for ${[...options.allowedHosts][0]} only (Host: ${host})`)
  }
  const length = request.headers["content-length"]
  if (length !== undefined && Number(length) > options.maxBodyBytes) {
    return errorResponse(413, "PayloadTooLarge", `the request body is ${length} bytes, over the ${options.maxBodyBytes}-byte limit`)
  }
  return undefined
}

const tooLarge = (defect: unknown): boolean =>
  defect instanceof HttpServerError.HttpServerError && defect.reason._tag === "RequestParseError" &&
  defect.reason.reason === "BodyTooLarge"

/** A JSON error for a failure the handlers did not answer themselves (bad input, limits, unknown routes). */
const causeToResponse = (cause: Cause.Cause<unknown>, maxBodyBytes: number) =>
  Effect.gen(function*() {
    for (const reason of cause.reasons) {
      const value = reason._tag === "Fail" ? reason.error : reason._tag === "Die" ? reason.defect : undefined
      if (HttpApiError.HttpApiSchemaError.is(value)) {
        if (value.kind === "Body" || value.kind === "ResponseHeaders") break
        return errorResponse(400, `Invalid${value.kind}`, `invalid ${value.kind.toLowerCase()}: ${value.cause.message}`)
      }
      if (tooLarge(value) || HttpApiError.HttpApiPayloadTooLarge.is(value)) {
        return errorResponse(413, "PayloadTooLarge", `the request body is over the ${maxBodyBytes}-byte limit`)
      }
      if (value instanceof HttpServerError.HttpServerError && value.reason._tag === "RouteNotFound") {
        const request = value.reason.request
        return errorResponse(404, "NoRoute", `no route ${request.method} ${request.url.split("?")[0]}`)
      }
      if (value instanceof HttpServerError.HttpServerError && value.reason._tag === "RequestParseError") {
        return errorResponse(400, "BadRequest", value.reason.description ?? "the request could not be read")
      }
    }
    if (Cause.hasInterruptsOnly(cause)) return yield* Effect.failCause(cause)
    yield* Effect.logError(`request failed: ${Cause.pretty(cause)}`)
    return errorResponse(500, "ServerError", "the server failed to answer this request (see its log)")
  })

/** Gives error responses without a JSON body the `{error: {code, message}}` body; adds the headers some need. */
const decorate = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  let out = response
  const status = response.status
  if (status >= 400 && !(response.headers["content-type"] ?? "").includes("json")) {
    const text = response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body).trim() : ""
    out = errorResponse(status, STATUS_CODES[status] ?? `Http${status}`, text.length > 0 ? text : `HTTP ${status}`)
  }
  if (status === 401) out = HttpServerResponse.setHeader(out, "www-authenticate", "Bearer")
  if (status === 429) out = HttpServerResponse.setHeader(out, "retry-after", String(RETRY_AFTER_SECONDS))
  if ((response.headers["content-type"] ?? "").startsWith("text/event-stream")) {
    out = HttpServerResponse.setHeaders(out, { "cache-control": "no-cache", "x-accel-buffering": "no" })
  }
  return out
}

const serverMiddleware = (options: {
  readonly maxBodyBytes: number
  readonly allowedHosts: ReadonlySet<string> | undefined
}) =>
  HttpRouter.middleware((httpEffect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const refused = guard(request, options)
      if (refused !== undefined) return refused
      const response = yield* httpEffect.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, BigInt(options.maxBodyBytes) as never),
        Effect.catchCause((cause) => causeToResponse(cause, options.maxBodyBytes))
      )
      return decorate(response)
    }), { global: true })

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

const hostsFor = (host: string, port: number): ReadonlySet<string> | undefined => {
  if (!ServerToken.isLoopback(host)) return undefined
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host.toLowerCase()}:${port}`])
}

const urlHost = (host: string) => (host.includes(":") && !host.startsWith("[") ? `[${host}]` : host)

/**
 * The services {@link make} needs from its environment: the store, the agent
 * services (providers, tools, bus and durable sink, configuration, system
 * prompt), the server token and the A2A task store.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements =
  | SessionStore.SessionStore
  | DurableSink.DurableSink
  | SessionBus.SessionBus
  | ProviderRegistry.ProviderRegistry
  | ToolRegistry.ToolRegistry
  | CodetetherConfig.CodetetherConfig
  | SystemPrompt.SystemPrompt
  | ServerToken.ServerToken
  | A2ATaskStore.A2ATaskStore

/**
 * Starts the server in the current scope (closing it stops the server at
 * once; {@link Running} `shutdown` stops it gracefully first). Fails with
 * `ServeError` when the address cannot be bound (e.g. the port is taken).
 *
 * `GET /api/search` uses the `SessionSearch` of the environment when there
 * is one (the CLI provides the one that fits its store), else it searches
 * through the store (`SessionSearch.makeStore`: each session loaded in turn).
 * The web page is read once, here, from `options.webRoot`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fn("Server.make")(function*(options: Options) {
  const host = options.host ?? "127.0.0.1"
  const directory = NodePath.resolve(options.directory ?? process.cwd())
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const closing = yield* Deferred.make<void>()
  const node = NodeHttp.createServer({ requestTimeout: 0 })
  const scope = yield* Effect.scope

  // @effect/platform-node is an optional peer of the library: loaded when a server starts
  // (through LazyModule, so that an app's bundler does not follow it)
  const NodeHttpServer = yield* Effect.promise(LazyModule.nodeHttpServer)
  const httpServer = yield* Layer.build(
    NodeHttpServer.layer(() => node, { port: options.port, host, gracefulShutdownTimeout: "1 second" })
  ).pipe(Scope.provide(scope))
  const address = node.address() as AddressInfo
  const url = `http://${urlHost(host)}:${address.port}`

  const ctx: HandlerContext = { directory, closing, pollInterval: options.pollInterval, maxLag: options.maxLag }
  const webRoot = options.webRoot === undefined ? WebPage.locate() : options.webRoot
  const page = webRoot === false || webRoot === undefined ? undefined : yield* Effect.try(() => WebPage.load(webRoot)).pipe(
    Effect.catch((e) => Effect.as(Effect.logWarning(`the web page in ${webRoot} is not served: ${String(e.cause)}`), undefined))
  )
  const services = Layer.mergeAll(
    PromptRunner.layer({ maxPrompts: options.maxPrompts }),
    Layer.succeedContext(httpServer)
  ).pipe(Layer.provideMerge(SessionEvents.layer))
  const handlers = Layer.mergeAll(
    sessionsHandlers(ctx),
    promptsHandlers(ctx),
    systemHandlers(ctx),
    a2aHandlers,
    publicHandlers,
    webHandlers(page)
  ).pipe(
    Layer.provide(A2A.layer({ url: `${url}/a2a`, version: Version.version, directory })),
    Layer.provideMerge(authorization)
  )
  const routes = Layer.mergeAll(
    HttpApiBuilder.layer(ServerApi.Api).pipe(Layer.provide(handlers)),
    serverMiddleware({ maxBodyBytes, allowedHosts: hostsFor(host, address.port) }),
    options.cors === undefined || options.cors.length === 0
      ? Layer.empty
      : HttpRouter.cors({
        allowedOrigins: options.cors,
        allowedHeaders: ["authorization", "content-type", "accept", "last-event-id", "a2a-version", "a2a-extensions"],
        exposedHeaders: ["retry-after"]
      })
  )
  const app = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(services)
  )
  const built = yield* Layer.build(app).pipe(Scope.provide(scope))
  const runner = Context.get(built, PromptRunner.PromptRunner)

  const shutdown = (timeoutMs = 4000) =>
    Effect.gen(function*() {
      // no new connections; idle keep-alive connections go now
      node.close()
      node.closeIdleConnections()
      yield* runner.shutdown
      // followers get the interrupted prompts' last events before their streams close
      yield* Effect.sleep("200 millis")
      yield* Deferred.succeed(closing, undefined)
      const drained = Effect.callback<void>((resume) => {
        const check = () => {
          // a connection whose last response just ended is idle now: close it
          node.closeIdleConnections()
          node.getConnections((_, count) => (count === 0 ? resume(Effect.void) : void setTimeout(check, 25)))
        }
        check()
      })
      yield* Effect.timeoutOrElse(drained, { duration: timeoutMs, orElse: () => Effect.void })
      node.closeAllConnections()
    }).pipe(Effect.withSpan("Server.shutdown"))

  return { url, host, port: address.port, shutdown } satisfies Running
})

/**
 * The A2A task store in the data dir, for {@link make}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTaskStore = A2ATaskStore.layerFileSystem

/**
 * Decodes a `--cors` value list (comma-separated origins).
 *
 * @since 0.1.0
 * @category options
 */
export const parseOrigins = (values: ReadonlyArray<string>): Result.Result<ReadonlyArray<string>, string> => {
  const origins = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v.length > 0)
  for (const origin of origins) {
    if (origin === "*") continue
    let parsed: URL
    try {
      parsed = new URL(origin)
    } catch {
      return Result.fail(`--cors ${origin}: not an origin (expected e.g. http://localhost:5173)`)
    }
    if (parsed.origin !== origin.replace(/\/$/, "")) {
      return Result.fail(`--cors ${origin}: not an origin (scheme, host and port only, e.g. ${parsed.origin})`)
    }
  }
  return Result.succeed(origins.map((o) => o.replace(/\/$/, "")))
}
