/**
 * Small builders of sessions for tests (the encoded form is what 4.5.7 writes).
 */
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionMetadata from "../../schemas/SessionMetadata.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"
import * as Usage from "../../schemas/Usage.ts"

let counter = 0

export const at = (seconds: number, nanos = 0): Timestamp.Timestamp =>
  Timestamp.fromEpochNanos(BigInt(Date.UTC(2026, 0, 1) / 1000 + seconds) * 1_000_000_000n + BigInt(nanos))

export const make = (options: {
  readonly id?: string
  readonly directory?: string | null
  readonly title?: string | null
  readonly messages?: number | ReadonlyArray<Message.Message>
  readonly toolUses?: number
  readonly updatedAt?: Timestamp.Timestamp
} = {}): Session => {
  const id = options.id ?? `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`
  const messages = typeof options.messages === "number" || options.messages === undefined
    ? Array.from({ length: options.messages ?? 2 }, (_, i) => Message.text(i % 2 === 0 ? "user" : "assistant", `message ${i}`))
    : options.messages
  return {
    id,
    title: options.title === undefined ? `session ${id}` : options.title,
    createdAt: at(0),
    updatedAt: options.updatedAt ?? at(60),
    metadata: SessionMetadata.defaults(options.directory === undefined ? "/work/project" : options.directory),
    agent: "build",
    messages,
    toolUses: Array.from({ length: options.toolUses ?? 0 }, (_, i) => ({
      id: `call_${i}`,
      name: "read",
      input: "{}",
      output: `out ${i}`,
      success: true
    })),
    usage: Usage.empty
  }
}

/**
 * A long conversation of `count` messages (a multiple of 4): a user question,
 * an assistant step with a `read` tool call, its result, an assistant answer
 * with a code block; repeated.
 */
export const conversation = (count: number): Array<Message.Message> => {
  const messages: Array<Message.Message> = []
  for (let i = 0; i < count / 4; i++) {
    messages.push(Message.text("user", `Question ${i}: what does \`step_${i}\` do?`))
    messages.push({
      role: "assistant",
      content: [
        { type: "text", text: `Let me look at **step_${i}**.` },
        { type: "tool_call", id: `call_${i}`, name: "read", arguments: JSON.stringify({ path: `src/step_${i}.rs` }) }
      ]
    })
    messages.push(Message.toolResult(`call_${i}`, `fn step_${i}() {\n    run(${i});\n}`))
    messages.push(Message.text("assistant", `\`step_${i}\` calls \`run(${i})\`:\n\n\`\`\`rust\nfn step_${i}() { run(${i}) }\n\`\`\``))
  }
  return messages
}
