import { defineConfig } from "tsup";

// The worker is its own entry: Node 20 workers load built JavaScript, resolved at run
// time as new URL("./worker.js", import.meta.url) from dist/index.js.
// The benchmark (`pnpm bench`) and its bundled dev dependencies are built to dist-dev/,
// which is never published; it carries its own worker.js beside the bundled matrix code.
export default defineConfig([
  {
    entry: { index: "src/index.ts", worker: "src/worker.ts" },
    format: ["esm"],
    dts: { entry: ["src/index.ts"] },
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: true,
  },
  {
    entry: { bench: "src/bench.ts", "bench-loader": "src/bench/loader.ts", "thread-ceiling": "src/bench/thread-ceiling.ts", worker: "src/worker.ts" },
    outDir: "dist-dev",
    format: ["esm"],
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: true,
  },
]);
