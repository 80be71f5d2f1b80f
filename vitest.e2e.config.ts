import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { sourceAliases, tc39Decorators } from "./vitest.config.js";

/** .ci/run collects every run's JSON results here to print one `N passed, N failed` line. */
const reportDir = process.env.KEYWARDEN_TEST_REPORT_DIR;

/**
 * Browser end-to-end suite (the offline audit verifier page in real Chromium). Standalone, not
 * mergeConfig(base, …): mergeConfig concatenates `include`, which would pull in the unit tests.
 * Run alone: `npx vitest run --config vitest.e2e.config.ts`.
 */
export default defineConfig({
  plugins: [tc39Decorators()],
  resolve: { alias: sourceAliases },
  test: {
    reporters: reportDir
      ? ["default", ["json", { outputFile: join(reportDir, `e2e-${process.pid}.json`) }]]
      : ["default"],
    include: ["e2e/**/*.e2e.test.ts"],
    setupFiles: ["test/support/no-console.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
