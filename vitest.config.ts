import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["tests/helpers/global-setup.ts"],
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: two files at a time keeps PostgreSQL, sshd and Chromium from starving each other.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
