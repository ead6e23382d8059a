/**
 * Bundles the CLI with esbuild into dist/bin/:
 * - `main.js` (+ `chunks/`): src/bin.ts and everything it imports; code split,
 *   so dynamically imported modules (the provider SDKs) load only when used;
 * - `codetether.js`: the executable, which turns on Node's module compile
 *   cache before loading `main.js` (faster warm starts).
 * Sources import Effect modules by path (`effect/Effect`, not `effect`), so
 * esbuild can drop what is unused; test/src/imports.test.ts keeps it so.
 *
 * Usage: node scripts/build-bin.ts
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { build } from "esbuild"

const root = NodePath.resolve(import.meta.dirname, "..")
const outdir = NodePath.join(root, "dist/bin")

NodeFs.rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: { main: NodePath.join(root, "src/bin.ts") },
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node22",
  outdir,
  chunkNames: "chunks/[name]-[hash]",
  // Identifiers are minified too (2.1 MB -> 1.5 MB: the bundle carries both
  // provider SDKs); names of functions and classes are kept, for error
  // classification by constructor name and readable defects.
  minify: true,
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
  banner: {
    js: "import { createRequire as __codetetherCreateRequire } from \"node:module\"; const require = __codetetherCreateRequire(import.meta.url);"
  }
})
const executable = NodePath.join(outdir, "codetether.js")
NodeFs.writeFileSync(
  executable,
  "#!/usr/bin/env node\nimport { enableCompileCache } from \"node:module\"\nenableCompileCache?.()\nawait import(\"./main.js\")\n"
)
NodeFs.chmodSync(executable, 0o755)
console.log(`built ${NodePath.relative(root, executable)}`)
