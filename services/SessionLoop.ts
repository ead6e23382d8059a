/**
 * The agentic prompt loop (4.5.7 `Session::prompt_with_events_and_images`,
 * BEHAVIOUR §6): append the user message, send the transcript and the tools to
 * the provider, run the tool calls the model makes, and repeat until the model
 * answers without tool calls or `maxSteps` is reached.
 *
 * Differences from 4.5.7, all fixes its spec recommends:
 * - `session.usage` aggregates every round trip and `tool_uses` records every
 *   tool call (4.5.7 never updated either);
 * - the assistant message is appended before its tool results, which follow it
 *   one per call, in call order (4.5.7 could put results first);
 * - tools run in `metadata.directory` (4.5.7's events variant used `$PWD`);
 * - the session is saved after every step, so a crash loses at most the step
 *   in flight;
 * - on a provider error or an interruption the completed steps are saved, a
 *   tool call left without a result gets an "interrupted" result (so the next
 *   prompt sends a valid transcript), and `Error` then `Done` are published
 *   (4.5.7 returned without saving, `Error` or `Done`);
 * - thinking received while streaming is kept as a `thinking` part and
 *   reported with `ThinkingComplete` (4.5.7's streaming path dropped it);
 * - every round trip also publishes a durable `TokenUsage` (source `root`),
 *   with codetether's cache counters and the index of the step's assistant
 *   message (`SessionEvent.TokenDelta`);
 * - what the loop appends (messages, tool uses, the title) is redacted
 *   (`schemas/Redaction.ts`, unless the user config turns it off) before it
 *   is saved or sent again, each redaction reported by a durable
 *   `SecretsRedacted` right after the append; tools run with the real
 *   arguments; messages already in the session are never rewritten;
 * - the context window is enforced at the start of every step as 4.5.7 does
 *   (`schemas/Compaction.ts`: compress the older messages keeping 16, 12, 8,
 *   6, then truncate to 4; a "prompt too long" error compresses to 6 and
 *   retries once), with a deterministic compression instead of 4.5.7's RLM
 *   summary, reported as `chunk_compress`, and cuts that keep tool calls with
 *   their results.
 *
 * 4.5.7 behaviour, each a named step of the loop:
 * - `compressOversizedMessage` (§6.2 step 9): a user message over 35 % of the
 *   model's window is compressed to that budget (deterministically: no RLM);
 * - `readToolMarkup` (§6.3 step 7): `<tool_call>` markup in the text of a
 *   response without structured calls becomes tool calls;
 * - `requestFor` (§6.3 step 14): a provider with `nativeTools: false` gets no
 *   `tools` parameter, the Tool Use appendix in its system prompt and the
 *   transcript with tool calls and results as text;
 * - `mustAnswerNow` (§6.3 step 16): the 4th identical step in a row (or any
 *   step from the 3rd with a non-native provider) has its calls dropped and a
 *   `user` nudge asks for a final plain-text answer;
 * - `auditToolResult` (§6.4 step 11): the event-stream audit record of each
 *   executed call (`CODETETHER_EVENT_STREAM_PATH`, `EventStream.ts`);
 * - `callModel` (row 79, fixed): when the model fails after its provider's
 *   retries, the configured `fallback_models` are tried in order; the one that
 *   answers serves the rest of the prompt and a durable `ModelFallback` event
 *   records it; `metadata.model` is not changed;
 * - when `maxSteps` runs out while the model still calls tools, a
 *   `StepLimitReached` event (codetether) precedes `SessionSync` and `Done`.
 *
 * Events of one step, in order: `Thinking`, the compaction events when the
 * window is exceeded (`CompactionStarted`, then `CompactionCompleted`, or
 * `ContextTruncated` + `CompactionCompleted` [+ `CompactionFailed`]),
 * `TextChunk` (snapshots while
 * streaming), `UsageReport`, `TokenUsage`, `ThinkingComplete`, `TextChunk` +
 * `TextComplete` (the trimmed step text), then per tool call `ToolCallStart`,
 * `ToolCallComplete` (only `ToolCallComplete` for a call whose arguments were
 * cut off). A `ModelFallback` precedes `UsageReport` in a step a fallback
 * model answered. After the last step: [`StepLimitReached`], `SessionSync`,
 * `Done`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Compaction from "../schemas/Compaction.ts"
import * as ImageAttachment from "../schemas/ImageAttachment.ts"
import * as Message from "../schemas/Message.ts"
import * as Provider from "../schemas/Provider.ts"
import * as Redaction from "../schemas/Redaction.ts"
import { stableStringify } from "../schemas/RustJson.ts"
import * as Session from "../schemas/Session.ts"
import * as SessionEvent from "../schemas/SessionEvent.ts"
import * as Timestamp from "../schemas/Timestamp.ts"
import * as ToolMarkup from "../schemas/ToolMarkup.ts"
import type { ToolUse } from "../schemas/ToolUse.ts"
import * as Usage from "../schemas/Usage.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import * as EventStream from "./EventStream.ts"
import * as Common from "./providers/Common.ts"
import * as ProviderRegistry from "./ProviderRegistry.ts"
import * as Redactor from "./Redactor.ts"
import * as SessionBus from "./SessionBus.ts"
import * as SessionStore from "./SessionStore.ts"
import * as SystemPrompt from "./SystemPrompt.ts"
import * as ToolRegistry from "./ToolRegistry.ts"

/**
 * Why a prompt failed: `Provider` (no provider, an unavailable one, or the
 * model call failed after its retries) or `Store` (the session could not be
 * saved). The completed steps are saved and `Error` then `Done` published
 * before the failure is returned.
 *
 * `cause` is typed: the {@link Common.ProviderError} of a `Provider` failure
 * (its `reason` tells `Authentication` from `RateLimited`, `Server`,
 * `Timeout`…, and `status` carries the HTTP status when there was one) or the
 * {@link SessionStore.SessionStoreError} of a `Store` failure. It is absent
 * only when codetether itself refused the provider (a repository's project
 * config naming a provider of its own untrusted providers file). The lease
 * errors `SessionBusy` and `SessionConflict` are not wrapped: the prompt fails
 * with them directly (see {@link PromptError}).
 *
 * @example
 * ```ts
 * Effect.catchTag("SessionLoopError", (e) =>
 *   e.cause?._tag === "ProviderError" && e.cause.reason === "RateLimited"
 *     ? Effect.logWarning("rate limited, try later")
 *     : Effect.fail(e))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionLoopError extends Schema.TaggedError<SessionLoopError>()("SessionLoopError", {
  reason: Schema.Literals(["Provider", "Store"]),
  message: Schema.String,
  sessionId: Schema.String,
  cause: Schema.optional(Schema.Union([Common.ProviderError, SessionStore.SessionStoreError]))
}) {
  /** The provider's error when the prompt failed at the model (`reason: "Provider"`). */
  get providerError(): Common.ProviderError | undefined {
    return this.cause?._tag === "ProviderError" ? this.cause : undefined
  }
  /** The store's error when the session could not be read or saved (`reason: "Store"`). */
  get storeError(): SessionStore.SessionStoreError | undefined {
    return this.cause?._tag === "SessionStoreError" ? this.cause : undefined
  }
}

/**
 * Options of one prompt.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromptOptions {
  /** Images attached to the user message (4.5.7 `prompt_with_events_and_images`). */
  readonly images?: ReadonlyArray<ImageAttachment.ImageAttachment> | undefined
  /** Step limit for this prompt (default: the configuration's, 250). Exhausting it is not an error. */
  readonly maxSteps?: number | undefined
  /**
   * Take the session's lease even when another live process (or another
   * host) holds it; that holder's next save then fails. Default `false`: a
   * busy session fails the prompt at once with `SessionBusy`.
   */
  readonly force?: boolean | undefined
  /**
   * The model of this prompt, as a selector (`provider/model`, or a model
   * name of the default provider); it wins over the session's
   * `metadata.model` and the configuration's model for this prompt only and
   * is not written into the session (set `metadata.model`, as `run --model`
   * does, to keep it for later prompts). An unknown provider fails the prompt
   * with a `Provider` {@link SessionLoopError} before anything is appended.
   */
  readonly model?: string | undefined
}

/**
 * The errors of a prompt: {@link SessionLoopError}, or the store's lease
 * contract: `SessionBusy` (another prompt holds the session; nothing was
 * written) and `SessionConflict` (the session value is older than the stored
 * one, or the lease was taken away while the prompt ran).
 *
 * @since 0.1.0
 * @category errors
 */
export type PromptError = SessionLoopError | SessionStore.SessionBusy | SessionStore.SessionConflict

/**
 * What a prompt produced: the answer (4.5.7 `SessionResult`), the session as
 * saved, and how many steps (model round trips) it took.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromptResult {
  readonly result: SessionEvent.SessionResult
  readonly session: Session.Session
  readonly steps: number
  /**
   * The prompt stopped because it ran its `maxSteps` round trips while the
   * model still called tools (not an error, as in 4.5.7; `run -c` continues).
   */
  readonly stepLimitReached: boolean
}

/**
 * @since 0.1.0
 * @category services
 */
export class SessionLoop extends Context.Service<SessionLoop, {
  /**
   * Runs one prompt on `session` to completion and returns the answer and the
   * saved session; its events are published on the {@link SessionBus.SessionBus}.
   *
   * Holds the session's lease (`SessionStore` `lease`) from before the user
   * message is appended until the final save: a second prompt on the same
   * session, in this process or another, fails at once with `SessionBusy`.
   * `session` must be the stored copy (as loaded, or as a previous prompt
   * returned it) or a new session, else `SessionConflict`. The returned
   * session carries the new revision: prompt again with it.
   *
   * Fails with {@link PromptError}; interruption (Ctrl-C) saves the
   * completed steps first.
   */
  readonly prompt: (
    session: Session.Session,
    message: string,
    options?: PromptOptions
  ) => Effect.Effect<PromptResult, PromptError>
  /**
   * The same prompt as a stream of its events (ending with `Done`), also
   * published on the bus. The stream fails with the prompt's error after its
   * `Error` and `Done` events; stopping the stream early interrupts the prompt.
   * The final session is the payload of the `SessionSync` event.
   */
  readonly promptStream: (
    session: Session.Session,
    message: string,
    options?: PromptOptions
  ) => Stream.Stream<SessionEvent.SessionEvent, PromptError>
}>()("codetether/SessionLoop") {}

/**
 * `TextChunk` snapshots are cut to this many UTF-8 bytes (4.5.7: 262144).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_SNAPSHOT_BYTES = 262_144

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** `text` (over {@link MAX_SNAPSHOT_BYTES} in UTF-8) cut at a UTF-8 boundary, marked as truncated. */
const snapshot = (text: string): string => {
  const bytes = encoder.encode(text)
  let end = MAX_SNAPSHOT_BYTES
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return `${decoder.decode(bytes.subarray(0, end))} …[truncated]`
}

/**
 * The tool result for a call whose JSON arguments are incomplete (4.5.7
 * §6.3 step 15).
 *
 * @since 0.1.0
 * @category constants
 */
export const truncatedCallText = (name: string): string =>
  `Error: Your tool call to \`${name}\` was truncated — its JSON arguments were cut off before they were complete, ` +
  "most likely because the response hit the max_tokens limit. Retry with smaller arguments, for example by writing " +
  "a large file in several smaller pieces."

/**
 * The tool result given to a call that never finished because the prompt was
 * interrupted or failed.
 *
 * @since 0.1.0
 * @category constants
 */
export const INTERRUPTED_CALL_TEXT =
  "Error: This tool call was interrupted before it finished (the prompt was stopped), so it has no result."

interface Collected {
  readonly text: string
  readonly thinking: string
  readonly calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>
  readonly usage: Usage.Usage
  /** The stream's `Finish` reason (absent when the provider sent none). */
  readonly finishReason: Provider.FinishReason | undefined
}

/** Collects one provider stream (4.5.7 `collect_stream_completion_with_events`), publishing text snapshots. */
const collect = (
  stream: Stream.Stream<Provider.StreamEvent, ProviderRegistry.ProviderError>,
  emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>
): Effect.Effect<Collected, ProviderRegistry.ProviderError> => {
  let text = ""
  let textBytes = 0
  // once the text passes MAX_SNAPSHOT_BYTES, every later snapshot is this same cut
  let cut: string | undefined
  let thinking = ""
  let usage = Usage.empty
  let finishReason: Provider.FinishReason | undefined
  const calls = new Map<string, { id: string; name: string; arguments: string }>()
  return Stream.runForEach(stream, (event) => {
    switch (event._tag) {
      case "TextDelta": {
        if (event.text.length === 0) return Effect.void
        text += event.text
        if (cut === undefined) {
          textBytes += Buffer.byteLength(event.text)
          if (textBytes > MAX_SNAPSHOT_BYTES) cut = snapshot(text)
        }
        return emit(SessionEvent.make.textChunk(cut ?? text))
      }
      case "ThinkingDelta":
        thinking += event.text
        return Effect.void
      case "ToolCallStart": {
        const existing = calls.get(event.id)
        if (existing === undefined) calls.set(event.id, { id: event.id, name: event.name, arguments: "" })
        else if (existing.name === "tool") existing.name = event.name
        return Effect.void
      }
      case "ToolCallDelta": {
        const existing = calls.get(event.id)
        if (existing === undefined) calls.set(event.id, { id: event.id, name: "tool", arguments: event.argumentsDelta })
        else existing.arguments += event.argumentsDelta
        return Effect.void
      }
      case "Usage":
        usage = event.usage
        return Effect.void
      case "Finish":
        finishReason = event.reason
        return Effect.void
      case "ToolCallEnd":
        return Effect.void
    }
  }).pipe(Effect.map(() => ({ text, thinking, calls: [...calls.values()], usage, finishReason })))
}

const parseArguments = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  if (text.trim().length === 0) return { ok: true, value: {} }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/**
 * The attributes of a model call's span, from the OpenTelemetry GenAI
 * semantic conventions (span `chat <model>`, kind client):
 * `gen_ai.operation.name` (`chat`), `gen_ai.provider.name` (the registered
 * provider's name: `openai`, `anthropic`, `ollama`…), `gen_ai.request.model`,
 * `gen_ai.conversation.id` (the session id).
 */
const modelCallAttributes = (sessionId: string, selected: ProviderRegistry.Selected) => ({
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": selected.provider.name,
  "gen_ai.request.model": selected.model,
  "gen_ai.conversation.id": sessionId
})

/**
 * What a finished model call adds to its span: `gen_ai.usage.input_tokens`
 * and `gen_ai.usage.output_tokens` (the provider's prompt and completion
 * tokens), `gen_ai.response.finish_reasons` (one entry: the stream's finish
 * reason) and the cache tokens when the provider reported them.
 */
const modelCallResult = (collected: Collected): Record<string, unknown> => ({
  "gen_ai.usage.input_tokens": collected.usage.promptTokens,
  "gen_ai.usage.output_tokens": collected.usage.completionTokens,
  ...(collected.finishReason === undefined ? {} : { "gen_ai.response.finish_reasons": [collected.finishReason] }),
  ...(collected.usage.cacheReadTokens === null ? {} : { "gen_ai.usage.cache_read.input_tokens": collected.usage.cacheReadTokens }),
  ...(collected.usage.cacheWriteTokens === null
    ? {}
    : { "gen_ai.usage.cache_creation.input_tokens": collected.usage.cacheWriteTokens })
})

/** The mutable state of one prompt, read by the recovery on failure or interruption. */
interface State {
  session: Session.Session
  /** Tool calls of the last assistant message that have no result yet. */
  pending: Array<Message.ToolCallPart>
  /** The session differs from what is on disk. */
  dirty: boolean
  /** The session's lease, once taken. */
  lease: SessionStore.Lease | undefined
  /** Publishes an event of this prompt. */
  readonly emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>
}

/** The state of the model choice and of loop detection over the steps of one prompt. */
interface LoopState {
  /** The model in use: the session's, or the fallback that answered. */
  current: ProviderRegistry.Selected
  /** The last step's call signature (loop detection). */
  signature: string | undefined
  /** How many steps in a row had that signature. */
  repeats: number
}

/** A failed model call: the error, and whether any stream event had arrived first. */
interface CallFailure {
  readonly error: ProviderRegistry.ProviderError
  readonly received: boolean
}

const modelLabel = (selected: ProviderRegistry.Selected): string => `${selected.provider.name}/${selected.model}`

/**
 * A step whose tool calls repeat the previous step's this many times in a
 * row is the last tolerated: the next identical one (the 4th) is forced to a
 * final answer (4.5.7 §6.3 step 16).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_IDENTICAL_STEPS = 3

/**
 * The `user` message appended when loop detection forces a final answer
 * (4.5.7 §6.3 step 16): no more tool calls, a plain-text answer now.
 *
 * @since 0.1.0
 * @category constants
 */
export const FINAL_ANSWER_NUDGE =
  "Stop calling tools now: you have repeated the same tool calls or have used the tool rounds available. " +
  "Do not make any more tool calls (no <tool_call> blocks either). Answer the request now in plain text, " +
  "using what the tools have already shown you, and say plainly what is still unknown."

/**
 * The share of the model's context window above which a user message is
 * compressed before it is sent (4.5.7 §6.2 step 9: 35 %).
 *
 * @since 0.1.0
 * @category constants
 */
export const OVERSIZED_MESSAGE_SHARE = 0.35

/**
 * The first line of a user message that was compressed because it was too
 * large for the model (tokens as estimated by 4.5.7's heuristic).
 *
 * @since 0.1.0
 * @category constants
 */
export const oversizedHeader = (tokens: number, window: number, budget: number): string =>
  `[USER MESSAGE COMPRESSED] The original message had about ${tokens} tokens, more than 35% of the model's ` +
  `${window}-token context window, so it was compressed to about ${budget} tokens: its beginning and its end are ` +
  "kept, the middle is left out."

/**
 * The loop over its services.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const store = yield* SessionStore.SessionStore
  const registry = yield* ProviderRegistry.ProviderRegistry
  const tools = yield* ToolRegistry.ToolRegistry
  const bus = yield* SessionBus.SessionBus
  const config = yield* CodetetherConfig.CodetetherConfig
  const systemPrompt = yield* SystemPrompt.SystemPrompt
  const redactor = yield* Redactor.fromConfig
  const toolNames: ReadonlySet<string> = new Set(tools.definitions.map((t) => t.name))
  const eventStream = yield* EventStream.EventStream

  const storeError = (sessionId: string) =>
  <E>(e: E | SessionStore.SessionStoreError): E | SessionLoopError =>
    e instanceof SessionStore.SessionStoreError
      ? new SessionLoopError({ reason: "Store", message: e.message, sessionId, cause: e })
      : e

  /** Saves under the lease; the session then carries the new revision. */
  const save = (state: State) =>
    state.lease!.save(state.session).pipe(
      Effect.tap((saved) =>
        Effect.sync(() => {
          state.session = saved
          state.dirty = false
        })
      ),
      Effect.mapError(storeError(state.session.id))
    )

  /**
   * What the loop appends is redacted first (`schemas/Redaction.ts`), so no
   * secret is saved or sent to the model again; each redaction is reported
   * by a durable `SecretsRedacted` event. Messages already in the session are
   * never touched.
   */
  const redacted = <A>(state: State, target: Redaction.Report["target"], index: number | null, result: Redaction.Redacted<A>) => {
    const report = Redaction.report(target, index, result)
    return Effect.as(report === undefined ? Effect.void : state.emit({ _tag: "SecretsRedacted", payload: report }), result.value)
  }

  const append = Effect.fnUntraced(function*(state: State, message: Message.Message) {
    const clean = yield* redacted(state, "message", state.session.messages.length, Redaction.message(redactor, message))
    state.session = Session.addMessage(state.session, clean, yield* Timestamp.now)
    state.dirty = true
  })

  const setMessages = Effect.fnUntraced(function*(state: State, messages: ReadonlyArray<Message.Message>) {
    state.session = { ...state.session, messages, updatedAt: yield* Timestamp.now }
    state.dirty = true
  })

  /**
   * 4.5.7 `enforce_context_window` (BEHAVIOUR §9.3): when the request would
   * exceed the safety budget, compress the older messages keeping the last
   * 16, 12, 8, then 6; if that is not enough, truncate to the last 4.
   * Publishes the durable compaction events.
   */
  const enforceContextWindow = Effect.fnUntraced(function*(
    state: State,
    system: string,
    model: string,
    emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>,
    options: { readonly reason: string; readonly force: boolean; readonly keep: ReadonlyArray<number> }
  ) {
    const window = Compaction.contextWindow(model)
    const safety = Compaction.safetyBudget(window, config.maxTokens)
    const estimate = () => Compaction.estimateRequest(system, state.session.messages, tools.definitions)
    const before = estimate()
    if (!options.force && before <= safety) return false
    const traceId = crypto.randomUUID()
    yield* emit({ _tag: "CompactionStarted", payload: { traceId, reason: options.reason, beforeTokens: before, budget: safety } })
    const target = Math.floor(window * 0.25)
    let changed = false
    let current = before // the estimate of the messages as they are now
    for (const keepLast of options.keep) {
      const compressed = Compaction.compressKeepLast(state.session.messages, keepLast, (older) => Compaction.compressMessages(older, target))
      if (compressed === undefined) break
      yield* setMessages(state, compressed)
      changed = true
      current = estimate()
      if (current <= safety) {
        yield* emit({
          _tag: "CompactionCompleted",
          payload: { traceId, strategy: "chunk_compress", beforeTokens: before, afterTokens: current, keptMessages: state.session.messages.length }
        })
        return true
      }
    }
    const truncated = Compaction.truncateKeepLast(state.session.messages, 4)
    if (truncated !== undefined) {
      yield* setMessages(state, truncated)
      changed = true
      const after = estimate()
      yield* emit({
        _tag: "ContextTruncated",
        payload: { traceId, droppedTokens: Math.max(0, current - after), keptMessages: truncated.length, archiveRef: null }
      })
      yield* emit({
        _tag: "CompactionCompleted",
        payload: { traceId, strategy: "truncate", beforeTokens: before, afterTokens: after, keptMessages: truncated.length }
      })
      current = after
    }
    const after = current
    if (after > safety) {
      yield* emit({
        _tag: "CompactionFailed",
        payload: {
          traceId,
          fellBackTo: truncated === undefined ? null : "truncate",
          reason: truncated === undefined
            ? "the last messages alone exceed the safety budget"
            : "terminal truncation still exceeds safety budget",
          afterTokens: after,
          budget: safety
        }
      })
    }
    return changed
  })

  /** Appends the tool result message of `call` and records the call in `tool_uses`. */
  const recordResult = Effect.fnUntraced(function*(
    state: State,
    call: Message.ToolCallPart,
    output: string,
    success: boolean
  ) {
    yield* append(state, Message.toolResult(call.id, output))
    const use: ToolUse = yield* redacted(state, "tool_use", state.session.toolUses.length, Redaction.toolUse(redactor, {
      id: call.id,
      name: call.name,
      input: call.arguments,
      output,
      success
    }))
    state.session = { ...state.session, toolUses: [...state.session.toolUses, use] }
  })

  const runCall = Effect.fnUntraced(function*(
    state: State,
    call: Message.ToolCallPart,
    directory: string,
    emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>
  ) {
    const parsed = parseArguments(call.arguments)
    let output: string
    let success: boolean
    if (!parsed.ok) {
      output = truncatedCallText(call.name)
      success = false
      yield* emit(SessionEvent.make.toolCallComplete(call.name, output, false, 0))
    } else {
      const normalized = ToolRegistry.normalize(call.name, parsed.value)
      yield* emit(SessionEvent.make.toolCallStart(normalized.name, stableStringify(normalized.args)))
      const started = yield* Clock.currentTimeMillis
      const result = yield* tools.execute({ name: call.name, args: parsed.value }, { directory })
      output = result.output
      success = result.success
      const elapsed = (yield* Clock.currentTimeMillis) - started
      yield* emit(SessionEvent.make.toolCallComplete(normalized.name, output, success, elapsed))
      if (normalized.name !== "question") yield* auditToolResult(state, normalized.name, output, success)
    }
    yield* recordResult(state, call, output, success)
    state.pending.shift()
    yield* Effect.annotateCurrentSpan(success ? { "codetether.tool.success": true } : {
      "codetether.tool.success": false,
      "error.type": "tool_error"
    })
  }, (effect, state, call) =>
    Effect.withSpan(effect, `execute_tool ${call.name}`, {
      attributes: {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.name,
        "gen_ai.tool.call.id": call.id,
        "gen_ai.tool.type": "function",
        "gen_ai.conversation.id": state.session.id
      }
    }))

  /**
   * 4.5.7's event-stream audit record of an executed tool call
   * (`CODETETHER_EVENT_STREAM_PATH`, SESSION_FORMAT §10), made before the
   * result is appended.
   */
  const auditToolResult = (state: State, toolName: string, result: string, success: boolean) =>
    eventStream.toolResult(state.session.id, state.session.messages.length, { toolName, result, success })

  /**
   * 4.5.7 §6.2 step 9: a user message over 35 % of the model's context
   * window is replaced by a deterministic compression of it to that budget
   * (4.5.7's fallback when its RLM summary fails; codetether has no RLM
   * engine), under a line saying so. Its images are kept (4.5.7 dropped
   * them). The session keeps the compressed message.
   */
  const compressOversizedMessage = Effect.fnUntraced(function*(state: State, message: string, model: string) {
    const window = Compaction.contextWindow(model)
    const budget = Math.floor(window * OVERSIZED_MESSAGE_SHARE)
    const tokens = Compaction.estimateTokens(message)
    if (tokens <= budget) return
    const last = state.session.messages.at(-1)!
    // the appended message, already redacted (never the raw text)
    const appended = last.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n")
    const text = `${oversizedHeader(tokens, window, budget)}\n\n${Compaction.compressText(appended, budget)}`
    const content: Array<Message.ContentPart> = [{ type: "text", text }, ...last.content.filter((p) => p.type !== "text")]
    yield* setMessages(state, [...state.session.messages.slice(0, -1), { role: last.role, content }])
  })

  /**
   * The request for one model call with `selected`: the system prompt, the
   * transcript and the tools. A provider without native tool calling gets no
   * `tools` parameter; its system prompt gets the Tool Use appendix and its
   * transcript shows tool calls and results as text (4.5.7 §6.3 step 14).
   */
  const requestFor = (state: State, selected: ProviderRegistry.Selected, basePrompt: string): Provider.CompletionRequest => {
    const native = selected.provider.nativeTools !== false
    const temperature = Provider.temperatureFor(selected.model)
    return {
      model: selected.model,
      messages: [
        Message.text("system", systemTextFor(selected, basePrompt)),
        ...(native ? state.session.messages : ToolMarkup.toTextTranscript(state.session.messages))
      ],
      tools: native ? tools.definitions : [],
      maxTokens: config.maxTokens,
      ...(temperature === undefined ? {} : { temperature })
    }
  }

  const systemTextFor = (selected: ProviderRegistry.Selected, basePrompt: string): string =>
    selected.provider.nativeTools === false && tools.definitions.length > 0
      ? `${basePrompt}\n\n${ToolMarkup.appendix(tools.definitions)}`
      : basePrompt

  /**
   * One model call with `selected`. Text snapshots are published while it
   * streams (not for a provider without native tools, whose text may be
   * markup: 4.5.7 did not stream those). A "prompt too long" error is
   * answered once by compressing the history to its last 6 messages and
   * retrying (4.5.7). Fails with the provider error and whether any event had
   * arrived.
   */
  const callOnce = (
    state: State,
    selected: ProviderRegistry.Selected,
    basePrompt: string,
    emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>
  ): Effect.Effect<Collected, CallFailure> => {
    const attempt = Effect.suspend(() => {
      let received = false
      const stream = selected.provider.stream(requestFor(state, selected, basePrompt)).pipe(
        Stream.tap(() => Effect.sync(() => (received = true)))
      )
      return collect(stream, selected.provider.nativeTools === false ? () => Effect.void : emit).pipe(
        Effect.tap((collected) => Effect.annotateCurrentSpan(modelCallResult(collected))),
        Effect.tapError((error) => Effect.annotateCurrentSpan("error.type", error.reason)),
        Effect.withSpan(`chat ${selected.model}`, {
          kind: "client",
          attributes: modelCallAttributes(state.session.id, selected)
        }),
        Effect.mapError((error): CallFailure => ({ error, received }))
      )
    })
    return attempt.pipe(
      Effect.catchIf(
        (f) => Compaction.isPromptTooLong(f.error.message),
        (f) =>
          Effect.flatMap(
            enforceContextWindow(state, systemTextFor(selected, basePrompt), selected.model, emit, {
              reason: "prompt_too_long_retry",
              force: true,
              keep: [6]
            }),
            (changed) => (changed ? attempt : Effect.fail(f))
          )
      )
    )
  }

  /**
   * The model call of a step, with fail-over: when the current model fails
   * after its provider's retries (a retryable error, nothing received), the
   * `fallback_models` of the configuration are tried in order; the first that
   * answers is used for the rest of the prompt and recorded with a durable
   * `ModelFallback` event. `metadata.model` is not changed (4.5.7 wrote the
   * fallback into it and then retried with the old model: BEHAVIOUR §12.4).
   */
  const callModel = Effect.fnUntraced(function*(
    state: State,
    loop: LoopState,
    basePrompt: string,
    emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>
  ) {
    const first = yield* Effect.result(callOnce(state, loop.current, basePrompt, emit))
    if (Result.isSuccess(first)) return first.success
    const failure = first.failure
    if (failure.received || !Common.isRetryable(failure.error) || config.fallbackModels.length === 0) {
      return yield* failure.error
    }
    const failed: Array<string> = []
    for (const selector of config.fallbackModels) {
      const candidate = yield* fallbackFor(selector, loop.current)
      if (candidate === undefined) continue
      const answer = yield* Effect.result(callOnce(state, candidate, basePrompt, emit))
      if (Result.isSuccess(answer)) {
        yield* emit(SessionEvent.make.modelFallback({
          configured: modelLabel(loop.current),
          using: modelLabel(candidate),
          reason: failure.error.message
        }))
        loop.current = candidate
        return answer.success
      }
      if (answer.failure.received) return yield* answer.failure.error
      failed.push(`${modelLabel(candidate)}: ${answer.failure.error.message}`)
    }
    const { provider, reason, status } = failure.error
    return yield* new Common.ProviderError({
      reason,
      ...(provider === undefined ? {} : { provider }),
      ...(status === undefined ? {} : { status }),
      cause: failure.error,
      message: failed.length === 0
        ? failure.error.message
        : `${failure.error.message} (fallback models failed too: ${failed.join("; ")})`
    })
  })

  /**
   * The provider and model of one `fallback_models` selector, or `undefined`
   * (with a warning) when it cannot be used: no such provider, the model
   * that just failed, or a provider of an untrusted workspace providers file
   * named by a project config file (the rule of `default_model`).
   */
  const fallbackFor = Effect.fnUntraced(function*(selector: string, current: ProviderRegistry.Selected) {
    const selected = yield* registry.select(selector).pipe(
      Effect.catch((e) => Effect.as(Effect.logWarning(`fallback model ${selector} is not available: ${e.message}`), undefined))
    )
    if (selected === undefined) return undefined
    if (selected.provider === current.provider && selected.model === current.model) return undefined
    const source = config.settings.fallbackModels.source
    if (
      selected.provider.origin?.trust === "untrusted" && source.kind === "file" &&
      config.files.some((f) => f.path === source.path && f.scope === "project")
    ) {
      yield* Effect.logWarning(
        `fallback model ${selector} is ignored: ${source.path} names a provider of ${selected.provider.origin.path}, a providers file of the repository that is not trusted`
      )
      return undefined
    }
    return selected
  })

  /**
   * 4.5.7 §6.3 step 7: when the model made no structured tool call but wrote
   * `<tool_call>` markup, the markup becomes tool calls (fresh ids) and is
   * removed from the text. Calls to unknown tools are dropped with a warning.
   */
  const readToolMarkup = Effect.fnUntraced(function*(response: Collected) {
    if (response.calls.length > 0 || tools.definitions.length === 0) return response
    const parsed = ToolMarkup.parse(response.text, toolNames)
    if (parsed === undefined) return response
    for (const name of parsed.unknown) yield* Effect.logWarning(`the model called an unknown tool "${name}" in <tool_call> markup; ignored`)
    return {
      ...response,
      text: parsed.text,
      calls: parsed.calls.map((call) => ({ id: crypto.randomUUID(), name: call.name, arguments: call.arguments }))
    } satisfies Collected
  })

  /**
   * 4.5.7 §6.3 step 16, loop detection: the signature of a step is its valid
   * calls as sorted `name:<arguments as compact JSON>` joined by `|`; the
   * fourth identical step in a row, or any step from the third on with a
   * provider without native tools, is forced to a final answer.
   */
  const mustAnswerNow = (loop: LoopState, calls: ReadonlyArray<Message.ToolCallPart>, step: number): boolean => {
    const valid = calls.flatMap((call) => {
      const parsed = parseArguments(call.arguments)
      return parsed.ok ? [`${call.name}:${stableStringify(parsed.value)}`] : []
    })
    if (valid.length === 0) return false
    const signature = valid.sort().join("|")
    loop.repeats = signature === loop.signature ? loop.repeats + 1 : 1
    loop.signature = signature
    return loop.repeats > MAX_IDENTICAL_STEPS || (loop.current.provider.nativeTools === false && step >= 3)
  }

  const run = (
    initial: Session.Session,
    message: string,
    options: PromptOptions,
    emit: (event: SessionEvent.SessionEvent) => Effect.Effect<void>
  ): Effect.Effect<PromptResult, PromptError> => {
    const state: State = { session: initial, pending: [], dirty: false, lease: undefined, emit }
    const sessionId = initial.id

    const body = Effect.gen(function*() {
      yield* emit(SessionEvent.make.thinking())
      // The lease before anything is appended: a refused prompt writes nothing.
      state.lease = yield* store.lease(initial, { force: options.force }).pipe(Effect.mapError(storeError(sessionId)))
      const applied = yield* config.apply(state.session, registry)
      state.session = applied.session
      const selected = yield* registry.select(options.model ?? state.session.metadata.model ?? config.model).pipe(
        Effect.mapError((e) => new SessionLoopError({ reason: "Provider", message: e.message, sessionId, cause: e }))
      )
      // A repository may name a provider of its own (untrusted) providers file
      // in its own project config: that pair could run tools on the user's
      // machine with a model the repository chose, so it is refused.
      const modelSource = config.settings.model.source
      if (
        options.model === undefined && state.session.metadata.model === null &&
        selected.provider.origin?.trust === "untrusted" &&
        modelSource.kind === "file" && config.files.some((f) => f.path === modelSource.path && f.scope === "project")
      ) {
        return yield* new SessionLoopError({
          reason: "Provider",
          message: `${modelSource.path} selects provider "${selected.provider.name}" from ${
            selected.provider.origin.path
          }, a providers file of the repository that is not trusted; pass --model to choose it yourself, or trust the file with \`codetether config trust\``,
          sessionId
        })
      }
      yield* append(state, ImageAttachment.userMessage(message, options.images ?? []))
      yield* compressOversizedMessage(state, message, selected.model)
      const titled = Session.generateTitle(state.session)
      if (titled.title !== state.session.title && titled.title !== null) {
        state.session = { ...titled, title: yield* redacted(state, "title", null, Redaction.string(redactor, titled.title)) }
      }
      const directory = state.session.metadata.directory ?? process.cwd()
      const basePrompt = yield* systemPrompt.build(directory)
      const maxSteps = Math.max(1, options.maxSteps ?? config.maxSteps)
      const loop: LoopState = { current: selected, signature: undefined, repeats: 0 }
      const out = { output: "" }
      let steps = 0
      let answered = false
      /** One step (model round trip and its tool calls); `true` when the model answered without calls. */
      const runStep = (step: number) =>
        Effect.gen(function*() {
          yield* emit(SessionEvent.make.thinking())
          yield* enforceContextWindow(state, systemTextFor(loop.current, basePrompt), loop.current.model, emit, {
            reason: "context_budget",
            force: false,
            keep: [16, 12, 8, 6]
          })
          const started = yield* Clock.currentTimeMillis
          const raw = yield* callModel(state, loop, basePrompt, emit).pipe(
            Effect.mapError((e) => new SessionLoopError({ reason: "Provider", message: e.message, sessionId, cause: e }))
          )
          const elapsed = (yield* Clock.currentTimeMillis) - started
          const model = loop.current.model
          const { cacheReadTokens, cacheWriteTokens, completionTokens, promptTokens } = raw.usage
          yield* emit(SessionEvent.make.usageReport(promptTokens, completionTokens, elapsed, model))
          yield* emit(SessionEvent.make.tokenUsage({
            source: "root",
            model,
            promptTokens,
            completionTokens,
            durationMs: Math.max(0, Math.round(elapsed)),
            // codetether: what prices the step and ties it to its assistant message (sessions show / fork)
            ...(cacheReadTokens === null ? {} : { cacheReadTokens }),
            ...(cacheWriteTokens === null ? {} : { cacheWriteTokens }),
            messageIndex: state.session.messages.length
          }))
          state.session = { ...state.session, usage: Usage.add(state.session.usage, raw.usage) }
          const response = yield* readToolMarkup(raw)

          const thinking = response.thinking.trim()
          if (thinking.length > 0) yield* emit(SessionEvent.make.thinkingComplete(thinking))
          const text = response.text.trim()
          if (text.length > 0) {
            yield* emit(SessionEvent.make.textChunk(text))
            yield* emit(SessionEvent.make.textComplete(text))
            out.output += `${response.text}\n`
          }
          const calls: Array<Message.ToolCallPart> = response.calls.map((c) => ({
            type: "tool_call",
            id: c.id,
            name: c.name,
            arguments: c.arguments
          }))
          const said: Array<Message.ContentPart> = [
            ...(thinking.length > 0 ? [{ type: "thinking" as const, text: response.thinking }] : []),
            ...(response.text.length > 0 ? [{ type: "text" as const, text: response.text }] : [])
          ]
          if (calls.length > 0 && mustAnswerNow(loop, calls, step)) {
            // the calls are dropped: what the model said is kept, then the nudge
            if (said.length > 0) yield* append(state, { role: "assistant", content: said })
            yield* append(state, Message.text("user", FINAL_ANSWER_NUDGE))
            yield* save(state)
            return false
          }
          if (said.length + calls.length > 0) yield* append(state, { role: "assistant", content: [...said, ...calls] })
          state.pending = [...calls]
          for (const call of calls) yield* runCall(state, call, directory, emit)
          yield* save(state)
          return calls.length === 0
        }).pipe(Effect.withSpan("SessionLoop.step", {
          attributes: { "gen_ai.conversation.id": sessionId, "codetether.step": step }
        }))
      for (let step = 1; step <= maxSteps; step++) {
        steps = step
        if (yield* runStep(step)) {
          answered = true
          break
        }
      }
      // 4.5.7: running out of steps is not an error; codetether says so
      if (!answered) yield* emit(SessionEvent.make.stepLimitReached(steps, maxSteps))
      yield* emit(SessionEvent.make.sessionSync(state.session))
      yield* emit(SessionEvent.make.done())
      return {
        result: { text: out.output.trim(), sessionId },
        session: state.session,
        steps,
        stepLimitReached: !answered
      } satisfies PromptResult
    })

    // On failure or interruption: answer the calls left without a result, save
    // what was completed, then publish Error and Done (4.5.7 did none of these).
    const recover = (cause: Cause.Cause<PromptError>) =>
      Effect.gen(function*() {
        for (const call of state.pending) yield* recordResult(state, call, INTERRUPTED_CALL_TEXT, false)
        state.pending = []
        // Not after a conflict: the lease is gone or the stored copy is newer.
        const conflicted = cause.reasons.some((r) => r._tag === "Fail" && r.error._tag === "SessionConflict")
        if (state.dirty && state.lease !== undefined && !conflicted) {
          yield* save(state).pipe(
            Effect.catch((e) => Effect.logError(`could not save session ${sessionId} after the prompt stopped: ${e.message}`))
          )
        }
        const failure = cause.reasons.find((r) => r._tag === "Fail")
        const message = failure !== undefined && failure._tag === "Fail"
          ? failure.error.message
          : Cause.hasInterruptsOnly(cause)
          ? "Interrupted"
          : `Unexpected error: ${Cause.pretty(cause)}`
        yield* emit(SessionEvent.make.error(message))
        yield* emit(SessionEvent.make.done())
      })

    return body.pipe(
      Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.uninterruptible(recover(exit.cause))),
      Effect.scoped, // releases the lease after the recovery's save
      // every log line of the prompt names its session
      Effect.annotateLogs({ sessionId }),
      // OpenTelemetry GenAI: the prompt is one agent invocation
      Effect.withSpan(`invoke_agent ${initial.agent}`, {
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": initial.agent,
          "gen_ai.conversation.id": sessionId
        }
      })
    )
  }

  const publish = (sessionId: string) => (event: SessionEvent.SessionEvent) => bus.publish(sessionId, event)

  return SessionLoop.of({
    prompt: (session, message, options = {}) => run(session, message, options, publish(session.id)),
    promptStream: (session, message, options = {}) =>
      Stream.callback<SessionEvent.SessionEvent, PromptError>((queue) =>
        run(session, message, options, (event) => Effect.andThen(publish(session.id)(event), Queue.offer(queue, event)))
          .pipe(
            Effect.matchCauseEffect({
              onSuccess: () => Queue.end(queue),
              onFailure: (cause) => Queue.failCause(queue, cause)
            })
          )
      )
  })
})

/**
 * The loop over the store, providers, tools, bus, configuration and system
 * prompt of the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  SessionLoop,
  never,
  | SessionStore.SessionStore
  | ProviderRegistry.ProviderRegistry
  | ToolRegistry.ToolRegistry
  | SessionBus.SessionBus
  | CodetetherConfig.CodetetherConfig
  | SystemPrompt.SystemPrompt
> = Layer.effect(SessionLoop, make)
