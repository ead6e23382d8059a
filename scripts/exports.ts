/**
 * The package's subpath exports, derived from the source tree so that a new
 * module cannot be forgotten:
 * - `.` (the barrel, `src/index.ts`) and `./testing` (`src/Testing.ts`);
 * - `./Codetether` (`src/Codetether.ts`);
 * - `./<Name>` for every `services/*.ts` and `schemas/*.ts`;
 * - `./providers/<Name>` for every `services/providers/*.ts`;
 * - `./tools/<Name>` for every `services/tools/*.ts`;
 * - `./package.json`.
 * `internal/` directories, the CLI (`src/bin.ts`, `src/Cli.ts`,
 * `src/commands/`, `src/render/`) and `src/version.ts` are not exported.
 *
 * `test/src/package.test.ts` fails when `package.json` differs from this
 * map; `node scripts/exports.ts` rewrites the `exports` field.
 *
 * Usage: node scripts/exports.ts
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

const root = NodePath.resolve(import.meta.dirname, "..")

/** One export entry: the declaration file and the module, both under `dist/`. */
export interface Entry {
  readonly types: string
  readonly default: string
}

const entry = (source: string): Entry => {
  const base = `./dist/${source.replace(/\.ts$/, "")}`
  return { types: `${base}.d.ts`, default: `${base}.js` }
}

const modulesIn = (dir: string): Array<string> =>
  NodeFs.readdirSync(NodePath.join(root, dir), { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts") && !d.name.endsWith(".d.ts"))
    .map((d) => d.name.replace(/\.ts$/, ""))
    .sort()

/**
 * The `exports` field the source tree calls for, in a stable order.
 */
export const expectedExports = (): Record<string, Entry | string> => {
  const out: Record<string, Entry | string> = {
    ".": entry("src/index.ts"),
    "./testing": entry("src/Testing.ts"),
    "./Codetether": entry("src/Codetether.ts")
  }
  const flat = [
    ...modulesIn("services").map((name) => [name, `services/${name}.ts`] as const),
    ...modulesIn("schemas").map((name) => [name, `schemas/${name}.ts`] as const)
  ].sort(([a], [b]) => a.localeCompare(b))
  for (const [name, source] of flat) {
    if (`./${name}` in out) throw new Error(`two modules are named ${name}: pick another name for ${source}`)
    out[`./${name}`] = entry(source)
  }
  for (const name of modulesIn("services/providers")) out[`./providers/${name}`] = entry(`services/providers/${name}.ts`)
  for (const name of modulesIn("services/tools")) out[`./tools/${name}`] = entry(`services/tools/${name}.ts`)
  out["./package.json"] = "./package.json"
  return out
}

if (import.meta.main) {
  const path = NodePath.join(root, "package.json")
  const pkg = JSON.parse(NodeFs.readFileSync(path, "utf8"))
  pkg.exports = expectedExports()
  NodeFs.writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`)
  console.log(`wrote ${Object.keys(pkg.exports).length} exports to package.json`)
}
