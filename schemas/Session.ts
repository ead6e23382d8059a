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
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { Message } from "./Message.ts"
import { SessionMetadata } from "./SessionMetadata.ts"
import { Timestamp } from "./Timestamp.ts"
import { ToolUse } from "./ToolUse.ts"
import { Usage } from "./Usage.ts"

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
