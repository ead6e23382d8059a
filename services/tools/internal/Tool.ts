/**
 * The building blocks every tool shares: the {@link Tool} shape the registry
 * runs, {@link define} (a parameters Schema + a handler), the tagged
 * {@link ToolError} a handler fails with, and the JSON Schema export offered to
 * providers. Re-exported by `services/ToolRegistry.ts`; kept here so that tool
 * modules and the registry do not import each other.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import type { ToolResult } from "../../../schemas/Tool.ts"

/**
 * Where a tool call runs. `directory` is the session's `metadata.directory`:
 * relative paths and the shell's working directory resolve against it, never
 * against the process's current directory.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolContext {
  /** Absolute path of the session's working directory. */
  readonly directory: string
}

/**
 * Why a tool failed:
 * - `InvalidArguments`: the arguments do not match the tool's parameters;
 * - `NotFound`: a file or directory the call names does not exist;
 * - `InvalidInput`: the arguments are well-formed but cannot be applied (an
 *   edit whose `old_string` is missing or ambiguous, a binary file, a bad
 *   regular expression, an offset past the end of a file, ...);
 * - `Io`: the file system or the process spawner failed.
 *
 * The registry turns it into the model-visible result `Error: <message>`, so
 * `message` is written for the model: it says what went wrong and how to fix
 * the call.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolError extends Schema.TaggedError<ToolError>()("ToolError", {
  reason: Schema.Literals(["InvalidArguments", "NotFound", "InvalidInput", "Io"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/**
 * A tool the registry can offer and run: its name, a description written for
 * the model, its parameters as a JSON Schema object, and `run`, which takes
 * the (already normalised) JSON arguments. `run` decodes the arguments itself
 * and fails with {@link ToolError} (`InvalidArguments` when they do not
 * decode); it must not require services (capture them when building the tool).
 *
 * @since 0.1.0
 * @category models
 */
export interface Tool {
  readonly name: string
  readonly description: string
  /** JSON Schema of the arguments: `{ type: "object", properties, required? }`. */
  readonly parameters: Readonly<Record<string, unknown>>
  readonly run: (args: unknown, context: ToolContext) => Effect.Effect<ToolResult, ToolError>
}

/**
 * What a handler returns: a full {@link ToolResult}, or just the output text
 * of a successful call.
 *
 * @since 0.1.0
 * @category models
 */
export type HandlerResult = ToolResult | string

/**
 * Builds a {@link Tool} from a parameters Schema and a handler.
 *
 * The Schema decodes the arguments (extra keys are ignored, so 4.5.7's
 * `__ct_*` enrichment keys pass through harmlessly; a key whose value is
 * `null` counts as absent, since models often send `null` for optional
 * parameters). A decode failure is a `ToolError` with reason
 * `InvalidArguments` naming each wrong field, e.g.
 * ``Invalid arguments for tool 'read': `offset`: Expected a value greater than or equal to 1, got 0``.
 * The Schema is exported with {@link toParametersJsonSchema}; annotate fields
 * with `description`s for the model.
 *
 * @since 0.1.0
 * @category constructors
 */
export const define = <S extends Schema.ConstraintDecoder<unknown>>(options: {
  readonly name: string
  readonly description: string
  readonly parameters: S
  readonly handler: (params: S["Type"], context: ToolContext) => Effect.Effect<HandlerResult, ToolError>
}): Tool => {
  const decode = Schema.decodeUnknownEffect(options.parameters)
  return {
    name: options.name,
    description: options.description,
    parameters: toParametersJsonSchema(options.parameters),
    run: (args, context) =>
      decode(dropNulls(args), { errors: "all" }).pipe(
        Effect.mapError((error) =>
          new ToolError({
            reason: "InvalidArguments",
            message: `Invalid arguments for tool '${options.name}': ${formatIssue(error.issue)}`
          })
        ),
        Effect.flatMap((params) => options.handler(params, context)),
        Effect.map((result): ToolResult => typeof result === "string" ? { output: result, success: true } : result)
      )
  }
}

const dropNulls = (args: unknown): unknown => {
  if (typeof args !== "object" || args === null || Array.isArray(args)) return args
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(args)) {
    if (value !== null) out[key] = value
  }
  return out
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * One line per problem, `` `field`: message `` joined by `; ` (the field
 * path is omitted for problems with the whole value, such as "Expected
 * object").
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatIssue = (issue: SchemaIssue.Issue): string =>
  formatter(issue).issues
    .map((problem) => {
      const path = (problem.path ?? []).map((key) => typeof key === "object" ? String(key.key) : String(key))
      return path.length === 0 ? problem.message : `\`${path.join(".")}\`: ${problem.message}`
    })
    .join("; ")

/**
 * The JSON Schema of a parameters Schema as providers accept it: the root
 * object schema of `Schema.toJsonSchemaDocument` (with `$defs` when the Schema
 * needs definitions), without `additionalProperties: true` (the JSON Schema
 * default, which some OpenAI-compatible back ends such as Gemini reject) and
 * without the `maximum: 9007199254740991` that integer checks add.
 *
 * @since 0.1.0
 * @category converting
 */
export const toParametersJsonSchema = (schema: Schema.Constraint): Record<string, unknown> => {
  const document = Schema.toJsonSchemaDocument(schema)
  const root = clean(document.schema) as Record<string, unknown>
  if (Object.keys(document.definitions).length > 0) {
    root.$defs = clean(document.definitions)
  }
  return root
}

const clean = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(clean)
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (key === "additionalProperties" && child === true) continue
    if ((key === "maximum" && child === Number.MAX_SAFE_INTEGER) || (key === "minimum" && child === Number.MIN_SAFE_INTEGER)) continue
    out[key] = clean(child)
  }
  return out
}
