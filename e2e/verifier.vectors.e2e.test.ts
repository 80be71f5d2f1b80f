/**
 * The audit-format conformance vectors (test/vectors/audit/) run through the verifier page's
 * engine (web/verifier/src/engine.ts, bundled for the browser as the page bundles it) inside
 * Chromium: the same verdict, reason, first failing `seq` and line as the spec prescribes, for
 * every vector that needs no trusted input the page takes another way (an expected head, keys)
 * and that does not force a format on the file. The transparency vectors too: every checkpoint
 * and receipt vector through the engine's own request (the checkpoint field, the earlier
 * checkpoint or receipt field, the verifier keys), and every consistency proof through the
 * library's browser-safe transparency module the page bundles (the page has no proof field: it
 * proves growth from the export's entries).
 */
import { join } from "node:path";
import { build } from "esbuild";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inputBytes, loadAuditVectors, loadTransparencyVectors } from "../test/audit/vectors.js";
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
          'import { runVerification } from "./web/verifier/src/engine.ts"; import { verifyConsistency } from "./src/audit/transparency/portable.ts"; globalThis.kwRun = runVerification; globalThis.kwConsistency = verifyConsistency;',
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

  it("reaches each transparency vector's expected result", async () => {
    const tv = loadTransparencyVectors();
    // The page compares a checkpoint's origin with the export's chain and a receipt's entry with
    // the export's entry; it takes no expected origin or leaf hash of its own.
    const notes = tv.filter(
      (v) =>
        v.kind !== "consistency" &&
        v.trusted.origin === undefined &&
        v.trusted.leafHash === undefined,
    );
    expect(notes.length).toBeGreaterThanOrEqual(55);
    const results = await page.evaluate(
      async ({ notes, proofs }) => {
        type Finding = { status: string; origin?: string; size?: number; receiptSeq?: number };
        const g = globalThis as unknown as {
          kwRun: (r: unknown) => Promise<{ evidence: Finding[] }>;
          kwConsistency: (
            a: number,
            b: number,
            p: Uint8Array[],
            r1: Uint8Array,
            r2: Uint8Array,
          ) => boolean;
        };
        const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const out: Record<string, unknown> = {};
        for (const v of notes) {
          // No export beside it (an empty file): the evidence is checked on its own.
          const report = await g.kwRun({
            exportName: "none.jsonl",
            exportSize: 0,
            verifierKeys: v.keys,
            witnessKeys: [],
            ...(v.kind === "checkpoint" ? { checkpoint: v.text } : { earlier: v.text }),
            openExport: async function* () {},
          });
          const f = report.evidence[0];
          // "signature-only": the signature and proof verified; the export could not be compared.
          out[v.id] =
            f?.status === "signature-only"
              ? {
                  valid: true,
                  origin: f.origin,
                  size: f.size,
                  ...(v.kind === "receipt" ? { index: f.receiptSeq } : {}),
                }
              : { valid: false, status: f?.status ?? "none" };
        }
        for (const v of proofs)
          out[v.id] = {
            valid: g.kwConsistency(v.size1, v.size2, v.proof.map(b64), b64(v.root1), b64(v.root2)),
          };
        return out;
      },
      {
        notes: notes.map((v) =>
          v.kind === "consistency"
            ? { id: v.id, kind: v.kind, text: "", keys: [] as string[] }
            : { id: v.id, kind: v.kind, text: v.input.text, keys: [...v.trusted.logKeys] },
        ),
        proofs: tv.flatMap((v) => (v.kind === "consistency" ? [{ id: v.id, ...v.input }] : [])),
      },
    );
    const expected = (v: (typeof tv)[number]) => {
      if (v.kind === "consistency" || !v.result.valid) return { valid: v.result.valid };
      const { origin, size, index } = v.result;
      return { valid: true, origin, size, ...(v.kind === "receipt" ? { index } : {}) };
    };
    const ran = tv.filter((v) => v.kind === "consistency" || notes.includes(v));
    const disagreements = ran
      .filter((v) => {
        const got = results[v.id] as { valid: boolean; status?: string } | undefined;
        if (!got) return true;
        // An invalid note's status (bad signature, or an empty field read as none given) is the
        // page's wording; the verdict must only be "not accepted".
        if (!v.result.valid) return got.valid !== false;
        return JSON.stringify(got) !== JSON.stringify(expected(v));
      })
      .map((v) => ({ id: v.id, expected: v.result, got: results[v.id] }));
    expect(disagreements).toEqual([]);
    expect(
      tv
        .filter((v) => !ran.includes(v))
        .map((v) => v.id)
        .sort(),
    ).toEqual([
      "checkpoint-origin-other",
      "checkpoint-valid-origin-given",
      "receipt-extra-differs-from-leaf",
      "receipt-valid-leaf-given",
    ]);
  });
});
