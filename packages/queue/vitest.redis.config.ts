import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../configs/vitest.shared.js";

// The tests against a real Redis (started on a free loopback port by src/testing.ts).
export default mergeConfig(shared, defineConfig({ test: { include: ["src/**/*.redis.test.ts"], testTimeout: 120_000, hookTimeout: 30_000 } }));
