import { NodeServices } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Schema } from "effect"
import { QUESTION_BLOCKED } from "../../schemas/Tool.ts"
import * as ToolRegistry from "../../services/ToolRegistry.ts"
import { registryLayer, run, tempDir, writeFiles } from "./tools/helpers.ts"

const BUILTINS = ["read", "write", "edit", "list", "glob", "grep", "bash"]

/** Asserts `value` is a plain JSON Schema object as OpenAI and Anthropic tool definitions accept it. */
const assertProviderSchema = (name: string, value: Readonly<Record<string, unknown>>) => {
  assert.strictEqual(value.type, "object", `${name}: type`)
  assert.isUndefined(value.$ref, `${name}: no $ref root`)
  assert.isUndefined(value.$schema, `${name}: no $schema`)
  assert.isUndefined(value.additionalProperties, `${name}: no additionalProperties`)
  const properties = value.properties as Record<string, Record<string, unknown>>
  assert.isObject(properties, `${name}: properties`)
  const required = (value.required ?? []) as ReadonlyArray<string>
  assert.isArray(required)
  for (const key of required) assert.property(properties, key, `${name}: required ${key} is a property`)
  for (const [key, property] of Object.entries(properties)) {
    assert.match(key, /^[a-z_]+$/, `${name}.${key}: snake_case`)
    assert.isString(property.type, `${name}.${key}: has a type`)
    assert.isString(property.description, `${name}.${key}: has a description`)
  }
  // Round-trips through JSON unchanged (no functions, no undefined values).
  assert.deepStrictEqual(JSON.parse(JSON.stringify(value)), value)
}

const echo = ToolRegistry.define({
  name: "echo",
  description: "Echoes its text",
  parameters: Schema.Struct({
    text: Schema.String.annotate({ description: "What to echo" }),
    times: Schema.optionalKey(Schema.Int.annotate({ description: "Repeat count" }))
  }),
  handler: (params) => Effect.succeed(params.text.repeat(params.times ?? 1))
})

const failing = ToolRegistry.define({
  name: "failing",
  description: "Always fails",
  parameters: Schema.Struct({}),
  handler: () => Effect.fail(new ToolRegistry.ToolError({ reason: "Io", message: "disk on fire" }))
})

const crashing = ToolRegistry.define({
  name: "crashing",
  description: "Has a bug",
  parameters: Schema.Struct({}),
  handler: () => Effect.die(new Error("boom"))
})

describe("ToolRegistry", () => {
  layer(registryLayer)("built-in layer", (it) => {
    it.effect("offers the built-in tools in a stable order, never question", () =>
      Effect.gen(function*() {
        const registry = yield* ToolRegistry.ToolRegistry
        assert.deepStrictEqual(registry.definitions.map((definition) => definition.name), BUILTINS)
        for (const definition of registry.definitions) {
          assert.isAbove(definition.description.length, 20, `${definition.name}: description`)
        }
      }))

    it.effect("exports every tool's parameters as a provider-ready JSON Schema", () =>
      Effect.gen(function*() {
        const registry = yield* ToolRegistry.ToolRegistry
        for (const definition of registry.definitions) assertProviderSchema(definition.name, definition.parameters)
        const byName = new Map(registry.definitions.map((definition) => [definition.name, definition.parameters]))
        assert.deepStrictEqual(byName.get("read")?.required, ["path"])
        assert.deepStrictEqual(byName.get("edit")?.required, ["path", "old_string", "new_string"])
        assert.deepStrictEqual(Object.keys(byName.get("edit")?.properties as object), [
          "path",
          "old_string",
          "new_string",
          "replace_all"
        ])
        assert.deepStrictEqual(byName.get("bash")?.required, ["command"])
        assert.deepStrictEqual(byName.get("list")?.required ?? [], [])
        assert.deepStrictEqual((byName.get("read")?.properties as any).offset, {
          type: "integer",
          minimum: 1,
          description: "Line number to start reading from (1-based; default 1)"
        })
      }))

    it.effect("blocks question with 4.5.7's text", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        assert.deepStrictEqual(yield* run("question", { question: "ok?" }, dir), {
          output: QUESTION_BLOCKED,
          success: false
        })
      }))

    it.effect("answers an unknown tool with 4.5.7's text", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        assert.deepStrictEqual(yield* run("teleport", {}, dir), {
          output: "Error: Unknown tool 'teleport'",
          success: false
        })
      }))

    it.effect("rejects arguments that are not an object, accepts a JSON string holding one", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "hi\n" })
        assert.deepStrictEqual(yield* run("read", [1, 2], dir), {
          output: "Error: Invalid arguments for tool 'read': expected a JSON object, got an array",
          success: false
        })
        assert.strictEqual(
          (yield* run("read", 42, dir)).output,
          "Error: Invalid arguments for tool 'read': expected a JSON object, got a number"
        )
        assert.strictEqual(
          (yield* run("read", "{not json", dir)).output,
          "Error: Invalid arguments for tool 'read': expected a JSON object, got a string that is not JSON"
        )
        assert.strictEqual((yield* run("read", "{\"path\":\"a.txt\"}", dir)).output, "   1 | hi")
      }))

    it.effect("treats null as absent and ignores extra keys such as 4.5.7's __ct_* enrichment", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        writeFiles(dir, { "a.txt": "hi\n" })
        const result = yield* run("read", { path: "a.txt", offset: null, __ct_session_id: "s1" }, dir)
        assert.strictEqual(result.output, "   1 | hi")
      }))
  })

  describe("normalize", () => {
    it("renames advanced_edit and copies 4.5.7's camelCase keys when the snake key is absent", () => {
      assert.deepStrictEqual(
        ToolRegistry.normalize("advanced_edit", { filePath: "a", oldString: "x", newString: "y", replaceAll: true }),
        {
          name: "edit",
          args: {
            filePath: "a",
            oldString: "x",
            newString: "y",
            replaceAll: true,
            path: "a",
            old_string: "x",
            new_string: "y",
            replace_all: true
          }
        }
      )
      assert.deepStrictEqual(ToolRegistry.normalize("edit", { file: "f", path: "p", old_string: "o", oldString: "x" }), {
        name: "edit",
        args: { file: "f", path: "p", old_string: "o", oldString: "x" }
      })
      assert.deepStrictEqual(ToolRegistry.normalize("confirm_edit", { file: "f" }), {
        name: "confirm_edit",
        args: { file: "f", path: "f" }
      })
    })

    it("leaves other tools and non-object arguments alone", () => {
      assert.deepStrictEqual(ToolRegistry.normalize("read", { filePath: "a" }), { name: "read", args: { filePath: "a" } })
      assert.deepStrictEqual(ToolRegistry.normalize("advanced_edit", "raw"), { name: "edit", args: "raw" })
    })
  })

  describe("make / layerTools", () => {
    const registry = ToolRegistry.make([echo, failing, crashing])
    const context = { directory: "/" }

    it.effect("runs a custom tool and decodes its arguments", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* registry.execute({ name: "echo", args: { text: "ab", times: 2 } }, context), {
          output: "abab",
          success: true
        })
        assert.deepStrictEqual(yield* registry.execute({ name: "echo", args: { times: "2" } }, context), {
          output: "Error: Invalid arguments for tool 'echo': `text`: Missing key; `times`: Expected number",
          success: false
        })
      }))

    it.effect("turns a tool failure and a defect into Error: results", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* registry.execute({ name: "failing", args: {} }, context), {
          output: "Error: disk on fire",
          success: false
        })
        assert.deepStrictEqual(yield* registry.execute({ name: "crashing", args: {} }, context), {
          output: "Error: boom",
          success: false
        })
      }))

    it.effect("propagates interruption and runs the tool's finalizers", () =>
      Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const released = yield* Deferred.make<void>()
        const hanging = ToolRegistry.define({
          name: "hang",
          description: "Never returns",
          parameters: Schema.Struct({}),
          handler: () =>
            Effect.acquireRelease(Deferred.succeed(started, undefined), () => Deferred.succeed(released, undefined)).pipe(
              Effect.andThen(Effect.never),
              Effect.scoped
            )
        })
        const fiber = yield* Effect.forkChild(ToolRegistry.make([hanging]).execute({ name: "hang", args: {} }, context))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.hasInterrupts(exit))
        assert.isTrue(yield* Deferred.isDone(released))
      }))

    it.effect("drops a tool named question and lets a later tool replace an earlier one", () =>
      Effect.gen(function*() {
        const question = ToolRegistry.define({
          name: "question",
          description: "Asks the user",
          parameters: Schema.Struct({}),
          handler: () => Effect.succeed("answered")
        })
        const echo2 = ToolRegistry.define({
          name: "echo",
          description: "Second echo",
          parameters: Schema.Struct({}),
          handler: () => Effect.succeed("second")
        })
        const custom = ToolRegistry.make([echo, question, failing, echo2])
        assert.deepStrictEqual(custom.definitions.map((definition) => [definition.name, definition.description]), [
          ["echo", "Second echo"],
          ["failing", "Always fails"]
        ])
        assert.strictEqual((yield* custom.execute({ name: "question", args: {} }, context)).output, QUESTION_BLOCKED)
        assert.strictEqual((yield* custom.execute({ name: "echo", args: {} }, context)).output, "second")
      }))

    it.effect("layerTools provides a registry over the given tools", () =>
      Effect.gen(function*() {
        const tools = yield* ToolRegistry.ToolRegistry
        assert.deepStrictEqual(tools.definitions.map((definition) => definition.name), ["echo"])
        assertProviderSchema("echo", tools.definitions[0]!.parameters)
      }).pipe(Effect.provide(ToolRegistry.layerTools([echo]))))
  })

  layer(NodeServices.layer)("builtins", (it) => {
    it.effect("can be extended with custom tools", () =>
      Effect.gen(function*() {
        const tools = yield* ToolRegistry.builtins
        const registry = ToolRegistry.make([...tools, echo])
        assert.deepStrictEqual(registry.definitions.map((definition) => definition.name), [...BUILTINS, "echo"])
      }))
  })
})
