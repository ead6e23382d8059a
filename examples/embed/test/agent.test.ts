import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { CodetetherConfig, DurableSink, layerTest, Scripted, SessionLoop, ToolRegistry } from "codetether/testing"

// A tool of the app, offered to the model.
const weather = ToolRegistry.define({
  name: "weather",
  description: "Today's weather in a city.",
  parameters: Schema.Struct({ city: Schema.String }),
  handler: ({ city }) => Effect.succeed(`${city}: sunny, 21 °C`)
})

describe("the weather agent", () => {
  it.effect("calls the weather tool, then answers with what it said", () =>
    Effect.gen(function*() {
      const config = yield* CodetetherConfig.CodetetherConfig
      const loop = yield* SessionLoop.SessionLoop
      const session = yield* config.newSession("/srv/app")
      const { result, session: saved } = yield* loop.prompt(session, "What is the weather in Lyon?")

      expect(result.text).toBe("It is sunny in Lyon, 21 °C.")
      expect(saved.toolUses.map((use) => [use.name, use.output])).toEqual([["weather", "Lyon: sunny, 21 °C"]])
      // the second request carried the tool result after the call
      const requests = yield* (yield* Scripted.ScriptedModel).requests
      expect(requests[1]?.messages.at(-1)?.content).toEqual([
        { type: "tool_result", toolCallId: "call_1_1", content: "Lyon: sunny, 21 °C" }
      ])
      // one durable token_usage record per model call
      const records = yield* (yield* DurableSink.MemoryRecords).all
      expect(records.map((record) => record.kind)).toEqual(["token_usage", "token_usage"])
    }).pipe(Effect.provide(layerTest({
      turns: [Scripted.toolCall("weather", { city: "Lyon" }), Scripted.text("It is sunny in Lyon, 21 °C.")],
      tools: [weather]
    }))))
})
