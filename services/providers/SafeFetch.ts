/**
 * The `fetch` both provider SDKs are given, and the redaction of credentials
 * written into URLs.
 *
 * Redirects: a provider request is sent with `redirect: "manual"`. A redirect
 * to the same origin (scheme, host and port) is followed, at most
 * {@link MAX_REDIRECTS} times, as `fetch` would (303, and 301/302 after a
 * POST, become a GET without body); a redirect to another origin is never
 * followed: the request fails with {@link RedirectRefused} naming both URLs,
 * and the other origin receives nothing (neither the transcript nor the
 * `Authorization` header). A switch from `http` to `https` on the same host is
 * another origin too. codetether-agent 4.5.7 followed redirects with
 * reqwest's default policy, to any origin.
 *
 * Credentials in a base URL (`http://user:pw@host/v1`): `fetch` refuses such
 * a URL (and its error message would print the password). They are taken out
 * of the URL and sent as `Authorization: Basic`, as curl does, unless the
 * request already carries an `Authorization` header (a provider with an API
 * key); they are never printed: see {@link redactCredentials}.
 *
 * Streams: a request whose JSON body asks for a stream (`"stream":true`) must
 * be answered with `text/event-stream`. A successful answer of another type
 * (a JSON completion from a server that ignores `stream`, an HTML page from a
 * wrong base URL or a proxy's login page) fails with
 * {@link UnexpectedResponse} naming the type and the first bytes, instead of
 * reaching the SDK's event parser, which would report a stream that "ended
 * before the model finished".
 *
 * @since 0.1.0
 */

/**
 * Most same-origin redirects followed for one request.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_REDIRECTS = 5

/**
 * A provider request stopped at a redirect: `from` is the URL requested, `to`
 * the `Location` the server answered with (both without credentials); `why`
 * is `origin` (another origin), `limit` (more than {@link MAX_REDIRECTS}
 * same-origin redirects) or `body` (a streamed body cannot be sent again).
 *
 * @since 0.1.0
 * @category errors
 */
export class RedirectRefused extends Error {
  readonly from: string
  readonly to: string
  readonly why: "origin" | "limit" | "body"
  constructor(from: string, to: string, why: RedirectRefused["why"] = "origin") {
    super(
      why === "origin"
        ? `the server redirected the request from ${from} to ${to}; redirects to another origin are not followed`
        : why === "limit"
        ? `the server redirected the request more than ${MAX_REDIRECTS} times (last from ${from} to ${to})`
        : `the server redirected the request from ${from} to ${to}, and its streamed body cannot be sent again`
    )
    this.name = "RedirectRefused"
    this.from = from
    this.to = to
    this.why = why
  }
}

/**
 * A request that asked for a stream got a successful response that is not an
 * event stream: `contentType` as sent (`"(none)"` when absent) and the first
 * bytes of the body (at most {@link PREVIEW_BYTES}, whitespace collapsed).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Error {
  readonly url: string
  readonly status: number
  readonly contentType: string
  readonly preview: string
  constructor(url: string, status: number, contentType: string, preview: string) {
    super(
      `the server answered ${url} with HTTP ${status} and content-type ${contentType} instead of an event stream ` +
        `(text/event-stream); the response starts with: ${preview === "" ? "(empty body)" : preview}`
    )
    this.name = "UnexpectedResponse"
    this.url = url
    this.status = status
    this.contentType = contentType
    this.preview = preview
  }
}

/**
 * How much of an unexpected response body {@link UnexpectedResponse} quotes (bytes).
 *
 * @since 0.1.0
 * @category constants
 */
export const PREVIEW_BYTES = 200

const wantsStream = (body: unknown): boolean => typeof body === "string" && /"stream"\s*:\s*true/.test(body)

/** The first {@link PREVIEW_BYTES} bytes of a body, as one line; the rest is not read. */
const preview = async (response: Response): Promise<string> => {
  const reader = response.body?.getReader()
  if (reader === undefined) return ""
  const chunks: Array<Uint8Array> = []
  let size = 0
  try {
    while (size < PREVIEW_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  const text = Buffer.concat(chunks).subarray(0, PREVIEW_BYTES).toString("utf8").replace(/\uFFFD$/, "")
  return `${text.replace(/\s+/g, " ").trim()}${size > PREVIEW_BYTES ? "…" : ""}`
}

/**
 * `text` with the user information of every URL in it (`scheme://user:pw@`)
 * replaced by `<redacted>`: `http://<redacted>@host/v1`.
 *
 * @since 0.1.0
 * @category redaction
 */
export const redactCredentials = (text: string): string =>
  text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi, "$1<redacted>@")

/**
 * A URL with its password replaced by `<redacted>` (the user name kept), for
 * showing a setting such as `database_url`: `postgres://app:<redacted>@db/x`.
 * Text that is not a URL is passed through {@link redactCredentials}.
 *
 * @since 0.1.0
 * @category redaction
 */
export const redactPassword = (url: string): string => {
  if (!URL.canParse(url)) return redactCredentials(url)
  const parsed = new URL(url)
  if (parsed.password === "") return url
  const user = parsed.username
  parsed.username = ""
  parsed.password = ""
  const plain = parsed.toString()
  const at = plain.indexOf("//")
  return at === -1
    ? redactCredentials(url)
    : `${plain.slice(0, at + 2)}${user}:<redacted>@${plain.slice(at + 2)}`
}

const shown = (url: URL): string => {
  if (url.username === "" && url.password === "") return url.toString()
  const copy = new URL(url)
  copy.username = ""
  copy.password = ""
  return copy.toString()
}

const isRedirect = (status: number): boolean =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308

const resendable = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === "string" || body instanceof ArrayBuffer ||
  ArrayBuffer.isView(body) || body instanceof URLSearchParams || body instanceof Blob || body instanceof FormData

/**
 * A `fetch` with the redirect and credential rules of the module docs, over
 * `base` (default: the global `fetch`). Pass it as the SDKs' `fetch` option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (base: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch =>
  (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : undefined
    let url = new URL(request !== undefined ? request.url : input.toString())
    const headers = new Headers(init?.headers ?? request?.headers)
    let method = (init?.method ?? request?.method ?? "GET").toUpperCase()
    let body: RequestInit["body"] = init?.body ?? request?.body
    if (url.username !== "" || url.password !== "") {
      if (!headers.has("authorization")) {
        const user = decodeURIComponent(url.username)
        const password = decodeURIComponent(url.password)
        headers.set("authorization", `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`)
      }
      url = new URL(shown(url))
    }
    for (let hops = 0;; hops++) {
      const response = await base(url, {
        ...init,
        method,
        headers,
        body,
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
        signal: init?.signal ?? request?.signal ?? null,
        redirect: "manual"
      } as RequestInit)
      const location = isRedirect(response.status) ? response.headers.get("location") : null
      if (location === null) {
        const contentType = response.headers.get("content-type")
        if (response.ok && wantsStream(body) && !(contentType ?? "").toLowerCase().includes("text/event-stream")) {
          throw new UnexpectedResponse(shown(url), response.status, contentType ?? "(none)", await preview(response))
        }
        return response
      }
      await response.body?.cancel().catch(() => undefined)
      const next = new URL(location, url)
      if (next.origin !== url.origin) throw new RedirectRefused(shown(url), shown(next))
      if (hops >= MAX_REDIRECTS) throw new RedirectRefused(shown(url), shown(next), "limit")
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        if (method !== "HEAD") method = "GET"
        body = undefined
        headers.delete("content-type")
        headers.delete("content-length")
      } else if (!resendable(body)) {
        throw new RedirectRefused(shown(url), shown(next), "body")
      }
      next.username = ""
      next.password = ""
      url = next
    }
  }) as typeof globalThis.fetch

const findInCauses = <E>(error: unknown, type: new(...args: Array<any>) => E): E | undefined => {
  let current: unknown = error
  for (let i = 0; i < 5 && typeof current === "object" && current !== null; i++) {
    if (current instanceof type) return current
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

/**
 * The {@link RedirectRefused} in `error` or its `cause` chain (SDKs wrap what
 * `fetch` threw in a connection error), or `undefined`.
 *
 * @since 0.1.0
 * @category errors
 */
export const findRedirectRefused = (error: unknown): RedirectRefused | undefined => findInCauses(error, RedirectRefused)

/**
 * The {@link UnexpectedResponse} in `error` or its `cause` chain, or `undefined`.
 *
 * @since 0.1.0
 * @category errors
 */
export const findUnexpectedResponse = (error: unknown): UnexpectedResponse | undefined =>
  findInCauses(error, UnexpectedResponse)
