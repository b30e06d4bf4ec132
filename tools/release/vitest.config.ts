import { defineConfig } from "vitest/config";

// The default suite (part of `pnpm run check`): metadata and tarballs, README examples,
// the changesets dry run. The Verdaccio rehearsal has its own config (test:release).
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 },
});
