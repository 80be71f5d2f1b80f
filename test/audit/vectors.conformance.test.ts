/**
 * The audit-format conformance vectors (test/vectors/audit/, made by scripts/gen-audit-vectors.ts)
 * run against the library's verifier and reader: every vector's verdict, reason, first failing
 * `seq` and line, and for every accepted vector the byte-level round trip (re-exporting the parsed
 * records gives exactly the input bytes).
 */
import { describe, expect, it } from "vitest";
import {
  csvEntryRow,
  csvHead,
  type ExportManifest,
  jsonlEntryLine,
  jsonlManifestLine,
  readExport,
  verifyExport,
} from "../../src/audit/export/index.js";
import { sha256Node } from "../../src/audit/primitives/index.js";
import { parseVerifierKey } from "../../src/audit/transparency/index.js";
import { type AuditVector, inputBytes, loadAuditVectors } from "./vectors.js";

const vectors = loadAuditVectors();

async function verdictOf(v: AuditVector) {
  const r = await verifyExport([inputBytes(v)], {
    format: v.format,
    sha256: sha256Node,
    expected: v.trusted.expected,
    manifestKeys: v.trusted.manifestKeys?.map((k) => parseVerifierKey(k)),
    allowUnsignedManifest: v.trusted.allowUnsignedManifest,
  });
  return r.ok
    ? { valid: true, chainId: r.chainId, size: r.size, headHash: r.headHash, redacted: r.redacted }
    : { valid: false, reason: r.reason, seq: r.seq, line: r.line ?? null };
}

/** The export re-encoded from what `readExport` decoded. */
async function reexport(v: AuditVector): Promise<Uint8Array> {
  let out = "";
  for await (const r of readExport([inputBytes(v)], { format: v.format })) {
    if (r.kind === "manifest")
      out +=
        v.format === "csv" ? csvHead(r.manifest as ExportManifest) : jsonlManifestLine(r.manifest);
    else {
      const stored = {
        seq: r.item.entry.seq,
        hash: r.item.hash ?? "",
        body: r.item.body,
        payload: r.item.payload ?? null,
      };
      out += v.format === "csv" ? csvEntryRow(stored) : jsonlEntryLine(stored);
    }
  }
  return new TextEncoder().encode(out);
}

describe("audit conformance vectors: library", () => {
  it("has at least 300 vectors, every reason code among them", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(300);
    const reasons = new Set(vectors.flatMap((v) => (v.result.valid ? [] : [v.result.reason])));
    for (const r of [
      "hash-mismatch",
      "broken-link",
      "gap",
      "reorder",
      "duplicate",
      "foreign-chain",
      "malformed",
      "payload-mismatch",
      "truncated",
      "head-mismatch",
      "manifest-signature",
    ])
      expect(reasons, r).toContain(r);
  });

  it.each(vectors.map((v) => [v.id, v] as const))("%s", async (_id, v) => {
    expect(await verdictOf(v)).toEqual(v.result);
  });

  it.each(vectors.filter((v) => v.result.valid).map((v) => [v.id, v] as const))(
    "round trip: %s re-exports to the same bytes",
    async (_id, v) => {
      expect(Buffer.from(await reexport(v)).equals(Buffer.from(inputBytes(v)))).toBe(true);
    },
  );
});

describe("audit conformance vectors: generator", () => {
  it("the checked-in files are exactly what scripts/gen-audit-vectors.ts generates", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/gen-audit-vectors.ts", "--check"],
      { cwd: new URL("../..", import.meta.url) },
    );
    expect(stdout).toBe(`${vectors.length} vectors\n`);
  }, 60_000);
});
