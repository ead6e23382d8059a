/**
 * The web page of `codetether serve` (issue 14): how long a session of
 * 10,000 messages takes to open, from the moment the page starts opening it
 * to the first frame with its transcript on screen, against a session of
 * 100 messages opened the same way in the same run (interleaved). Also
 * reported: the part spent fetching the session (the server's load and
 * encode, the transfer, JSON.parse), the longest main-thread task while
 * opening (a freeze shows here), and how many rows are in the DOM (the list
 * is virtualised: only what is on screen).
 *
 * The bundled binary serves the page it ships (dist/web); Debian's Chromium
 * (playwright-core) opens it. Loopback only.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { chromium } from "playwright-core"
import * as SessionJson from "../schemas/SessionJson.ts"
import { CHROMIUM, FLAGS } from "../test/utils/Browser.ts"
import * as Sessions from "../test/utils/Sessions.ts"
import { median, ms, repo, type Row, startServe } from "./harness.ts"

const BIG = "10000000-0000-4000-8000-000000010000"
const SMALL = "10000000-0000-4000-8000-000000000100"

export const benchWeb = async (work: string, quick: boolean): Promise<ReadonlyArray<Row>> => {
  const runs = quick ? 3 : 7
  const project = NodePath.join(work, "project")
  NodeFs.mkdirSync(NodePath.join(project, ".git"), { recursive: true })
  const data = NodePath.join(project, ".codetether-agent")
  const sessionsDir = NodePath.join(data, "sessions")
  NodeFs.mkdirSync(sessionsDir, { recursive: true })
  const big = Sessions.make({ id: BIG, directory: project, title: "10,000 messages", messages: Sessions.conversation(10_000) })
  const small = Sessions.make({ id: SMALL, directory: project, title: "100 messages", messages: Sessions.conversation(100) })
  const bigBytes = SessionJson.encode(big)
  NodeFs.writeFileSync(NodePath.join(sessionsDir, `${BIG}.json`), bigBytes)
  NodeFs.writeFileSync(NodePath.join(sessionsDir, `${SMALL}.json`), SessionJson.encode(small))

  const bin = process.env.CODETETHER_BENCH_BIN ?? NodePath.join(repo, "dist/bin/codetether.js")
  const served = startServe(bin, ["--port", "0"], {
    cwd: project,
    env: { CODETETHER_DATA_DIR: data, CODETETHER_SERVER_TOKEN: "bench-token", XDG_CONFIG_HOME: NodePath.join(work, "config") }
  })
  const { child, exited } = served
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: FLAGS })
  try {
    const url = await served.url
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(30_000)
    await page.goto(`${url}/#token=bench-token`)
    await page.getByRole("list", { name: "Session list" }).getByText("10,000 messages").waitFor()
    await page.evaluate(`(() => {
      window.__longest = 0
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration)
      }).observe({ type: "longtask" })
    })()`)

    const open = async (id: string) => {
      await page.evaluate(`location.hash = "#/"; delete document.documentElement.dataset.transcriptPainted; window.__longest = 0`)
      await page.locator(".session.placeholder").waitFor()
      await page.evaluate(`location.hash = "#/s/${id}"`)
      await page.locator(`html[data-transcript-painted="${id}"]`).waitFor({ state: "attached" })
      await page.locator(`[data-session="${id}"] .transcript:not(.loading)`).waitFor()
      // the whole session is in once its messages are numbered
      await page.locator(".transcript .msg-head .index").first().waitFor()
      const last = (name: string) =>
        page.evaluate(`performance.getEntriesByName("codetether:${name}:${id}").at(-1)?.duration ?? 0`) as Promise<number>
      return {
        openToPaint: await last("open-to-paint"),
        openToWhole: await last("open-to-whole"),
        fetch: await last("fetch-session"),
        longest: (await page.evaluate("window.__longest")) as number,
        rows: await page.locator(".transcript .row").count()
      }
    }
    await open(SMALL)
    await open(BIG)
    const results = { big: [] as Array<Awaited<ReturnType<typeof open>>>, small: [] as Array<Awaited<ReturnType<typeof open>>> }
    for (let i = 0; i < runs; i++) {
      for (const which of i % 2 === 0 ? (["big", "small"] as const) : (["small", "big"] as const)) {
        results[which].push(await open(which === "big" ? BIG : SMALL))
      }
    }
    const bigPaint = median(results.big.map((r) => r.openToPaint))
    const smallPaint = median(results.small.map((r) => r.openToPaint))
    const bigFetch = median(results.big.map((r) => r.fetch))
    const bigWhole = median(results.big.map((r) => r.openToWhole))
    const smallWhole = median(results.small.map((r) => r.openToWhole))
    const longest = Math.max(...results.big.map((r) => r.longest))
    const rows = Math.max(...results.big.map((r) => r.rows))
    return [
      {
        name: `open a 10,000-message session (${(bigBytes.length / 2 ** 20).toFixed(1)} MB) to the first paint of its transcript, median of ${runs}`,
        value: ms(bigPaint),
        baseline: `a 100-message session ${ms(smallPaint)}`,
        ratio: bigPaint / smallPaint
      },
      {
        name: "  until the whole session is in the list (its last 150 messages paint first)",
        value: ms(bigWhole),
        baseline: `the 100-message session ${ms(smallWhole)}`,
        ratio: bigWhole / smallWhole
      },
      { name: "    of which GET /api/session/{id} (the server's load and encode, the transfer, JSON.parse)", value: ms(bigFetch) },
      { name: "  longest main-thread task while opening it (worst run)", value: ms(longest), target: "< 500 ms", ok: longest < 500 },
      { name: "  rows in the DOM (of 7,500)", value: String(rows), target: "< 60", ok: rows < 60 }
    ]
  } finally {
    await browser.close()
    child.kill("SIGTERM")
    await exited
  }
}
