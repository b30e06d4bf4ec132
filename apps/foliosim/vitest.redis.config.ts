import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../configs/vitest.shared.js";

// The tests against a real Redis (started on a free loopback port by src/testing.ts).
const config = mergeConfig(shared, defineConfig({ test: { testTimeout: 120_000, hookTimeout: 30_000 } }));
config.test!.include = ["src/**/*.redis.test.ts", "test/**/*.redis.test.ts"];
export default config;
