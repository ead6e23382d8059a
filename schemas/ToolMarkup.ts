/**
 * Tool calls written as text, for models served without native tool calling
 * (local OpenAI-compatible servers, Ollama, llama.cpp): codetether-agent
 * 4.5.7's `<tool_call>` markup (BEHAVIOUR §6.3 step 7 and step 14).
 *
 * - {@link parse}: the `<tool_call>{"name":…,"arguments":…}</tool_call>`
 *   blocks of a model's text become tool calls (the rest is the text);
 * - {@link appendix}: the "Tool Use" section added to the system prompt of a
 *   provider without native tools, which lists the tools and the markup;
 * - {@link toTextTranscript}: the transcript as such a provider is sent it,
 *   tool calls and results written as text (request only, never saved).
 *
 * Pure functions, no I/O.
 *
 * @since 0.1.0
 */
import type { ContentPart, Message } from "./Message.ts"
import type { ToolDefinition } from "./Tool.ts"

/**
 * One block: `<tool_call>`, an optional ```` ```json ```` fence, a JSON
 * object, an optional fence, `</tool_call>` (non-greedy, across lines), as
 * 4.5.7's `helper/markup.rs`.
 */
const BLOCK = /<tool_call>\s*(?:```(?:json)?\s*)?(\{[\s\S]*?\})\s*(?:```\s*)?<\/tool_call>/g

/**
 * A tool call found in text: the tool `name` and its `arguments` as JSON text.
 *
 * @since 0.1.0
 * @category models
 */
export interface MarkupCall {
  readonly name: string
  readonly arguments: string
}

/**
 * What {@link parse} found: the text without its blocks (trimmed), the calls
 * to known tools in order, and the names of unknown tools that were called
 * (their blocks are removed too, 4.5.7 drops them with a warning).
 *
 * @since 0.1.0
 * @category models
 */
export interface Parsed {
  readonly text: string
  readonly calls: ReadonlyArray<MarkupCall>
  readonly unknown: ReadonlyArray<string>
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The arguments of one block as JSON text: `arguments`, else `args`, else
 * `input`, else every key but `name` (4.5.7's order). A string that holds a
 * JSON object is taken as that object's text (4.5.7 would have sent the
 * string itself, which no tool accepts).
 */
const argumentsOf = (block: Record<string, unknown>): string => {
  const value = block.arguments ?? block.args ?? block.input
  if (value === undefined) {
    const { name: _, ...rest } = block
    return JSON.stringify(rest)
  }
  if (typeof value === "string") {
    try {
      if (isObject(JSON.parse(value))) return value
    } catch {
      // not JSON: sent as the JSON string it is
    }
  }
  return JSON.stringify(value)
}

/**
 * Finds the `<tool_call>` blocks of `text` (4.5.7 §6.3 step 7). A block whose
 * JSON has a string `name` in `toolNames` becomes a call; one with another
 * name is dropped and reported in `unknown`; a block that is not a JSON
 * object is left in the text. Returns `undefined` when the text has no block.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string, toolNames: ReadonlySet<string>): Parsed | undefined => {
  if (!text.includes("<tool_call>")) return undefined
  const calls: Array<MarkupCall> = []
  const unknown: Array<string> = []
  let found = false
  const rest = text.replace(BLOCK, (block, json: string) => {
    let value: unknown
    try {
      value = JSON.parse(json)
    } catch {
      return block
    }
    if (!isObject(value) || typeof value.name !== "string") return block
    found = true
    if (toolNames.has(value.name)) calls.push({ name: value.name, arguments: argumentsOf(value) })
    else unknown.push(value.name)
    return ""
  })
  return found ? { text: rest.trim(), calls, unknown } : undefined
}

/**
 * The "Tool Use" section added to the system prompt when the provider has no
 * native tool calling (4.5.7 §6.3 step 14): the markup, the rules (no
 * fabricated output, a plain answer after the results, no repeated identical
 * calls, no stubs) and every tool as `- name: description` with its JSON
 * Schema parameters. (4.5.7 listed only a `list_tools` bootstrap tool and
 * let the model discover the others; listing them saves that round trip.)
 *
 * @since 0.1.0
 * @category prompts
 */
export const appendix = (tools: ReadonlyArray<ToolDefinition>): string =>
  [
    "# Tool Use",
    "",
    "This model has no native tool calling. To use a tool, write a block of exactly this form in your reply:",
    "",
    "<tool_call>{\"name\": \"<tool name>\", \"arguments\": {<the arguments as a JSON object>}}</tool_call>",
    "",
    "You may write several blocks in one reply. After your reply the tools run and their output comes back to you",
    "in <tool_result> blocks; then continue.",
    "",
    "Rules:",
    "- Never write a <tool_result> block yourself and never make up what a tool would output.",
    "- When you have what you need, answer in plain text, without any <tool_call> block.",
    "- Do not repeat a call you already made with the same arguments.",
    "- Prefer `bash` to run commands, and `read`, `grep`, `glob` and `list` to look at files.",
    "- Write complete, working code: no stubs, placeholders or TODOs.",
    "",
    "Available tools:",
    ...tools.flatMap((tool) => [
      `- ${tool.name}: ${tool.description.replace(/\s+/g, " ").trim()}`,
      `  parameters: ${JSON.stringify(tool.parameters)}`
    ])
  ].join("\n")

const textOf = (parts: ReadonlyArray<ContentPart>, names: ReadonlyMap<string, string>): string =>
  parts.flatMap((part): Array<string> => {
    switch (part.type) {
      case "text":
        return part.text.length > 0 ? [part.text] : []
      case "tool_call": {
        let args: unknown = part.arguments
        try {
          args = JSON.parse(part.arguments)
        } catch {
          // kept as the text the model wrote
        }
        return [`<tool_call>${JSON.stringify({ name: part.name, arguments: args })}</tool_call>`]
      }
      case "tool_result":
        return [`<tool_result name="${names.get(part.toolCallId) ?? "tool"}">\n${part.content}\n</tool_result>`]
      default:
        return []
    }
  }).join("\n\n")

/**
 * The transcript for a provider without native tool calling: assistant tool
 * calls become `<tool_call>` text, tool results become `user` messages with
 * `<tool_result name="…">` blocks; images, files and thinking stay as they
 * are; consecutive messages of one role are merged (many chat templates
 * require alternating roles). `system` messages pass through. Only the
 * request changes: the session keeps its structured parts.
 *
 * @since 0.1.0
 * @category requests
 */
export const toTextTranscript = (messages: ReadonlyArray<Message>): ReadonlyArray<Message> => {
  const names = new Map<string, string>()
  for (const message of messages) {
    for (const part of message.content) if (part.type === "tool_call") names.set(part.id, part.name)
  }
  const out: Array<{ role: Message["role"]; content: Array<ContentPart> }> = []
  for (const message of messages) {
    const role = message.role === "tool" ? "user" : message.role
    const hasToolParts = message.content.some((p) => p.type === "tool_call" || p.type === "tool_result")
    const content: Array<ContentPart> = hasToolParts
      ? [
        ...message.content.filter((p) => p.type === "thinking" || p.type === "image" || p.type === "file"),
        { type: "text", text: textOf(message.content, names) }
      ]
      : [...message.content]
    const previous = out.at(-1)
    if (previous !== undefined && previous.role === role && role !== "system") {
      const lastText = previous.content.at(-1)
      const firstText = content[0]
      if (lastText?.type === "text" && firstText?.type === "text") {
        previous.content[previous.content.length - 1] = { type: "text", text: `${lastText.text}\n\n${firstText.text}` }
        previous.content.push(...content.slice(1))
      } else {
        previous.content.push(...content)
      }
    } else {
      out.push({ role, content })
    }
  }
  return out
}
