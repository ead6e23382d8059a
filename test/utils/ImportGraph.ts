/**
 * The static import graph of the library's TypeScript sources: which modules
 * a module loads when it is imported (type-only imports and dynamic
 * `import()` excluded), for tests of what an entry point pulls in.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

/** `import ... from "x"` and `export ... from "x"` at the start of a line, not `import type` / `export type`. */
const STATIC = /^(?:import|export)(?!\s+type\b)[^;]*?\bfrom\s+"([^"]+)"|^import\s+"([^"]+)"/gm

/** The specifiers `file` imports statically (value imports and re-exports). */
export const staticImports = (file: string): ReadonlyArray<string> =>
  [...NodeFs.readFileSync(file, "utf8").matchAll(STATIC)].map((m) => (m[1] ?? m[2])!)

/**
 * Every module reached from `entry` through static imports: `files` (absolute
 * paths of the sources) and `packages` (bare specifiers, e.g. `effect/Layer`,
 * `openai`, `node:fs`).
 */
export const reach = (entry: string): { readonly files: ReadonlySet<string>; readonly packages: ReadonlySet<string> } => {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith(".")) visit(NodePath.resolve(NodePath.dirname(file), specifier))
      else packages.add(specifier)
    }
  }
  visit(NodePath.resolve(entry))
  return { files, packages }
}
