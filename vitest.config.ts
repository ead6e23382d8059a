import * as NodePath from "node:path"
import { configDefaults, defineConfig } from "vitest/config"

const root = import.meta.dirname

export default defineConfig({
  resolve: {
    // examples/embed/test imports the package by name: here it is the sources
    alias: [
      { find: /^codetether\/testing$/, replacement: NodePath.join(root, "src/Testing.ts") },
      { find: /^codetether$/, replacement: NodePath.join(root, "src/index.ts") }
    ],
    // one copy of each, even for files under examples/embed (which may have its own node_modules)
    dedupe: ["effect", "@effect/platform-node", "@effect/vitest", "vitest"]
  },
  test: {
    // examples/embed/test: the README's test paragraph, run against the sources
    include: ["test/**/*.test.ts", "examples/embed/test/**/*.test.ts"],
    // test/compat runs with its own effect: .ci/run runs it with test/compat/vitest.config.ts
    exclude: [...configDefaults.exclude, "test/compat/**"],
    // one throwaway PostgreSQL server for the run (test/utils/PostgresGlobalSetup.ts)
    globalSetup: ["test/utils/PostgresGlobalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // deterministic output whatever the terminal or CI environment; the
    // machine's own Claude Code sessions are never read (tests set their own)
    env: { NO_COLOR: "1", FORCE_COLOR: "0", CLAUDE_CONFIG_DIR: "/nonexistent/codetether-tests/claude" }
  }
})
