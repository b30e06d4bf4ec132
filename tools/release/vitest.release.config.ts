import { defineConfig } from "vitest/config";

// `pnpm test:release`: the release rehearsed against a local Verdaccio registry. Bounded:
// every step has its own timeout, and the test gives up after fifteen minutes (about
// three on an idle two-core machine once `pnpm run check` has filled turbo's cache).
export default defineConfig({
  test: { include: ["release/**/*.test.ts"], testTimeout: 900_000, hookTimeout: 120_000 },
});
