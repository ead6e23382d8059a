/**
 * A scripted model server for the example: an OpenAI-compatible
 * `POST /v1/chat/completions` endpoint on 127.0.0.1 that streams (SSE) a
 * fixed two-turn script, decided from the request itself:
 * - no tool result in the conversation yet: call the `list` tool on ".";
 * - a tool result is there: answer "There are <n> entries here.", counting
 *   the lines of the tool result.
 * No dependency; every request is recorded in `requests`.
 *
 * Run it alone with `node scripted-model-server.mjs [port]`, or import
 * `start()` (scripts/e2e.mjs does).
 */
import * as Http from "node:http"

const sse = (res, chunks) => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
  for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`)
  res.end("data: [DONE]\n\n")
}

const chunk = (model, delta, finish = null, usage = undefined) => ({
  id: "chatcmpl-scripted",
  object: "chat.completion.chunk",
  created: 0,
  model,
  choices: usage === undefined ? [{ index: 0, delta, finish_reason: finish }] : [],
  ...(usage === undefined ? {} : { usage })
})

const answer = (body) => {
  const model = body.model ?? "scripted-model"
  const results = (body.messages ?? []).filter((m) => m.role === "tool")
  const usage = { prompt_tokens: 20 * (results.length + 1), completion_tokens: 8, total_tokens: 20 * (results.length + 1) + 8 }
  if (results.length === 0) {
    return [
      chunk(model, { role: "assistant", tool_calls: [{ index: 0, id: "call_list", type: "function", function: { name: "list", arguments: "" } }] }),
      chunk(model, { tool_calls: [{ index: 0, function: { arguments: "{\"path\":\".\"}" } }] }),
      chunk(model, {}, "tool_calls"),
      chunk(model, {}, null, usage)
    ]
  }
  const output = String(results.at(-1).content ?? "")
  const count = output.trim() === "" || output.startsWith("(") ? 0 : output.trim().split("\n").length
  const text = `There are ${count} entries here.`
  return [
    chunk(model, { role: "assistant", content: text.slice(0, 10) }),
    chunk(model, { content: text.slice(10) }),
    chunk(model, {}, "stop"),
    chunk(model, {}, null, usage)
  ]
}

/** Starts the server on 127.0.0.1 (`port` 0: any free port); resolves to its base URL, its requests and `close`. */
export const start = (port = 0) =>
  new Promise((resolve) => {
    const requests = []
    const server = Http.createServer((req, res) => {
      let raw = ""
      req.on("data", (d) => (raw += d))
      req.on("end", () => {
        if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
          res.writeHead(404, { "content-type": "application/json" })
          res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }))
          return
        }
        const body = JSON.parse(raw)
        requests.push(body)
        sse(res, answer(body))
      })
    })
    server.listen(port, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}/v1`
      resolve({ url, requests, close: () => new Promise((done) => server.close(() => done())) })
    })
  })

if (import.meta.main) {
  const { url } = await start(Number(process.argv[2] ?? 0))
  console.log(`scripted model server on ${url}`)
}
