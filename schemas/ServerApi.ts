/**
 * The HTTP API of `codetether serve`, declared once: every route, its path
 * parameters, query, body, successes and errors, and the bearer-token
 * security. The server implements this definition (`src/Server.ts`), the
 * OpenAPI document at `/openapi.json` is derived from it, and so can a typed
 * client (`HttpApiClient.make(ServerApi.Api)` of `effect/http-api`) or a
 * web page.
 *
 * Routes (every one needs `Authorization: Bearer <token>`, except the agent
 * card):
 *
 * | method | path | what |
 * |---|---|---|
 * | GET | `/api/session?offset&limit&directory` | `SessionSummary[]`, newest first (4.5.7's endpoint) |
 * | POST | `/api/session` | a new session (`{directory, model?, agent?}`) in its on-disk encoding |
 * | GET | `/api/session/{id}?tail=N` | the session in its on-disk encoding (the bytes of `sessions show --json`) |
 * | DELETE | `/api/session/{id}` | delete it (`204`) |
 * | POST | `/api/session/{id}/prompt` | run a prompt: JSON `{text, session_id, steps}`, or SSE of its events |
 * | POST | `/api/session/{id}/cancel` | interrupt the running prompt as Ctrl-C does |
 * | GET | `/api/session/{id}/events` | SSE of the session's events from now on (`Last-Event-ID` replays) |
 * | GET | `/api/server` | who this server is and how busy it is |
 * | GET | `/openapi.json` | this API as OpenAPI |
 * | POST | `/a2a` | the A2A JSON-RPC endpoint (Agent2Agent protocol v1.0) |
 * | GET | `/.well-known/agent-card.json` | the A2A agent card (public) |
 *
 * Errors are JSON `{"error": {"code", "message"}}`: `400` a bad id, query or
 * body; `401` a missing or wrong token; `404` no such session (or no prompt
 * running here, for cancel); `409` the session is busy (the `SessionBusy`
 * message) or changed meanwhile; `413` a body over the cap; `429` too many
 * running prompts (with `retry-after`); `500` a store failure; `502` the
 * model provider failed.
 *
 * SSE events: `event:` is the SessionEvent's `type`, `data:` the JSON line
 * `codetether run --json` prints for it, and durable events carry `id:` =
 * their position in the session's durable log (`DurableRecord.seq`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Sse from "effect/encoding/Sse"
import * as HttpApi from "effect/http-api/HttpApi"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as HttpApiSecurity from "effect/http-api/HttpApiSecurity"
import * as OpenApi from "effect/http-api/OpenApi"
import { ImageAttachment } from "./ImageAttachment.ts"
import { SessionSummary } from "./SessionSummary.ts"

// ---------------------------------------------------------------------------
// Errors: `{"error": {"code", "message"}}`, one class per status
// ---------------------------------------------------------------------------

/**
 * The body of every error response: a machine `code` (e.g. `InvalidId`,
 * `NotFound`, `SessionBusy`) and a readable `message`.
 *
 * @since 0.1.0
 * @category errors
 */
export const ErrorBody = Schema.Struct({
  code: Schema.String,
  message: Schema.String
})

/**
 * @since 0.1.0
 * @category errors
 */
export type ErrorBody = typeof ErrorBody.Type

const errorFields = { error: ErrorBody }

/**
 * `400`: a bad session id, query parameter or body.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.Error<BadRequest>("codetether/ServerApi/BadRequest")(errorFields, {
  httpApiStatus: 400
}) {}

/**
 * `401`: the `Authorization: Bearer <token>` header is missing or wrong.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.Error<Unauthorized>("codetether/ServerApi/Unauthorized")(errorFields, {
  httpApiStatus: 401
}) {}

/**
 * `404`: no session with that id (or, for cancel, no prompt of this server
 * running on it).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.Error<NotFound>("codetether/ServerApi/NotFound")(errorFields, {
  httpApiStatus: 404
}) {}

/**
 * `409`: the session is busy (its lease is held: code `SessionBusy`, the
 * message names the holder) or changed while it was used (`SessionConflict`).
 *
 * @since 0.1.0
 * @category errors
 */
export class Conflict extends Schema.Error<Conflict>("codetether/ServerApi/Conflict")(errorFields, {
  httpApiStatus: 409
}) {}

/**
 * `413`: the request body is larger than the server's cap (25 MiB by default).
 *
 * @since 0.1.0
 * @category errors
 */
export class PayloadTooLarge extends Schema.Error<PayloadTooLarge>("codetether/ServerApi/PayloadTooLarge")(errorFields, {
  httpApiStatus: 413
}) {}

/**
 * `429`: the server already runs `--max-prompts` prompts; the response has a
 * `retry-after` header (seconds).
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyPrompts extends Schema.Error<TooManyPrompts>("codetether/ServerApi/TooManyPrompts")(errorFields, {
  httpApiStatus: 429
}) {}

/**
 * `500`: the session store failed (an unreadable or corrupt session file, a
 * full disk, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.Error<ServerError>("codetether/ServerApi/ServerError")(errorFields, {
  httpApiStatus: 500
}) {}

/**
 * `502`: the model provider failed (or none is configured) and the prompt
 * stopped; its completed steps are saved.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadGateway extends Schema.Error<BadGateway>("codetether/ServerApi/BadGateway")(errorFields, {
  httpApiStatus: 502
}) {}

/**
 * An error response of `status` with `code` and `message`, as the class for
 * that status (`400`, `401`, `404`, `409`, `413`, `429`, `500`, `502`).
 *
 * @since 0.1.0
 * @category errors
 */
export const errorFor = (status: number, code: string, message: string): ApiError => {
  const error = { code, message }
  switch (status) {
    case 400:
      return new BadRequest({ error })
    case 401:
      return new Unauthorized({ error })
    case 404:
      return new NotFound({ error })
    case 409:
      return new Conflict({ error })
    case 413:
      return new PayloadTooLarge({ error })
    case 429:
      return new TooManyPrompts({ error })
    case 502:
      return new BadGateway({ error })
    default:
      return new ServerError({ error })
  }
}

/**
 * Any error response of the API.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError =
  | BadRequest
  | Unauthorized
  | NotFound
  | Conflict
  | PayloadTooLarge
  | TooManyPrompts
  | ServerError
  | BadGateway

// ---------------------------------------------------------------------------
// Security
// ---------------------------------------------------------------------------

/**
 * The bearer-token check, applied to every group but the public one (the
 * agent card). The server's token comes from `CODETETHER_SERVER_TOKEN` or
 * `<data_dir>/server-token` (see `services/ServerToken.ts`).
 *
 * @since 0.1.0
 * @category security
 */
export class Authorization extends HttpApiMiddleware.Service<Authorization>()("codetether/ServerApi/Authorization", {
  security: { bearer: HttpApiSecurity.bearer },
  error: Unauthorized
}) {}

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

/**
 * A session in its on-disk encoding (compact JSON, the bytes `codetether
 * sessions show --json` prints; `SESSION_FORMAT.md`). Served as raw bytes, so
 * the schema only documents it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionJson = Schema.Unknown.annotate({
  identifier: "Session",
  description: "A session in its on-disk encoding (codetether-agent 4.5.7 session file), byte for byte"
})

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const SessionId = Schema.String.annotate({ description: "A session id (a UUID for sessions codetether creates)" })

/**
 * Body of `POST /api/session`: the directory the session works in (must
 * exist; a relative path is taken from the server's directory), and
 * optionally the model (`provider/model`, saved in the session) and the
 * agent name (default `build`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSession = Schema.Struct({
  directory: Schema.String,
  model: Schema.optional(Schema.NullOr(Schema.String)),
  agent: Schema.optional(Schema.String)
})

/**
 * An image of a prompt: base64 `data` with its `mime_type`, or 4.5.7's
 * `{data_url, mime_type}`. PNG, JPEG, GIF or WebP (recognised from the
 * bytes), up to 20 MiB each; the whole body is capped too.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PromptImage = Schema.Union([
  Schema.Struct({ data: Schema.String, mime_type: Schema.optional(Schema.NullOr(Schema.String)) }),
  ImageAttachment
])

/**
 * @since 0.1.0
 * @category schemas
 */
export type PromptImage = typeof PromptImage.Type

/**
 * Body of `POST /api/session/{id}/prompt`: the user message, optional
 * images, the model for this session (saved in it, as `run --model`) and a
 * step limit for this prompt.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Prompt = Schema.Struct({
  message: Schema.String,
  images: Schema.optional(Schema.Array(PromptImage)),
  model: Schema.optional(Schema.NullOr(Schema.String)),
  max_steps: Schema.optional(PositiveInt)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type Prompt = typeof Prompt.Type

/**
 * The JSON answer of a prompt (4.5.7's `{text, session_id}`, plus the number
 * of model round trips).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PromptResult = Schema.Struct({
  text: Schema.String,
  session_id: Schema.String,
  steps: NonNegativeInt
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type PromptResult = typeof PromptResult.Type

/**
 * One server-sent event: `event` = the SessionEvent's `type`, `data` = its
 * `run --json` line, `id` = the durable record's `seq` (durable events only).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventStream = HttpApiSchema.StreamSse({ events: Sse.EventEncoded })

/**
 * Answer of `POST /api/session/{id}/cancel`: the prompt was interrupted
 * (its completed steps are saved).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Cancelled = Schema.Struct({ session_id: Schema.String, cancelled: Schema.Boolean })

/**
 * Answer of `GET /api/server`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerInfo = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  directory: Schema.String,
  pid: Schema.Number,
  prompts: Schema.Struct({
    running: NonNegativeInt,
    max: PositiveInt,
    sessions: Schema.Array(Schema.String)
  })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type ServerInfo = typeof ServerInfo.Type

// ---------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------

const idParams = { id: SessionId }

/**
 * Sessions: list, create, read, delete.
 *
 * @since 0.1.0
 * @category groups
 */
export class Sessions extends HttpApiGroup.make("sessions")
  .add(
    HttpApiEndpoint.get("list", "/api/session", {
      query: {
        offset: Schema.optional(NonNegativeInt),
        limit: Schema.optional(NonNegativeInt),
        directory: Schema.optional(Schema.String)
      },
      success: Schema.Array(SessionSummary),
      error: [BadRequest, ServerError]
    }).annotate(OpenApi.Description, "Session summaries, newest updated_at first; offset/limit after sorting (default 0/100); directory filters as `sessions list` does"),
    HttpApiEndpoint.post("create", "/api/session", {
      payload: CreateSession,
      success: SessionJson.pipe(HttpApiSchema.status(201)),
      error: [BadRequest, ServerError]
    }).annotate(OpenApi.Description, "Creates and saves a new session; answers with it in its on-disk encoding"),
    HttpApiEndpoint.get("get", "/api/session/:id", {
      params: idParams,
      query: { tail: Schema.optional(NonNegativeInt) },
      success: SessionJson,
      error: [BadRequest, NotFound, ServerError]
    }).annotate(OpenApi.Description, "The session in its on-disk encoding; ?tail=N keeps the last N messages and tool uses"),
    HttpApiEndpoint.delete("delete", "/api/session/:id", {
      params: idParams,
      error: [BadRequest, NotFound, Conflict, ServerError]
    }).annotate(OpenApi.Description, "Deletes the session (refused with 409 while a prompt runs on it)")
  )
  .middleware(Authorization)
  .annotate(OpenApi.Title, "Sessions")
{}

/**
 * Prompts and events of a session.
 *
 * @since 0.1.0
 * @category groups
 */
export class Prompts extends HttpApiGroup.make("prompts")
  .add(
    HttpApiEndpoint.post("prompt", "/api/session/:id/prompt", {
      params: idParams,
      payload: Prompt,
      success: [PromptResult, EventStream],
      error: [BadRequest, NotFound, Conflict, TooManyPrompts, ServerError, BadGateway]
    }).annotate(
      OpenApi.Description,
      "Runs a prompt. With Accept: text/event-stream its events as SSE, closed after Done; else the JSON answer when done. A client that disconnects does not stop it"
    ),
    HttpApiEndpoint.post("cancel", "/api/session/:id/cancel", {
      params: idParams,
      success: Cancelled,
      error: [BadRequest, NotFound]
    }).annotate(OpenApi.Description, "Interrupts the prompt this server runs on the session, as Ctrl-C does (completed steps saved)"),
    HttpApiEndpoint.get("events", "/api/session/:id/events", {
      params: idParams,
      headers: { "last-event-id": Schema.optional(Schema.String) },
      success: EventStream,
      error: [BadRequest, NotFound, ServerError]
    }).annotate(
      OpenApi.Description,
      "SSE of the session's events from now on (durable events of prompts run elsewhere within about a second); Last-Event-ID replays the durable events after it"
    )
  )
  .middleware(Authorization)
  .annotate(OpenApi.Title, "Prompts and events")
{}

/**
 * The server itself and its OpenAPI document.
 *
 * @since 0.1.0
 * @category groups
 */
export class System extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("info", "/api/server", { success: ServerInfo }),
    HttpApiEndpoint.get("openapi", "/openapi.json", { success: Schema.Unknown }).annotate(
      OpenApi.Description,
      "This API as an OpenAPI 3.1 document"
    )
  )
  .middleware(Authorization)
  .annotate(OpenApi.Title, "Server")
{}

/**
 * The A2A JSON-RPC endpoint (Agent2Agent protocol v1.0): `SendMessage`,
 * `SendStreamingMessage`, `GetTask`, `ListTasks`, `CancelTask`,
 * `SubscribeToTask`. Answered by the official `@a2a-js/sdk` request handler.
 *
 * @since 0.1.0
 * @category groups
 */
export class A2a extends HttpApiGroup.make("a2a")
  .add(
    HttpApiEndpoint.post("jsonrpc", "/a2a", {
      payload: Schema.Unknown.annotate({ description: "A JSON-RPC 2.0 request of the A2A protocol" }),
      success: [Schema.Unknown, EventStream]
    }).annotate(OpenApi.Description, "A2A JSON-RPC; streaming methods answer with SSE")
  )
  .middleware(Authorization)
  .annotate(OpenApi.Title, "A2A")
{}

/**
 * Routes without authentication: the A2A agent card.
 *
 * @since 0.1.0
 * @category groups
 */
export class Public extends HttpApiGroup.make("public")
  .add(
    HttpApiEndpoint.get("agentCard", "/.well-known/agent-card.json", { success: Schema.Unknown }).annotate(
      OpenApi.Description,
      "The A2A agent card: name, interface URL, capabilities, the coding skill, the bearer security scheme"
    )
  )
  .annotate(OpenApi.Title, "Public")
{}

/**
 * The whole API.
 *
 * @since 0.1.0
 * @category api
 */
export class Api extends HttpApi.make("codetether")
  .add(Sessions)
  .add(Prompts)
  .add(System)
  .add(A2a)
  .add(Public)
  .annotate(OpenApi.Title, "codetether serve")
  .annotate(OpenApi.Description, "Persistent AI coding-agent sessions (codetether-agent 4.5.7 compatible) over HTTP, SSE and A2A")
{}

/**
 * The groups whose routes need no token.
 *
 * @since 0.1.0
 * @category security
 */
export const PUBLIC_GROUPS: ReadonlySet<string> = new Set(["public"])
