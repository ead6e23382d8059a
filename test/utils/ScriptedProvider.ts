/**
 * A provider that replays scripted responses, for tests of the session loop:
 * each request takes the next script (a list of stream events, or a failure)
 * and is recorded.
 */
import { Effect, Stream } from "effect"
import * as Provider from "../../schemas/Provider.ts"
import type * as Usage from "../../schemas/Usage.ts"
import * as ProviderRegistry from "../../services/ProviderRegistry.ts"

export type Script =
  | { readonly _tag: "Events"; readonly events: ReadonlyArray<Provider.StreamEvent>; readonly failAfter?: ProviderRegistry.ProviderError }
  | { readonly _tag: "Fail"; readonly error: ProviderRegistry.ProviderError }
  | { readonly _tag: "Hang" }

const usageOf = (prompt: number, completion: number): Usage.Usage => ({
  promptTokens: prompt,
  completionTokens: completion,
  totalTokens: prompt + completion,
  cacheReadTokens: null,
  cacheWriteTokens: null
})

/** The model answers with text (streamed in pieces of `chunk` characters). */
export const answer = (text: string, options: { readonly usage?: readonly [number, number]; readonly thinking?: string; readonly chunk?: number } = {}): Script => {
  const chunk = options.chunk ?? 8
  const pieces: Array<Provider.StreamEvent> = []
  if (options.thinking !== undefined) pieces.push(Provider.thinkingDelta(options.thinking))
  for (let i = 0; i < text.length; i += chunk) pieces.push(Provider.textDelta(text.slice(i, i + chunk)))
  const [prompt, completion] = options.usage ?? [10, 5]
  return { _tag: "Events", events: [...pieces, Provider.usage(usageOf(prompt, completion)), Provider.finish("stop")] }
}

/** The model calls tools (arguments streamed in two halves), optionally with text first. */
export const callTools = (
  calls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>,
  options: { readonly text?: string; readonly usage?: readonly [number, number] } = {}
): Script => {
  const events: Array<Provider.StreamEvent> = []
  if (options.text !== undefined) events.push(Provider.textDelta(options.text))
  for (const call of calls) {
    const half = Math.floor(call.arguments.length / 2)
    events.push(
      Provider.toolCallStart(call.id, call.name),
      Provider.toolCallDelta(call.id, call.arguments.slice(0, half)),
      Provider.toolCallDelta(call.id, call.arguments.slice(half)),
      Provider.toolCallEnd(call.id)
    )
  }
  const [prompt, completion] = options.usage ?? [20, 7]
  return { _tag: "Events", events: [...events, Provider.usage(usageOf(prompt, completion)), Provider.finish("tool_calls")] }
}

export const fail = (message: string): Script => ({
  _tag: "Fail",
  error: new ProviderRegistry.ProviderError({ reason: "Server", provider: "scripted", message })
})

/** A provider named `scripted` (default model `scripted-model`) replaying `scripts` in order. */
export const make = (scripts: ReadonlyArray<Script>) => {
  const queue = [...scripts]
  const requests: Array<Provider.CompletionRequest> = []
  const provider: ProviderRegistry.Provider = {
    name: "scripted",
    kind: "openai",
    baseUrl: "http://scripted.invalid",
    defaultModel: "scripted-model",
    stream: (request) =>
      Stream.unwrap(Effect.sync(() => {
        requests.push(request)
        const script = queue.shift()
        if (script === undefined) {
          return Stream.fail(new ProviderRegistry.ProviderError({ reason: "Stream", provider: "scripted", message: "scripted: no more responses" }))
        }
        switch (script._tag) {
          case "Fail":
            return Stream.fail(script.error)
          case "Hang":
            return Stream.never
          case "Events":
            return script.failAfter === undefined
              ? Stream.fromIterable(script.events)
              : Stream.concat(Stream.fromIterable(script.events), Stream.fail(script.failAfter))
        }
      }))
  }
  return { provider, requests, remaining: () => queue.length }
}
