import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { sha256Portable, verifyExport } from "../../../src/audit/index.js";
import { exportText, sampleLog } from "../helpers.js";

describe("the verifier runs without node:crypto", () => {
  it("bundles for the browser with no Node built-in", async () => {
    const result = await build({
      stdin: {
        contents: `export { verifyExport } from "./src/audit/export/reader.ts";
export { ChainVerifier } from "./src/audit/core/verify.ts";
export { sha256Portable } from "./src/audit/primitives/sha256-portable.ts";`,
        resolveDir: process.cwd(),
        loader: "ts",
      },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(
      inputs.some((i) => i.startsWith("node:") || i.includes("node_modules/@types/node")),
    ).toBe(false);
    expect(inputs).not.toContain("src/audit/primitives/sha256.ts");
    expect(inputs).not.toContain("src/audit/storage/file/store.ts");
  });

  it("verifies an export with @noble/hashes exactly as with node:crypto", async () => {
    const { log, chainId } = await sampleLog(10, "alice", [4]);
    for (const format of ["jsonl", "csv"] as const) {
      const text = await exportText(log, chainId, format);
      const r = await verifyExport([new TextEncoder().encode(text)], {
        format,
        sha256: sha256Portable,
      });
      expect(r).toMatchObject({
        ok: true,
        size: 10,
        redacted: 1,
        headHash: (await log.head(chainId)).headHash,
      });
    }
  });
});
