/**
 * One row of a session listing (`session::SessionSummary` in
 * codetether-agent 4.5.7, the shape of `GET /api/session`).
 *
 * Wire keys in order: `id, title, created_at, updated_at, message_count,
 * agent, directory` (`directory` defaults to `null` on read).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Order from "effect/Order"
import * as Schema from "effect/Schema"
import type { Session } from "./Session.ts"
import * as Timestamp from "./Timestamp.ts"

/**
 * The fields of {@link SessionSummary}, in wire order (camelCase; see
 * {@link wireKeys}), for schemas that extend a summary (e.g. the server's
 * listing rows with usage and cost).
 *
 * @since 0.1.0
 * @category schemas
 */
export const fields = {
  id: Schema.String,
  title: Schema.NullOr(Schema.String),
  createdAt: Timestamp.Timestamp,
  updatedAt: Timestamp.Timestamp,
  messageCount: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  agent: Schema.String,
  directory: Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))
}

/**
 * The snake_case wire keys of the camelCase {@link fields}.
 *
 * @since 0.1.0
 * @category schemas
 */
export const wireKeys = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  messageCount: "message_count"
} as const

/**
 * @since 0.1.0
 * @category schemas
 */
export const SessionSummary = Schema.Struct(fields).pipe(Schema.encodeKeys(wireKeys))

/**
 * @since 0.1.0
 * @category models
 */
export type SessionSummary = typeof SessionSummary.Type

/**
 * The summary of a session (`message_count` = number of messages).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSession = (session: Session): SessionSummary => ({
  id: session.id,
  title: session.title,
  createdAt: session.createdAt,
  updatedAt: session.updatedAt,
  messageCount: session.messages.length,
  agent: session.agent,
  directory: session.metadata.directory
})

/**
 * Newest `updated_at` first, by instant (4.5.7 `list_sessions` order). Stable
 * when used with `Array.prototype.sort`.
 *
 * @since 0.1.0
 * @category ordering
 */
export const byUpdatedAtDesc: Order.Order<SessionSummary> = Order.flip(
  Order.mapInput(Timestamp.Order, (s: SessionSummary) => s.updatedAt)
)
