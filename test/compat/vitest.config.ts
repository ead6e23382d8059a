/**
 * The compat run: the store and loop contract tests of the repository, with
 * `effect`, `@effect/platform-node`, `@effect/vitest` and `vitest` taken from
 * this directory's pinned lockfile (the newest effect 4.x when it was last
 * updated) instead of the root's (the lowest supported, 4.1.0).
 *
 * The repository's sources import those packages by name; a resolver plugin
 * resolves every such import as if it were made from this directory, so the
 * sources, the tests and the test runner share one copy of effect.
 *
 * Run from the repository root (as .ci/run does):
 *   npm ci --prefix test/compat
 *   test/compat/node_modules/.bin/vitest run --config test/compat/vitest.config.ts
 * To move to a newer effect: `npm install --prefix test/compat effect@latest
 * @effect/platform-node@latest` and commit test/compat/package-lock.json
 * (package.json's `overrides` keeps vite at 8.3.8: vite 8.4.0 names an
 * optional dependency the registry does not have, and `npm ci` then rejects
 * the lockfile).
 */
import * as NodePath from "node:path"
import { defineConfig, type Plugin } from "vitest/config"

const here = import.meta.dirname
const root = NodePath.resolve(here, "../..")
const REDIRECTED = /^(effect|@effect\/platform-node|@effect\/vitest|vitest)(\/.*)?$/

const fromHere = (): Plugin => ({
  name: "codetether-compat-resolve",
  enforce: "pre",
  async resolveId(source, importer, options) {
    if (!REDIRECTED.test(source) || importer === undefined || importer.startsWith(here + NodePath.sep)) return null
    return this.resolve(source, NodePath.join(here, "vitest.config.ts"), { ...options, skipSelf: true })
  }
})

export default defineConfig({
  root,
  plugins: [fromHere()],
  test: {
    include: [
      "test/compat/*.test.ts",
      "test/services/SessionStore.test.ts",
      "test/services/SessionStoreOperations.test.ts",
      "test/services/SessionLoop.test.ts",
      "test/src/Testing.test.ts"
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { NO_COLOR: "1", FORCE_COLOR: "0" }
  }
})
