import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/audit/primitives/portable.js";
import { leafHashOfBody } from "../../../src/audit/transparency/receipt.js";
import { entryTreeReader } from "../../../src/audit/transparency/tree-fallback.js";
import { isKeywardenError } from "../../../src/errors.js";
import { createTestStore } from "./support.js";

// The files the offline (browser) verifier bundles: no node-only import may appear in them.
const VERIFY_FILES = [
  "merkle",
  "note",
  "checkpoint",
  "witness",
  "receipt",
  "transparency-monitor",
  "transparency-bytes",
  "hex",
];
const ALLOWED = /^(?:\.\/[a-z-]+\.js|\.\.\/errors\.js|@noble\/(?:hashes|curves)\/[a-z0-9]+\.js)$/;

describe("offline verifier portability", () => {
  it("verification files import only each other, ../errors.js and @noble/* (no node: modules)", async () => {
    for (const f of VERIFY_FILES) {
      const src = await readFile(new URL(`../../../src/audit/${f}.ts`, import.meta.url), "utf8");
      const specifiers = [...src.matchAll(/^import(?: type)? [^;]*? from "([^"]+)";/gms)].map(
        (m) => m[1] as string,
      );
      // hex.ts imports nothing; every other file must be seen importing something.
      if (f !== "hex") expect(specifiers.length, f).toBeGreaterThan(0);
      for (const s of specifiers) expect(s, `${f} imports ${s}`).toMatch(ALLOWED);
      const imported = [...src.matchAll(/from "\.\/([a-z-]+)\.js"/g)].map((m) => m[1] as string);
      for (const dep of imported) {
        // type-only imports of node-side modules are erased at build time
        const line = src.split("\n").find((l) => l.includes(`"./${dep}.js"`)) ?? "";
        if (!VERIFY_FILES.includes(dep)) expect(line, `${f} -> ${dep}`).toMatch(/^import type /);
      }
    }
  });
});

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
