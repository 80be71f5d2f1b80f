import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/audit/primitives/portable.js";
import { leafHashOfBody } from "../../../src/audit/transparency/receipt.js";
import { entryTreeReader } from "../../../src/audit/transparency/tree-fallback.js";
import { isKeywardenError } from "../../../src/errors.js";
import { createTestStore } from "./support.js";

// That no browser-safe file (portable.ts doors, keywarden/audit/verify, the verifier page) reaches a
// node: module is a rule of test/architecture/imports.test.ts, over the whole import graph.

describe("offline verifier bundle", () => {
  it("bundles for the browser (esbuild, platform browser) without node built-ins", async () => {
    const { build } = await import("esbuild");
    const out = await build({
      entryPoints: [new URL("../../../src/audit/transparency/verify.ts", import.meta.url).pathname],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    const inputs = Object.keys(out.metafile?.inputs ?? {});
    expect(inputs.some((i) => i.includes("src/audit/transparency/merkle.ts"))).toBe(true);
    expect(
      inputs.filter(
        (i) =>
          i.startsWith("node:") ||
          i.includes("node_modules/@aws-sdk") ||
          i.includes("node_modules/zod"),
      ),
    ).toEqual([]);
  });
});

describe("tree rebuilt from entries (CLI fallback)", () => {
  it("Precondition: a rebuilt tree uses only entries whose body hashes to the stored entry hash, in seq order.", async () => {
    const store = createTestStore();
    const chainId = "user:1";
    for (let i = 0; i < 4; i++) {
      const body = `{"i":${i}}`;
      await store.append({
        chainId,
        expectedSize: i,
        entries: [{ seq: i, hash: toHex(leafHashOfBody(body)), body, payload: null }],
      });
    }
    expect((await entryTreeReader(store, chainId)).size).toBe(4);
    const e = store.chains.get(chainId)?.entries;
    if (e?.[2]) e[2] = { ...e[2], body: '{"i":99}' };
    await expect(entryTreeReader(store, chainId)).rejects.toSatisfy((err) =>
      isKeywardenError(err, "ERR_AUDIT_STORE_INVARIANT"),
    );
  });
});
