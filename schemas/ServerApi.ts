/**
 * The HTTP API of `codetether serve`, declared once: every route, its path
 * parameters, query, body, successes and errors, and the bearer-token
 * security. The server implements this definition (`src/Server.ts`), the
 * OpenAPI document at `/openapi.json` is derived from it, and so can a typed
 * client (`HttpApiClient.make(ServerApi.Api)` of `effect/http-api`) or a
 * web page.
 *
 * Routes (every one needs `Authorization: Bearer <token>`, except the agent
 * card and the web page's files):
 *
 * | method | path | what |
 * |---|---|---|
 * | GET | `/api/session?offset&limit&directory&usage` | `SessionSummary[]`, newest first (4.5.7's endpoint); `usage=true` adds `usage` and `cost_usd` |
 * | GET | `/api/search?q&regex&directory&limit` | the messages where something was said, newest session first |
 * | POST | `/api/session` | a new session (`{directory, model?, agent?}`) in its on-disk encoding |
 * | GET | `/api/session/{id}?tail=N` | the session in its on-disk encoding (the bytes of `sessions show --json`) |
 * | DELETE | `/api/session/{id}` | delete it (`204`) |
 * | GET | `/api/session/{id}/usage` | tokens and cost per model round trip (`token_usage` records), and the last durable `seq` |
 * | GET | `/api/session/{id}/lease` | who holds the session's lease (a running prompt), if anyone |
 * | POST | `/api/session/{id}/prompt` | run a prompt: JSON `{text, session_id, steps}`, or SSE of its events |
 * | POST | `/api/session/{id}/cancel` | interrupt the running prompt as Ctrl-C does |
 * | GET | `/api/session/{id}/events` | SSE of the session's events from now on (`Last-Event-ID` replays) |
 * | GET | `/api/server` | who this server is and how busy it is |
 * | GET | `/openapi.json` | this API as OpenAPI |
 * | POST | `/a2a` | the A2A JSON-RPC endpoint (Agent2Agent protocol v1.0) |
 * | GET | `/.well-known/agent-card.json` | the A2A agent card (public) |
 * | GET | `/`, `/assets/{name}` | the web page and its files (public: the page asks for the token) |
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
import * as SessionSummary_ from "./SessionSummary.ts"
import { Usage } from "./Usage.ts"

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

/**
 * A row of `GET /api/session`: a `SessionSummary` (4.5.7's keys, in its
 * order); with `?usage=true` also `usage` (the session's token usage) and
 * `cost_usd` (US dollars; `null` when a model involved has no price), as
 * `codetether sessions list --json --usage` prints them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionListItem = Schema.Struct({
  ...SessionSummary_.fields,
  usage: Schema.optionalKey(Schema.NullOr(Usage)),
  costUsd: Schema.optionalKey(Schema.NullOr(Schema.Number))
}).pipe(Schema.encodeKeys({ ...SessionSummary_.wireKeys, costUsd: "cost_usd" }))

/**
 * @since 0.1.0
 * @category schemas
 */
export type SessionListItem = typeof SessionListItem.Type

/**
 * Most hits `GET /api/search` returns (its `limit`, default 50).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_SEARCH_HITS = 1000

/**
 * One message where the searched text occurs (`codetether sessions search
 * --json`, plus the session's title): its session, its index in the
 * session's messages, its role, and a one-line snippet around the first
 * match (about 160 characters, `…` where cut).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SearchHit = Schema.Struct({
  session_id: Schema.String,
  message_index: NonNegativeInt,
  role: Schema.Literals(["system", "user", "assistant", "tool"]),
  snippet: Schema.String,
  title: Schema.NullOr(Schema.String)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type SearchHit = typeof SearchHit.Type

/**
 * One model round trip of a session (a durable `token_usage` record):
 * its `seq` in the durable log, when (`ts`), who spent the tokens
 * (`source`), the model, tokens, the step's duration (ms), the index of
 * its assistant message (`null` when not recorded), and its cost (US
 * dollars, `null` when the model has no price).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsageStep = Schema.Struct({
  seq: PositiveInt,
  ts: Schema.String,
  source: Schema.String,
  model: Schema.String,
  prompt_tokens: NonNegativeInt,
  completion_tokens: NonNegativeInt,
  cache_read_tokens: Schema.NullOr(NonNegativeInt),
  cache_write_tokens: Schema.NullOr(NonNegativeInt),
  message_index: Schema.NullOr(NonNegativeInt),
  duration_ms: NonNegativeInt,
  cost_usd: Schema.NullOr(Schema.Number)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type UsageStep = typeof UsageStep.Type

/**
 * Answer of `GET /api/session/{id}/usage` (`services/SessionCost.ts`): the
 * session's recorded `usage`, its `steps`, whether the steps add up to the
 * usage (`from_steps`; else `cost_usd` is the total priced at `model`), the
 * cost (US dollars, `null` when unknown) and `last_seq`, the `seq` of the
 * last record of the session's durable log (`0` when empty): a page that
 * follows `/events` with `Last-Event-ID: <last_seq>` misses no durable
 * event written after this answer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionUsage = Schema.Struct({
  session_id: Schema.String,
  usage: Usage,
  model: Schema.NullOr(Schema.String),
  from_steps: Schema.Boolean,
  cost_usd: Schema.NullOr(Schema.Number),
  last_seq: NonNegativeInt,
  steps: Schema.Array(UsageStep)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type SessionUsage = typeof SessionUsage.Type

/**
 * Answer of `GET /api/session/{id}/lease`: who holds the session's lease
 * (`holder`, `null` when nobody: `SessionStore.holder`), the sentence a
 * refused prompt would get (`message`, the `SessionBusy` message), and
 * whether the holder is a prompt this server runs (`here`: then
 * `POST …/cancel` stops it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionLease = Schema.Struct({
  session_id: Schema.String,
  holder: Schema.NullOr(Schema.Struct({
    pid: Schema.Number,
    host: Schema.String,
    started_at: Schema.String,
    purpose: Schema.Literals(["prompt", "save", "delete"])
  })),
  message: Schema.NullOr(Schema.String),
  here: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type SessionLease = typeof SessionLease.Type

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
        directory: Schema.optional(Schema.String),
        usage: Schema.optional(Schema.Boolean)
      },
      success: Schema.Array(SessionListItem),
      error: [BadRequest, ServerError]
    }).annotate(
      OpenApi.Description,
      "Session summaries, newest updated_at first; offset/limit after sorting (default 0/100); directory filters as `sessions list` does; usage=true adds each listed session's usage and cost_usd"
    ),
    HttpApiEndpoint.get("search", "/api/search", {
      query: {
        q: Schema.String,
        regex: Schema.optional(Schema.Boolean),
        directory: Schema.optional(Schema.String),
        limit: Schema.optional(PositiveInt.check(Schema.isLessThanOrEqualTo(MAX_SEARCH_HITS)))
      },
      success: Schema.Array(SearchHit),
      error: [BadRequest, ServerError]
    }).annotate(
      OpenApi.Description,
      "The messages where q occurs (plain text, case-sensitive; regex=true: an RE2 pattern), one hit per message, newest session first; at most limit hits (default 50)"
    ),
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
    }).annotate(OpenApi.Description, "Deletes the session (refused with 409 while a prompt runs on it)"),
    HttpApiEndpoint.get("usage", "/api/session/:id/usage", {
      params: idParams,
      success: SessionUsage,
      error: [BadRequest, NotFound, ServerError]
    }).annotate(OpenApi.Description, "Tokens and cost per model round trip, the session's total, and the last durable seq"),
    HttpApiEndpoint.get("lease", "/api/session/:id/lease", {
      params: idParams,
      success: SessionLease,
      error: [BadRequest, ServerError]
    }).annotate(OpenApi.Description, "Who holds the session's lease (a running prompt), if anyone, and whether it runs on this server")
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
 * The web page (`/`) and its files (`/assets/{name}`), served without a
 * token: the page asks for it. Built into the package (`dist/web`); `404`
 * when the package has no page or no such file.
 *
 * @since 0.1.0
 * @category groups
 */
export class Web extends HttpApiGroup.make("web")
  .add(
    HttpApiEndpoint.get("page", "/", {
      success: Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/html" })),
      error: NotFound
    }).annotate(OpenApi.Description, "The web page: sessions, transcripts, live prompts, usage"),
    HttpApiEndpoint.get("asset", "/assets/:name", {
      params: { name: Schema.String },
      success: Schema.Uint8Array.pipe(HttpApiSchema.asUint8Array()),
      error: NotFound
    }).annotate(OpenApi.Description, "A file of the web page (script, style sheet); names carry a content hash")
  )
  .annotate(OpenApi.Title, "Web page")
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
  .add(Web)
  .annotate(OpenApi.Title, "codetether serve")
  .annotate(OpenApi.Description, "Persistent AI coding-agent sessions (codetether-agent 4.5.7 compatible) over HTTP, SSE and A2A")
{}

/**
 * The groups whose routes need no token: the agent card and the web page.
 *
 * @since 0.1.0
 * @category security
 */
export const PUBLIC_GROUPS: ReadonlySet<string> = new Set(["public", "web"])
