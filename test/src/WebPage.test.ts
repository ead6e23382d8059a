/**
 * Where `serve` finds the page in its package (the sources, the library's
 * dist/src, the CLI bundle's dist/bin/chunks) and what it reads of it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"
import * as WebPage from "../../src/WebPage.ts"
import * as TempDir from "../utils/TempDir.ts"

const write = (path: string, content: string) => {
  NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
  NodeFs.writeFileSync(path, content)
}

describe("WebPage", () => {
  it.effect("locate: dist/web of the package, from the sources, the library build and the CLI bundle; none when not built", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make("codetether-webpage-")
      const pkg = NodePath.join(root, "node_modules", "codetether")
      const from = (relative: string) => pathToFileURL(NodePath.join(pkg, relative)).href
      expect(WebPage.locate(from("dist/bin/chunks/Server-abc.js"))).toBeUndefined()
      write(NodePath.join(pkg, "dist/web/index.html"), "<!doctype html>")
      const web = NodePath.join(pkg, "dist/web")
      expect(WebPage.locate(from("dist/bin/chunks/Server-abc.js"))).toBe(web)
      expect(WebPage.locate(from("dist/bin/main.js"))).toBe(web)
      expect(WebPage.locate(from("dist/src/WebPage.js"))).toBe(web)
      expect(WebPage.locate(from("src/WebPage.ts"))).toBe(web)
      // this repository's own page (npm run build:web) when it was built
      const own = WebPage.locate()
      if (own !== undefined) expect(own).toBe(NodePath.resolve(import.meta.dirname, "../../dist/web"))
    }))

  it.effect("load: index.html and the assets by name; symlinks and odd names are left out; no index, no page", () =>
    Effect.gen(function*() {
      const root = yield* TempDir.make("codetether-webpage-")
      const web = NodePath.join(root, "web")
      expect(WebPage.load(web)).toBeUndefined()
      write(NodePath.join(web, "index.html"), "<!doctype html><title>x</title>")
      write(NodePath.join(web, "assets/app-1.js"), "export {}")
      write(NodePath.join(web, "assets/app-1.css"), "body{}")
      write(NodePath.join(web, "assets/.hidden"), "no")
      write(NodePath.join(root, "secret"), "not for the web")
      NodeFs.symlinkSync(NodePath.join(root, "secret"), NodePath.join(web, "assets/link.js"))
      NodeFs.mkdirSync(NodePath.join(web, "assets/dir.js"))
      const page = WebPage.load(web)!
      expect(new TextDecoder().decode(page.index.bytes)).toBe("<!doctype html><title>x</title>")
      expect(page.index.contentType).toBe("text/html; charset=utf-8")
      expect([...page.assets.keys()].sort()).toEqual(["app-1.css", "app-1.js"])
      expect(page.assets.get("app-1.js")!.contentType).toBe("text/javascript; charset=utf-8")
      expect(page.assets.get("app-1.js")!.etag).not.toBe(page.assets.get("app-1.css")!.etag)
    }))
})
