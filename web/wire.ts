/**
 * The wire shapes the page reads, derived from the server's own schemas
 * (type-only imports: nothing of them is bundled).
 */
import type * as MessageSchema from "../schemas/Message.ts"
import type * as ServerApi from "../schemas/ServerApi.ts"
import type * as SessionSchema from "../schemas/Session.ts"

/** A session in its on-disk encoding (`GET /api/session/{id}`). */
export type Session = typeof SessionSchema.Session.Encoded
/** A transcript message as stored (`{role, content: [...]}`). */
export type Message = typeof MessageSchema.Message.Encoded
/** One content part of a message (text, image, file, tool_call, tool_result, thinking). */
export type ContentPart = typeof MessageSchema.ContentPart.Encoded
/** An entry of `tool_uses`. */
export type ToolUse = Session["tool_uses"][number]
/** A row of `GET /api/session?usage=true`. */
export type SessionRow = typeof ServerApi.SessionListItem.Encoded
/** A hit of `GET /api/search`. */
export type SearchHit = typeof ServerApi.SearchHit.Encoded
/** `GET /api/session/{id}/usage`. */
export type SessionUsage = typeof ServerApi.SessionUsage.Encoded
/** One step of {@link SessionUsage}. */
export type UsageStep = typeof ServerApi.UsageStep.Encoded
/** `GET /api/session/{id}/lease`. */
export type SessionLease = typeof ServerApi.SessionLease.Encoded
/** `GET /api/server`. */
export type ServerInfo = typeof ServerApi.ServerInfo.Encoded
/** An error body. */
export type ErrorBody = typeof ServerApi.ErrorBody.Encoded

/** One server-sent event as the page handles it: the type, the parsed `run --json` line, the durable seq. */
export interface LiveEvent {
  readonly type: string
  // the `run --json` line: {"type": ..., fields in snake_case}
  readonly data: Record<string, unknown>
  readonly seq: number | undefined
}
