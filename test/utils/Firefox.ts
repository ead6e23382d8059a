/**
 * Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi, for
 * tests of the web page (playwright-core drives only its own patched
 * Firefox builds; stock Firefox speaks BiDi, which puppeteer drives).
 *
 * One browser per test file ({@link launch}); each test opens a fresh
 * browser context ({@link open}: its own storage) and gets the page's
 * console errors, uncaught exceptions, Content-Security-Policy violations
 * and every request it made, so a test can assert that nothing failed and
 * that no request left the origin.
 *
 * Firefox ESR must be installed (`apt-get install -y firefox-esr`; `.ci/run`
 * installs it): a missing browser fails the tests, it never skips them.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import puppeteer, { type Browser, type BrowserContext, type Page } from "puppeteer-core"
import { ARTIFACTS } from "./Browser.ts"

/** Where Debian puts Firefox ESR (`CODETETHER_FIREFOX` overrides it). */
export const FIREFOX = process.env.CODETETHER_FIREFOX ?? "/usr/bin/firefox-esr"

/**
 * Preferences for a machine without a network, on top of puppeteer's own
 * (which already turn off updates, telemetry, safe browsing, remote
 * settings, speculative connections and the first-run pages): no
 * captive-portal or connectivity probes, no DNS or link prefetch.
 */
export const PREFS: Record<string, unknown> = {
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false
}

export const launch = async (): Promise<Browser> => {
  if (!NodeFs.existsSync(FIREFOX)) {
    throw new Error(
      `no Firefox at ${FIREFOX}: install Debian's Firefox ESR (apt-get install -y firefox-esr) or set CODETETHER_FIREFOX; .ci/run installs it before the tests`
    )
  }
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: PREFS,
    // a loaded 2-core machine takes ~10 s to start it
    timeout: 60_000
  })
}

export interface Opened {
  readonly context: BrowserContext
  readonly page: Page
  /** `console.error` messages (and the CSP violations, as `CSP violation: …`), in order. */
  readonly consoleErrors: Array<string>
  /** Uncaught exceptions and unhandled rejections of the page. */
  readonly pageErrors: Array<string>
  /** Every request the page made (URL), in order. */
  readonly requests: Array<string>
  /** Saves a screenshot of the viewport as `firefox-<name>.png`. */
  readonly screenshot: (name: string) => Promise<string>
}

/**
 * Runs before the page's own scripts in every document: a CSP violation
 * (a blocked inline style, script or connection) is an event in the page;
 * Firefox 153 also reports it as a page error over BiDi, this listener
 * makes the check independent of that (a violation then shows twice).
 */
const REPORT_CSP_VIOLATIONS = `document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "(inline)"))
})`

export const open = async (browser: Browser, options: { readonly width?: number; readonly height?: number } = {}): Promise<Opened> => {
  const context = await browser.createBrowserContext()
  const page = await context.newPage()
  await page.setViewport({ width: options.width ?? 1280, height: options.height ?? 800, deviceScaleFactor: 1 })
  // a page that does not get there in 10 s is broken: fail soon
  page.setDefaultTimeout(10_000)
  const consoleErrors: Array<string> = []
  const pageErrors: Array<string> = []
  const requests: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text())
  })
  page.on("pageerror", (error) => pageErrors.push(String(error)))
  page.on("request", (request) => {
    requests.push(request.url())
  })
  await page.evaluateOnNewDocument(REPORT_CSP_VIOLATIONS)
  NodeFs.mkdirSync(ARTIFACTS, { recursive: true })
  return {
    context,
    page,
    consoleErrors,
    pageErrors,
    requests,
    screenshot: async (name) => {
      const path = NodePath.join(ARTIFACTS, `firefox-${name}.png`)
      await page.screenshot({ path: path as `${string}.png` })
      return path
    }
  }
}

/** The requests of `opened` whose origin is not `origin` (data: URLs are not requests to anyone). */
export const foreignRequests = (opened: Opened, origin: string): Array<string> =>
  opened.requests.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin)
