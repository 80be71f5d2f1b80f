/**
 * verifyExport reads JSON Lines in one pass and proves the hex of the entry's hashes by comparing
 * them with digests it computes (see `parseEntryUncheckedHashes`). This holds it to the strict
 * path, which decodes every entry with `decodeEntry` first, on mutated exports: same verdict, same
 * first broken seq, same reason, same line.
 */
import { fc } from "@fast-check/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ChainVerifier,
  type ExportManifest,
  entryHash,
  readExport,
  type StoredEntry,
  sha256Node,
  type VerifyItem,
  verifyExport,
} from "../../../src/audit/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import { exportText, sampleLog } from "../helpers.js";

type Verdict = {
  ok: boolean;
  seq?: number | undefined;
  reason?: string | undefined;
  line?: number | undefined;
};

const verdict = (r: Verdict): Verdict =>
  r.ok ? { ok: true } : { ok: false, seq: r.seq, reason: r.reason, line: r.line };

/** The reference: every line decoded strictly by readExport, then verified entry by entry. */
async function strictVerify(text: string): Promise<Verdict> {
  let manifest: ExportManifest | undefined;
  let v = new ChainVerifier({ sha256: sha256Node });
  try {
    for await (const r of readExport([Buffer.from(text)], { format: "jsonl" })) {
      if (r.kind === "manifest") {
        manifest = r.manifest;
        v = new ChainVerifier({
          sha256: sha256Node,
          chainId: manifest.chainId,
          maxEntries: manifest.size,
        });
        continue;
      }
      const failure = v.push(r.item);
      if (failure) return verdict(failure);
    }
  } catch (err) {
    if (!isKeywardenError(err, "ERR_AUDIT_MALFORMED_INPUT")) throw err;
    const line = err.details?.line;
    return verdict(v.malformed(err.message, typeof line === "number" ? line : undefined));
  }
  const result = v.finish();
  if (!result.ok) return verdict(result);
  if (!manifest) return verdict(v.malformed("export has no manifest"));
  if (result.size < manifest.size) return { ok: false, seq: result.size, reason: "truncated" };
  if (result.headHash !== manifest.headHash)
    return { ok: false, seq: result.size - 1, reason: "head-mismatch" };
  return { ok: true };
}

const oneShot = async (text: string) =>
  verdict(await verifyExport([Buffer.from(text)], { format: "jsonl", sha256: sha256Node }));

describe("one-pass JSON Lines verification", () => {
  let lines: string[] = [];

  beforeAll(async () => {
    const { log, chainId } = await sampleLog(6, "alice", [3]);
    lines = (await exportText(log, chainId, "jsonl")).split("\n").slice(0, -1);
  });

  const join = (ls: string[]) => `${ls.join("\n")}\n`;
  /** Where a mutation lands: the hex members the fast path leaves unchecked, or anywhere. */
  const region = fc.constantFrom(
    '"payloadCommitment":"',
    '"prevHash":"',
    '"hash":"',
    '"salt":"',
    '"seq":',
    '"id":',
    "",
  );
  const replacement = fc.oneof(
    fc.constantFrom("A", "F", "g", "0", "f", '"', "\\", " ", "é", "\u2028", "\u0001", ""),
    fc.string({ maxLength: 2 }),
  );

  it("agrees with the strict path on mutated exports", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        region,
        fc.nat({ max: 80 }),
        replacement,
        fc.boolean(),
        async (lineIndex, marker, offset, insert, keepLength) => {
          const ls = [...lines];
          const line = ls[lineIndex] as string;
          const base = marker === "" ? 0 : line.indexOf(marker) + marker.length;
          if (base < marker.length) return; // the redacted entry has no salt
          const at = Math.min(base + offset, line.length);
          const cut = keepLength ? insert.length : 0;
          ls[lineIndex] = line.slice(0, at) + insert + line.slice(at + cut);
          const text = join(ls);
          expect(await oneShot(text)).toEqual(await strictVerify(text));
        },
      ),
      { numRuns: 600 },
    );
  });

  it.each([
    ["an uppercase prevHash", '"prevHash":"', "invalid prevHash"],
    ["an uppercase commitment", '"payloadCommitment":"', "invalid payloadCommitment"],
    ["an uppercase hash", '"hash":"', "hash is not 64 lowercase hex characters"],
  ])("reports %s as malformed, like the strict path", async (_name, marker, message) => {
    // Line 4 holds seq 3, whose payload was erased: its commitment is never compared with a
    // computed digest. Line 2 holds seq 1, whose commitment is.
    for (const lineIndex of [2, 4]) {
      const ls = [...lines];
      const line = ls[lineIndex] as string;
      const at = line.indexOf(marker) + marker.length;
      const hex = line.slice(at, at + 64);
      ls[lineIndex] = line.slice(0, at) + hex.toUpperCase() + line.slice(at + 64);
      expect(hex).not.toBe(hex.toUpperCase());
      const r = await verifyExport([Buffer.from(join(ls))], {
        format: "jsonl",
        sha256: sha256Node,
      });
      expect(r).toMatchObject({ ok: false, reason: "malformed", line: lineIndex + 1 });
      expect((r as { message: string }).message).toContain(message);
      expect(verdict(r)).toEqual(await strictVerify(join(ls)));
    }
  });

  it("never accepts hashes that are not lowercase hex, even with every digest recomputed", async () => {
    const { log, chainId } = await sampleLog(3, "carol", [2]);
    const stored = [];
    for await (const e of log.store.read(chainId, 0)) stored.push(e);
    const [e0, e1, e2] = stored as [StoredEntry, StoredEntry, StoredEntry];
    const upper = (body: string, marker: string) => {
      const at = body.indexOf(marker) + marker.length;
      return body.slice(0, at) + body.slice(at, at + 64).toUpperCase() + body.slice(at + 64);
    };
    const run = (items: VerifyItem[]) => {
      const v = new ChainVerifier({ sha256: sha256Node, chainId });
      for (const item of items) if (v.push(item)) break;
      return v.finish();
    };
    // The last entry is the redacted one: its commitment is never compared with a digest.
    const body2 = upper(e2.body, '"payloadCommitment":"');
    expect(body2).not.toBe(e2.body);
    expect(
      run([e0, e1, { body: body2, hash: entryHash(body2, sha256Node), payload: null }]),
    ).toMatchObject({
      ok: false,
      seq: 2,
      reason: "malformed",
      message: "invalid payloadCommitment",
    });
    // An entry ahead of its place is held back before its hashes are compared with anything.
    const ahead = upper(e2.body, '"prevHash":"');
    expect(run([e0, { body: ahead, payload: null }])).toMatchObject({
      ok: false,
      seq: 1,
      reason: "malformed",
      message: "invalid prevHash",
    });
  });

  it("bounds a source by maxEntries, and refuses a maxEntries that is not a count", async () => {
    const { log, chainId } = await sampleLog(3, "dave");
    const stored: StoredEntry[] = [];
    for await (const e of log.store.read(chainId, 0)) stored.push(e);
    const v = new ChainVerifier({ sha256: sha256Node, maxEntries: 2 });
    expect(v.push(stored[0] as StoredEntry)).toBeUndefined();
    expect(v.push(stored[1] as StoredEntry)).toBeUndefined();
    expect(v.push(stored[2] as StoredEntry)).toMatchObject({
      ok: false,
      seq: 2,
      reason: "malformed",
      message: "more entries than the 2 promised",
    });
    for (const maxEntries of [-1, 1.5, Number.NaN])
      expect(() => new ChainVerifier({ sha256: sha256Node, maxEntries })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
  });
});
