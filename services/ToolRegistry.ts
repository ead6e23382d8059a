/**
 * The tools the session loop offers to the model and runs for it: their
 * definitions (name, description, JSON Schema parameters) and `execute`,
 * which turns one tool call into a {@link ToolResult} and never fails.
 *
 * Built-in tools (one module each under `services/tools/`): `read`, `write`,
 * `edit`, `list`, `glob`, `grep`, `bash`. Every tool runs in the session's
 * `metadata.directory` (passed as {@link ToolContext}), not in the process's
 * current directory: this is the fix of 4.5.7's quirk §12.3.
 *
 * Model-visible texts follow codetether-agent 4.5.7 (BEHAVIOUR §6.4, §11):
 * `Error: Unknown tool '<name>'`, `Error: <message>`, and the blocked-tool text
 * for `question` (never offered, never run).
 *
 * @since 0.1.0
 */
import * as AiError from "effect/ai/AiError"
import * as EffectTool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ChildProcessSpawner from "effect/process/ChildProcessSpawner"
import {
  failure,
  QUESTION_BLOCKED,
  type ToolDefinition,
  type ToolResult,
  unknownTool
} from "../schemas/Tool.ts"
import * as CodetetherConfig from "./CodetetherConfig.ts"
import * as ProviderRegistry from "./ProviderRegistry.ts"
import * as Bash from "./tools/Bash.ts"
import * as Edit from "./tools/Edit.ts"
import * as Glob from "./tools/Glob.ts"
import * as Grep from "./tools/Grep.ts"
import { type Tool, type ToolContext, ToolError, toParametersJsonSchema } from "./tools/internal/Tool.ts"
import * as List from "./tools/List.ts"
import * as Read from "./tools/Read.ts"
import * as Write from "./tools/Write.ts"

export {
  /**
   * Builds a {@link Tool} from a parameters Schema and a handler.
   *
   * @since 0.1.0
   * @category constructors
   */
  define,
  /**
   * @since 0.1.0
   * @category models
   */
  type HandlerResult,
  /**
   * @since 0.1.0
   * @category models
   */
  type Tool,
  /**
   * @since 0.1.0
   * @category models
   */
  type ToolContext,
  /**
   * The tagged error a tool handler fails with; `execute` turns it into
   * `Error: <message>`.
   *
   * @since 0.1.0
   * @category errors
   */
  ToolError,
  /**
   * The provider-ready JSON Schema of a parameters Schema.
   *
   * @since 0.1.0
   * @category converting
   */
  toParametersJsonSchema
} from "./tools/internal/Tool.ts"

/**
 * One tool call as the loop extracted it: the tool name and the parsed JSON
 * arguments (any JSON value).
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCall {
  readonly name: string
  readonly args: unknown
}

/**
 * @since 0.1.0
 * @category services
 */
export class ToolRegistry extends Context.Service<ToolRegistry, {
  /**
   * Definitions offered to the model, in a stable order (built-ins: `read`,
   * `write`, `edit`, `list`, `glob`, `grep`, `bash`); never includes
   * `question`. `parameters` is a JSON Schema object
   * (`{ type: "object", properties, required? }`).
   */
  readonly definitions: ReadonlyArray<ToolDefinition>
  /**
   * Runs one tool call in `context.directory`. Never fails:
   * - the call is first {@link normalize}d (4.5.7 §6.4 step 1);
   * - `question` -> `QUESTION_BLOCKED` (success `false`);
   * - an unknown tool -> `Error: Unknown tool '<name>'`;
   * - arguments that are not a JSON object (a JSON string holding an object
   *   is accepted) or do not match the tool's parameters ->
   *   `Error: Invalid arguments for tool '<name>': <which field, what is wrong>`;
   * - a tool failure or defect -> `Error: <message>`.
   *
   * Interruption (Ctrl-C) stops the tool (the `bash` process group is killed)
   * and propagates.
   */
  readonly execute: (call: ToolCall, context: ToolContext) => Effect.Effect<ToolResult>
}>()("codetether/ToolRegistry") {}

/**
 * 4.5.7's argument normalisation (BEHAVIOUR §6.4 step 1) for the tools
 * codetether has: `advanced_edit` is renamed `edit`; for `edit` and
 * `confirm_edit`, `filePath` (else `file`) is copied to `path`, `oldString`
 * to `old_string`, `newString` to `new_string` when the snake_case key is
 * absent (and, beyond 4.5.7, `replaceAll` to `replace_all`). The original
 * keys stay. Other calls are returned unchanged. The loop can use it for the
 * `ToolCallStart` event, which 4.5.7 emits with the normalised call.
 *
 * @since 0.1.0
 * @category normalisation
 */
export const normalize = (name: string, args: unknown): ToolCall => {
  const tool = name === "advanced_edit" ? "edit" : name
  if ((tool !== "edit" && tool !== "confirm_edit") || !isObject(args)) return { name: tool, args }
  const out: Record<string, unknown> = { ...args }
  const copy = (to: string, ...from: ReadonlyArray<string>) => {
    if (out[to] !== undefined) return
    for (const key of from) {
      if (out[key] !== undefined) {
        out[to] = out[key]
        return
      }
    }
  }
  copy("path", "filePath", "file")
  copy("old_string", "oldString")
  copy("new_string", "newString")
  copy("replace_all", "replaceAll")
  return { name: tool, args: out }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`

/** Arguments as an object: `null`/`undefined` -> `{}`, a JSON string holding an object -> that object. */
const toObjectArgs = (args: unknown): Record<string, unknown> | string => {
  if (args === undefined || args === null) return {}
  if (isObject(args)) return args
  if (typeof args === "string") {
    if (args.trim() === "") return {}
    try {
      const parsed: unknown = JSON.parse(args)
      if (isObject(parsed)) return parsed
      return `expected a JSON object, got a string holding ${kindOf(parsed)}`
    } catch {
      return "expected a JSON object, got a string that is not JSON"
    }
  }
  return `expected a JSON object, got ${kindOf(args)}`
}

const defectMessage = (defect: unknown): string =>
  defect instanceof Error ? defect.message : typeof defect === "string" ? defect : String(defect)

/**
 * A registry over `tools`, offered in the given order. A later tool with the
 * same name replaces an earlier one (keeping the earlier position); a tool
 * named `question` is dropped (it is always blocked).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (tools: ReadonlyArray<Tool>): ToolRegistry["Service"] => {
  const byName = new Map<string, Tool>()
  for (const tool of tools) {
    if (tool.name !== "question") byName.set(tool.name, tool)
  }
  const definitions: ReadonlyArray<ToolDefinition> = [...byName.values()].map((tool) => ({
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters
  }))

  const execute = Effect.fn("ToolRegistry.execute")(function*(call: ToolCall, context: ToolContext) {
    const { args, name } = normalize(call.name, call.args)
    yield* Effect.annotateCurrentSpan({ tool: name, directory: context.directory })
    if (name === "question") return { output: QUESTION_BLOCKED, success: false } satisfies ToolResult
    const tool = byName.get(name)
    if (tool === undefined) return unknownTool(name)
    const objectArgs = toObjectArgs(args)
    if (typeof objectArgs === "string") return failure(`Invalid arguments for tool '${name}': ${objectArgs}`)
    return yield* tool.run(objectArgs, context).pipe(
      Effect.catchTag("ToolError", (error) => Effect.succeed(failure(error.message))),
      Effect.catchDefect((defect) => Effect.succeed(failure(defectMessage(defect))))
    )
  })

  return ToolRegistry.of({ definitions, execute })
}

/**
 * Settings of the built-in tools that {@link builtinsWith} passes on.
 *
 * @since 0.1.0
 * @category models
 */
export interface BuiltinOptions {
  readonly bash?: Bash.Options | undefined
}

/**
 * The built-in tools in their offered order: `read`, `write`, `edit`,
 * `list`, `glob`, `grep`, `bash`, with the given settings. Resources the
 * tools keep between calls (the `grep` worker) live until the `Scope` closes
 * (a layer's scope when built in `Layer.effect`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const builtinsWith = (options: BuiltinOptions): Effect.Effect<
  ReadonlyArray<Tool>,
  never,
  FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner | Scope.Scope
> =>
  Effect.all([
    Read.make(),
    Write.make,
    Edit.make,
    List.make(),
    Glob.make(),
    Grep.make(),
    Bash.make(options.bash)
  ])

/**
 * The built-in tools with default settings (the `bash` tool hides the
 * built-in providers' key variables: `ProviderRegistry.BUILTIN_KEY_VARIABLES`).
 * Use it to build a registry with extra tools:
 * `Effect.map(builtins, (tools) => make([...tools, mine]))`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const builtins: Effect.Effect<
  ReadonlyArray<Tool>,
  never,
  FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner | Scope.Scope
> = builtinsWith({ bash: { hiddenEnv: ProviderRegistry.BUILTIN_KEY_VARIABLES } })

/**
 * The registry with every built-in tool. Needs `FileSystem` and
 * `ChildProcessSpawner` (both provided by `NodeServices.layer` from
 * `@effect/platform-node`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  ToolRegistry,
  never,
  FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner
> = Layer.effect(ToolRegistry, Effect.map(builtins, make))

/**
 * The registry with every built-in tool, set up from the configuration: the
 * `bash` tool hides every key variable the provider registry knows
 * (`ProviderRegistry.keyVariables`, custom providers' `api_key_env`
 * included) and passes on the names of the user config's
 * `[tools.bash] pass_env`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<
  ToolRegistry,
  never,
  | FileSystem.FileSystem
  | ChildProcessSpawner.ChildProcessSpawner
  | CodetetherConfig.CodetetherConfig
  | ProviderRegistry.ProviderRegistry
> = Layer.effect(
  ToolRegistry,
  Effect.gen(function*() {
    const config = yield* CodetetherConfig.CodetetherConfig
    const registry = yield* ProviderRegistry.ProviderRegistry
    return make(yield* builtinsWith({ bash: { hiddenEnv: registry.keyVariables, passEnv: config.bashPassEnv } }))
  })
)

/**
 * A registry over the given tools only (tests, embedders, restricted agents).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTools = (tools: ReadonlyArray<Tool>): Layer.Layer<ToolRegistry> =>
  Layer.succeed(ToolRegistry, make(tools))

/**
 * The working directory of the tool call being run (the session's
 * `metadata.directory`), for tool handlers that do not receive a
 * {@link ToolContext}: the handlers of an Effect AI toolkit run through
 * {@link fromToolkit} read it with `yield* ToolRegistry.CurrentDirectory`.
 * Outside a tool call it is the process's current directory.
 *
 * @since 0.1.0
 * @category references
 */
export const CurrentDirectory = Context.Reference<string>("codetether/ToolRegistry/CurrentDirectory", {
  defaultValue: () => process.cwd()
})

const describe = (value: unknown): string => {
  if (typeof value === "string") return value
  if (typeof value === "object" && value !== null && "message" in value && typeof value.message === "string") {
    return value.message
  }
  return JSON.stringify(value) ?? String(value)
}

/** The text a toolkit handler result shows the model: its model output's text, else its encoded result. */
const outputOf = (result: EffectTool.HandlerResult<EffectTool.Any>): string => {
  const texts = (result.modelOutput ?? []).flatMap((part) => (part.type === "text" ? [part.text] : []))
  if (texts.length > 0) return texts.join("\n")
  const encoded = result.encodedResult
  if (typeof encoded === "string") return encoded
  return encoded === undefined ? "" : JSON.stringify(encoded)
}

/**
 * The tools of an Effect AI toolkit (`effect/ai` `Toolkit`) as codetether
 * tools, so that a session can reuse an app's toolkit. Pass the toolkit
 * itself (its handlers then come from the context, e.g. the layer of
 * `toolkit.toLayer(...)`) or a toolkit with handlers.
 *
 * Each tool keeps its name and description; its parameters are the JSON
 * Schema of its parameters Schema (or the dynamic tool's own JSON Schema).
 * Provider-defined tools (run by a model provider) are left out. A call runs
 * the toolkit's handler with the handler's services as they were when the
 * tools were made and {@link CurrentDirectory} set to the session's
 * directory. The result shown to the model is the text of the tool's model
 * output, else its encoded result (a string as is, anything else as JSON); a
 * `failureMode: "return"` failure is a failed result (`Error: ...`);
 * parameters that do not decode are an `InvalidArguments` {@link ToolError},
 * and a handler failure an `InvalidInput` one: the registry shows both to the
 * model as `Error: <message>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromToolkit = <Tools extends Record<string, EffectTool.Any>, E = never, R = never>(
  toolkit: Toolkit.WithHandler<Tools> | Effect.Effect<Toolkit.WithHandler<Tools>, E, R>
): Effect.Effect<ReadonlyArray<Tool>, E, R | EffectTool.HandlerServices<Tools[keyof Tools]>> =>
  Effect.gen(function*() {
    const withHandler = Effect.isEffect(toolkit) ? yield* toolkit : toolkit
    const context = yield* Effect.context<EffectTool.HandlerServices<Tools[keyof Tools]>>()
    const handle = withHandler.handle as unknown as (
      name: string,
      params: unknown
    ) => Effect.Effect<Stream.Stream<EffectTool.HandlerResult<EffectTool.Any>, unknown>, unknown>
    return Object.values(withHandler.tools as Record<string, EffectTool.Any>)
      .filter((tool) => !EffectTool.isProviderDefined(tool))
      .map((tool): Tool => ({
        name: tool.name,
        description: EffectTool.getDescription(tool) ?? "",
        parameters: EffectTool.isDynamic(tool) && tool.jsonSchema !== undefined
          ? (tool.jsonSchema as Record<string, unknown>)
          : toParametersJsonSchema(tool.parametersSchema),
        run: (args, toolContext) =>
          handle(tool.name, args).pipe(
            Effect.flatMap((results) => Stream.runLast(Stream.filter(results, (result) => !result.preliminary))),
            Effect.map((last): ToolResult => {
              if (Option.isNone(last)) return failure(`the tool '${tool.name}' returned no result`)
              const output = outputOf(last.value)
              return last.value.isFailure ? failure(output) : { output, success: true }
            }),
            Effect.mapError((error) =>
              AiError.isAiError(error) && error.reason._tag === "ToolParameterValidationError"
                ? new ToolError({
                  reason: "InvalidArguments",
                  message: `Invalid arguments for tool '${tool.name}': ${
                    error.reason.description.replace(/\s*\n\s*/g, " ")
                  }`,
                  cause: error
                })
                : new ToolError({
                  reason: "InvalidInput",
                  message: AiError.isAiError(error) ? error.reason.message : describe(error),
                  cause: error
                })
            ),
            Effect.provideContext(context),
            Effect.provideService(CurrentDirectory, toolContext.directory)
          )
      }))
  })

/**
 * A registry over the tools of an Effect AI toolkit only ({@link fromToolkit}).
 * To offer them beside the built-in tools:
 * `Layer.effect(ToolRegistry, Effect.map(Effect.all([builtins, fromToolkit(toolkit)]), ([a, b]) => make([...a, ...b])))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerToolkit = <Tools extends Record<string, EffectTool.Any>, E = never, R = never>(
  toolkit: Toolkit.WithHandler<Tools> | Effect.Effect<Toolkit.WithHandler<Tools>, E, R>
): Layer.Layer<ToolRegistry, E, R | EffectTool.HandlerServices<Tools[keyof Tools]>> =>
  Layer.effect(ToolRegistry, Effect.map(fromToolkit(toolkit), make))
