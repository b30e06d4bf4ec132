import { defineConfig } from "vitest/config";

// `pnpm test:release`: the release rehearsed against a local Verdaccio registry. Bounded:
// every step has its own timeout, and the test gives up after eight minutes.
export default defineConfig({
  test: { include: ["release/**/*.test.ts"], testTimeout: 480_000, hookTimeout: 120_000 },
});
