import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // deterministic output whatever the terminal or CI environment; the
    // machine's own Claude Code sessions are never read (tests set their own)
    env: { NO_COLOR: "1", FORCE_COLOR: "0", CLAUDE_CONFIG_DIR: "/nonexistent/codetether-tests/claude" }
  }
})
