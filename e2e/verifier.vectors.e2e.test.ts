/**
 * The audit-format conformance vectors (test/vectors/audit/) run through the verifier page's
 * engine (web/verifier/src/engine.ts, bundled for the browser as the page bundles it) inside
 * Chromium: the same verdict, reason, first failing `seq` and line as the spec prescribes, for
 * every vector that needs no trusted input the page takes another way (an expected head, keys)
 * and that does not force a format on the file.
 */
import { join } from "node:path";
import { build } from "esbuild";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inputBytes, loadAuditVectors } from "../test/audit/vectors.js";
import { describeBrowser, launchBrowser } from "./support/browser.js";

const root = join(import.meta.dirname, "..");
// The page reads the format from the content (it has no format option), so the two vectors that
// tell a verifier to read one format's file as the other do not apply to it.
const vectors = loadAuditVectors().filter(
  (v) => Object.keys(v.trusted).length === 0 && v.id !== "csv-as-jsonl" && v.id !== "jsonl-as-csv",
);

describeBrowser("audit conformance vectors: browser engine (Chromium)", () => {
  let context: BrowserContext;
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const bundle = await build({
      stdin: {
        contents:
          'import { runVerification } from "./web/verifier/src/engine.ts"; globalThis.kwRun = runVerification;',
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      format: "iife",
      platform: "browser",
      write: false,
      logLevel: "silent",
      alias: {
        "csv-parse/sync": "csv-parse/browser/esm/sync",
        "csv-stringify/sync": "csv-stringify/browser/esm/sync",
      },
    });
    ({ context, close } = await launchBrowser());
    page = await context.newPage();
    await page.setContent("<!doctype html><title>vectors</title>");
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "" });
  });
  afterAll(async () => {
    await close?.();
  });

  it("runs at least 250 vectors", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(250);
  });

  it("reaches each vector's expected result", async () => {
    const inputs = vectors.map((v) => ({
      id: v.id,
      name: `vector.${v.format}`,
      base64: Buffer.from(inputBytes(v)).toString("base64"),
    }));
    const results = await page.evaluate(async (list) => {
      type Chain =
        | {
            ok: true;
            size: number;
            headHash: string | null;
            redacted: number;
            chainId: string | null;
          }
        | { ok: false; reason: string; seq: number; line?: number };
      const run = (globalThis as unknown as { kwRun: (r: unknown) => Promise<{ chain: Chain }> })
        .kwRun;
      const out: Record<string, unknown> = {};
      for (const v of list) {
        const bytes = Uint8Array.from(atob(v.base64), (c) => c.charCodeAt(0));
        const report = await run({
          exportName: v.name,
          exportSize: bytes.length,
          verifierKeys: [],
          witnessKeys: [],
          openExport: async function* () {
            yield bytes;
          },
        });
        const c = report.chain;
        out[v.id] = c.ok
          ? {
              valid: true,
              chainId: c.chainId,
              size: c.size,
              headHash: c.headHash,
              redacted: c.redacted,
            }
          : { valid: false, reason: c.reason, seq: c.seq, line: c.line ?? null };
      }
      return out;
    }, inputs);
    const disagreements = vectors
      .filter((v) => JSON.stringify(results[v.id]) !== JSON.stringify(v.result))
      .map((v) => ({ id: v.id, expected: v.result, got: results[v.id] }));
    expect(disagreements).toEqual([]);
  });
});
