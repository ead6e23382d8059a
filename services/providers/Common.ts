/**
 * What every provider SDK seam shares: the {@link Provider} shape, the tagged
 * {@link ProviderError}, the {@link RetryPolicy}, error classification of SDK
 * failures and {@link streamWithRetry}, which turns "open an HTTP stream with
 * this `AbortSignal`" into an Effect `Stream` that aborts the request when it
 * is interrupted and retries transient failures before any output.
 *
 * `services/ProviderRegistry.ts` re-exports the public parts.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Config from "effect/Config"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { FilePart } from "../../schemas/Message.ts"
import type { CompletionRequest, StreamEvent } from "../../schemas/Provider.ts"
import { findRedirectRefused, findUnexpectedResponse, redactCredentials } from "./SafeFetch.ts"

/**
 * Why a provider call or selection failed:
 * - `NoProviders`: no provider is registered (4.5.7's text);
 * - `Unavailable`: the selected provider is not registered, or its SDK could
 *   not be loaded;
 * - `Config`: the provider configuration is invalid (`providers.json`), the
 *   server redirected a request to another origin (never followed; the
 *   message names both URLs), or it answered a stream request with something
 *   other than an event stream (the message names the content type and quotes
 *   the first bytes); never retried;
 * - `Authentication`: HTTP 401/403 (never retried);
 * - `BadRequest`: HTTP 400, 413, 422 and other 4xx (never retried);
 * - `NotFound`: HTTP 404, usually an unknown model (never retried);
 * - `RateLimited`: HTTP 429 (retried);
 * - `Server`: HTTP 5xx, 408, 409 or an overloaded/server error event before
 *   any output (retried);
 * - `Connection`: the request could not be sent or the connection failed
 *   before a response (retried);
 * - `Stream`: the response stream broke, carried an error event, or ended
 *   without a finish (retried only when nothing was emitted yet);
 * - `Timeout`: no response headers within the connect timeout, or no content
 *   event within the idle timeout (see {@link StreamTimeouts}; retried only
 *   when nothing was emitted yet). The message names the timeout, its value
 *   and its variable.
 *
 * `message` is one readable line starting with the provider name, e.g.
 * `openai: 401 Incorrect API key provided`; it never contains the API key
 * nor credentials written into a base URL (`http://user:pw@host` is shown as
 * `http://<redacted>@host`).
 * `retryAfterMs` is the server's `retry-after` / `retry-after-ms` hint in
 * milliseconds, when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProviderError extends Schema.TaggedError<ProviderError>()("ProviderError", {
  reason: Schema.Literals([
    "NoProviders",
    "Unavailable",
    "Config",
    "Authentication",
    "BadRequest",
    "NotFound",
    "RateLimited",
    "Server",
    "Connection",
    "Stream",
    "Timeout"
  ]),
  message: Schema.String,
  provider: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Number),
  retryAfterMs: Schema.optional(Schema.Number),
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * The reasons {@link streamWithRetry} retries (while nothing was emitted).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: ProviderError): boolean =>
  error.reason === "RateLimited" || error.reason === "Server" || error.reason === "Connection" ||
  error.reason === "Stream" || error.reason === "Timeout"

/**
 * Which SDK and wire protocol a provider speaks: OpenAI Chat Completions
 * (`openai`, also every OpenAI-compatible provider), Anthropic Messages
 * (`anthropic`), or none of its own (`embedded`: a provider implemented in
 * code, such as a scripted provider or an Effect AI `LanguageModel`; its
 * `baseUrl` is empty).
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "openai" | "anthropic" | "embedded"

/**
 * Where a provider's registration came from: `builtin` (`openai`,
 * `anthropic`), `preset` (an OpenAI-compatible preset), `custom`
 * (`providers.json`) or `embedded` (given in code, e.g. a scripted provider).
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "builtin" | "preset" | "custom" | "embedded"

/**
 * How far a providers file is trusted (see `services/ProviderRegistry.ts`):
 * - `user`: the user's own `<user config dir>/providers.json`;
 * - `outside-workspace`: a data dir file outside the workspace (neither under
 *   the git root nor under the current directory);
 * - `trusted`: inside the workspace, and trusted by the user with
 *   `codetether config trust` (this exact content);
 * - `untrusted`: inside the workspace and not trusted: no provider of it may
 *   read a key variable or replace a built-in provider.
 *
 * @since 0.1.0
 * @category models
 */
export type Trust = "user" | "outside-workspace" | "trusted" | "untrusted"

/**
 * The providers file a custom provider came from, and how far it is trusted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Origin {
  readonly path: string
  readonly trust: Trust
}

/**
 * A registered provider (4.5.7 `Provider`, streaming only).
 *
 * `stream(request)` calls the model and emits {@link StreamEvent}s ending with
 * one `Finish`; it fails with a {@link ProviderError}. Interrupting the stream
 * aborts the HTTP request. Transient failures are retried per
 * {@link RetryPolicy} before any event is emitted, never after.
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  /** Registry key, e.g. `"openai"`, `"openrouter"`, `"my-local"`. */
  readonly name: string
  /** Which SDK / wire protocol. */
  readonly kind: Kind
  /** The API base URL requests go to (empty for an `embedded` provider). */
  readonly baseUrl: string
  /** Model used when the selector names this provider but no model. */
  readonly defaultModel: string
  /** The environment variable the API key came from (a name, never the key). */
  readonly keyVariable?: string | undefined
  /** Where the registration came from. */
  readonly source?: Source | undefined
  /** For a `custom` provider: its providers file and how far that file is trusted. */
  readonly origin?: Origin | undefined
  /**
   * `false` for a model served without native tool calling (the `ollama`
   * preset, a custom provider with `"native_tools": false`): the loop sends
   * no `tools` parameter, describes the tools in the system prompt and reads
   * `<tool_call>` markup (4.5.7's non-native providers). Default `true`.
   */
  readonly nativeTools?: boolean | undefined
  /**
   * Chosen for a selector that does not name it only when no other usable
   * provider is registered (the `ollama` preset: a bare model name never goes
   * to a local server while a configured provider exists).
   */
  readonly lastResort?: boolean | undefined
  /** Streams one completion. */
  readonly stream: (request: CompletionRequest) => Stream.Stream<StreamEvent, ProviderError>
}

/**
 * What an SDK seam needs to build a provider: its name, base URL, default
 * model, the API key (absent for keyless local servers; a keyless client
 * sends no `Authorization` header) and, for display, the key's variable.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderConfig {
  readonly name: string
  readonly baseUrl: string
  readonly defaultModel: string
  readonly apiKey: Redacted.Redacted<string> | undefined
  readonly keyVariable?: string | undefined
  readonly source?: Source | undefined
  readonly origin?: Origin | undefined
  readonly nativeTools?: boolean | undefined
  readonly lastResort?: boolean | undefined
}

/**
 * Retry settings of provider calls: at most `maxAttempts` attempts in total;
 * the n-th retry waits `baseDelayMs * 2^(n-1)` (jittered ±20%, capped at
 * `maxDelayMs`) unless the server sent `retry-after` / `retry-after-ms`, which
 * is honoured as given; a hint longer than `maxDelayMs` is not waited for: the
 * error is returned at once. All durations in milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

/**
 * The retry policy in effect (default: 4 attempts, 500 ms base, 30 s cap).
 * Provide another value to change it, e.g. a 1 ms base delay in tests:
 * `Effect.provideService(RetryPolicy, { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5_000 })`.
 *
 * @since 0.1.0
 * @category references
 */
export const RetryPolicy = Context.Reference<RetryPolicy>("codetether/ProviderRetryPolicy", {
  defaultValue: () => ({ maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 })
})

/**
 * Time limits of one model call (attempt), in milliseconds:
 * - `connectMs`: the response headers must arrive within this time after the
 *   request is sent (default 60,000; `CODETETHER_CONNECT_TIMEOUT_MS`);
 * - `idleMs`: the response stream must deliver a content event (text,
 *   thinking, a tool call, usage) at least this often; SSE comments, pings and
 *   empty chunks do not count (default 600,000;
 *   `CODETETHER_STREAM_IDLE_TIMEOUT_MS`).
 *
 * Either one failing is a `Timeout` {@link ProviderError}, retried per
 * {@link RetryPolicy} while nothing was emitted. 4.5.7 had neither: a server
 * that only sent keep-alive comments kept a prompt waiting forever.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamTimeouts {
  readonly connectMs: number
  readonly idleMs: number
}

/**
 * Default of {@link StreamTimeouts} `connectMs` (ms).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 60_000

/**
 * Default of {@link StreamTimeouts} `idleMs` (ms).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000

/**
 * The stream timeouts in effect (default: 60 s to connect, 10 min idle).
 * `layerStreamTimeoutsConfig` sets them from the environment; tests and
 * embedders provide another value, e.g.
 * `Effect.provideService(StreamTimeouts, { connectMs: 500, idleMs: 500 })`.
 *
 * @since 0.1.0
 * @category references
 */
export const StreamTimeouts = Context.Reference<StreamTimeouts>("codetether/ProviderStreamTimeouts", {
  defaultValue: () => ({ connectMs: DEFAULT_CONNECT_TIMEOUT_MS, idleMs: DEFAULT_IDLE_TIMEOUT_MS })
})

/** The longest delay a Node timer accepts (ms); longer settings are lowered to it. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The per-request timeout given to the SDKs: their own timer is pushed out of
 * the way, since {@link streamWithRetry} enforces {@link StreamTimeouts} (ms).
 *
 * @since 0.1.0
 * @category constants
 */
export const SDK_TIMEOUT_MS = MAX_TIMER_MS

const timeoutVariable = (name: string, fallback: number) =>
  Effect.gen(function*() {
    const raw = yield* Config.option(Config.String(name))
    if (Option.isNone(raw) || raw.value.trim().length === 0) return fallback
    const text = raw.value.trim()
    const value = /^\+?\d+$/.test(text) ? Number(text) : Number.NaN
    if (Number.isSafeInteger(value) && value > 0) return Math.min(value, MAX_TIMER_MS)
    yield* Effect.logWarning(`Ignoring ${name}=${JSON.stringify(raw.value)}: not a positive integer of milliseconds`)
    return fallback
  })

/**
 * {@link StreamTimeouts} from `CODETETHER_CONNECT_TIMEOUT_MS` and
 * `CODETETHER_STREAM_IDLE_TIMEOUT_MS` (read through `Config`; positive
 * integers of milliseconds; unset or blank gives the default; any other value
 * is ignored with a warning). Fails with a `ConfigError` when a variable
 * cannot be read.
 *
 * @since 0.1.0
 * @category config
 */
export const streamTimeoutsFromConfig: Effect.Effect<StreamTimeouts, Config.ConfigError> = Effect.gen(function*() {
  return {
    connectMs: yield* timeoutVariable("CODETETHER_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT_MS),
    idleMs: yield* timeoutVariable("CODETETHER_STREAM_IDLE_TIMEOUT_MS", DEFAULT_IDLE_TIMEOUT_MS)
  }
})

/**
 * Provides {@link StreamTimeouts} from the environment
 * ({@link streamTimeoutsFromConfig}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStreamTimeoutsConfig: Layer.Layer<never, Config.ConfigError> = Layer.effect(
  StreamTimeouts,
  streamTimeoutsFromConfig
)

/**
 * Parses the server's retry hint into milliseconds: `retry-after-ms`
 * (milliseconds) first, else `retry-after` as seconds (may be fractional) or
 * an HTTP date (relative to `now`, epoch ms). `undefined` when absent or
 * unparsable; never negative.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRetryAfter = (
  get: (name: string) => string | null | undefined,
  now: number
): number | undefined => {
  const ms = get("retry-after-ms")?.trim()
  if (ms !== undefined && ms !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms))
  const value = get("retry-after")?.trim()
  if (value === undefined || value === "") return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000
  if (!/[a-z]/i.test(value)) return undefined
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * Replaces every occurrence of the secret (and of `Bearer <secret>`) in a
 * text with `[redacted]`.
 *
 * @since 0.1.0
 * @category utils
 */
export const redact = (text: string, secret: string | undefined): string =>
  secret === undefined || secret.length < 4 ? text : text.split(secret).join("[redacted]")

const record = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

const str = (u: unknown): string | undefined => (typeof u === "string" && u.length > 0 ? u : undefined)

/** The API's own error text inside an SDK error body (OpenAI and Anthropic shapes). */
const apiMessage = (body: unknown): string | undefined => {
  const b = record(body)
  if (b === undefined) return typeof body === "string" && body.length > 0 ? body : undefined
  const nested = record(b.error)
  return str(nested?.message) ?? str(b.message) ?? (typeof b.error === "string" ? b.error : undefined)
}

const apiErrorType = (body: unknown): string | undefined => {
  const b = record(body)
  return str(record(b?.error)?.type) ?? str(b?.type) ?? str(b?.code)
}

/** Collapses whitespace and keeps at most 500 characters (an HTML error page stays readable). */
const oneLine = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat
}

const causeChain = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  for (let i = 0; i < 4 && current !== undefined && current !== null; i++) {
    const r = record(current)
    const message = str(r?.message) ?? String(current)
    const code = str(r?.code)
    const text = code !== undefined && !message.includes(code) ? `${message} (${code})` : message
    if (!parts.includes(text)) parts.push(text)
    current = r?.cause
  }
  return oneLine(parts.join(": "))
}

const reasonForStatus = (status: number): ProviderError["reason"] => {
  if (status === 401 || status === 403) return "Authentication"
  if (status === 404) return "NotFound"
  if (status === 429) return "RateLimited"
  if (status === 408 || status === 409 || status >= 500) return "Server"
  return "BadRequest"
}

/**
 * Turns whatever an SDK threw (HTTP errors, connection errors, SSE error
 * events, a broken body) into a {@link ProviderError} naming the provider,
 * with the secret removed from the message. Classification is by shape
 * (`status`, `headers`, `name`), so it works for both SDKs without importing
 * them.
 *
 * @since 0.1.0
 * @category errors
 */
export const classify = (
  provider: string,
  error: unknown,
  options: { readonly secret?: string | undefined; readonly baseUrl: string; readonly now?: number }
): ProviderError => {
  if (error instanceof ProviderError) return error
  const clean = (text: string) => redactCredentials(redact(text, options.secret))
  const refused = findRedirectRefused(error) ?? findUnexpectedResponse(error)
  if (refused !== undefined) {
    return new ProviderError({ reason: "Config", provider, message: clean(`${provider}: ${refused.message}`) })
  }
  const e = record(error)
  const name = `${str(e?.name) ?? ""} ${str(record(e?.constructor)?.name) ?? ""}`
  const status = typeof e?.status === "number" ? e.status : undefined
  if (status !== undefined) {
    const headers = record(e?.headers)
    const get = (h: string) =>
      typeof headers?.get === "function" ? (headers.get as (n: string) => string | null)(h) : undefined
    const retryAfterMs = parseRetryAfter(get, options.now ?? Date.now())
    const text = oneLine(apiMessage(e?.error) ?? str(e?.message) ?? "(no body)")
    const detail = text.startsWith(`${status}`) ? text : `${status} ${text}`
    return new ProviderError({
      reason: reasonForStatus(status),
      provider,
      status,
      message: clean(
        `${provider}: ${detail}${retryAfterMs === undefined ? "" : ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)`}`
      ),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {})
    })
  }
  if (name.includes("APIUserAbortError")) {
    return new ProviderError({ reason: "Connection", provider, message: `${provider}: request aborted` })
  }
  const sdkError = e !== undefined && "headers" in e && "error" in e
  if (name.includes("APIConnection") || (sdkError && e.headers === undefined)) {
    const timeout = name.includes("Timeout") || /timed? ?out/i.test(str(e?.message) ?? "")
    return new ProviderError({
      reason: "Connection",
      provider,
      message: clean(
        `${provider}: ${timeout ? "request timed out" : "connection failed"} (${options.baseUrl}): ${
          causeChain(e?.cause ?? error)
        }`
      ),
      cause: error
    })
  }
  if (sdkError) {
    // An SSE `error` event (status undefined): the body names its type.
    const type = apiErrorType(e?.error) ?? ""
    const reason = /overload|server|api_error|internal/i.test(type)
      ? "Server"
      : /rate/i.test(type)
      ? "RateLimited"
      : "Stream"
    const text = oneLine(apiMessage(e?.error) ?? str(e?.message) ?? "error event")
    return new ProviderError({
      reason,
      provider,
      message: clean(`${provider}: stream error${type === "" ? "" : ` (${type})`}: ${text}`)
    })
  }
  return new ProviderError({
    reason: "Stream",
    provider,
    message: clean(`${provider}: stream failed: ${causeChain(error)}`),
    cause: error
  })
}

/**
 * Turns provider chunks into {@link StreamEvent}s for one attempt. `chunk`
 * maps one SDK chunk; `end` is called when the SDK stream ends and returns the
 * closing events, or `undefined` when the stream ended without a finish.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decoder<Chunk> {
  readonly chunk: (chunk: Chunk) => ReadonlyArray<StreamEvent>
  readonly end: () => ReadonlyArray<StreamEvent> | undefined
}

/**
 * One SDK call: `open(signal)` sends the request and resolves to the SDK's
 * async iterable of chunks once the response headers arrived (HTTP errors
 * reject); `decoder()` makes fresh per-attempt state.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamCall<Chunk> {
  readonly provider: string
  readonly baseUrl: string
  readonly secret: string | undefined
  /**
   * Gets ready to send (e.g. imports the SDK and builds the client); runs
   * before the connect timeout starts.
   */
  readonly prepare?: (() => Promise<unknown>) | undefined
  readonly open: (signal: AbortSignal) => Promise<AsyncIterable<Chunk>>
  readonly decoder: () => Decoder<Chunk>
}

const retrySchedule = (policy: RetryPolicy, emitted: () => boolean) =>
  Schedule.exponential(Duration.millis(policy.baseDelayMs)).pipe(
    Schedule.jittered,
    Schedule.setInputType<ProviderError>(),
    Schedule.while(({ attempt, input }) =>
      attempt < policy.maxAttempts && isRetryable(input) && !emitted() &&
      (input.retryAfterMs === undefined || input.retryAfterMs <= policy.maxDelayMs)
    ),
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.succeed(
        input.retryAfterMs !== undefined
          ? Duration.millis(input.retryAfterMs)
          : Duration.min(duration, Duration.millis(policy.maxDelayMs))
      )
    )
  )

/**
 * The Effect `Stream` of one SDK call, with:
 * - abort on interruption: each attempt opens the request with the signal of
 *   an `AbortController` that a scope finalizer aborts, so interrupting (or
 *   ending early) aborts the HTTP request;
 * - the {@link StreamTimeouts}: response headers within `connectMs` of
 *   sending, then a content event at least every `idleMs` (SSE comments,
 *   pings and chunks that decode to no event do not count); either failing
 *   is a `Timeout` error and aborts the request;
 * - retries per {@link RetryPolicy} of `RateLimited`, `Server`, `Connection`,
 *   `Stream` and `Timeout` failures, only while no event has been emitted
 *   (partial output is never duplicated); 401/403/400/404 fail at once;
 * - a `Stream` error when the SDK stream ends without a finish.
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamWithRetry = <Chunk>(call: StreamCall<Chunk>): Stream.Stream<StreamEvent, ProviderError> =>
  Stream.unwrap(Effect.gen(function*() {
    const policy = yield* RetryPolicy
    const timeouts = yield* StreamTimeouts
    let emitted = false
    const toError = (error: unknown) => classify(call.provider, error, { secret: call.secret, baseUrl: call.baseUrl })
    const attempt = Stream.unwrap(Effect.gen(function*() {
      const controller = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (c) => Effect.sync(() => c.abort())
      )
      if (call.prepare !== undefined) {
        const prepare = call.prepare
        yield* Effect.tryPromise({ try: () => prepare(), catch: toError })
      }
      const iterable = yield* Effect.tryPromise({ try: () => call.open(controller.signal), catch: toError }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(timeouts.connectMs),
          orElse: () =>
            Effect.fail(
              new ProviderError({
                reason: "Timeout",
                provider: call.provider,
                message: `${call.provider}: no response from ${call.baseUrl} within ${timeouts.connectMs} ms ` +
                  "(connect timeout, CODETETHER_CONNECT_TIMEOUT_MS)"
              })
            )
        })
      )
      const decoder = call.decoder()
      const closing = Stream.suspend(() => {
        const tail = decoder.end()
        return tail === undefined
          ? Stream.fail(
            new ProviderError({
              reason: "Stream",
              provider: call.provider,
              message: `${call.provider}: the response stream ended before the model finished`
            })
          )
          : Stream.fromIterable(tail)
      })
      return Stream.fromAsyncIterable(iterable, toError).pipe(
        Stream.map(decoder.chunk),
        Stream.flattenIterable,
        // each pull waits for the next content event: keep-alives decode to none
        Stream.timeoutOrElse({
          duration: Duration.millis(timeouts.idleMs),
          orElse: () =>
            Stream.fail(
              new ProviderError({
                reason: "Timeout",
                provider: call.provider,
                message: `${call.provider}: the response stream sent no content for ${timeouts.idleMs} ms ` +
                  "(idle timeout, CODETETHER_STREAM_IDLE_TIMEOUT_MS)"
              })
            )
        }),
        Stream.concat(closing)
      )
    }))
    return attempt.pipe(
      Stream.map((event) => {
        emitted = true
        return event
      }),
      Stream.retry(retrySchedule(policy, () => emitted))
    )
  }))

/**
 * The provider SDKs codetether loads on first use, with the versions it
 * supports: optional peer dependencies of the library, installed by the app
 * that uses such a provider (the `codetether` CLI bundles both).
 *
 * @since 0.1.0
 * @category constants
 */
export const SDK_PACKAGES = {
  openai: { package: "openai", range: "^7.57.0" },
  anthropic: { package: "@anthropic-ai/sdk", range: "^1.12.0" }
} as const

/** Whether `cause` says that `sdk` itself (not one of its own imports) could not be found. */
const isMissingPackage = (cause: unknown, sdk: string): boolean => {
  const r = record(cause)
  const code = str(r?.code)
  const message = str(r?.message) ?? ""
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    (message.includes(`'${sdk}'`) || message.includes(`"${sdk}"`))
}

/**
 * The rejection handler of an SDK's dynamic `import()`: an `Unavailable`
 * {@link ProviderError} naming the provider; when the package is not
 * installed, the message names the package to install, e.g. `local: the
 * "openai" package is not installed: install it next to codetether (npm
 * install openai@^7.57.0)`. Put it on the `import()` itself
 * (`import("openai").then(use, importFailed(...))`): bundlers such as esbuild
 * then leave an SDK the app did not install to run time instead of failing
 * the app's build.
 *
 * @since 0.1.0
 * @category errors
 */
export const importFailed = (provider: string, sdk: keyof typeof SDK_PACKAGES) => (cause: unknown): never => {
  const { package: name, range } = SDK_PACKAGES[sdk]
  throw new ProviderError({
    reason: "Unavailable",
    provider,
    message: isMissingPackage(cause, name)
      ? `${provider}: the "${name}" package is not installed: install it next to codetether (npm install ${name}@${range})`
      : `${provider}: could not load the ${name} SDK: ${String(cause)}`,
    cause
  })
}

/**
 * A client created on first use by `load` (which imports the SDK, see
 * {@link importFailed}, and builds the client) and reused; a failure is an
 * `Unavailable` {@link ProviderError} naming the provider and the SDK (the
 * one `load` rejected with, when it is one), and `load` runs again on the
 * next call.
 *
 * @since 0.1.0
 * @category constructors
 */
export const lazyClient = <C>(provider: string, sdk: string, load: () => Promise<C>): () => Promise<C> => {
  let client: Promise<C> | undefined
  return () =>
    client ??= load().catch((cause: unknown) => {
      client = undefined
      throw cause instanceof ProviderError ? cause : new ProviderError({
        reason: "Unavailable",
        provider,
        message: `${provider}: could not load the ${sdk} SDK: ${String(cause)}`,
        cause
      })
    })
}

/**
 * The first of the environment variables `names` (read through `Config`, in
 * order) that holds a non-blank value: its name and the value, trimmed;
 * `None` when none does. Fails with a `ConfigError` when a variable cannot be
 * read.
 *
 * @since 0.1.0
 * @category config
 */
export const firstSecret = Effect.fnUntraced(function*(names: ReadonlyArray<string>) {
  for (const name of names) {
    const value = yield* Config.option(Config.Redacted(name))
    if (Option.isSome(value)) {
      const trimmed = Redacted.value(value.value).trim()
      if (trimmed.length > 0) return Option.some({ name, key: Redacted.make(trimmed) })
    }
  }
  return Option.none<{ readonly name: string; readonly key: Redacted.Redacted<string> }>()
})

/**
 * A token count from a provider's usage payload: a finite number, rounded,
 * at least 0; `undefined` for anything else (absent, null, a string).
 *
 * @since 0.1.0
 * @category usage
 */
export const tokenCount = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isFinite(u) ? Math.max(0, Math.round(u)) : undefined

/**
 * How a file part is sent to a model that cannot read files: the text
 * `[file: <path> (<mime type>)]` (the type omitted when unknown).
 *
 * @since 0.1.0
 * @category requests
 */
export const fileReference = (part: FilePart): string =>
  `[file: ${part.path}${part.mimeType === null ? "" : ` (${part.mimeType})`}]`
