/**
 * Debian's Chromium driven by playwright-core, for tests of the web page.
 *
 * One browser per test file ({@link launch}); each test opens a fresh
 * context ({@link open}: its own storage) and gets the page's console
 * errors, uncaught exceptions and every request it made, so a test can
 * assert that nothing failed and that no request left the origin.
 *
 * Chromium must be installed (`apt-get install -y chromium`; `.ci/run`
 * installs it): a missing browser fails the tests, it never skips them.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core"

/** Where Debian puts Chromium (`CODETETHER_CHROMIUM` overrides it). */
export const CHROMIUM = process.env.CODETETHER_CHROMIUM ?? "/usr/bin/chromium"

/**
 * Flags for a machine without a network: no background requests (update
 * checks, sync, component downloads) that a closed network would refuse
 * many times over; no GPU, no QUIC. Playwright adds `--headless`,
 * `--no-sandbox` (root) and a fresh temporary `--user-data-dir` per launch.
 */
export const FLAGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** Screenshots of the tests: `test-artifacts/web/<name>.png` (gitignored). */
export const ARTIFACTS = NodePath.resolve(import.meta.dirname, "../../test-artifacts/web")

export const launch = async (): Promise<Browser> => {
  if (!NodeFs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium); .ci/run installs it before the tests`)
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: FLAGS })
}

export interface Opened {
  readonly context: BrowserContext
  readonly page: Page
  /** `console.error` messages, in order. */
  readonly consoleErrors: Array<string>
  /** Uncaught exceptions and unhandled rejections of the page. */
  readonly pageErrors: Array<string>
  /** Every request the page made (URL), in order. */
  readonly requests: Array<string>
  /** Saves a screenshot of the viewport as `<name>.png`. */
  readonly screenshot: (name: string) => Promise<string>
}

export const open = async (browser: Browser, options: { readonly width?: number; readonly height?: number } = {}): Promise<Opened> => {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    deviceScaleFactor: 1
  })
  const page = await context.newPage()
  // a page that does not get there in 10 s is broken: fail soon, with the call log
  page.setDefaultTimeout(10_000)
  const consoleErrors: Array<string> = []
  const pageErrors: Array<string> = []
  const requests: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text())
  })
  page.on("pageerror", (error) => pageErrors.push(String(error)))
  context.on("request", (request) => requests.push(request.url()))
  NodeFs.mkdirSync(ARTIFACTS, { recursive: true })
  return {
    context,
    page,
    consoleErrors,
    pageErrors,
    requests,
    screenshot: async (name) => {
      const path = NodePath.join(ARTIFACTS, `${name}.png`)
      await page.screenshot({ path })
      return path
    }
  }
}

/** The requests of `opened` whose origin is not `origin` (data: URLs are not requests to anyone). */
export const foreignRequests = (opened: Opened, origin: string): Array<string> =>
  opened.requests.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin)
