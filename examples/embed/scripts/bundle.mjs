/**
 * Bundles src/store.ts (a store-only program) with esbuild, minified, and
 * prints how many bytes each package contributes. Fails when anything but
 * effect and codetether ends up in it (a provider SDK, the PostgreSQL driver,
 * re2js, ...): a store-only app must not carry them. (This app sits inside the
 * codetether repository, so a package the root has installed would resolve
 * here even when this app lacks it: the check is on what is bundled.)
 */
import { build } from "esbuild"
import * as NodePath from "node:path"

const app = NodePath.resolve(import.meta.dirname, "..")
const result = await build({
  entryPoints: [NodePath.join(app, "src/store.ts")],
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node22",
  write: false,
  metafile: true,
  outfile: NodePath.join(app, "dist/store.js"),
  logLevel: "warning"
})
const output = Object.values(result.metafile.outputs)[0]
const bytes = {}
for (const [path, input] of Object.entries(output.inputs)) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)
  const name = match === null ? "(app)" : match[1]
  bytes[name] = (bytes[name] ?? 0) + input.bytesInOutput
}
console.log(`store-only bundle: ${output.bytes} bytes`)
for (const [name, size] of Object.entries(bytes).sort((a, b) => b[1] - a[1])) console.log(`  ${String(size).padStart(8)}  ${name}`)
const foreign = Object.keys(bytes).filter((name) => name !== "effect" && name !== "codetether" && name !== "(app)")
if (foreign.length > 0) {
  console.error(`bundle: a store-only bundle carries ${foreign.join(", ")}`)
  process.exitCode = 1
}
