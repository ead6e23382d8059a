/**
 * Transcript messages: `Role`, the six `ContentPart` variants and `Message`,
 * in the on-disk shape of codetether-agent 4.5.7 (`provider/types.rs`).
 *
 * Wire keys are snake_case (`mime_type`, `tool_call_id`,
 * `thought_signature`); TypeScript fields are camelCase. Content parts are
 * tagged by `type`, written first. An unknown `type` is a decode error for the
 * whole session, as in 4.5.7.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * Who wrote a message: `"system"`, `"user"`, `"assistant"` or `"tool"`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Role = Schema.Literals(["system", "user", "assistant", "tool"])

/**
 * @since 0.1.0
 * @category models
 */
export type Role = typeof Role.Type

const NullableString = Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))

/**
 * Plain text. Wire: `{"type":"text","text":…}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TextPart = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String
})

/**
 * An image, usually a base64 `data:` URL. Wire:
 * `{"type":"image","url":…,"mime_type":…|null}` (`mime_type` written as
 * `null` when absent, optional on read).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ImagePart = Schema.Struct({
  type: Schema.Literal("image"),
  url: Schema.String,
  mimeType: NullableString
}).pipe(Schema.encodeKeys({ mimeType: "mime_type" }))

/**
 * A file reference. Wire: `{"type":"file","path":…,"mime_type":…|null}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FilePart = Schema.Struct({
  type: Schema.Literal("file"),
  path: Schema.String,
  mimeType: NullableString
}).pipe(Schema.encodeKeys({ mimeType: "mime_type" }))

/**
 * A tool call made by the model. `arguments` is the raw JSON text the model
 * produced (a string, not an object). `thought_signature` is omitted from the
 * wire when absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCallPart = Schema.Struct({
  type: Schema.Literal("tool_call"),
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.String,
  thoughtSignature: Schema.optionalKey(Schema.String)
}).pipe(Schema.encodeKeys({ thoughtSignature: "thought_signature" }))

/**
 * The result of a tool call, answering the call with id `tool_call_id`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolResultPart = Schema.Struct({
  type: Schema.Literal("tool_result"),
  toolCallId: Schema.String,
  content: Schema.String
}).pipe(Schema.encodeKeys({ toolCallId: "tool_call_id" }))

/**
 * Reasoning output of the model.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThinkingPart = Schema.Struct({
  type: Schema.Literal("thinking"),
  text: Schema.String
})

/**
 * The `type` values a content part may have, in 4.5.7 declaration order.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentPartTypes = ["text", "image", "file", "tool_call", "tool_result", "thinking"] as const

/**
 * One piece of a message, discriminated by `type`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ContentPart = Schema.Union([TextPart, ImagePart, FilePart, ToolCallPart, ToolResultPart, ThinkingPart])
  .annotate({
    expected: `a content part whose "type" is one of ${contentPartTypes.map((t) => `"${t}"`).join(", ")}`
  })

/**
 * @since 0.1.0
 * @category models
 */
export type ContentPart = typeof ContentPart.Type
/**
 * @since 0.1.0
 * @category models
 */
export type TextPart = typeof TextPart.Type
/**
 * @since 0.1.0
 * @category models
 */
export type ImagePart = typeof ImagePart.Type
/**
 * @since 0.1.0
 * @category models
 */
export type FilePart = typeof FilePart.Type
/**
 * @since 0.1.0
 * @category models
 */
export type ToolCallPart = typeof ToolCallPart.Type
/**
 * @since 0.1.0
 * @category models
 */
export type ToolResultPart = typeof ToolResultPart.Type
/**
 * @since 0.1.0
 * @category models
 */
export type ThinkingPart = typeof ThinkingPart.Type

/**
 * A transcript message: `{"role":…,"content":[…]}`, both keys required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Message = Schema.Struct({
  role: Role,
  content: Schema.Array(ContentPart)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Message = typeof Message.Type

/**
 * A message with one text part.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text = (role: Role, value: string): Message => ({ role, content: [{ type: "text", text: value }] })

/**
 * A `tool` message carrying one tool result.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolResult = (toolCallId: string, content: string): Message => ({
  role: "tool",
  content: [{ type: "tool_result", toolCallId, content }]
})

/**
 * The text parts of a message joined with `separator` (images, files, tool
 * parts and thinking are ignored).
 *
 * @since 0.1.0
 * @category getters
 */
export const textOf = (message: Message, separator = " "): string =>
  message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join(separator)

/**
 * The tool calls of a message, in order.
 *
 * @since 0.1.0
 * @category getters
 */
export const toolCalls = (message: Message): ReadonlyArray<ToolCallPart> =>
  message.content.filter((part): part is ToolCallPart => part.type === "tool_call")
