/**
 * `ToolRegistry.fromToolkit`: an Effect AI toolkit's tools offered to the
 * model and run by codetether's registry and loop (handlers from the
 * toolkit's own layer), exercised through the test kit's scripted model.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import { CodetetherConfig, layerTest, Scripted, SessionLoop } from "../../src/Testing.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"

const Add = Tool.make("Add", {
  description: "Adds two numbers.",
  parameters: Schema.Struct({ a: Schema.Finite, b: Schema.Finite }),
  success: Schema.Finite
})
const Where = Tool.make("Where", { description: "Where the tool runs.", success: Schema.String })
const Refuse = Tool.make("Refuse", {
  description: "Always refuses.",
  success: Schema.String,
  failure: Schema.Struct({ why: Schema.String }),
  failureMode: "return"
})
const Explode = Tool.make("Explode", { description: "Fails.", success: Schema.String, failure: Schema.String })
const Lookup = Tool.dynamic("Lookup", {
  description: "Looks a key up.",
  parameters: { type: "object", properties: { key: { type: "string" } }, required: ["key"] }
})

const Kit = Toolkit.make(Add, Where, Refuse, Explode, Lookup)
const KitLive = Kit.toLayer({
  Add: ({ a, b }) => Effect.succeed(a + b),
  Where: () =>
    Effect.gen(function*() {
      return yield* ToolRegistry.CurrentDirectory
    }),
  Refuse: () => Effect.fail({ why: "not today" }),
  Explode: () => Effect.fail("boom"),
  Lookup: (params) => Effect.succeed({ found: (params as { key: string }).key.toUpperCase() })
})

describe("ToolRegistry.fromToolkit", () => {
  it.effect("offers the toolkit's tools with their JSON Schemas and runs their handlers", () =>
    Effect.gen(function*() {
      const registry = ToolRegistry.make(yield* ToolRegistry.fromToolkit(Kit))
      expect(registry.definitions.map((d) => [d.name, d.description])).toEqual([
        ["Add", "Adds two numbers."],
        ["Where", "Where the tool runs."],
        ["Refuse", "Always refuses."],
        ["Explode", "Fails."],
        ["Lookup", "Looks a key up."]
      ])
      expect(registry.definitions[0]!.parameters).toMatchObject({
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"]
      })
      expect(registry.definitions[4]!.parameters).toEqual({
        type: "object",
        properties: { key: { type: "string" } },
        required: ["key"]
      })
      const context = { directory: "/work/project" }
      expect(yield* registry.execute({ name: "Add", args: { a: 2, b: 3 } }, context)).toEqual({ output: "5", success: true })
      expect(yield* registry.execute({ name: "Where", args: {} }, context)).toEqual({ output: "/work/project", success: true })
      expect(yield* registry.execute({ name: "Lookup", args: { key: "k" } }, context)).toEqual({
        output: "{\"found\":\"K\"}",
        success: true
      })
      const refused = yield* registry.execute({ name: "Refuse", args: {} }, context)
      expect(refused).toEqual({ output: "Error: {\"why\":\"not today\"}", success: false })
      const exploded = yield* registry.execute({ name: "Explode", args: {} }, context)
      expect(exploded).toEqual({ output: "Error: boom", success: false })
      const invalid = yield* registry.execute({ name: "Add", args: { a: "two" } }, context)
      expect(invalid.success).toBe(false)
      expect(invalid.output).toBe("Error: Invalid arguments for tool 'Add': Expected number at [\"a\"]")
    }).pipe(Effect.provide(KitLive)))

  it.effect("a prompt calls a toolkit tool through the loop", () =>
    Effect.gen(function*() {
      const config = yield* CodetetherConfig.CodetetherConfig
      const loop = yield* SessionLoop.SessionLoop
      const { result, session } = yield* loop.prompt(yield* config.newSession("/work/project"), "2 + 3?")
      expect(result.text).toBe("5")
      expect(session.toolUses).toEqual([
        { id: "call_1_1", name: "Add", input: "{\"a\":2,\"b\":3}", output: "5", success: true }
      ])
    }).pipe(
      Effect.provide(Layer.unwrap(Effect.map(ToolRegistry.fromToolkit(Kit), (tools) =>
        layerTest({ turns: [Scripted.toolCall("Add", { a: 2, b: 3 }), Scripted.text("5")], tools })))),
      Effect.provide(KitLive)
    ))
})
