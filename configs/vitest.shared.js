// Shared vitest configuration: resolve workspace packages to their TypeScript sources
// through the "@foliosim/source" export condition, so tests never need an upstream build.
import { defineConfig } from "vitest/config";

const conditions = ["@foliosim/source", "node", "import", "module", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@foliosim/source"] } },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
  },
});
