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
import {
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyCosignedCheckpoint,
  verifyReceipt,
} from "../../src/audit/transparency/index.js";
import { isKeywardenError } from "../../src/errors.js";
import {
  type AuditVector,
  inputBytes,
  loadAuditVectors,
  loadTransparencyVectors,
  type TransparencyVector,
} from "./vectors.js";

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

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

/** What the library answers for a transparency vector, in the vector's terms. */
function transparencyResult(v: TransparencyVector): unknown {
  if (v.kind === "consistency") {
    const i = v.input;
    return {
      valid: verifyConsistency(i.size1, i.size2, i.proof.map(b64), b64(i.root1), b64(i.root2)),
    };
  }
  const logKeys = v.trusted.logKeys.map((k) => parseVerifierKey(k));
  try {
    if (v.kind === "checkpoint") {
      const checked = verifyCosignedCheckpoint(v.input.text, {
        logKeys,
        ...(v.trusted.origin === undefined ? {} : { origin: v.trusted.origin }),
      });
      // The same body through the plain note opener: both readings must agree.
      const cp = parseCheckpoint(openNote(v.input.text, logKeys).text);
      expect(cp.size).toBe(checked.checkpoint.size);
      return {
        valid: true,
        origin: cp.origin,
        size: cp.size,
        root: Buffer.from(cp.rootHash).toString("base64"),
      };
    }
    const leafHash = v.trusted.leafHash
      ? new Uint8Array(Buffer.from(v.trusted.leafHash, "hex"))
      : undefined;
    const r = verifyReceipt(v.input.text, { logKeys, ...(leafHash ? { leafHash } : {}) });
    const cp = r.checkpoint.checkpoint;
    return {
      valid: true,
      origin: cp.origin,
      size: cp.size,
      root: Buffer.from(cp.rootHash).toString("base64"),
      index: r.index,
    };
  } catch (err) {
    if (!isKeywardenError(err)) throw err;
    return { valid: false, error: err.code };
  }
}

describe("audit conformance vectors: transparency (library)", () => {
  const tv = loadTransparencyVectors();
  it("covers consistency proofs, checkpoints and receipts", () => {
    for (const kind of ["consistency", "checkpoint", "receipt"])
      expect(tv.filter((v) => v.kind === kind).length, kind).toBeGreaterThanOrEqual(20);
  });
  it.each(tv.map((v) => [v.id, v] as const))("%s", (_id, v) => {
    expect(transparencyResult(v)).toEqual(v.result);
  });
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
    expect(stdout).toBe(`${vectors.length + loadTransparencyVectors().length} vectors\n`);
  }, 60_000);
});
