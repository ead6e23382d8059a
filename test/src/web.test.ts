/**
 * The web page of `codetether serve` in a real browser (Debian's Chromium,
 * driven by playwright-core): the page built from the sources, the real
 * server, the scripted OpenAI model server. One browser for the file; each
 * test a fresh context, its console errors and page errors collected (none
 * allowed but those it expects), every request checked to stay on the
 * page's origin, and a screenshot of each view saved under
 * test-artifacts/web/.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import type { AddressInfo, Socket } from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Effect, Result } from "effect"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import { INTERRUPTED_CALL_TEXT } from "../../services/SessionLoop.ts"
import * as BrowserUtil from "../utils/Browser.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { RecordedRequest } from "../utils/ScriptedServer.ts"
import * as Serve from "../utils/Serve.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as WebPageFile from "../utils/WebPageFile.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** The page built once and one Chromium for the file, awaited by each test (WebPageFile.ts). */
const file = WebPageFile.setup(BrowserUtil.launch)

/** Console errors a test expects (a 401 it provoked, ...); anything else fails it. */
const checkClean = (opened: BrowserUtil.Opened, origin: string, expected: ReadonlyArray<RegExp> = []) => {
  expect(opened.pageErrors).toEqual([])
  expect(opened.consoleErrors.filter((text) => !expected.some((re) => re.test(text)))).toEqual([])
  expect(BrowserUtil.foreignRequests(opened, origin)).toEqual([])
}

/** Writes `session` into the server's store as 4.5.7 would (the page reads it through the API). */
const writeSession = (h: Serve.Harness, session: Session) => {
  NodeFs.mkdirSync(h.sessionsDir, { recursive: true })
  NodeFs.writeFileSync(NodePath.join(h.sessionsDir, `${session.id}.json`), SessionJson.encode(session))
}

const loadSession = (h: Serve.Harness, id: string) => {
  const decoded = SessionJson.decode(h.sessionBytes(id))
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
}

// a 1x1 PNG
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

const LONG_OUTPUT = Array.from({ length: 40 }, (_, i) => `line ${i + 1} of the test run`).join("\n")

/** A session with every kind of row: Markdown and code, thinking, tool calls (ok, failed), an image, a compaction summary. */
const richSession = (directory: string): Session =>
  Sessions.make({
    id: "11111111-2222-4333-8444-555555555555",
    directory,
    title: "Rename the config loader",
    updatedAt: Sessions.at(3600),
    messages: [
      {
        role: "assistant",
        content: [{
          type: "text",
          text: "[AUTO CONTEXT COMPRESSION]\nOlder conversation and tool output were compressed to fit the context window.\n\nThe user asked to rename `load_config`."
        }]
      },
      { role: "user", content: [{ type: "text", text: "Rename `load_config` to `read_config` and run the tests. <script>alert(1)</script>" }, { type: "image", url: PNG, mimeType: "image/png" }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", text: "I should grep for the callers first." },
          { type: "text", text: "Searching for **callers** first." },
          { type: "tool_call", id: "call_grep", name: "grep", arguments: "{\"pattern\":\"load_config\"}" }
        ]
      },
      Message.toolResult("call_grep", "src/main.rs:12: load_config()\nsrc/lib.rs:40: pub fn load_config()"),
      {
        role: "assistant",
        content: [
          { type: "text", text: "Renaming and running the tests:" },
          { type: "tool_call", id: "call_test", name: "bash", arguments: "{\"command\":\"cargo test\"}" },
          { type: "tool_call", id: "call_bad", name: "read", arguments: "{\"path\":\"missing.rs\"}" }
        ]
      },
      Message.toolResult("call_test", LONG_OUTPUT),
      Message.toolResult("call_bad", "error: missing.rs: No such file or directory"),
      {
        role: "assistant",
        content: [{
          type: "text",
          text: "Done. The function is now:\n\n```rust\npub fn read_config(path: &Path) -> Result<Config> {\n    let text = std::fs::read_to_string(path)?;\n    Ok(toml::from_str(&text)?)\n}\n```\n\n| file | change |\n|---|---|\n| src/lib.rs | renamed |\n| src/main.rs | caller |"
        }]
      }
    ]
  }) satisfies Session as Session

const withToolUses = (session: Session): Session => ({
  ...session,
  metadata: { ...session.metadata, model: "openai/gpt-4o" },
  usage: { promptTokens: 12_000, completionTokens: 800, totalTokens: 12_800, cacheReadTokens: null, cacheWriteTokens: null },
  toolUses: [
    { id: "call_grep", name: "grep", input: "{\"pattern\":\"load_config\"}", output: "…", success: true },
    { id: "call_test", name: "bash", input: "{\"command\":\"cargo test\"}", output: LONG_OUTPUT, success: true },
    { id: "call_bad", name: "read", input: "{\"path\":\"missing.rs\"}", output: "error", success: false }
  ]
})

/** A model that runs `sleep 30` once, then answers. */
const sleeper = (request: RecordedRequest) => {
  const messages = (request.body as { messages: Array<{ role: string }> }).messages
  return messages.at(-1)!.role === "tool"
    ? OpenAiServer.text("woke up")
    : OpenAiServer.toolCalls([{ id: "call_sleep", name: "bash", arguments: { command: "sleep 30" } }])
}

const lastUserText = (request: RecordedRequest): string => {
  const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
  const user = [...messages].reverse().find((m) => m.role === "user")!
  return typeof user.content === "string" ? user.content : JSON.stringify(user.content)
}


/** 10,000 messages: a user question, an assistant step with a tool call, its result, an answer; 2,500 times. */
const tenThousand = (directory: string): Session =>
  Sessions.make({
    id: "10000000-0000-4000-8000-000000010000",
    directory,
    title: "Ten thousand messages",
    messages: Sessions.conversation(10_000),
    updatedAt: Sessions.at(9000)
  })

/** Opens the page through the token link, then the session `id`; returns when its transcript is painted. */
const openSession = (opened: BrowserUtil.Opened, url: string, token: string, id: string) =>
  promise(async () => {
    await opened.page.goto(`${url}/#token=${encodeURIComponent(token)}`)
    await opened.page.getByRole("list", { name: "Session list" }).waitFor()
    await opened.page.evaluate(`location.hash = ${JSON.stringify(`#/s/${id}`)}`)
    await opened.page.locator(`html[data-transcript-painted="${id}"]`).waitFor({ state: "attached" })
    await opened.page.locator(`[data-session="${id}"][data-connection="live"]`).waitFor()
  })

/** Waits until `check` holds (polling). */
const eventually = (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) =>
  promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  })

/**
 * An HTTP proxy in front of the server (the Host header rewritten to the
 * server's): `drop()` breaks every open connection and refuses new ones
 * until `restore()`, as a network that goes away would.
 */
const makeProxy = (target: string) =>
  Effect.acquireRelease(
    promise(() =>
      new Promise<{
        readonly url: string
        readonly lastEventIds: Array<string | undefined>
        readonly drop: () => void
        readonly restore: () => void
        readonly server: NodeHttp.Server
      }>((resolve) => {
        const upstream = new URL(target)
        const sockets = new Set<Socket>()
        const lastEventIds: Array<string | undefined> = []
        let down = false
        const server = NodeHttp.createServer((req, res) => {
          if (down) {
            req.socket.destroy()
            return
          }
          if (req.url?.endsWith("/events") === true) lastEventIds.push(req.headers["last-event-id"] as string | undefined)
          const forward = NodeHttp.request(
            { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers)
              answer.pipe(res)
              answer.on("error", () => res.destroy())
            }
          )
          forward.on("error", () => res.destroy())
          res.on("close", () => forward.destroy())
          req.pipe(forward)
        })
        server.on("connection", (socket) => {
          sockets.add(socket)
          socket.on("close", () => sockets.delete(socket))
          if (down) socket.destroy()
        })
        server.listen(0, "127.0.0.1", () =>
          resolve({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            lastEventIds,
            server,
            drop: () => {
              down = true
              for (const socket of sockets) socket.destroy()
            },
            restore: () => {
              down = false
            }
          }))
      })
    ),
    (proxy) => promise(() => new Promise<void>((resolve) => {
      proxy.server.closeAllConnections()
      proxy.server.close(() => resolve())
    }))
  )

/** Network errors Chromium logs while the proxy is down. */
const NETWORK_ERRORS = [/net::ERR_(EMPTY_RESPONSE|CONNECTION_RESET|CONNECTION_CLOSED|CONNECTION_REFUSED|INCOMPLETE_CHUNKED_ENCODING)/, /Failed to load resource/]

describe("the web page in Chromium", () => {
  it.live("the token link, the list, a transcript (Markdown, code, thinking, tool cards, compaction, image), a tool call expanded", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      writeSession(h, withToolUses(richSession(h.repo)))
      writeSession(h, Sessions.make({ directory: h.repo, title: "An older session", updatedAt: Sessions.at(60), messages: 4 }))
      const opened = yield* promise(async () => BrowserUtil.open(await file.browser()))
      const { page } = opened
      yield* promise(() => page.goto(`${h.url}/#token=${encodeURIComponent(h.token)}`))
      // the fragment is read and removed at once; the token stays in this tab's sessionStorage
      yield* promise(() => page.getByRole("list", { name: "Session list" }).getByText("Rename the config loader").waitFor())
      expect(page.url()).toBe(`${h.url}/`)
      expect(yield* promise(() => page.evaluate("sessionStorage.getItem('codetether.token')"))).toBe(h.token)
      // about:blank and the page, whose entry was replaced: no entry with the token was added
      expect(yield* promise(() => page.evaluate("history.length"))).toBe(2)
      const items = page.getByRole("list", { name: "Session list" }).getByRole("listitem")
      expect(yield* promise(() => items.allInnerTexts())).toEqual([
        // no per-step records: the total priced at the session's model (gpt-4o: $2.50 in, $10 out per million)
        expect.stringMatching(/^Rename the config loader\n…\/codetether-serve-\w+\/repo\n2026-01-01\n8 msg\n13k tok\n\$0\.04$/),
        expect.stringMatching(/^An older session\n/)
      ])
      yield* promise(() => opened.screenshot("1-list"))

      yield* promise(() => page.getByText("Rename the config loader").first().click())
      const transcript = page.locator(".transcript")
      yield* promise(() => transcript.getByText("Done. The function is now:").waitFor())
      expect(page.url()).toBe(`${h.url}/#/s/11111111-2222-4333-8444-555555555555`)
      // Markdown: bold, a highlighted Rust block, a table; raw HTML shown as text, never run
      expect(yield* promise(() => transcript.locator("strong").first().innerText())).toBe("callers")
      expect(yield* promise(() => transcript.locator("pre.code .hljs-keyword").first().innerText())).toBe("pub")
      expect(yield* promise(() => transcript.locator("table td").first().innerText())).toBe("src/lib.rs")
      expect(yield* promise(() => transcript.getByText("<script>alert(1)</script>", { exact: false }).count())).toBe(1)
      expect(yield* promise(() => transcript.locator("script").count())).toBe(0)
      // thinking collapsed; the compaction summary marked; the image shown
      expect(yield* promise(() => transcript.locator("details.thinking").first().getAttribute("open"))).toBeNull()
      expect(yield* promise(() => transcript.getByText("Context compacted").count())).toBe(1)
      expect(yield* promise(() => transcript.locator("img.attachment").count())).toBe(1)
      // tool cards: ok, failed; the result collapsed to its first lines with its size
      const cards = transcript.locator(".tool")
      expect(yield* promise(() => cards.count())).toBe(3)
      const test = transcript.locator(".tool[data-tool=bash]")
      expect(yield* promise(() => test.locator(".tool-summary").innerText())).toBe("$ cargo test")
      expect(yield* promise(() => test.locator(".badge").innerText())).toBe("ok")
      expect(yield* promise(() => test.locator(".tool-meta").innerText())).toBe("40 lines · 950 B")
      expect(yield* promise(() => test.locator(".tool-preview").innerText())).toContain("… 34 more lines")
      expect(yield* promise(() => test.getByText("line 40 of the test run").count())).toBe(0)
      expect(yield* promise(() => transcript.locator(".tool[data-tool=read] .badge").innerText())).toBe("failed")
      yield* promise(() => opened.screenshot("2-session"))

      // expand: the arguments and the whole output
      yield* promise(() => test.locator(".tool-head").click())
      expect(yield* promise(() => test.locator(".tool-head").getAttribute("aria-expanded"))).toBe("true")
      yield* promise(() => test.getByText("line 40 of the test run", { exact: false }).waitFor())
      expect(yield* promise(() => test.locator(".tool-body pre.code").innerText())).toContain("\"command\": \"cargo test\"")
      yield* promise(() => test.scrollIntoViewIfNeeded())
      yield* promise(() => opened.screenshot("3-tool-expanded"))
      checkClean(opened, h.url)
      yield* promise(() => opened.context.close())
    }))
  it.live("a prompt from the Message box: Shift+Enter starts a new line, Enter sends, the answer streams in", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      const id = yield* promise(() => h.createSession({ model: "openai/gpt-4o" }))
      const answer = "The answer streams in a few characters at a time, so a reader can follow it while the model is still writing. " +
        "It ends with this sentence, which arrives last."
      h.model.respond(() => OpenAiServer.text(answer, { chunkSize: 6, delayMs: 30, usage: { input: 1200, output: 90 } }))
      const opened = yield* promise(async () => BrowserUtil.open(await file.browser()))
      const { page } = opened
      yield* openSession(opened, h.url, h.token, id)
      const box = page.getByRole("textbox", { name: "Message" })
      yield* promise(() => box.click())
      yield* promise(() => box.pressSequentially("first line"))
      yield* promise(() => box.press("Shift+Enter"))
      yield* promise(() => box.pressSequentially("second line"))
      expect(yield* promise(() => box.inputValue())).toBe("first line\nsecond line")
      yield* promise(() => box.press("Enter"))
      // the answer shows while the model still sends it
      const streaming = page.locator(".msg.streaming .answer")
      yield* promise(() => streaming.waitFor())
      yield* eventually(async () => ((await streaming.innerText().catch(() => "")).length > 20), "a partial answer")
      const partial = yield* promise(() => streaming.innerText())
      expect(answer.startsWith(partial.trim())).toBe(true)
      expect(partial.trim().length).toBeLessThan(answer.length)
      expect(yield* promise(() => page.getByRole("button", { name: "Stop" }).isVisible())).toBe(true)
      yield* promise(() => opened.screenshot("4-streaming"))
      // done: the stored transcript holds it, the box is empty, one step in the chart, Send is back
      yield* promise(() => page.locator(".msg-assistant:not(.live)").getByText("which arrives last").waitFor())
      expect(lastUserText(h.model.requests[0]!)).toBe("first line\nsecond line")
      expect(yield* promise(() => page.locator(".msg-user:not(.live) .md").innerText())).toBe("first line\nsecond line")
      expect(yield* promise(() => box.inputValue())).toBe("")
      yield* promise(() => page.locator(".usage-chart .bar[data-seq=\"1\"]").waitFor())
      yield* promise(() => page.getByRole("button", { name: "Send" }).waitFor())
      expect(yield* promise(() => page.locator(".msg.live").count())).toBe(0)
      expect(yield* promise(() => page.locator(".status-line").innerText())).toBe("Done")
      // the totals and the cost come from the server once the prompt has ended
      yield* eventually(
        async () => /^Usage: 1 step · 1\.2k prompt · 90 completion · \$0\.0039$/.test(await page.locator(".usage > summary").innerText()),
        "the usage read again"
      )
      yield* promise(() => opened.screenshot("5-answered"))
      checkClean(opened, h.url)
      yield* promise(() => opened.context.close())
    }))

  it.live("Stop interrupts a running prompt; a prompt of another client shows who holds the session, and Stop works there too", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      const id = yield* promise(() => h.createSession())
      h.model.respond(sleeper)
      const opened = yield* promise(async () => BrowserUtil.open(await file.browser()))
      const { page } = opened
      yield* openSession(opened, h.url, h.token, id)
      const box = page.getByRole("textbox", { name: "Message" })
      yield* promise(() => box.fill("sleep for a while"))
      yield* promise(() => box.press("Enter"))
      const card = page.locator(".msg.live .tool[data-tool=bash]")
      yield* promise(() => card.locator(".badge-running").waitFor())
      expect(yield* promise(() => card.locator(".tool-summary").innerText())).toBe("$ sleep 30")
      expect(yield* promise(() => page.locator(".status-line").innerText())).toBe("Running bash…")
      yield* promise(() => opened.screenshot("6-running"))
      yield* promise(() => page.getByRole("button", { name: "Stop" }).click())
      // interrupted as Ctrl-C does: the call answered, the steps saved; the page shows what was saved
      yield* promise(() => page.getByRole("button", { name: "Send" }).waitFor())
      yield* promise(() => page.locator(".msg:not(.live) .tool[data-tool=bash]").waitFor())
      const saved = loadSession(h, id)
      expect(saved.messages.flatMap((m) => m.content).some((p) => p.type === "tool_result" && p.content === INTERRUPTED_CALL_TEXT)).toBe(true)
      yield* promise(() => page.locator(".msg:not(.live) .tool[data-tool=bash] .tool-preview").getByText(INTERRUPTED_CALL_TEXT.split("\n")[0]!, { exact: false }).waitFor())
      expect(yield* promise(() => page.locator(".tool .badge-running").count())).toBe(0)

      // another client's prompt on this server: the page follows it and names the holder, with Stop
      const fromApi = h.post(`/api/session/${id}/prompt`, { message: "sleep from the api" })
      const busy = page.locator(".busy")
      yield* promise(() => busy.waitFor())
      expect(yield* promise(() => busy.innerText())).toMatch(
        new RegExp(`^Busy: session ${id} is busy: a prompt started by pid ${process.pid} at \\d\\d:\\d\\d:\\d\\d is running\\s*Stop$`)
      )
      yield* promise(() => page.locator(".msg.live .tool[data-tool=bash] .badge-running").waitFor())
      yield* promise(() => opened.screenshot("7-busy"))
      yield* promise(() => busy.getByRole("button", { name: "Stop" }).click())
      expect((yield* promise(() => fromApi)).status).toBe(409)
      yield* promise(() => busy.waitFor({ state: "detached" }))

      // a lease held by another process of this host (not stoppable from here)
      NodeFs.writeFileSync(NodePath.join(h.sessionsDir, `${id}.json.lock`), JSON.stringify({
        pid: process.ppid,
        host: NodeOs.hostname(),
        started_at: new Date().toISOString(),
        purpose: "prompt",
        token: "elsewhere"
      }))
      yield* promise(() => busy.waitFor({ timeout: 10_000 }))
      expect(yield* promise(() => busy.innerText())).toContain(`a prompt started by pid ${process.ppid} at`)
      expect(yield* promise(() => busy.getByRole("button", { name: "Stop" }).count())).toBe(0)
      NodeFs.rmSync(NodePath.join(h.sessionsDir, `${id}.json.lock`))
      checkClean(opened, h.url)
      yield* promise(() => opened.context.close())
    }), 60_000)

  it.live("a broken connection reconnects with Last-Event-ID and misses no durable event written meanwhile", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      const proxy = yield* makeProxy(h.url)
      const id = yield* promise(() => h.createSession())
      // two model round trips per prompt: two TokenUsage records each
      h.model.respond((request) => {
        const messages = (request.body as { messages: Array<{ role: string }> }).messages
        return messages.at(-1)!.role === "tool"
          ? OpenAiServer.text(`answer ${messages.length}`)
          : OpenAiServer.toolCalls([{ id: `call_${messages.length}`, name: "bash", arguments: { command: "true" } }])
      })
      const opened = yield* promise(async () => BrowserUtil.open(await file.browser()))
      const { page } = opened
      yield* openSession(opened, proxy.url, h.token, id)
      expect((yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "first" }))).status).toBe(200)
      yield* promise(() => page.locator(".usage-chart .bar[data-seq=\"2\"]").waitFor())
      expect(proxy.lastEventIds).toEqual(["0"])

      // the network goes away; a prompt runs meanwhile (seq 3 and 4); the network comes back
      proxy.drop()
      yield* promise(() => page.locator(`[data-session="${id}"][data-connection="reconnecting"]`).waitFor())
      expect((yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "second" }))).status).toBe(200)
      yield* promise(() => opened.screenshot("8-reconnecting"))
      proxy.restore()
      yield* promise(() => page.locator(`[data-session="${id}"][data-connection="live"]`).waitFor())
      yield* promise(() => page.locator(".usage-chart .bar[data-seq=\"4\"]").waitFor())
      // resumed after the last event it had: 3 and 4 replayed, each once
      expect(proxy.lastEventIds.at(-1)).toBe("2")
      const seqs = yield* promise(() => page.locator(".usage-chart .bar").evaluateAll((bars) => bars.map((b) => b.getAttribute("data-seq"))))
      expect(seqs).toEqual(["1", "2", "3", "4"])
      // the transcript missed the SessionSync of the second prompt: read again on reconnection
      yield* promise(() => page.locator(".msg:not(.live)").getByText("answer 8").waitFor())
      // and it keeps following: a third prompt arrives live
      expect((yield* promise(() => h.post(`/api/session/${id}/prompt`, { message: "third" }))).status).toBe(200)
      yield* promise(() => page.locator(".usage-chart .bar[data-seq=\"6\"]").waitFor())
      expect(yield* promise(() => page.locator(".usage-chart .bar").count())).toBe(6)
      checkClean(opened, proxy.url, NETWORK_ERRORS)
      yield* promise(() => opened.context.close())
    }), 60_000)

  it.live("a session of 10,000 messages opens without freezing: only the rows on screen are in the DOM", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      const big = tenThousand(h.repo)
      writeSession(h, big)
      const opened = yield* promise(async () => BrowserUtil.open(await file.browser()))
      const { page } = opened
      yield* promise(() => page.goto(`${h.url}/#token=${encodeURIComponent(h.token)}`))
      yield* promise(() => page.getByRole("list", { name: "Session list" }).getByText("Ten thousand messages").waitFor())
      // the longest task of the main thread while the session opens
      yield* promise(() =>
        page.evaluate(`(() => {
          window.__longest = 0
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration)
          }).observe({ type: "longtask", buffered: false })
        })()`)
      )
      yield* promise(() => page.getByText("Ten thousand messages").first().click())
      yield* promise(() => page.locator(`html[data-transcript-painted="${big.id}"]`).waitFor({ state: "attached" }))
      const openToPaint = (yield* promise(() =>
        page.evaluate(`performance.getEntriesByName(${JSON.stringify(`codetether:open-to-paint:${big.id}`)})[0].duration`)
      )) as number
      // it opens at the end: the last messages paint first, then the whole session is numbered in place
      yield* promise(() => page.locator("[data-message=\"9999\"]").waitFor())
      const rows = Number(yield* promise(() => page.locator(".transcript").getAttribute("data-rows")))
      // tool results sit in their call's card: 2,500 tool messages need no row of their own
      expect(rows).toBe(7500)
      const inDom = yield* promise(() => page.locator(".transcript .row").count())
      expect(inDom).toBeGreaterThan(0)
      expect(inDom).toBeLessThan(60)
      yield* promise(() => opened.screenshot("9-ten-thousand-end"))
      // scrolling renders what comes into view
      yield* promise(() => page.locator(".transcript").evaluate((el) => { el.scrollTop = 0 }))
      yield* promise(() => page.locator("[data-message=\"0\"]").waitFor())
      yield* promise(() => page.locator(".transcript").evaluate((el) => { el.scrollTop = el.scrollHeight / 2 }))
      yield* eventually(async () => (await page.locator(".transcript .row").count()) > 0 && (await page.locator("[data-message=\"0\"]").count()) === 0, "the middle")
      expect(yield* promise(() => page.locator(".transcript .row").count())).toBeLessThan(60)
      const longest = (yield* promise(() => page.evaluate("window.__longest"))) as number
      const phase = (name: string) =>
        promise(async () => Math.round((await page.evaluate(`performance.getEntriesByName(${JSON.stringify(`codetether:${name}:${big.id}`)})[0].duration`)) as number))
      const timings = {
        messages: 10_000,
        openToFirstPaintMs: Math.round(openToPaint),
        openToWholeMs: yield* phase("open-to-whole"),
        fetchSessionMs: yield* phase("fetch-session"),
        buildRowsMs: yield* phase("build-rows"),
        longestTaskMs: Math.round(longest),
        rowsInDom: inDom
      }
      NodeFs.writeFileSync(NodePath.join(BrowserUtil.ARTIFACTS, "ten-thousand.json"), JSON.stringify(timings, null, 2))
      console.log(`10,000-message session: ${JSON.stringify(timings)}`)
      checkClean(opened, h.url)
      yield* promise(() => opened.context.close())
    }), 60_000)

  it.live("without the link the page asks for the token once; a wrong one is refused; search opens a session at the message", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      writeSession(h, withToolUses(richSession(h.repo)))
      writeSession(h, Sessions.make({ directory: h.repo, title: "Unrelated", updatedAt: Sessions.at(7200), messages: 6 }))
      const opened = yield* promise(async () => BrowserUtil.open(await file.browser()))
      const { page } = opened
      yield* promise(() => page.goto(`${h.url}/`))
      const token = page.getByLabel("Token")
      yield* promise(() => token.waitFor())
      yield* promise(() => opened.screenshot("0-token"))
      yield* promise(() => token.fill("not-the-token"))
      yield* promise(() => page.getByRole("button", { name: "Open" }).click())
      yield* promise(() => page.getByRole("alert").getByText("The server refused this token.").waitFor())
      yield* promise(() => token.fill(h.token))
      yield* promise(() => page.getByRole("button", { name: "Open" }).click())
      yield* promise(() => page.getByRole("list", { name: "Session list" }).getByText("Unrelated").waitFor())
      // kept for the tab: a reload does not ask again
      yield* promise(() => page.reload())
      yield* promise(() => page.getByRole("list", { name: "Session list" }).getByText("Unrelated").waitFor())
      expect(yield* promise(() => page.getByLabel("Token").count())).toBe(0)

      yield* promise(() => page.getByPlaceholder("Search messages…").fill("read_config"))
      const results = page.getByRole("list", { name: "Search results" })
      yield* promise(() => results.getByText("Rename the config loader").waitFor())
      const hits = results.locator(".hit")
      expect(yield* promise(() => hits.allInnerTexts())).toEqual([
        expect.stringMatching(/^#1 user\n.*read_config/),
        expect.stringMatching(/^#7 assistant\n.*read_config/)
      ])
      yield* promise(() => hits.nth(1).click())
      expect(page.url()).toBe(`${h.url}/#/s/11111111-2222-4333-8444-555555555555/m/7`)
      yield* promise(() => page.locator(".row.focused [data-message=\"7\"]").waitFor())
      yield* promise(() => opened.screenshot("10-search"))
      // the token never went into a URL
      expect(opened.requests.filter((url) => url.includes(h.token))).toEqual([])
      checkClean(opened, h.url, [/status of 401/])
      yield* promise(() => opened.context.close())
    }))
})
