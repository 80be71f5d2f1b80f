import { join } from "node:path";
import { defineConfig } from "vitest/config";

/** .ci/run collects every run's JSON results here to print one `N passed, N failed` line. */
const reportDir = process.env.KEYWARDEN_TEST_REPORT_DIR;

/** Packaging gates: run against the built dist/ and a packed tarball, after `npm run build`. */
export default defineConfig({
  test: {
    reporters: reportDir
      ? ["default", ["json", { outputFile: join(reportDir, `package-${process.pid}.json`) }]]
      : ["default"],
    include: ["test/package/**/*.test.ts"],
    setupFiles: ["test/support/no-console.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
