import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // one throwaway PostgreSQL server for the run (test/utils/PostgresGlobalSetup.ts)
    globalSetup: ["test/utils/PostgresGlobalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // deterministic output whatever the terminal or CI environment
    env: { NO_COLOR: "1", FORCE_COLOR: "0" }
  }
})
