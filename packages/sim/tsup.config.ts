import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/test-helpers.ts", "src/demo.ts", "src/bench.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/test-helpers.ts"] },
  sourcemap: true,
  clean: true,
  target: "node20",
});
