/**
 * A scripted provider, for tests of code that prompts sessions: each model
 * request takes the next scripted {@link Turn} (text, tool calls or a
 * failure, each after an optional delay) and is recorded. No network, no SDK,
 * no environment.
 *
 * ```ts
 * Scripted.layer([
 *   Scripted.toolCall("read", { path: "README.md" }),
 *   Scripted.text("The README says hello.")
 * ])
 * ```
 *
 * A request after the last turn fails with a `Stream` `ProviderError`
 * (`scripted: no turn left (2 were scripted)`), so a test that prompts more
 * than it scripted fails loudly. Delays use the Effect `Clock`: under
 * `it.effect` (`TestClock`) a delayed turn answers when the test advances the
 * clock (`TestClock.adjust`); `Duration.infinity` never answers (for
 * interruption tests).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Provider from "../../schemas/Provider.ts"
import type { Usage } from "../../schemas/Usage.ts"
import * as ProviderRegistry from "../ProviderRegistry.ts"
import * as Common from "./Common.ts"

/**
 * Token counts a turn reports (tokens): `input` (prompt) and `output`
 * (completion). Default 10 and 5.
 *
 * @since 0.1.0
 * @category models
 */
export interface TurnUsage {
  readonly input: number
  readonly output: number
}

/**
 * Settings every turn takes: `delay` before the model answers (an Effect
 * `Duration` input, e.g. `"2 seconds"` or `Duration.infinity`), and the
 * `usage` it reports.
 *
 * @since 0.1.0
 * @category models
 */
export interface TurnOptions {
  readonly delay?: Duration.Input | undefined
  readonly usage?: TurnUsage | undefined
}

/**
 * One tool call of a turn: the tool `name`, its arguments (an object is sent
 * as JSON; a string is sent as it is, e.g. truncated JSON) and an optional
 * call `id` (default `call_<turn>_<index>`, from 1).
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly name: string
  readonly arguments: unknown
  readonly id?: string | undefined
}

/**
 * One scripted model answer:
 * - `Text`: the model answers with text (streamed as the given pieces, in
 *   order), optionally with thinking first;
 * - `ToolCalls`: the model calls tools (optionally saying something first);
 * - `Fail`: the model call fails with a `ProviderError` of that reason
 *   (`RateLimited`, `Authentication`, `Server`, ...).
 *
 * @since 0.1.0
 * @category models
 */
export type Turn =
  | {
    readonly _tag: "Text"
    readonly pieces: ReadonlyArray<string>
    readonly thinking?: string | undefined
    readonly options: TurnOptions
  }
  | {
    readonly _tag: "ToolCalls"
    readonly calls: ReadonlyArray<Call>
    readonly text?: string | undefined
    readonly options: TurnOptions
  }
  | {
    readonly _tag: "Fail"
    readonly reason: Common.ProviderError["reason"]
    readonly message?: string | undefined
    readonly options: TurnOptions
  }

/**
 * The model answers with `text`: a string (one delta) or the deltas in order
 * (e.g. `["Hel", "lo"]`, which the loop reports as two `TextChunk`
 * snapshots). `thinking` comes first as reasoning.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text = (
  text: string | ReadonlyArray<string>,
  options: TurnOptions & { readonly thinking?: string | undefined } = {}
): Turn => ({
  _tag: "Text",
  pieces: typeof text === "string" ? [text] : text,
  thinking: options.thinking,
  options
})

/**
 * The model calls these tools (in one response), after saying `text` when
 * given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolCalls = (
  calls: ReadonlyArray<Call>,
  options: TurnOptions & { readonly text?: string | undefined } = {}
): Turn => ({ _tag: "ToolCalls", calls, text: options.text, options })

/**
 * The model calls one tool: `name` with `args` (an object, sent as JSON; or
 * a raw string).
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolCall = (
  name: string,
  args: unknown,
  options: TurnOptions & { readonly id?: string | undefined; readonly text?: string | undefined } = {}
): Turn => toolCalls([{ name, arguments: args, id: options.id }], options)

/**
 * The model call fails with a `ProviderError` of `reason` and `message`
 * (default `<provider>: scripted <reason> failure`). The session loop does not
 * retry a provider's stream: the prompt fails with it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = (
  reason: Common.ProviderError["reason"],
  message?: string,
  options: TurnOptions = {}
): Turn => ({ _tag: "Fail", reason, message, options })

/**
 * What a test can read about the scripted model: every request it received
 * (the system prompt, the transcript and the tools, in order) and how many
 * turns are left.
 *
 * @since 0.1.0
 * @category services
 */
export class ScriptedModel extends Context.Service<ScriptedModel, {
  readonly requests: Effect.Effect<ReadonlyArray<Provider.CompletionRequest>>
  readonly remaining: Effect.Effect<number>
}>()("codetether/providers/Scripted/ScriptedModel") {}

/**
 * Options of {@link make}: the provider's registry name (default `scripted`)
 * and default model (default `scripted-model`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly name?: string | undefined
  readonly defaultModel?: string | undefined
}

const usageOf = (usage: TurnUsage | undefined): Usage => {
  const input = usage?.input ?? 10
  const output = usage?.output ?? 5
  return { promptTokens: input, completionTokens: output, totalTokens: input + output, cacheReadTokens: null, cacheWriteTokens: null }
}

const eventsOf = (turn: Turn, number: number): ReadonlyArray<Provider.StreamEvent> => {
  switch (turn._tag) {
    case "Text":
      return [
        ...(turn.thinking === undefined ? [] : [Provider.thinkingDelta(turn.thinking)]),
        ...turn.pieces.map(Provider.textDelta),
        Provider.usage(usageOf(turn.options.usage)),
        Provider.finish("stop")
      ]
    case "ToolCalls":
      return [
        ...(turn.text === undefined ? [] : [Provider.textDelta(turn.text)]),
        ...turn.calls.flatMap((call, i) => {
          const id = call.id ?? `call_${number}_${i + 1}`
          const args = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {})
          return [Provider.toolCallStart(id, call.name), Provider.toolCallDelta(id, args), Provider.toolCallEnd(id)]
        }),
        Provider.usage(usageOf(turn.options.usage)),
        Provider.finish("tool_calls")
      ]
    case "Fail":
      return []
  }
}

/**
 * A scripted provider replaying `turns` in order, and the
 * {@link ScriptedModel} that reads its requests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  turns: ReadonlyArray<Turn>,
  options: Options = {}
): { readonly provider: Common.Provider; readonly model: ScriptedModel["Service"] } => {
  const name = options.name ?? "scripted"
  const queue = [...turns]
  const requests: Array<Provider.CompletionRequest> = []
  const stream = (request: Provider.CompletionRequest): Stream.Stream<Provider.StreamEvent, Common.ProviderError> =>
    Stream.unwrap(Effect.gen(function*() {
      requests.push(request)
      const turn = queue.shift()
      if (turn === undefined) {
        return Stream.fail(
          new Common.ProviderError({
            reason: "Stream",
            provider: name,
            message: `${name}: no turn left (${turns.length} were scripted)`
          })
        )
      }
      if (turn.options.delay !== undefined) yield* Effect.sleep(turn.options.delay)
      if (turn._tag === "Fail") {
        return Stream.fail(
          new Common.ProviderError({
            reason: turn.reason,
            provider: name,
            message: turn.message ?? `${name}: scripted ${turn.reason} failure`
          })
        )
      }
      return Stream.fromIterable(eventsOf(turn, requests.length))
    }))
  return {
    provider: {
      name,
      kind: "embedded",
      baseUrl: "",
      defaultModel: options.defaultModel ?? "scripted-model",
      source: "embedded",
      stream
    },
    model: ScriptedModel.of({
      requests: Effect.sync(() => [...requests]),
      remaining: Effect.sync(() => queue.length)
    })
  }
}

/**
 * A {@link ProviderRegistry.ProviderRegistry} whose only provider replays
 * `turns`, with the {@link ScriptedModel}. Each layer build starts at the
 * first turn.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  turns: ReadonlyArray<Turn>,
  options: Options = {}
): Layer.Layer<ProviderRegistry.ProviderRegistry | ScriptedModel> =>
  Layer.effectContext(Effect.sync(() => {
    const { model, provider } = make(turns, options)
    return Context.make(ProviderRegistry.ProviderRegistry, ProviderRegistry.make([provider])).pipe(
      Context.add(ScriptedModel, model)
    )
  }))
