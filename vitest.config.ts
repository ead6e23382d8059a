import { configDefaults, defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/compat runs with its own effect: .ci/run runs it with test/compat/vitest.config.ts
    exclude: [...configDefaults.exclude, "test/compat/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // deterministic output whatever the terminal or CI environment
    env: { NO_COLOR: "1", FORCE_COLOR: "0" }
  }
})
