import { defineConfig } from "tsup";

// Two self-contained bundles: the package entry, and the loader that worker threads
// import on their own. Shared chunks would let the bundler order the call modules'
// registrations after the catalog that uses them.
export default defineConfig([
  { entry: ["src/index.ts"], format: ["esm"], dts: true, sourcemap: true, clean: true, target: "node20" },
  { entry: ["src/loader.ts"], format: ["esm"], sourcemap: true, clean: false, target: "node20" },
  // `pnpm bench` (never published): the catalog's DPOR, step-rate and scaling rows.
  { entry: { bench: "src/bench.ts" }, outDir: "dist-dev", format: ["esm"], sourcemap: true, clean: true, target: "node20", skipNodeModulesBundle: true },
]);
