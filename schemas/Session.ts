/**
 * The session file root object (`session::Session` in codetether-agent
 * 4.5.7), its header-only view, and the in-memory results built from it.
 *
 * Wire keys in 4.5.7 order: `id, title, created_at, updated_at, metadata,
 * agent, messages, tool_uses, usage`. Older files (metadata last, pretty
 * printed, four metadata keys) decode too and re-encode in this order with
 * every default filled in. Unknown keys are ignored everywhere.
 * `max_steps` and the agent bus are runtime-only and never written.
 *
 * The operations of 4.5.7's `Session` API (`new`, `add_message`, the title
 * functions, `set_agent_name`, the provenance attachments, `apply_config`)
 * are pure functions here: each takes a session and returns a new value
 * (the input itself when nothing changes), never mutating its input and
 * keeping unchanged messages shared by reference, so the save path's
 * per-message encoding cache stays warm. Operations that bump `updatedAt`
 * take the current time as an argument (`Timestamp.now` reads it from the
 * Effect `Clock`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Message, textOf } from "./Message.ts"
import * as Provenance from "./Provenance.ts"
import type { RlmConfig } from "./RlmConfig.ts"
import { defaults as metadataDefaults, SessionMetadata } from "./SessionMetadata.ts"
import { Timestamp } from "./Timestamp.ts"
import { ToolUse } from "./ToolUse.ts"
import { empty as emptyUsage, Usage } from "./Usage.ts"

/**
 * Loop step limit when `maxSteps` is not set (4.5.7 `DEFAULT_MAX_STEPS`).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_STEPS = 250

/**
 * @since 0.1.0
 * @category schemas
 */
export const Session = Schema.Struct({
  id: Schema.String,
  title: Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  metadata: SessionMetadata,
  agent: Schema.String,
  messages: Schema.Array(Message),
  toolUses: Schema.Array(ToolUse),
  usage: Usage
}).pipe(Schema.encodeKeys({
  createdAt: "created_at",
  updatedAt: "updated_at",
  toolUses: "tool_uses"
}))

/**
 * A session. Values are immutable: every operation returns a new value.
 *
 * @since 0.1.0
 * @category models
 */
export type Session = typeof Session.Type

/**
 * The wire shape of a session (snake_case keys), as `JSON.parse` yields it.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionEncoded = typeof Session.Encoded

/**
 * The header-only view of a session file (4.5.7 `SessionHeader`): `id`,
 * `title` and `metadata` with the full metadata rules (`shared` required);
 * every other key is ignored and not type-checked.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionHeader = Schema.Struct({
  id: Schema.String,
  title: Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  metadata: SessionMetadata
})

/**
 * @since 0.1.0
 * @category models
 */
export type SessionHeader = typeof SessionHeader.Type

/**
 * Result of a bounded load (4.5.7 `TailLoad`): the session with only the last
 * `window` messages and tool uses, how many elements were dropped from both
 * arrays together, and the file size in bytes (0 when it could not be stat'ed).
 *
 * @since 0.1.0
 * @category models
 */
export interface TailLoad {
  readonly session: Session
  readonly dropped: number
  readonly fileBytes: number
}

/**
 * Keeps the last `window` elements of `messages` and `toolUses` (each array
 * independently) and counts what was dropped, as 4.5.7's tail cap does.
 * `window = Infinity` keeps everything.
 *
 * @since 0.1.0
 * @category combinators
 */
export const tail = (session: Session, window: number): { readonly session: Session; readonly dropped: number } => {
  const keep = <A>(items: ReadonlyArray<A>): ReadonlyArray<A> =>
    items.length <= window ? items : window <= 0 ? [] : items.slice(items.length - window)
  const messages = keep(session.messages)
  const toolUses = keep(session.toolUses)
  const dropped = session.messages.length - messages.length + session.toolUses.length - toolUses.length
  return dropped === 0 ? { session, dropped } : { session: { ...session, messages, toolUses }, dropped }
}

/**
 * The agent persona of a new session (4.5.7 `Session::new`).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_AGENT = "build"

/**
 * Maximum length of a derived title in Unicode code points before `...` is
 * appended (4.5.7 `title.rs`).
 *
 * @since 0.1.0
 * @category constants
 */
export const TITLE_MAX_CODE_POINTS = 47

/**
 * Inputs of {@link make}. Randomness and time are inputs so `make` stays
 * pure: the caller draws `id` and `provenanceUuid` (UUID v4, e.g.
 * `crypto.randomUUID()`) and reads `now` (`Timestamp.now`).
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions {
  /** The session id: a lowercase hyphenated UUID v4. */
  readonly id: string
  /** `createdAt` and `updatedAt`. */
  readonly now: Timestamp
  /** `metadata.directory`: the workspace (4.5.7 uses the process cwd). */
  readonly directory: string | null
  /** UUID v4 whose hex digits form `provenance_id` (`"ctprov_"` + 32 hex). */
  readonly provenanceUuid: string
  /** `provenance.issued_at`; defaults to `now` (4.5.7 takes it microseconds later). */
  readonly provenanceIssuedAt?: Timestamp | undefined
  /** The `CODETETHER_*` variables the provenance is seeded from (set → value, even if empty). */
  readonly env?: Provenance.ProvenanceEnv | undefined
}

/**
 * A new empty session, as 4.5.7 `Session::new` builds it: `title` null,
 * `createdAt` = `updatedAt` = `now`, agent `"build"`, no messages, tool uses
 * or usage, a new execution provenance for (`id`, `"build"`) seeded from
 * `env` (origin `"worker"` when `CODETETHER_WORKER_ID` is set, else
 * `"local_cli"`), and the in-memory metadata defaults: every boolean `false`
 * — including `slash_autocomplete` and `use_worktree`, which a file missing
 * those keys decodes as `true` (SESSION_FORMAT §4 quirk, replicated) — and
 * the RLM defaults. Nothing is persisted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: MakeOptions): Session => ({
  id: options.id,
  title: null,
  createdAt: options.now,
  updatedAt: options.now,
  metadata: {
    ...metadataDefaults(options.directory),
    provenance: Provenance.make({
      sessionId: options.id,
      agentName: DEFAULT_AGENT,
      issuedAt: options.provenanceIssuedAt ?? options.now,
      uuid: options.provenanceUuid,
      env: options.env
    })
  },
  agent: DEFAULT_AGENT,
  messages: [],
  toolUses: [],
  usage: emptyUsage
})

/**
 * Appends `message` to the transcript and sets `updatedAt` to `now` (4.5.7
 * `add_message`). Earlier messages are shared by reference with the input.
 *
 * @since 0.1.0
 * @category combinators
 */
export const addMessage = (session: Session, message: Message, now: Timestamp): Session => ({
  ...session,
  updatedAt: now,
  messages: [...session.messages, message]
})

/**
 * Cuts `text` to {@link TITLE_MAX_CODE_POINTS} Unicode code points and
 * appends `...` when it is longer; otherwise returns it whole (4.5.7
 * `truncate_with_ellipsis`). Counts code points, not UTF-16 units nor
 * grapheme clusters, so the cut may land inside a ZWJ emoji sequence or
 * between a letter and its combining mark, exactly as 4.5.7 does; it never
 * splits a surrogate pair. Newlines are kept. Stops reading after 48 code
 * points, so a very long text costs nothing extra.
 *
 * @since 0.1.0
 * @category titles
 */
export const truncateTitle = (text: string): string => {
  let codePoints = 0
  let units = 0
  for (const codePoint of text) {
    if (codePoints === TITLE_MAX_CODE_POINTS) {
      // `units` is the UTF-16 offset of the 48th code point: a code-point boundary.
      return `${text.substring(0, units)}...`
    }
    codePoints += 1
    units += codePoint.length
  }
  return text
}

/**
 * The title 4.5.7 derives for a session: the text parts of the **first**
 * `user` message, in order, joined by a single space (images and files
 * ignored), cut by {@link truncateTitle}. `undefined` when the session has no
 * user message. A first user message without text parts gives `""`.
 *
 * @since 0.1.0
 * @category titles
 */
export const deriveTitle = (session: Session): string | undefined => {
  const first = session.messages.find((message) => message.role === "user")
  return first === undefined ? undefined : truncateTitle(textOf(first, " "))
}

/**
 * Sets the title and `updatedAt = now` (4.5.7 `set_title`).
 *
 * @since 0.1.0
 * @category titles
 */
export const setTitle = (session: Session, title: string, now: Timestamp): Session => ({
  ...session,
  title,
  updatedAt: now
})

/**
 * Clears the title (so {@link generateTitle} derives it again) and sets
 * `updatedAt = now` (4.5.7 `clear_title`).
 *
 * @since 0.1.0
 * @category titles
 */
export const clearTitle = (session: Session, now: Timestamp): Session => ({
  ...session,
  title: null,
  updatedAt: now
})

/**
 * Derives the title ({@link deriveTitle}) only when `title` is `null`
 * (4.5.7 `generate_title`). A session that already has a title — including
 * the empty title `""` of a first user message without text (BEHAVIOUR
 * §12.15, replicated) — or has no user message is returned unchanged.
 * Does not bump `updatedAt`. Never fails.
 *
 * @since 0.1.0
 * @category titles
 */
export const generateTitle = (session: Session): Session =>
  session.title === null ? regenerateTitle(session) : session

/**
 * Derives the title even when one is set (4.5.7 `regenerate_title`); keeps
 * the current title when there is no user message. Does not bump
 * `updatedAt`.
 *
 * @since 0.1.0
 * @category titles
 */
export const regenerateTitle = (session: Session): Session => {
  const title = deriveTitle(session)
  return title === undefined || title === session.title ? session : { ...session, title }
}

/**
 * Reacts to a context change (directory, model, ...): `updatedAt = now`, then
 * {@link regenerateTitle} when `regenerate` is true (4.5.7
 * `on_context_change`).
 *
 * @since 0.1.0
 * @category titles
 */
export const onContextChange = (session: Session, regenerate: boolean, now: Timestamp): Session => {
  const bumped: Session = { ...session, updatedAt: now }
  return regenerate ? regenerateTitle(bumped) : bumped
}

const mapProvenance = (
  session: Session,
  f: (provenance: Provenance.ExecutionProvenance) => Provenance.ExecutionProvenance
): Session => {
  const provenance = session.metadata.provenance
  if (provenance === null) return session
  const next = f(provenance)
  return next === provenance ? session : { ...session, metadata: { ...session.metadata, provenance: next } }
}

/**
 * Sets the agent persona and, when the session has a provenance, its
 * `identity.agent_name` so audit records name the new agent (4.5.7
 * `set_agent_name`). Does not bump `updatedAt`.
 *
 * @since 0.1.0
 * @category provenance
 */
export const setAgentName = (session: Session, agentName: string): Session => {
  const withProvenance = mapProvenance(session, (p) => Provenance.withAgentName(p, agentName))
  return withProvenance.agent === agentName ? withProvenance : { ...withProvenance, agent: agentName }
}

/**
 * Tags the session as dispatched by A2A worker `workerId` for task `taskId`
 * (4.5.7 `attach_worker_task_provenance`, see
 * {@link Provenance.applyWorkerTask}). A session without provenance (a legacy
 * file) is returned unchanged, silently. Does not bump `updatedAt`.
 *
 * @since 0.1.0
 * @category provenance
 */
export const attachWorkerTaskProvenance = (session: Session, workerId: string, taskId: string): Session =>
  mapProvenance(session, (p) => Provenance.applyWorkerTask(p, workerId, taskId))

/**
 * Merges a task claim into the session's provenance (4.5.7
 * `attach_claim_provenance`, see {@link Provenance.applyClaim}): worker and
 * task as {@link attachWorkerTaskProvenance}, then run, attempt, tenant and
 * agent-identity ids from the claim when present, else the existing values.
 * A session without provenance is returned unchanged, silently. Does not bump
 * `updatedAt`.
 *
 * @since 0.1.0
 * @category provenance
 */
export const attachClaimProvenance = (session: Session, claim: Provenance.ClaimProvenance): Session =>
  mapProvenance(session, (p) => Provenance.applyClaim(p, claim))

const sameRlm = (a: RlmConfig, b: RlmConfig): boolean =>
  a === b ||
  (a.mode === b.mode && Object.is(a.threshold, b.threshold) && a.maxIterations === b.maxIterations &&
    a.maxSubcalls === b.maxSubcalls && a.runtime === b.runtime && a.rootModel === b.rootModel &&
    a.subcallModel === b.subcallModel)

/**
 * Copies the configured RLM settings into `metadata.rlm`, replacing the whole
 * object (4.5.7 `apply_config`). Idempotent: when `metadata.rlm` already
 * equals `rlm` the session is returned unchanged. Does not bump `updatedAt`.
 * Resolving `rlm.subcall_model` to a provider is the configuration service's
 * job (`CodetetherConfig.resolveSubcallProvider`); its result is never part
 * of the session.
 *
 * @since 0.1.0
 * @category configuration
 */
export const applyConfig = (session: Session, rlm: RlmConfig): Session =>
  sameRlm(session.metadata.rlm, rlm) ? session : { ...session, metadata: { ...session.metadata, rlm } }

/**
 * The key under which a session value carries its store revision: an
 * enumerable symbol, so it survives `{ ...session, ... }` copies and every
 * operation of this module, and is never encoded (the file holds exactly the
 * 4.5.7 fields).
 *
 * @since 0.1.0
 * @category revisions
 */
export const RevisionId: unique symbol = Symbol.for("codetether/Session/revision")

/**
 * The revision of the stored copy this value was loaded from or last saved
 * as (an opaque string chosen by the store), or `undefined` for a value the
 * store never handed out (a new session). Stores use it for conditional saves:
 * a value whose revision is not the stored one is stale.
 *
 * @since 0.1.0
 * @category revisions
 */
export const revisionOf = (session: Session): string | undefined =>
  (session as { readonly [RevisionId]?: string | undefined })[RevisionId]

/**
 * `session` with revision `revision` (`undefined`: without one, as a new
 * session). Returns a shallow copy; the input is not changed.
 *
 * @since 0.1.0
 * @category revisions
 */
export const withRevision = (session: Session, revision: string | undefined): Session => {
  if (revisionOf(session) === revision) return session
  const { [RevisionId]: _, ...rest } = session as Session & { readonly [RevisionId]?: string }
  return revision === undefined ? rest as Session : { ...rest, [RevisionId]: revision } as Session
}
