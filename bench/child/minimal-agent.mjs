// The baseline of `npm run bench` (issue 3): the least an agent loop can do
// for the 2-turn task, with no dependencies. POST the transcript to an
// OpenAI-compatible /chat/completions with stream: true, parse the SSE by
// hand, run the requested shell command, send its output back, print the
// answer. argv: <base url> <message>
import { execSync } from "node:child_process"

const [baseUrl, message] = process.argv.slice(2)
const messages = [{ role: "system", content: "You are a coding agent." }, { role: "user", content: message }]
const tools = [{
  type: "function",
  function: { name: "bash", description: "Run a shell command", parameters: { type: "object", properties: { command: { type: "string" } }, required: ["command"] } }
}]

for (let step = 0; step < 10; step++) {
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
    body: JSON.stringify({ model: "gpt-4o", messages, tools, stream: true })
  })
  let text = ""
  const calls = new Map()
  let buffer = ""
  const decoder = new TextDecoder()
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true })
    let end
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue
        const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta
        if (delta?.content) text += delta.content
        for (const call of delta?.tool_calls ?? []) {
          const current = calls.get(call.index) ?? { id: call.id, name: call.function?.name, arguments: "" }
          current.arguments += call.function?.arguments ?? ""
          calls.set(call.index, current)
        }
      }
    }
  }
  if (calls.size === 0) {
    console.log(text)
    break
  }
  messages.push({
    role: "assistant",
    content: text || null,
    tool_calls: [...calls.values()].map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }))
  })
  for (const call of calls.values()) {
    const output = execSync(JSON.parse(call.arguments).command, { encoding: "utf8" })
    messages.push({ role: "tool", tool_call_id: call.id, content: output })
  }
}
