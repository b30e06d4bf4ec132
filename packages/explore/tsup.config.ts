import { defineConfig } from "tsup";

// The worker is its own entry: Node 20 workers load built JavaScript, resolved at run
// time as new URL("./worker.js", import.meta.url) from dist/index.js.
export default defineConfig({
  entry: { index: "src/index.ts", worker: "src/worker.ts", bench: "src/bench.ts", "bench-loader": "src/bench/loader.ts" },
  format: ["esm"],
  dts: { entry: ["src/index.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
  splitting: true,
});
