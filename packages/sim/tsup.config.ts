import { defineConfig } from "tsup";

// The demo (`pnpm demo`) and the benchmark (`pnpm bench`) are built to dist-dev/, which
// is never published.
export default defineConfig([
  {
    entry: ["src/index.ts", "src/test-helpers.ts"],
    format: ["esm"],
    dts: { entry: ["src/index.ts", "src/test-helpers.ts"] },
    sourcemap: true,
    clean: true,
    target: "node20",
  },
  {
    entry: ["src/demo.ts", "src/bench.ts"],
    outDir: "dist-dev",
    format: ["esm"],
    sourcemap: true,
    clean: true,
    target: "node20",
  },
]);
