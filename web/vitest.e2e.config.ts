import { defineConfig } from "vitest/config";

// End-to-end: real Chromium against a real tickhub and the WAHA simulator (e2e/stack.ts).
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own hub and browser; two at once is what two cores take.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
