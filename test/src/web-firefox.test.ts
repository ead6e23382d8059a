/**
 * The web page of `codetether serve` in Firefox (Debian's Firefox ESR,
 * driven by puppeteer-core over WebDriver BiDi): issue 14 asks for a page
 * that works without JavaScript errors in Chromium and Firefox; Chromium is
 * covered in depth by web.test.ts, this file runs the main paths in Firefox.
 * The page built from the sources, the real server, the scripted OpenAI
 * model server; one browser for the file, a fresh browser context per test;
 * no uncaught error, console error or CSP violation allowed, every request
 * on the page's origin; screenshots under test-artifacts/web/firefox-*.png.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Effect } from "effect"
import type { Page } from "puppeteer-core"
import * as Message from "../../schemas/Message.ts"
import type { Session } from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Firefox from "../utils/Firefox.ts"
import * as OpenAiServer from "../utils/OpenAiServer.ts"
import type { RecordedRequest } from "../utils/ScriptedServer.ts"
import * as Serve from "../utils/Serve.ts"
import * as Sessions from "../utils/Sessions.ts"
import * as WebPageFile from "../utils/WebPageFile.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** The page built once and one Firefox for the file, awaited by each test (WebPageFile.ts). */
const file = WebPageFile.setup(Firefox.launch)

/** A fresh browser context and page of the file's Firefox. */
const openPage = promise(async () => Firefox.open(await file.browser()))

/** No uncaught error, no console error (CSP violations included), no request off the origin. */
const checkClean = (opened: Firefox.Opened, origin: string) => {
  expect(opened.pageErrors).toEqual([])
  expect(opened.consoleErrors).toEqual([])
  expect(Firefox.foreignRequests(opened, origin)).toEqual([])
  // the check saw the page's requests at all (the page, its two assets, the API)
  expect(opened.requests.some((url) => url.startsWith(`${origin}/api/`))).toBe(true)
}

/** Writes `session` into the server's store as 4.5.7 would (the page reads it through the API). */
const writeSession = (h: Serve.Harness, session: Session) => {
  NodeFs.mkdirSync(h.sessionsDir, { recursive: true })
  NodeFs.writeFileSync(NodePath.join(h.sessionsDir, `${session.id}.json`), SessionJson.encode(session))
}

/** The value of the expression `expression`, evaluated in the page (the tests' types have no DOM: code for the page is text). */
const inPage = <A>(page: Page, expression: string) => promise(() => page.evaluate(expression) as Promise<A>)

/** The rendered text of the first element matching `selector` ("" when there is none). */
const textOf = (page: Page, selector: string) =>
  inPage<string>(page, `document.querySelector(${JSON.stringify(selector)})?.innerText ?? ""`)

/** Waits until the expression `expression` is truthy in the page; its value. */
const waitFor = <A>(page: Page, expression: string, polling = 50) =>
  promise(() => page.waitForFunction(expression, { polling }).then((handle) => handle.jsonValue() as Promise<A>))

/** Waits until an element matching `selector` shows `text`. */
const waitForText = (page: Page, selector: string, text: string) =>
  waitFor(page, `[...document.querySelectorAll(${JSON.stringify(selector)})].some((e) => e.innerText.includes(${JSON.stringify(text)}))`)

const ID = "21111111-2222-4333-8444-555555555555"
const LONG_OUTPUT = Array.from({ length: 40 }, (_, i) => `line ${i + 1} of the test run`).join("\n")

/** Markdown (bold, a Rust block, a table, raw HTML) and a tool call with its result, as 4.5.7 stores them. */
const session = (directory: string): Session => ({
  ...Sessions.make({
    id: ID,
    directory,
    title: "Rename the config loader",
    updatedAt: Sessions.at(3600),
    messages: [
      Message.text("user", "Rename `load_config` and run the tests. <script>alert(1)</script>"),
      {
        role: "assistant",
        content: [
          { type: "text", text: "Running the **tests**:" },
          { type: "tool_call", id: "call_test", name: "bash", arguments: "{\"command\":\"cargo test\"}" }
        ]
      },
      Message.toolResult("call_test", LONG_OUTPUT),
      Message.text(
        "assistant",
        "Done. The function is now:\n\n```rust\npub fn read_config(path: &Path) -> Result<Config> {\n    todo!()\n}\n```\n\n| file | change |\n|---|---|\n| src/lib.rs | renamed |"
      )
    ]
  }),
  toolUses: [{ id: "call_test", name: "bash", input: "{\"command\":\"cargo test\"}", output: LONG_OUTPUT, success: true }]
})

const lastUserText = (request: RecordedRequest): string => {
  const messages = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages
  const user = [...messages].reverse().find((m) => m.role === "user")!
  return typeof user.content === "string" ? user.content : JSON.stringify(user.content)
}

describe("the web page in Firefox ESR", () => {
  it.live("the token link leaves the address bar, the list shows the sessions, a transcript renders Markdown and a tool card", () =>
    Effect.gen(function*() {
      const h = yield* Serve.make({ webRoot: file.webRoot() })
      writeSession(h, session(h.repo))
      writeSession(h, Sessions.make({ directory: h.repo, title: "An older session", updatedAt: Sessions.at(60), messages: 4 }))
      const opened = yield* openPage
      const { page } = opened
      yield* promise(() => page.goto(`${h.url}/#token=${encodeURIComponent(h.token)}`))
      yield* waitForText(page, "ul[aria-label='Session list'] .item-title", "Rename the config loader")
      // the fragment is read and removed at once; the token stays in this tab's sessionStorage
      expect(page.url()).toBe(`${h.url}/`)
      expect(yield* inPage(page, "location.href")).toBe(`${h.url}/`)
      expect(yield* inPage(page, "sessionStorage.getItem('codetether.token')")).toBe(h.token)
      // one entry (Firefox's navigation replaced the first about:blank), whose URL was replaced: none with the token
      expect(yield* inPage(page, "history.length")).toBe(1)
      const rows = yield* inPage<Array<Array<string>>>(
        page,
        `[...document.querySelectorAll("ul[aria-label='Session list'] li .item")]
          .map((item) => [...item.querySelectorAll(".item-title, .item-meta > *")].map((e) => e.innerText))`
      )
      // newest first: title, date, message count
      expect(rows.map((row) => row.slice(0, 3))).toEqual([
        ["Rename the config loader", "2026-01-01", "4 msg"],
        ["An older session", "2026-01-01", "4 msg"]
      ])
      yield* promise(() => opened.screenshot("1-list"))

      yield* promise(() => page.click("ul[aria-label='Session list'] li:first-child a.item"))
      yield* waitForText(page, ".transcript", "Done. The function is now:")
      expect(page.url()).toBe(`${h.url}/#/s/${ID}`)
      // Markdown: bold, a highlighted Rust block, a table; raw HTML shown as text, never run
      expect(yield* textOf(page, ".transcript strong")).toBe("tests")
      expect(yield* textOf(page, ".transcript pre.code .hljs-keyword")).toBe("pub")
      expect(yield* textOf(page, ".transcript table td")).toBe("src/lib.rs")
      expect(yield* textOf(page, ".transcript .msg-user")).toContain("<script>alert(1)</script>")
      expect(yield* inPage(page, "document.querySelectorAll('.transcript script').length")).toBe(0)
      // the tool card: its command, ok, the result's size, the first lines only
      const card = ".transcript .tool[data-tool=bash]"
      expect(yield* textOf(page, `${card} .tool-summary`)).toBe("$ cargo test")
      expect(yield* textOf(page, `${card} .badge`)).toBe("ok")
      expect(yield* textOf(page, `${card} .tool-meta`)).toBe("40 lines · 950 B")
      expect(yield* textOf(page, `${card} .tool-preview`)).toContain("… 34 more lines")
      expect(yield* textOf(page, card)).not.toContain("line 40 of the test run")
      yield* promise(() => opened.screenshot("2-session"))
      // expanded: the arguments and the whole output
      yield* promise(() => page.click(`${card} .tool-head`))
      yield* waitForText(page, card, "line 40 of the test run")
      expect(yield* inPage(page, `document.querySelector("${card} .tool-head").getAttribute("aria-expanded")`)).toBe("true")
      expect(yield* textOf(page, `${card} .tool-body pre.code`)).toContain("\"command\": \"cargo test\"")
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
      h.model.respond(() => OpenAiServer.text(answer, { chunkSize: 6, delayMs: 40, usage: { input: 1200, output: 90 } }))
      const opened = yield* openPage
      const { page } = opened
      yield* promise(() => page.goto(`${h.url}/#token=${encodeURIComponent(h.token)}`))
      yield* promise(() => page.waitForSelector("ul[aria-label='Session list'] li .item"))
      yield* inPage(page, `location.hash = ${JSON.stringify(`#/s/${id}`)}`)
      yield* promise(() => page.waitForSelector(`html[data-transcript-painted="${id}"]`))
      yield* promise(() => page.waitForSelector(`[data-session="${id}"][data-connection="live"]`))

      yield* promise(() => page.type("#message", "first line"))
      yield* promise(async () => {
        await page.keyboard.down("Shift")
        await page.keyboard.press("Enter")
        await page.keyboard.up("Shift")
      })
      yield* promise(() => page.type("#message", "second line"))
      expect(yield* inPage(page, "document.getElementById('message').value")).toBe("first line\nsecond line")
      yield* promise(() => page.keyboard.press("Enter"))
      // the answer shows while the model still sends it: a strict prefix of the final text
      const partial = yield* waitFor<string>(
        page,
        `(() => {
          const text = document.querySelector(".msg.streaming .answer")?.innerText.trim() ?? ""
          return text.length > 20 ? text : false
        })()`,
        20
      )
      expect(answer.startsWith(partial)).toBe(true)
      expect(partial.length).toBeLessThan(answer.length)
      expect(yield* inPage(page, "[...document.querySelectorAll('button')].some((b) => b.innerText === 'Stop')")).toBe(true)
      yield* promise(() => opened.screenshot("4-streaming"))

      // done: the stored transcript holds it, the box is empty, one step in the chart, Send is back
      yield* waitForText(page, ".msg-assistant:not(.live)", "which arrives last")
      expect(lastUserText(h.model.requests[0]!)).toBe("first line\nsecond line")
      expect(yield* textOf(page, ".msg-user:not(.live) .md")).toBe("first line\nsecond line")
      expect(yield* inPage(page, "document.getElementById('message').value")).toBe("")
      yield* promise(() => page.waitForSelector(".usage-chart .bar[data-seq=\"1\"]"))
      yield* waitForText(page, "button.send", "Send")
      expect(yield* inPage(page, "document.querySelectorAll('.msg.live').length")).toBe(0)
      expect(yield* textOf(page, ".status-line")).toBe("Done")
      // the totals and the cost come from the server once the prompt has ended
      yield* waitFor(page, String.raw`/^Usage: 1 step · 1\.2k prompt · 90 completion · \$0\.0039$/.test(document.querySelector(".usage > summary")?.innerText ?? "")`)
      yield* promise(() => opened.screenshot("5-answered"))
      checkClean(opened, h.url)
      yield* promise(() => opened.context.close())
    }))
})
