/**
 * Tools as the model sees them and as the session loop runs them
 * (`provider::ToolDefinition` and the tool-registry result of
 * codetether-agent 4.5.7).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A tool offered to the model: its name, a description, and its parameters as
 * a JSON Schema object. Wire: `{"name","description","parameters"}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolDefinition = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  parameters: Schema.Record(Schema.String, Schema.Unknown)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolDefinition = typeof ToolDefinition.Type

/**
 * What running a tool produced: the text shown to the model, whether the tool
 * succeeded, and free-form metadata (not shown to the model).
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolResult {
  readonly output: string
  readonly success: boolean
  readonly metadata?: Readonly<Record<string, unknown>>
}

/**
 * A failed tool result with 4.5.7's `Error: <message>` text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const failure = (message: string): ToolResult => ({ output: `Error: ${message}`, success: false })

/**
 * The text 4.5.7 returns for the interactive `question` tool, which the
 * session loop never runs.
 *
 * @since 0.1.0
 * @category constants
 */
export const QUESTION_BLOCKED =
  "Error: Interactive tool 'question' is disabled in this interface. Ask the user directly in assistant text."

/**
 * The text 4.5.7 returns for a tool the registry does not have.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unknownTool = (name: string): ToolResult => ({ output: `Error: Unknown tool '${name}'`, success: false })
