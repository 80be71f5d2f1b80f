import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { transform } from "esbuild";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** .ci/run collects every run's JSON results here to print one `N passed, N failed` line. */
const reportDir = process.env.KEYWARDEN_TEST_REPORT_DIR;

/**
 * `keywarden/<subpath>` imports (as examples and users write them) resolve to the sources, from the
 * same `paths` map the type checker uses. Exact matches, so `keywarden/audit` never captures
 * `keywarden/audit/testing`.
 */
const tsPaths = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, "tsconfig.json"), "utf8")) as {
    compilerOptions: { paths: Record<string, string[]> };
  }
).compilerOptions.paths;
export const sourceAliases = Object.entries(tsPaths).map(([spec, [target]]) => ({
  find: new RegExp(`^${spec.replace(/[/]/g, "\\/")}$`),
  replacement: resolve(import.meta.dirname, target as string),
}));

/**
 * Vite 8's Oxc transform leaves TC39 standard decorators in place, which Node 20 cannot parse.
 * This pre-transform lowers them with esbuild (the same compiler tsup uses for the published
 * build). A file that contains the comment `@keywarden-legacy-decorators` is compiled with
 * `experimentalDecorators` instead, to test the NestJS-style legacy form.
 */
export function tc39Decorators(): Plugin {
  return {
    name: "keywarden:tc39-decorators",
    enforce: "pre",
    async transform(code, id) {
      if (!/\.[cm]?ts$/.test(id) || id.includes("/node_modules/")) return null;
      if (!/^\s*@[A-Za-z_$]/m.test(code)) return null;
      const legacy = code.includes("@keywarden-legacy-decorators");
      const out = await transform(code, {
        loader: "ts",
        format: "esm",
        target: "es2022",
        sourcemap: true,
        sourcefile: id,
        tsconfigRaw: {
          compilerOptions: {
            experimentalDecorators: legacy,
            useDefineForClassFields: true,
            verbatimModuleSyntax: true,
          },
        },
      });
      return { code: out.code, map: out.map };
    },
  };
}

export default defineConfig({
  plugins: [tc39Decorators()],
  resolve: { alias: sourceAliases },
  test: {
    reporters: reportDir
      ? ["default", ["json", { outputFile: join(reportDir, `unit-${process.pid}.json`) }]]
      : ["default"],
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["test/package/**", "node_modules/**"],
    setupFiles: ["test/support/no-console.ts"],
    globalSetup: ["test/support/global-postgres.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    benchmark: { include: ["bench/**/*.bench.ts"] },
  },
});
