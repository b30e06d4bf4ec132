import { defineConfig } from "tsup";

export default defineConfig({
  // bin: the executable (keeps its shebang); loader, explore-worker and the TUI's
  // replay-worker (dist/tui/): loaded by worker threads, which on Node 20 need built JavaScript.
  entry: ["src/index.ts", "src/bin.ts", "src/loader.ts", "src/explore-worker.ts", "src/tui/replay-worker.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
});
