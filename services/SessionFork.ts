/**
 * Forking a session: a copy of its messages `0..N` under a new id, to take
 * the conversation elsewhere without touching the original (a codetether
 * addition; 4.5.7 has no fork and its format no field for a parent).
 *
 * The fork:
 * - gets a new id (UUID v4) and provenance, `created_at` = `updated_at` =
 *   now, the title `<title> (fork)`, the parent's agent and metadata
 *   (directory, model, flags, RLM settings);
 * - holds messages `0..at` (default: all), as they are;
 * - keeps the `tool_uses` whose id is the id of a tool call in the kept
 *   messages (as many of each id as there are such calls), in order;
 * - gets the usage of the kept part: the parent's whole usage when every
 *   message is kept; else, when the parent's `token_usage` records add up
 *   to its usage and each names its assistant message, the sum of the
 *   records whose message is kept (exact: each model round trip produced
 *   the message it names); else the parent's usage prorated by the share of
 *   assistant messages kept (each step yields one assistant message: the
 *   best estimate without records; never 0 for a fork that kept paid-for
 *   messages). {@link ForkResult} `usageFrom` says which;
 * - has a durable log that starts with a `session_forked` record
 *   (`SessionEvent.ForkOrigin`: parent id, last kept message index, how many
 *   records follow it), followed by copies of the parent's `token_usage`
 *   records of the kept part (new `ts` and `seq`, payload unchanged but for
 *   `message_index`, which is 0 for steps before a compaction), so its own
 *   cost and per-step breakdown work without the parent.
 *
 * A fork never cuts a tool call from its result: `at` on an assistant
 * message whose calls are answered by later messages is refused (a model
 * rejects a transcript with a call left unanswered).
 *
 * Works on any store (it loads and saves through `SessionStore`) and any
 * durable sink.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Message from "../schemas/Message.ts"
import * as Session from "../schemas/Session.ts"
import type { ToolUse } from "../schemas/ToolUse.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import type { Usage } from "../schemas/Usage.ts"
import * as DurableSink from "./DurableSink.ts"
import * as SessionCost from "./SessionCost.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * Why a fork was refused (nothing was written):
 * - `InvalidIndex`: `at` is not the index of a message of the session;
 * - `SplitsToolCall`: message `at` makes tool calls whose results come
 *   after it; `message` names the index to fork at instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionForkError extends Schema.TaggedError<SessionForkError>()("SessionForkError", {
  reason: Schema.Literals(["InvalidIndex", "SplitsToolCall"]),
  message: Schema.String,
  sessionId: Schema.String
}) {}

/**
 * Options of {@link fork}: `at`, the index of the last message to keep
 * (default: the last message).
 *
 * @since 0.1.0
 * @category models
 */
export interface ForkOptions {
  readonly at?: number | undefined
}

/**
 * How the fork's usage was computed (see the module docs).
 *
 * @since 0.1.0
 * @category models
 */
export type UsageFrom = "whole" | "records" | "prorated"

/**
 * A fork: the new session as saved (with its revision), its parent's id,
 * the last kept message index (-1 for the fork of an empty session), how
 * its usage was computed, and how many usage records were copied into its
 * durable log.
 *
 * @since 0.1.0
 * @category models
 */
export interface ForkResult {
  readonly session: Session.Session
  readonly parentId: string
  readonly messageIndex: number
  readonly usageFrom: UsageFrom
  readonly copiedRecords: number
}

/**
 * What a fork will be, before anything is written: the new session (not
 * saved), the usage records to copy (their steps) and how usage was
 * computed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plan {
  readonly session: Session.Session
  readonly messageIndex: number
  readonly usageFrom: UsageFrom
  readonly steps: ReadonlyArray<SessionCost.Step>
}

const invalidIndex = (parent: Session.Session, at: number) =>
  new SessionForkError({
    reason: "InvalidIndex",
    sessionId: parent.id,
    message: parent.messages.length === 0
      ? `session ${parent.id} has no messages: fork it without --at`
      : `session ${parent.id} has messages 0 to ${parent.messages.length - 1}: ${at} is not one of them`
  })

/** The first index after `at` where every call of the kept part is answered, or undefined when nothing is cut. */
const cutCalls = (messages: ReadonlyArray<Message.Message>, at: number): number | undefined => {
  const open = new Set<string>()
  for (let i = 0; i <= at; i++) {
    for (const part of messages[i]!.content) {
      if (part.type === "tool_call") open.add(part.id)
      else if (part.type === "tool_result") open.delete(part.toolCallId)
    }
  }
  if (open.size === 0) return undefined
  let last: number | undefined
  for (let i = at + 1; i < messages.length && open.size > 0; i++) {
    for (const part of messages[i]!.content) {
      if (part.type === "tool_result" && open.delete(part.toolCallId)) last = i
    }
  }
  return last // undefined: calls never answered anywhere (an interrupted legacy transcript): nothing to cut
}

/** The tool uses of the kept tool calls, in order, as many per id as kept calls have it. */
const keptToolUses = (toolUses: ReadonlyArray<ToolUse>, kept: ReadonlyArray<Message.Message>): ReadonlyArray<ToolUse> => {
  const calls = new Map<string, number>()
  for (const message of kept) {
    for (const call of Message.toolCalls(message)) calls.set(call.id, (calls.get(call.id) ?? 0) + 1)
  }
  return toolUses.filter((use) => {
    const left = calls.get(use.id) ?? 0
    if (left === 0) return false
    calls.set(use.id, left - 1)
    return true
  })
}

const sumSteps = (list: ReadonlyArray<SessionCost.Step>): Usage => {
  let prompt = 0
  let completion = 0
  let read: number | null = null
  let write: number | null = null
  for (const step of list) {
    prompt += step.promptTokens
    completion += step.completionTokens
    if (step.cacheReadTokens !== null) read = (read ?? 0) + step.cacheReadTokens
    if (step.cacheWriteTokens !== null) write = (write ?? 0) + step.cacheWriteTokens
  }
  return { promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion, cacheReadTokens: read, cacheWriteTokens: write }
}

const prorate = (usage: Usage, share: number): Usage => {
  const part = (n: number) => Math.floor(n * share)
  return {
    promptTokens: part(usage.promptTokens),
    completionTokens: part(usage.completionTokens),
    totalTokens: part(usage.totalTokens),
    cacheReadTokens: usage.cacheReadTokens === null ? null : part(usage.cacheReadTokens),
    cacheWriteTokens: usage.cacheWriteTokens === null ? null : part(usage.cacheWriteTokens)
  }
}

const assistants = (messages: ReadonlyArray<Message.Message>): number =>
  messages.reduce((n, m) => (m.role === "assistant" ? n + 1 : n), 0)

/**
 * Plans the fork of `parent` keeping messages `0..at` (pure; see the module
 * docs): `id`, `provenanceUuid` and `now` are inputs so it stays pure.
 * `records` is the parent's durable log. Fails with {@link SessionForkError}.
 *
 * @since 0.1.0
 * @category planning
 */
export const plan = (
  parent: Session.Session,
  records: ReadonlyArray<DurableSink.DurableRecord>,
  options: { readonly at?: number | undefined; readonly id: string; readonly provenanceUuid: string; readonly now: Timestamp.Timestamp }
): Effect.Effect<Plan, SessionForkError> =>
  Effect.gen(function*() {
    const last = parent.messages.length - 1
    const at = options.at ?? last
    const emptyWhole = parent.messages.length === 0 && options.at === undefined
    if (!emptyWhole && (!Number.isSafeInteger(at) || at < 0 || at > last)) return yield* invalidIndex(parent, at)
    const answeredAt = at === last ? undefined : cutCalls(parent.messages, at)
    if (answeredAt !== undefined) {
      return yield* new SessionForkError({
        reason: "SplitsToolCall",
        sessionId: parent.id,
        message: `message ${at} of session ${parent.id} makes tool calls answered by messages up to ${answeredAt}: ` +
          `fork at ${answeredAt} to keep the results, or before message ${at}`
      })
    }
    const kept = at === last ? parent.messages : parent.messages.slice(0, at + 1)
    const all = SessionCost.steps(records, {})
    const indexed = SessionCost.stepsAccountFor(all, parent.usage) && all.every((s) => s.messageIndex !== null)
    let usage: Usage
    let usageFrom: UsageFrom
    let steps: ReadonlyArray<SessionCost.Step>
    if (at === last) {
      usage = parent.usage
      usageFrom = "whole"
      steps = indexed ? all : []
    } else if (indexed) {
      steps = all.filter((s) => s.messageIndex! <= at)
      usage = sumSteps(steps)
      usageFrom = "records"
    } else {
      const total = assistants(parent.messages)
      const share = total === 0 ? kept.length / Math.max(1, parent.messages.length) : assistants(kept) / total
      usage = prorate(parent.usage, share)
      usageFrom = "prorated"
      steps = []
    }
    const fresh = Session.make({
      id: options.id,
      now: options.now,
      directory: parent.metadata.directory,
      provenanceUuid: options.provenanceUuid
    })
    const base = parent.title ?? Session.deriveTitle({ ...parent, messages: kept }) ?? "untitled"
    const session: Session.Session = {
      ...fresh,
      title: `${base} (fork)`,
      metadata: { ...parent.metadata, provenance: fresh.metadata.provenance },
      agent: parent.agent,
      messages: kept,
      toolUses: keptToolUses(parent.toolUses, kept),
      usage
    }
    return { session, messageIndex: at, usageFrom, steps }
  })

/**
 * Forks stored session `id` at message `options.at` (default: all
 * messages; see the module docs), saves the fork as a new session and
 * writes its durable log (the `session_forked` record first, then the
 * copied usage records), and returns it. The original is only read.
 *
 * Fails with {@link SessionForkError} (nothing written), `SessionStoreError`
 * (the parent cannot be loaded, or the fork cannot be saved),
 * `SessionConflict` / `SessionBusy` (from the save of the new id: not
 * expected for a fresh UUID), or `DurableSinkError` (the log could not be
 * written: the fork is then not saved).
 *
 * @since 0.1.0
 * @category forking
 */
export const fork = Effect.fn("SessionFork.fork")(function*(id: string, options: ForkOptions = {}) {
  const store = yield* SessionStore.SessionStore
  const sink = yield* DurableSink.DurableSink
  const parent = yield* store.load(id)
  const records = yield* sink.read(id).pipe(
    Effect.catch((e) => Effect.as(Effect.logWarning(`cannot read the durable log of ${id}: ${e.message}`), []))
  )
  const planned = yield* plan(parent, records, {
    at: options.at,
    id: NodeCrypto.randomUUID(),
    provenanceUuid: NodeCrypto.randomUUID(),
    now: yield* Timestamp.now
  })
  const newId = planned.session.id
  yield* sink.write(newId, {
    _tag: "SessionForked",
    payload: { parentId: parent.id, messageIndex: planned.messageIndex, copiedRecords: planned.steps.length }
  })
  for (const step of planned.steps) {
    yield* sink.write(newId, {
      _tag: "TokenUsage",
      payload: {
        source: step.source,
        model: step.model,
        promptTokens: step.promptTokens,
        completionTokens: step.completionTokens,
        durationMs: step.durationMs,
        ...(step.cacheReadTokens === null ? {} : { cacheReadTokens: step.cacheReadTokens }),
        ...(step.cacheWriteTokens === null ? {} : { cacheWriteTokens: step.cacheWriteTokens }),
        ...(step.messageIndex === null ? {} : { messageIndex: step.messageIndex })
      }
    })
  }
  const saved = yield* store.save(planned.session)
  return {
    session: saved,
    parentId: parent.id,
    messageIndex: planned.messageIndex,
    usageFrom: planned.usageFrom,
    copiedRecords: planned.steps.length
  } satisfies ForkResult
})

/**
 * The origin of a session that was forked: the `session_forked` record of
 * its durable log (`undefined` for a session that is not a fork).
 *
 * @since 0.1.0
 * @category forking
 */
export const originOf = (records: ReadonlyArray<DurableSink.DurableRecord>) => {
  const record = records.find((r) => r.kind === "session_forked")
  if (record === undefined) return undefined
  const p = record.payload as { readonly parent_id?: unknown; readonly message_index?: unknown }
  return typeof p?.parent_id === "string" && typeof p.message_index === "number"
    ? { parentId: p.parent_id, messageIndex: p.message_index }
    : undefined
}
