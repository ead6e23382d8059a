/**
 * What an app installing the package gets: a subpath export for every
 * module (so a new module cannot be forgotten), peer ranges instead of pins,
 * the provider SDKs as optional peers that no exported module imports
 * statically, nothing of the CLI behind the library's entry points, and no
 * import of a package the app would not have.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodeModule from "node:module"
import * as NodePath from "node:path"
import { expectedExports } from "../../scripts/exports.ts"
import * as ImportGraph from "../utils/ImportGraph.ts"

const root = NodePath.resolve(import.meta.dirname, "../..")
const pkg = JSON.parse(NodeFs.readFileSync(NodePath.join(root, "package.json"), "utf8"))

/** The source module of an export target (`./dist/services/X.js` → `<root>/services/X.ts`). */
const sourceOf = (target: string) => NodePath.join(root, target.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts"))

const exportedSources = (): ReadonlyArray<string> =>
  Object.values(pkg.exports as Record<string, { readonly default: string } | string>).flatMap((entry) =>
    typeof entry === "string" ? [] : [sourceOf(entry.default)]
  )

/** `effect/Layer` → `effect`, `@effect/platform-node/X` → `@effect/platform-node`. */
const packageName = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!

describe("package.json", () => {
  it("exports every module: the map is the one scripts/exports.ts derives from the tree (run it after adding a module)", () => {
    expect(pkg.exports).toEqual(expectedExports())
    expect(pkg.exports["./SessionStore"]).toEqual({
      types: "./dist/services/SessionStore.d.ts",
      default: "./dist/services/SessionStore.js"
    })
    expect(pkg.exports["./providers/OpenAi"].default).toBe("./dist/services/providers/OpenAi.js")
    expect(pkg.exports["./testing"].default).toBe("./dist/src/Testing.js")
    for (const source of exportedSources()) expect(NodeFs.existsSync(source), source).toBe(true)
    // a module added to a directory that is exported would change the derived map
    for (const dir of ["services", "schemas", "services/providers", "services/tools"]) {
      const modules = NodeFs.readdirSync(NodePath.join(root, dir)).filter((name) => name.endsWith(".ts"))
      for (const name of modules) {
        expect(exportedSources(), `${dir}/${name} has no export`).toContain(NodePath.join(root, dir, name))
      }
    }
  })

  it("declares effect as a peer range from 4.1.0, the provider SDKs and the SQL driver as optional peers, and no side effects", () => {
    expect(pkg.peerDependencies).toEqual({
      effect: "^4.1.0",
      "@effect/platform-node": "^4.1.0",
      "@anthropic-ai/sdk": "^1.12.0",
      openai: "^7.57.0",
      "@effect/sql-pg": "^4.0.5"
    })
    expect(pkg.peerDependenciesMeta).toEqual({
      "@effect/platform-node": { optional: true },
      "@anthropic-ai/sdk": { optional: true },
      openai: { optional: true },
      "@effect/sql-pg": { optional: true }
    })
    // @a2a-js/sdk (the A2A agent of serve), markdown-it (HTML export) and re2js (regex search)
    // are imported only by those operations
    expect(Object.keys(pkg.dependencies)).toEqual(["@a2a-js/sdk", "markdown-it", "re2js", "smol-toml"])
    expect(pkg.sideEffects).toBe(false)
    // the lowest supported versions are the ones the suite runs with
    expect(pkg.devDependencies.effect).toBe("4.1.0")
    expect(pkg.devDependencies.openai).toBe("7.57.0")
    expect(pkg.devDependencies["@anthropic-ai/sdk"]).toBe("1.12.0")
  })

  it("no exported module imports a provider SDK statically, the CLI, a test runner, or a package the app may lack", () => {
    const allowed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)])
    const optional = new Set(Object.keys(pkg.peerDependenciesMeta))
    const builtins = new Set(NodeModule.builtinModules)
    const problems: Array<string> = []
    for (const source of exportedSources()) {
      const { files, packages } = ImportGraph.reach(source)
      const name = NodePath.relative(root, source)
      for (const file of files) {
        const relative = NodePath.relative(root, file)
        if (/^src\/(bin|Cli)\.ts$|^src\/(commands|render)\//.test(relative)) problems.push(`${name} loads the CLI module ${relative}`)
      }
      for (const specifier of packages) {
        const pkgName = packageName(specifier)
        if (specifier.startsWith("node:") || builtins.has(specifier)) continue
        if (!allowed.has(pkgName)) problems.push(`${name} imports ${specifier}, which is not a dependency`)
        // the PostgreSQL modules exist to use the SQL driver: importing one of them is choosing it
        // (SessionStore.layerPostgres and the CLI load them with a dynamic import)
        else if (pkgName === "@effect/sql-pg" && /Postgres\.ts$/.test(name)) continue
        else if (optional.has(pkgName)) problems.push(`${name} imports the optional peer ${specifier} statically`)
      }
    }
    expect(problems).toEqual([])
  })

  it("the check above sees static imports, not type-only or dynamic ones", () => {
    const { packages } = ImportGraph.reach(NodePath.join(root, "services/providers/OpenAi.ts"))
    expect(packages.has("openai")).toBe(false)
    expect(NodeFs.readFileSync(NodePath.join(root, "services/providers/OpenAi.ts"), "utf8")).toContain("import(\"openai/client\")")
    expect([...ImportGraph.reach(NodePath.join(root, "src/bin.ts")).packages]).toContain("@effect/platform-node/NodeRuntime")
  })

  it("ships no source maps (the sources are not shipped)", () => {
    const build = JSON.parse(NodeFs.readFileSync(NodePath.join(root, "tsconfig.build.json"), "utf8"))
    expect(build.compilerOptions.sourceMap).toBe(false)
    expect(build.compilerOptions.declarationMap).toBe(false)
    expect(pkg.files).toEqual(["dist"])
  })
})
