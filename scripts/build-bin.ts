/**
 * Bundles the CLI with esbuild into dist/bin/:
 * - `main.js` (+ `chunks/`): src/bin.ts and everything it imports; code split,
 *   so dynamically imported modules (the provider SDKs) load only when used;
 * - `codetether.js`: the executable, a small wrapper that first checks the
 *   Node version (on Node < 22 it prints one line,
 *   `codetether needs Node 22 or newer (found 20.20.2)`, and exits 1, before
 *   anything that fails on an older Node is loaded: it uses only syntax and
 *   APIs every Node since 14 has, and imports nothing statically), then turns
 *   on Node's module compile cache and loads `main.js`.
 * Sources import Effect modules by path (`effect/Effect`, not `effect`), so
 * esbuild can drop what is unused; test/src/imports.test.ts keeps it so.
 *
 * Usage: node scripts/build-bin.ts
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { build, type Plugin } from "esbuild"

/**
 * Start-up work a dependency does at import time that `codetether` does not
 * need then, made lazy in the bundle: effect's CLI module builds an
 * `Intl.Segmenter` when it is imported (~40 ms: ICU's break-iterator data),
 * used only to measure text when help is printed. The source is replaced
 * exactly (effect is pinned); the build fails if it no longer matches, so an
 * upgrade cannot silently drop the change.
 */
const lazyAtImport: Plugin = {
  name: "lazy-at-import",
  setup(build) {
    const patches: ReadonlyArray<{ readonly file: RegExp; readonly from: string; readonly to: string }> = [
      {
        file: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/,
        from: "const graphemeSegmenter = /*#__PURE__*/new Intl.Segmenter(undefined, {\n  granularity: \"grapheme\"\n});",
        to: "let graphemeSegmenterInstance;\nconst graphemeSegmenter = { segment: (text) => " +
          "(graphemeSegmenterInstance ??= new Intl.Segmenter(undefined, { granularity: \"grapheme\" })).segment(text) };"
      }
    ]
    for (const patch of patches) {
      build.onLoad({ filter: patch.file }, (args) => {
        const source = NodeFs.readFileSync(args.path, "utf8")
        if (!source.includes(patch.from)) {
          throw new Error(`lazy-at-import: ${args.path} changed; update scripts/build-bin.ts`)
        }
        return { contents: source.replace(patch.from, patch.to), loader: "js" }
      })
    }
  }
}

const root = NodePath.resolve(import.meta.dirname, "..")

/**
 * The library imports its lazily loaded modules (PostgreSQL, the HTTP
 * server) with computed specifiers, which bundlers leave to run time
 * (services/internal/LazyModule.ts); in the CLI's bundle they must be chunks,
 * so that module is replaced by scripts/LazyModule.bundled.ts, whose imports
 * are literal.
 */
const literalLazyModules: Plugin = {
  name: "literal-lazy-modules",
  setup(build) {
    build.onResolve({ filter: /[\\/]internal[\\/]LazyModule\.ts$/ }, () => ({
      path: NodePath.join(root, "scripts/LazyModule.bundled.ts")
    }))
  }
}

/**
 * The OpenAI SDK's client constructs every API resource it has (files,
 * audio, assistants, vector stores, realtime, ...) and imports all of them:
 * ~670 KB of JavaScript parsed at every `run`, where codetether calls only
 * `chat.completions`. In the bundle, each resource module the client imports,
 * except `chat`, becomes an empty class of the same name (the client still
 * builds and works for chat; calling another resource fails). The list comes
 * from the client's own imports; a module that needs more from a stubbed one
 * fails the build, so an SDK upgrade cannot break this silently. Tests run the
 * unbundled SDK, and the CLI tests run this bundle. The chat helpers that
 * codetether does not call (the runners behind `runTools`, `stream` and
 * `parse`) are stubbed the same way; `create` is untouched.
 */
const trimOpenAi: Plugin = {
  name: "trim-openai",
  setup(build) {
    const sdk = NodePath.join(root, "node_modules/openai")
    const client = NodeFs.readFileSync(NodePath.join(sdk, "client.mjs"), "utf8")
    const stubs = new Map<string, ReadonlyArray<string>>()
    for (const match of client.matchAll(/import \{([^}]*)\} from "\.\/resources\/([^"]+)";/g)) {
      const [, names, file] = match
      if (file!.startsWith("chat/")) continue
      stubs.set(
        NodePath.join(sdk, "resources", file!),
        names!.split(",").map((n) => n.trim().split(/\s+as\s+/)[0]!).filter((n) => n.length > 0)
      )
    }
    for (const [file, name] of [
      ["lib/ChatCompletionRunner.mjs", "ChatCompletionRunner"],
      ["lib/ChatCompletionStreamingRunner.mjs", "ChatCompletionStreamingRunner"],
      ["lib/ChatCompletionStream.mjs", "ChatCompletionStream"]
    ] as const) {
      stubs.set(NodePath.join(sdk, file), [name])
    }
    if (stubs.size < 10 || !client.includes("this.chat = new API.Chat(this)")) {
      throw new Error("trim-openai: node_modules/openai/client.mjs changed; update scripts/build-bin.ts")
    }
    build.onLoad({ filter: /[\\/]openai[\\/](resources|lib)[\\/]/ }, (args) => {
      const names = stubs.get(args.path)
      if (names === undefined) return undefined
      return {
        contents: names.map((name) => `export class ${name} { constructor(client) { this._client = client } }`).join("\n"),
        loader: "js"
      }
    })
  }
}
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
  plugins: [lazyAtImport, trimOpenAi, literalLazyModules],
  banner: {
    js: "import { createRequire as __codetetherCreateRequire } from \"node:module\"; const require = __codetetherCreateRequire(import.meta.url);"
  }
})
const executable = NodePath.join(outdir, "codetether.js")
NodeFs.writeFileSync(executable, [
  "#!/usr/bin/env node",
  "const version = process.versions.node",
  "if (Number(version.split(\".\")[0]) < 22) {",
  "  process.stderr.write(`codetether needs Node 22 or newer (found ${version})\\n`)",
  "  process.exit(1)",
  "}",
  "const { enableCompileCache } = await import(\"node:module\")",
  "enableCompileCache?.()",
  "await import(\"./main.js\")",
  ""
].join("\n"))
NodeFs.chmodSync(executable, 0o755)
console.log(`built ${NodePath.relative(root, executable)}`)
