import { defineConfig } from "vitest/config";

/** Packaging gates: run against the built dist/ and a packed tarball, after `npm run build`. */
export default defineConfig({
  test: {
    include: ["test/package/**/*.test.ts"],
    setupFiles: ["test/support/no-console.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
