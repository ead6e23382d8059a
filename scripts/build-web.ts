/**
 * Builds the web page of `codetether serve` with esbuild into dist/web/:
 * - `assets/app-<hash>.js` and `assets/app-<hash>.css`: web/main.tsx and
 *   everything it imports (Preact, markdown-it, highlight.js, the virtual
 *   list, the SSE parser), minified, names hashed by content;
 * - `index.html`: web/index.html pointing at them;
 * - `assets/licenses.txt`: the licenses of the bundled packages.
 * `serve` reads these files from the package at start (src/WebPage.ts):
 * nothing is fetched at run time.
 *
 * Usage: node scripts/build-web.ts [outdir]   (default dist/web)
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = NodePath.resolve(import.meta.dirname, "..")

/** The browsers the page is written for (ES2022, fetch streams, ResizeObserver). */
export const TARGET = ["chrome110", "firefox115", "safari16"]

/** Builds the page into `outdir` (emptied first); returns the asset names. */
export const buildWeb = async (outdir: string): Promise<{ readonly script: string; readonly style: string }> => {
  NodeFs.rmSync(outdir, { recursive: true, force: true })
  const assets = NodePath.join(outdir, "assets")
  const result = await build({
    entryPoints: { app: NodePath.join(root, "web/main.tsx") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: TARGET,
    outdir: assets,
    entryNames: "[name]-[hash]",
    minify: true,
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": "\"production\"" }
  })
  const outputs = Object.keys(result.metafile.outputs).map((file) => NodePath.basename(file))
  const script = outputs.find((name) => name.endsWith(".js"))
  const style = outputs.find((name) => name.endsWith(".css"))
  if (script === undefined || style === undefined) throw new Error(`web build: expected a script and a style sheet, got ${outputs.join(", ")}`)

  const template = NodeFs.readFileSync(NodePath.join(root, "web/index.html"), "utf8")
  NodeFs.writeFileSync(
    NodePath.join(outdir, "index.html"),
    template.replace("%SCRIPT%", `/assets/${script}`).replace("%STYLE%", `/assets/${style}`)
  )

  // the licenses of what the bundle contains
  const packages = new Set<string>()
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match !== null) packages.add(match[1]!)
  }
  const notices = [...packages].sort().map((name) => {
    const dir = NodePath.join(root, "node_modules", name)
    const pkg = JSON.parse(NodeFs.readFileSync(NodePath.join(dir, "package.json"), "utf8")) as { version: string; license?: string }
    const file = NodeFs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f))
    const text = file === undefined ? `License: ${pkg.license ?? "see the package"}` : NodeFs.readFileSync(NodePath.join(dir, file), "utf8").trim()
    return `${name} ${pkg.version}\n${"=".repeat(name.length + pkg.version.length + 1)}\n${text}\n`
  })
  NodeFs.writeFileSync(NodePath.join(assets, "licenses.txt"), `Packages bundled into the codetether web page\n\n${notices.join("\n")}`)
  return { script, style }
}

if (process.argv[1] !== undefined && NodePath.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = NodePath.resolve(process.argv[2] ?? NodePath.join(root, "dist/web"))
  const { script, style } = await buildWeb(outdir)
  const sizes = [script, style].map((name) => `${name} ${(NodeFs.statSync(NodePath.join(outdir, "assets", name)).size / 1024).toFixed(0)} KB`)
  console.log(`built ${NodePath.relative(root, outdir) || outdir}: ${sizes.join(", ")}`)
}
