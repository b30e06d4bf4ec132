import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../configs/vitest.shared.js";

// `*.redis.test.ts` start a real redis-server and worker processes: `pnpm test:queue`.
export default mergeConfig(shared, defineConfig({ test: { exclude: ["**/node_modules/**", "src/**/*.redis.test.ts", "test/**/*.redis.test.ts"] } }));
