/**
 * Finding the sessions and messages where something was said (a codetether
 * addition): `search({ query })` streams hits (session id, message index,
 * role, a snippet around the match), newest session first; take as many as
 * you need and the search stops there.
 *
 * What matches: the text of a message's text and thinking parts, its tool
 * calls (name and raw JSON arguments), tool results and file paths; never
 * image data. One hit per matching message (the first match in it). A query
 * is plain text, matched case-sensitively, or with `regex: true` an RE2
 * regular expression (`re2js`: linear-time matching, so no pattern can hang
 * the search; `(?i)` makes it case-insensitive; no backreferences or
 * lookarounds).
 *
 * Two implementations of one contract:
 * - {@link layerFileSystem}: streams each session file of the data dir
 *   through the structural byte scanner (`internal/Structural.ts`), never
 *   building a transcript: a plain-text query is first looked for as bytes
 *   (the query JSON-escaped as 4.5.7 and codetether write strings), and only
 *   a file that contains them is scanned message by message; only the
 *   messages containing those bytes are parsed and checked. Files are taken
 *   newest modification time first (a save rewrites the file, so this is the
 *   order of last activity). A message larger than `maxMessageBytes`
 *   (default 64 MiB) is never parsed: it is searched as raw JSON bytes and
 *   its snippet taken from them. Files of any size work (memory stays at two
 *   2 MiB buffers plus the messages parsed).
 * - {@link layerStore}: any `SessionStore` (memory, PostgreSQL, ...):
 *   newest `updated_at` first, loading one session at a time.
 *
 * Files that are not sessions (corrupt, a copy holding another id, a FIFO,
 * a symlink leaving the data dir) are skipped with a warning.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as NodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Message_ from "../schemas/Message.ts"
import type { Message, Role } from "../schemas/Message.ts"
import { escapeStringContent } from "../schemas/RustJson.ts"
import * as WorkspaceIndex from "../schemas/WorkspaceIndex.ts"
import * as DataDir from "./DataDir.ts"
import { canonicalize, extensionOf } from "./internal/Paths.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as SessionFile from "./internal/SessionFile.ts"
import * as Structural from "./internal/Structural.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * One matching message: its session, its index in the session's messages,
 * its role and a one-line snippet of the text around the first match (at
 * most ~160 characters, `…` where cut).
 *
 * @since 0.1.0
 * @category models
 */
export interface Hit {
  readonly sessionId: string
  readonly messageIndex: number
  readonly role: Role
  readonly snippet: string
  /** The session's title (`null` when it has none or it is not known). */
  readonly title: string | null
}

/**
 * The JSON form of a hit (`sessions search --json`):
 * `{session_id, message_index, role, snippet}`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (hit: Hit) => ({
  session_id: hit.sessionId,
  message_index: hit.messageIndex,
  role: hit.role,
  snippet: hit.snippet
})

/**
 * A search: `query` (plain text, or an RE2 pattern when `regex`), and
 * `directory` to search only the sessions of that workspace (compared as
 * `sessions list` does; default: every session).
 *
 * @since 0.1.0
 * @category models
 */
export interface Query {
  readonly query: string
  readonly regex?: boolean | undefined
  readonly directory?: string | undefined
}

/**
 * Why a search could not run: `InvalidQuery` (an empty query, or a pattern
 * RE2 does not accept: `message` says why) or `Io` (the sessions directory
 * cannot be listed).
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionSearchError extends Schema.TaggedError<SessionSearchError>()("SessionSearchError", {
  reason: Schema.Literals(["InvalidQuery", "Io"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * @since 0.1.0
 * @category services
 */
export class SessionSearch extends Context.Service<SessionSearch, {
  /**
   * The hits of `query`, newest session first, in message order within a
   * session, produced as the search goes: `Stream.take(n)` stops it after n
   * hits. Fails with {@link SessionSearchError} or the store's
   * `SessionStoreError` (the listing failed).
   */
  readonly search: (query: Query) => Stream.Stream<Hit, SessionSearchError | SessionStore.SessionStoreError>
}>()("codetether/SessionSearch") {}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

/**
 * A compiled query: `needle` (the bytes a plain-text query has in a session
 * file, for the byte prefilter; `undefined` for a pattern) and `find` (the
 * first match in a text, as UTF-16 offsets).
 *
 * @since 0.1.0
 * @category matching
 */
export interface Matcher {
  readonly needle: Buffer | undefined
  readonly find: (text: string) => readonly [start: number, end: number] | undefined
}

/**
 * Compiles a {@link Query}. Fails with `InvalidQuery`.
 *
 * @since 0.1.0
 * @category matching
 */
export const compile = (query: Query): Effect.Effect<Matcher, SessionSearchError> =>
  Effect.gen(function*() {
    if (query.query.length === 0) {
      return yield* new SessionSearchError({ reason: "InvalidQuery", message: "the search query is empty" })
    }
    if (query.regex !== true) {
      const text = query.query
      return {
        needle: Buffer.from(escapeStringContent(text)),
        find: (haystack: string) => {
          const at = haystack.indexOf(text)
          return at === -1 ? undefined : [at, at + text.length] as const
        }
      }
    }
    // re2js: linear-time matching (loaded when a pattern is used)
    const { RE2JS } = yield* Effect.promise(() => import("re2js"))
    const pattern = yield* Effect.try({
      try: () => RE2JS.compile(query.query),
      catch: (e) =>
        new SessionSearchError({
          reason: "InvalidQuery",
          message: `invalid regular expression ${JSON.stringify(query.query)}: ${(e as Error).message}`,
          cause: e
        })
    })
    return {
      needle: undefined,
      find: (haystack: string) => {
        const m = pattern.matcher(haystack)
        return m.find() ? [m.start(), m.end()] as const : undefined
      }
    }
  })

const SNIPPET_CONTEXT = 60
const SNIPPET_MATCH = 120

/**
 * A one-line snippet of `text` around the match `[start, end)` (UTF-16
 * offsets): up to 60 characters on each side and 120 of the match,
 * whitespace runs collapsed to one space, `…` where the text was cut; never
 * splits a surrogate pair.
 *
 * @since 0.1.0
 * @category matching
 */
export const snippet = (text: string, start: number, end: number): string => {
  const matchEnd = Math.min(end, start + SNIPPET_MATCH)
  let from = Math.max(0, start - SNIPPET_CONTEXT)
  let to = Math.min(text.length, matchEnd + SNIPPET_CONTEXT)
  // never split a surrogate pair
  if (from > 0 && (text.charCodeAt(from) & 0xfc00) === 0xdc00) from--
  if (to < text.length && (text.charCodeAt(to - 1) & 0xfc00) === 0xd800) to++
  const body = text.slice(from, to).replace(/\s+/g, " ")
  return `${from > 0 ? "…" : ""}${from > 0 ? body.trimStart() : body}${to < text.length ? "…" : ""}`
}

/** The searchable texts of a message, in order. */
const textsOf = (message: Message): Array<string> => {
  const texts: Array<string> = []
  for (const part of message.content) {
    switch (part.type) {
      case "text":
      case "thinking":
        texts.push(part.text)
        break
      case "tool_call":
        texts.push(part.name, part.arguments)
        break
      case "tool_result":
        texts.push(part.content)
        break
      case "file":
        texts.push(part.path)
        break
      case "image":
        break
    }
  }
  return texts
}

/**
 * The snippet of the first match of `matcher` in `message`, or `undefined`.
 *
 * @since 0.1.0
 * @category matching
 */
export const matchMessage = (message: Message, matcher: Matcher): string | undefined => {
  for (const text of textsOf(message)) {
    const found = matcher.find(text)
    if (found !== undefined) return snippet(text, found[0], found[1])
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Any store
// ---------------------------------------------------------------------------

/**
 * The search over any store: the store's listing (`list`, or
 * `listForDirectory`), newest `updated_at` first, each session loaded whole
 * in turn. A session that fails to load (deleted meanwhile, corrupt) is
 * skipped with a warning.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStore = (store: SessionStore.SessionStore["Service"]): SessionSearch["Service"] =>
  SessionSearch.of({
    search: (query) =>
      Stream.unwrap(Effect.gen(function*() {
        const matcher = yield* compile(query)
        const summaries = query.directory === undefined ? yield* store.list : yield* store.listForDirectory(query.directory)
        return Stream.fromIterable(summaries).pipe(
          Stream.mapEffect((summary) =>
            store.load(summary.id).pipe(
              Effect.map(Option.some),
              Effect.catch((e) => Effect.as(Effect.logWarning(`search: skipping session ${summary.id}: ${e.message}`), Option.none()))
            )
          ),
          Stream.flatMap((loaded) => {
            if (Option.isNone(loaded)) return Stream.empty
            const session = loaded.value
            const hits: Array<Hit> = []
            session.messages.forEach((message, messageIndex) => {
              const found = matchMessage(message, matcher)
              if (found !== undefined) {
                hits.push({ sessionId: session.id, messageIndex, role: message.role, snippet: found, title: session.title })
              }
            })
            return Stream.fromIterable(hits)
          })
        )
      }))
  })

/**
 * The search over the `SessionStore` of the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: Layer.Layer<SessionSearch, never, SessionStore.SessionStore> = Layer.effect(
  SessionSearch,
  Effect.gen(function*() {
    return makeStore(yield* SessionStore.SessionStore)
  })
)

// ---------------------------------------------------------------------------
// Session files, streamed
// ---------------------------------------------------------------------------

/**
 * Options of {@link makeFileSystem}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileSystemOptions {
  /** Messages larger than this (bytes) are searched as raw bytes, never parsed (default 64 MiB). */
  readonly maxMessageBytes?: number | undefined
}

/**
 * Default of {@link FileSystemOptions.maxMessageBytes}: 64 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * SafeFs.MiB

type Item =
  | { readonly _tag: "Hit"; readonly hit: Hit }
  | { readonly _tag: "Warning"; readonly message: string }

const utf8 = new TextDecoder("utf-8", { fatal: true })
const lossy = new TextDecoder("utf-8")
const decodeMessage = Schema.decodeUnknownOption(Message_.Message)
const ROLE = /"role"\s*:\s*"(system|user|assistant|tool)"/

/** Does the file contain `needle`? Streams it through `buffer` (4.5.7's byte prefilter). */
const containsBytes = async (handle: FileHandle, buffer: Buffer, needle: Buffer, from = 0, to = Number.POSITIVE_INFINITY) => {
  const overlap = needle.length - 1
  let carried = 0
  let position = from
  for (;;) {
    const want = Math.min(buffer.length - carried, to - position)
    if (want <= 0) return -1
    const { bytesRead } = await handle.read(buffer, carried, want, position)
    if (bytesRead === 0) return -1
    const filled = carried + bytesRead
    const at = buffer.subarray(0, filled).indexOf(needle)
    if (at !== -1) return position - carried + at
    position += bytesRead
    carried = Math.min(overlap, filled)
    buffer.copy(buffer, 0, filled - carried, filled)
  }
}

const readRange = async (handle: FileHandle, start: number, end: number): Promise<Buffer> => {
  const out = Buffer.allocUnsafe(end - start)
  const n = await Structural.readFully(handle, out, out.length, start)
  return n === out.length ? out : out.subarray(0, n)
}

/** JSON string escapes turned back into characters, for snippets cut from raw JSON (best effort). */
const unescapeRaw = (raw: string): string =>
  raw.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    switch (e[0]) {
      case "n":
        return "\n"
      case "t":
        return "\t"
      case "r":
        return "\r"
      case "u":
        return String.fromCharCode(Number.parseInt(e.slice(1), 16))
      default:
        return e
    }
  })

interface FileContext {
  readonly path: string
  readonly id: string
  readonly matcher: Matcher
  readonly maxMessageBytes: number
  /** A 2 MiB buffer of this search (prefilter and large-message reads). */
  readonly buffer: Buffer
}

/**
 * A message too large to parse: searched as raw JSON bytes (a pattern is
 * tried on 1 MiB windows of the raw text). Returns the snippet, or undefined.
 */
const matchLargeMessage = async (
  handle: FileHandle,
  ctx: FileContext,
  start: number,
  end: number
): Promise<{ readonly role: Role; readonly snippet: string } | undefined> => {
  const head = lossy.decode(await readRange(handle, start, Math.min(end, start + 256)))
  const role = (ROLE.exec(head)?.[1] ?? "tool") as Role
  const needle = ctx.matcher.needle
  if (needle !== undefined) {
    const at = await containsBytes(handle, ctx.buffer, needle, start, end)
    if (at === -1) return undefined
    const from = Math.max(start, at - 400)
    const to = Math.min(end, at + needle.length + 400)
    const text = unescapeRaw(lossy.decode(await readRange(handle, from, to)))
    const query = unescapeRaw(needle.toString("utf8"))
    const i = text.indexOf(query)
    return { role, snippet: i === -1 ? snippet(text, 0, 0) : snippet(text, i, i + query.length) }
  }
  const window = 1 << 20
  for (let position = start; position < end; position += window - 4096) {
    const text = unescapeRaw(lossy.decode(await readRange(handle, position, Math.min(end, position + window))))
    const found = ctx.matcher.find(text)
    if (found !== undefined) return { role, snippet: snippet(text, found[0], found[1]) }
  }
  return undefined
}

/**
 * The hits of one session file, streamed through the structural scanner.
 * Yields warnings for files that turn out not to be sessions.
 */
async function* searchFile(handle: FileHandle, ctx: FileContext): AsyncGenerator<Item> {
  const scanner = Structural.acquire()
  try {
    const pending: Array<readonly [start: number, end: number, index: number]> = []
    const roots = new Map<string, readonly [number, number]>()
    let index = 0
    let title: string | null = null
    let identified = false
    scanner.begin({
      onRootValue: (key, start, end) => {
        if (key === "id" || key === "title") roots.set(key, [start, end])
      },
      onElement: (_, start, end) => {
        pending.push([start, end, index++])
      }
    }, new Set(["messages"]))
    const root = async (key: string, chunkStart: number): Promise<unknown> => {
      const range = roots.get(key)
      if (range === undefined) return undefined
      roots.delete(key)
      const [start, end] = range
      const bytes = start >= chunkStart
        ? scanner.buffer.subarray(start - chunkStart, end - chunkStart)
        : await readRange(handle, start, end)
      return JSON.parse(utf8.decode(bytes))
    }
    for (;;) {
      const chunkStart = scanner.offset
      const n = await Structural.readFully(handle, scanner.buffer, Structural.CHUNK_BYTES, chunkStart)
      scanner.process(n)
      if (n < Structural.CHUNK_BYTES) scanner.finish()
      if (!identified && roots.has("id")) {
        const id = await root("id", chunkStart)
        if (id !== ctx.id) {
          yield {
            _tag: "Warning",
            message: `search: skipping ${ctx.path}: it holds session ${JSON.stringify(id)}, not ${JSON.stringify(ctx.id)} (a copied file?)`
          }
          return
        }
        identified = true
      }
      if (roots.has("title")) {
        const value = await root("title", chunkStart)
        title = typeof value === "string" ? value : null
      }
      for (const [start, end, messageIndex] of pending) {
        if (!identified) break // messages before the id (not a 4.5.7 layout): checked once the id is known
        let found: { readonly role: Role; readonly snippet: string } | undefined
        if (end - start > ctx.maxMessageBytes) {
          found = await matchLargeMessage(handle, ctx, start, end)
        } else {
          const bytes = start >= chunkStart
            ? scanner.buffer.subarray(start - chunkStart, end - chunkStart)
            : await readRange(handle, start, end)
          if (ctx.matcher.needle !== undefined && bytes.indexOf(ctx.matcher.needle) === -1) continue
          const message = decodeMessage(JSON.parse(utf8.decode(bytes)))
          if (Option.isNone(message)) {
            yield { _tag: "Warning", message: `search: skipping ${ctx.path}: message ${messageIndex} is not a valid message` }
            return
          }
          const text = matchMessage(message.value, ctx.matcher)
          found = text === undefined ? undefined : { role: message.value.role, snippet: text }
        }
        if (found !== undefined) {
          yield { _tag: "Hit", hit: { sessionId: ctx.id, messageIndex, role: found.role, snippet: found.snippet, title } }
        }
      }
      if (identified) pending.length = 0
      if (n < Structural.CHUNK_BYTES) break
    }
    if (!identified) yield { _tag: "Warning", message: `search: skipping ${ctx.path}: it has no session id` }
  } finally {
    Structural.release(scanner)
  }
}

/**
 * The search over the session files in `sessionsDir` (see the module docs).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (sessionsDir: string, options: FileSystemOptions = {}): SessionSearch["Service"] => {
  const dataDir = NodePath.dirname(sessionsDir)
  const follow: SafeFs.FollowPolicy = { within: dataDir }
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES

  /** Session files, newest modification time first. */
  const candidates = Effect.try({
    try: () => {
      let names: Array<string>
      try {
        names = NodeFs.readdirSync(sessionsDir)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return []
        throw e
      }
      const files: Array<{ readonly path: string; readonly mtime: bigint }> = []
      for (const name of names) {
        if (extensionOf(name) !== "json" || name === WorkspaceIndex.FILE_NAME) continue
        const path = NodePath.join(sessionsDir, name)
        const stat = NodeFs.statSync(path, { bigint: true, throwIfNoEntry: false })
        if (stat?.isFile() === true) files.push({ path, mtime: stat.mtimeNs })
      }
      return files.sort((a, b) => (a.mtime === b.mtime ? 0 : a.mtime > b.mtime ? -1 : 1)).map((f) => f.path)
    },
    catch: (e) =>
      new SessionSearchError({ reason: "Io", message: `Cannot list ${sessionsDir}: ${(e as Error).message}`, cause: e })
  })

  async function* items(paths: ReadonlyArray<string>, matcher: Matcher, directory: string | undefined): AsyncGenerator<Item> {
    const buffer = Buffer.allocUnsafe(Structural.CHUNK_BYTES)
    const workspace = directory === undefined ? undefined : canonicalize(directory)
    const canonical = new Map<string, string>()
    for (const path of paths) {
      const id = SessionFile.idOfPath(path)
      if (SessionStore.idProblem(id) !== undefined) continue
      if (workspace !== undefined) {
        const match = await SessionFile.matchHeader(path, workspace, (dir) => {
          let c = canonical.get(dir)
          if (c === undefined) canonical.set(dir, c = canonicalize(dir))
          return c
        }, { within: dataDir }).catch((e: unknown) => ({ _tag: "Error" as const, error: e }))
        if (match._tag === "NoMatch") continue
        if (match._tag !== "Match") {
          if (!(match._tag === "Error" && match.error instanceof SessionFile.FileReadError && match.error.kind === "Missing")) {
            const detail = match._tag === "Error" ? (match.error as Error).message : match.detail
            yield { _tag: "Warning", message: `search: skipping ${path}: ${detail}` }
          }
          continue
        }
      }
      let opened: { readonly handle: FileHandle; readonly stat: NodeFs.BigIntStats }
      try {
        opened = await SafeFs.openRegular(path, { follow })
      } catch (e) {
        if (!(e instanceof SafeFs.SafeFsError && e.kind === "Missing")) {
          yield { _tag: "Warning", message: `search: skipping ${path}: ${e instanceof SafeFs.SafeFsError ? e.detail : String(e)}` }
        }
        continue
      }
      const { handle, stat } = opened
      try {
        if (matcher.needle !== undefined && (await containsBytes(handle, buffer, matcher.needle, 0, Number(stat.size))) === -1) {
          continue
        }
        yield* searchFile(handle, { path, id, matcher, maxMessageBytes, buffer })
      } catch (e) {
        const detail = e instanceof Structural.JsonScanError
          ? `invalid JSON: ${e.message}`
          : e instanceof SyntaxError || e instanceof TypeError
          ? `not a valid session file: ${e.message}`
          : (e as Error).message ?? String(e)
        yield { _tag: "Warning", message: `search: skipping ${path}: ${detail}` }
      } finally {
        await handle.close().catch(() => undefined)
      }
    }
  }

  return SessionSearch.of({
    search: (query) =>
      Stream.unwrap(Effect.gen(function*() {
        const matcher = yield* compile(query)
        const paths = yield* candidates
        return Stream.fromAsyncIterable(
          items(paths, matcher, query.directory),
          (cause) => new SessionSearchError({ reason: "Io", message: `search failed: ${String(cause)}`, cause })
        ).pipe(
          Stream.filterEffect((item) =>
            item._tag === "Warning" ? Effect.as(Effect.logWarning(item.message), false) : Effect.succeed(true)
          ),
          Stream.map((item) => (item as Extract<Item, { _tag: "Hit" }>).hit)
        )
      }))
  })
}

/**
 * The streaming search over the data dir's session files (see the module
 * docs).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem: Layer.Layer<SessionSearch, never, DataDir.DataDir> = Layer.effect(
  SessionSearch,
  Effect.gen(function*() {
    return makeFileSystem((yield* DataDir.DataDir).sessionsDir)
  })
)
