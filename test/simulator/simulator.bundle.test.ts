import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("keywarden/permissions/testing as shipped", () => {
  it("bundles without ccxt or any other heavy peer", async () => {
    const result = await build({
      entryPoints: ["src/permissions/testing/index.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes("src/permissions/testing/simulator.ts"))).toBe(true);
    for (const heavy of [
      "node_modules/ccxt",
      "node_modules/@aws-sdk",
      "node_modules/pg",
      "better-sqlite3",
    ]) {
      expect(inputs.filter((p) => p.includes(heavy))).toEqual([]);
    }
    const text = result.outputFiles?.[0]?.text ?? "";
    expect(text).not.toMatch(/console\.(log|info|warn|error|debug)/);
  });
});
