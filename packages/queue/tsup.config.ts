import { defineConfig } from "tsup";

// The processor is its own entry: BullMQ runs it sandboxed in a worker thread, which
// on Node 20 loads built JavaScript (resolved as new URL("./processor.js", import.meta.url)).
// The benchmark (`pnpm bench`) and its worker process are built to dist-dev/, never published.
export default defineConfig([
  {
    entry: { index: "src/index.ts", processor: "src/processor.ts", testing: "src/testing.ts" },
    format: ["esm"],
    dts: { entry: ["src/index.ts", "src/testing.ts"] },
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: true,
  },
  {
    entry: { bench: "src/bench.ts", "bench-worker": "src/bench/worker-process.ts" },
    outDir: "dist-dev",
    format: ["esm"],
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: true,
  },
]);
