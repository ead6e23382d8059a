/**
 * Audit record of one tool call (`agent::ToolUse` in codetether-agent 4.5.7).
 *
 * Wire: `{"id","name","input","output","success"}`, all required. `input` is
 * the raw argument JSON text, `output` the text the tool returned.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category schemas
 */
export const ToolUse = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  input: Schema.String,
  output: Schema.String,
  success: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolUse = typeof ToolUse.Type
