/**
 * The set-up a browser test file of the web page shares: the page built
 * once from the sources into a temp dir (as the package ships it), and one
 * browser for the file, started in `beforeAll` but awaited by each test, so
 * a missing browser fails every test with its install command (a throwing
 * `beforeAll` makes vitest report the tests as skipped, which CI's summary
 * line would not count as failures). Both are removed after the file.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { buildWeb } from "../../scripts/build-web.ts"

export interface WebPageFile<B> {
  /** The file's browser (rejects with the launch error when it could not start). */
  readonly browser: () => Promise<B>
  /** The directory holding the built page (`Serve.make({ webRoot })`). */
  readonly webRoot: () => string
}

/** Registers the file's `beforeAll`/`afterAll`; call at the top of a test file. */
export const setup = <B extends { close(): Promise<void> }>(launch: () => Promise<B>): WebPageFile<B> => {
  let browser: Promise<B> | undefined
  let webRoot: string | undefined
  beforeAll(async () => {
    webRoot = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-web-build-"))
    await buildWeb(webRoot)
    browser = launch()
    browser.catch(() => undefined)
  }, 120_000)
  afterAll(async () => {
    await browser?.then((b) => b.close(), () => undefined)
    if (webRoot !== undefined) NodeFs.rmSync(webRoot, { recursive: true, force: true })
  })
  return {
    browser: () => browser ?? Promise.reject(new Error("the browser is started in beforeAll")),
    webRoot: () => webRoot!
  }
}
