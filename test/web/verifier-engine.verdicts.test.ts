/**
 * The verifier page's engine (web/verifier/src/engine.ts) on Node, with exports, checkpoints,
 * cosignatures and receipts made by the library: every verdict the page can show, including the
 * ones the browser suite does not drive (rewritten history, a log that shrank between two
 * checkpoints, wrong chain, unmet witness quorum, missing key).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildHistory,
  cosign,
  exportText,
  tamperJsonl,
  truncateJsonl,
} from "../../e2e/support/fixtures.js";
import { buildPolicy, checkCheckpointNote } from "../../web/verifier/src/checkpoints.js";
import { runVerification, type VerifyRequest } from "../../web/verifier/src/engine.js";

type Fixture = Awaited<ReturnType<typeof make>>;

async function make() {
  const h = await buildHistory();
  await h.append(0, 12);
  const earlier = await h.transparency.signCheckpoint(h.chainId);
  await h.append(12, 20);
  const current = await h.transparency.signCheckpoint(h.chainId);
  const cosigned = await cosign(current.note);
  const receipt = await h.transparency.receipt(h.chainId, 15, current);
  return {
    h,
    jsonl: await exportText(h.log, h.chainId, "jsonl"),
    csv: await exportText(h.log, h.chainId, "csv"),
    earlier: earlier.note,
    current: current.note,
    cosigned: cosigned.note,
    witnessKey: cosigned.witnessKey,
    receipt,
  };
}

function request(text: string, name: string, extra: Partial<VerifyRequest> = {}): VerifyRequest {
  const bytes = new TextEncoder().encode(text);
  return {
    exportName: name,
    exportSize: bytes.length,
    // Small chunks: records straddle chunk boundaries as they do when a browser streams a file.
    async *openExport() {
      for (let i = 0; i < bytes.length; i += 97) yield bytes.subarray(i, i + 97);
    },
    verifierKeys: [],
    witnessKeys: [],
    ...extra,
  };
}

describe("verifier engine verdicts", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await make();
  });
  const keys = () => ({ verifierKeys: [f.h.signer.verifierKey] });

  it("valid: JSONL and CSV with a matching checkpoint; rows and redactions as exported", async () => {
    await f.h.log.erasePayload(f.h.chainId, 3);
    const jsonl = await exportText(f.h.log, f.h.chainId, "jsonl");
    for (const [text, name] of [
      [jsonl, "a.jsonl"],
      [f.csv, "a.csv"],
    ] as const) {
      const r = await runVerification(request(text, name, { ...keys(), checkpoint: f.current }));
      expect(r.verdict).toBe("valid");
      expect(r.chain).toMatchObject({ ok: true, size: 20 });
      expect(r.evidence).toMatchObject([{ kind: "checkpoint", status: "matches", size: 20 }]);
      expect(r.rows.map((row) => row.seq)).toEqual([...Array(20).keys()]);
      expect(r.rows.every((row) => row.verified)).toBe(true);
    }
    const r = await runVerification(request(jsonl, "a.jsonl"));
    expect(r.rows[3]?.redacted).toBe(true);
    expect(r.rows[1]).toMatchObject({ action: "order.placed", exchange: "kraken", side: "buy" });
  });

  it("without a checkpoint an intact file is valid but unanchored", async () => {
    const r = await runVerification(request(f.jsonl, "a.jsonl"));
    expect(r.verdict).toBe("valid-unanchored");
  });

  it("garbage, an empty file and a file cut mid-line are results, never crashes", async () => {
    const garbage = await runVerification(request("%PDF-1.7\n\u0000\u0001binary", "x.jsonl"));
    // Not an export at all: said so, not "altered or damaged".
    expect(garbage.verdict).toBe("not-export");
    expect(garbage.fileKind).toBe("not-text");
    expect(garbage.chain).toMatchObject({ ok: false, reason: "malformed", line: 1 });
    const empty = await runVerification(request("", "x.jsonl"));
    expect(empty.verdict).toBe("not-export");
    expect(empty.fileKind).toBe("empty");
    expect(empty.chain).toMatchObject({ ok: false, reason: "malformed" });
    const checkpoint = await runVerification(request(f.current, "x.jsonl"));
    expect([checkpoint.verdict, checkpoint.fileKind]).toEqual(["not-export", "checkpoint"]);
    const cut = f.jsonl.slice(0, f.jsonl.length - 40);
    const r = await runVerification(request(cut, "x.jsonl", { ...keys(), checkpoint: f.current }));
    expect(r.verdict).toBe("broken");
    expect(r.chain).toMatchObject({ ok: false, seq: 19, reason: "malformed", line: 21 });
    expect(r.rows).toHaveLength(19);
  });

  it("the format is sniffed from the content when the name does not say", async () => {
    expect((await runVerification(request(f.csv, "export"))).format).toBe("csv");
    expect((await runVerification(request(f.jsonl, "export"))).format).toBe("jsonl");
  });

  it("tampered: the first broken entry, rows from it on are not verified, no comparison", async () => {
    const r = await runVerification(
      request(tamperJsonl(f.jsonl, 5), "t.jsonl", { ...keys(), checkpoint: f.current }),
    );
    expect(r.verdict).toBe("broken");
    expect(r.chain).toMatchObject({ ok: false, seq: 5, reason: "hash-mismatch", line: 7 });
    expect(r.rows.filter((row) => row.verified).map((row) => row.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(r.evidence[0]?.status).toBe("signature-only");
  });

  it("truncated with a rewritten manifest: caught by the checkpoint, and by a receipt", async () => {
    const cut = truncateJsonl(f.jsonl, 6);
    const cp = await runVerification(request(cut, "c.jsonl", { ...keys(), checkpoint: f.current }));
    expect(cp.chain).toMatchObject({ ok: true, size: 14 });
    expect(cp.verdict).toBe("truncated");
    expect(cp.evidence[0]).toMatchObject({ status: "truncated", size: 20 });
    const rc = await runVerification(request(cut, "c.jsonl", { ...keys(), earlier: f.receipt }));
    expect(rc.verdict).toBe("truncated");
    expect(rc.evidence[0]).toMatchObject({ kind: "receipt", status: "truncated", receiptSeq: 15 });
  });

  it("rewritten: a history re-chained from genesis does not match the signed checkpoint", async () => {
    const other = await buildHistory(13 * 60_000); // same user, different timestamps
    await other.append(0, 20);
    const forged = await exportText(other.log, other.chainId, "jsonl");
    const r = await runVerification(
      request(forged, "f.jsonl", { ...keys(), checkpoint: f.current }),
    );
    expect(r.chain.ok).toBe(true);
    expect(r.verdict).toBe("rewritten");
    expect(r.evidence[0]?.status).toBe("rewritten");
  });

  it("an earlier checkpoint: the log grew; a log that shrank since is truncated", async () => {
    const grew = await runVerification(
      request(f.jsonl, "a.jsonl", { ...keys(), checkpoint: f.current, earlier: f.earlier }),
    );
    expect(grew.verdict).toBe("valid");
    expect(grew.logHistory).toEqual({ status: "grew", previousSize: 12, size: 20 });
    expect(grew.evidence[1]).toMatchObject({ kind: "earlier-checkpoint", status: "covers-prefix" });
    // Only the older checkpoint: the first 12 entries are proven, the 8 newer ones are not.
    const prefix = await runVerification(
      request(f.jsonl, "a.jsonl", { ...keys(), checkpoint: f.earlier }),
    );
    expect(prefix.verdict).toBe("valid-prefix");
    expect(prefix.evidence[0]).toMatchObject({ status: "covers-prefix", size: 12 });
    // The user kept the 20-entry checkpoint; the platform now shows a 12-entry one and file.
    const cut = truncateJsonl(f.jsonl, 8);
    const shrank = await runVerification(
      request(cut, "c.jsonl", { ...keys(), checkpoint: f.earlier, earlier: f.current }),
    );
    expect(shrank.evidence[0]?.status).toBe("matches");
    expect(shrank.logHistory?.status).toBe("truncated");
    expect(shrank.verdict).toBe("truncated");
  });

  it("witnesses: cosignatures are listed; an unmet quorum or a wrong key is not accepted", async () => {
    const ok = await runVerification(
      request(f.jsonl, "a.jsonl", {
        ...keys(),
        witnessKeys: [f.witnessKey],
        checkpoint: f.cosigned,
      }),
    );
    expect(ok.verdict).toBe("valid");
    expect(ok.evidence[0]?.signatures).toMatchObject([
      { role: "log", valid: true },
      { role: "witness", valid: true, name: "witness.example.org" },
    ]);
    const unmet = await runVerification(
      request(f.jsonl, "a.jsonl", {
        ...keys(),
        witnessKeys: [f.witnessKey],
        checkpoint: f.current,
      }),
    );
    expect(unmet.verdict).toBe("bad-evidence");
    const otherKey = (await buildHistory()).signer.verifierKey;
    const wrong = await runVerification(
      request(f.jsonl, "a.jsonl", { verifierKeys: [otherKey], checkpoint: f.current }),
    );
    expect(wrong.verdict).toBe("bad-evidence");
    expect(wrong.evidence[0]?.status).toBe("bad-signature");
    const noKey = await runVerification(request(f.jsonl, "a.jsonl", { checkpoint: f.current }));
    expect(noKey.evidence[0]?.status).toBe("no-key");
    // No key given: not checked, which is not the same as a signature that failed.
    expect(noKey.verdict).toBe("not-checked");
    const badKey = await runVerification(
      request(f.jsonl, "a.jsonl", { checkpoint: f.current, verifierKeys: ["not a key"] }),
    );
    expect(badKey.verdict).toBe("bad-key");
  });

  it("a checkpoint signed for another user's chain is reported as such", () => {
    const policy = buildPolicy({ verifierKeys: [f.h.signer.verifierKey], witnessKeys: [] });
    // The signature is valid, but its origin names alice's chain, not bob's.
    expect(checkCheckpointNote("checkpoint", f.current, policy, "user:bob", undefined).status).toBe(
      "wrong-chain",
    );
    expect(
      checkCheckpointNote("checkpoint", f.current, policy, "user:alice", undefined).status,
    ).toBe("signature-only");
  });
});
