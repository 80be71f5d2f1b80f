import { describe, expect, it } from "vitest";
import { parseCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { merkleRoot, verifyConsistency } from "../../../src/audit/transparency/merkle.js";
import { openNote, parseVerifierKey } from "../../../src/audit/transparency/note.js";
import {
  formatReceipt,
  leafHashOfBody,
  parseReceipt,
  verifyReceipt,
} from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { isKeywardenError } from "../../../src/errors.js";
import { appendEntries, createTestStore } from "./support.js";

const CHAIN = "user:42";
const code = (c: string) => (e: unknown) => isKeywardenError(e, c as never);

function setup(now = () => 1_764_400_000) {
  const store = createTestStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const log = new TransparencyLog({ store, signer, logName: "audit.example.com", now });
  const policy = { logKeys: [parseVerifierKey(signer.verifierKey)], origin: log.origin(CHAIN) };
  return { store, signer, log, policy };
}

describe("TransparencyLog: signing checkpoints", () => {
  it("signs a checkpoint whose root is the RFC 9162 root of the chain's entry hashes", async () => {
    const { store, log, policy } = setup();
    const bodies = await appendEntries(store, log, CHAIN, 13);
    const { note, checkpoint } = await log.signCheckpoint(CHAIN);
    expect(checkpoint.size).toBe(13);
    expect(checkpoint.origin).toBe("audit.example.com/keywarden/user:42");
    expect(Buffer.from(checkpoint.rootHash)).toEqual(
      Buffer.from(merkleRoot(bodies.map(leafHashOfBody))),
    );
    const opened = parseCheckpoint(openNote(note, policy.logKeys).text);
    expect(opened.timestamp).toBe(1_764_400_000);
    expect((await log.latestCheckpoint(CHAIN))?.note).toBe(note);
  });

  it("signs the empty tree (size 0) and then grows consistently", async () => {
    const { store, log } = setup();
    const empty = await log.signCheckpoint(CHAIN);
    expect(empty.checkpoint.size).toBe(0);
    await appendEntries(store, log, CHAIN, 5);
    const next = await log.signCheckpoint(CHAIN);
    expect(verifyConsistency(0, 5, [], empty.checkpoint.rootHash, next.checkpoint.rootHash)).toBe(
      true,
    );
  });

  it("keeps the tree right when two writers (two processes) append alternately", async () => {
    const { store, log, signer } = setup();
    const other = new TransparencyLog({ store, signer, logName: "audit.example.com" });
    const bodies: string[] = [];
    for (let i = 0; i < 20; i++)
      bodies.push(
        ...(await appendEntries(store, i % 3 === 0 ? other : log, CHAIN, 1 + (i % 2), `w${i}`)),
      );
    const { checkpoint } = await log.signCheckpoint(CHAIN);
    expect(Buffer.from(checkpoint.rootHash)).toEqual(
      Buffer.from(merkleRoot(bodies.map(leafHashOfBody))),
    );
  });

  it("Precondition: the log refuses to sign a checkpoint inconsistent with the last one it signed.", async () => {
    // tail truncation in the store
    const a = setup();
    await appendEntries(a.store, a.log, CHAIN, 10);
    await a.log.signCheckpoint(CHAIN);
    const chain = a.store.chains.get(CHAIN);
    chain?.entries.splice(7);
    await expect(a.log.signCheckpoint(CHAIN)).rejects.toSatisfy(
      code("ERR_AUDIT_INCONSISTENT_CHECKPOINT"),
    );
    // re-chain from genesis to a larger size, with the stored checkpoints deleted too: the log's
    // memory of what it signed still refuses
    const b = setup();
    await appendEntries(b.store, b.log, CHAIN, 6);
    await b.log.signCheckpoint(CHAIN);
    b.store.chains.delete(CHAIN);
    await appendEntries(b.store, b.log, CHAIN, 9, "forged");
    await expect(b.log.signCheckpoint(CHAIN)).rejects.toSatisfy(
      code("ERR_AUDIT_INCONSISTENT_CHECKPOINT"),
    );
    // and a fresh process (no memory) refuses from the stored checkpoint
    const c = setup();
    await appendEntries(c.store, c.log, CHAIN, 6);
    await c.log.signCheckpoint(CHAIN);
    const stored = c.store.chains.get(CHAIN)?.checkpoints ?? [];
    c.store.chains.set(CHAIN, { entries: [], nodes: new Map(), checkpoints: stored });
    await appendEntries(c.store, c.log, CHAIN, 9, "forged");
    const fresh = new TransparencyLog({
      store: c.store,
      signer: c.signer,
      logName: "audit.example.com",
    });
    await expect(fresh.signCheckpoint(CHAIN)).rejects.toSatisfy(
      code("ERR_AUDIT_INCONSISTENT_CHECKPOINT"),
    );
  });

  it("Precondition: the tree's last leaf must be the chain's head entry hash before a checkpoint is signed.", async () => {
    const { store, log } = setup();
    await appendEntries(store, log, CHAIN, 4);
    store.chains.get(CHAIN)?.nodes.set("0/3", new Uint8Array(32));
    await expect(log.signCheckpoint(CHAIN)).rejects.toSatisfy(code("ERR_AUDIT_STORE_INVARIANT"));
  });

  it("rejects a stored checkpoint that its keys do not verify (tampered checkpoint table)", async () => {
    const { store, log } = setup();
    await appendEntries(store, log, CHAIN, 3);
    await log.signCheckpoint(CHAIN);
    const cps = store.chains.get(CHAIN)?.checkpoints ?? [];
    cps.push({ size: 3, note: (cps[0]?.note ?? "").replace("\n3\n", "\n4\n") });
    const fresh = new TransparencyLog({
      store,
      signer: LocalEd25519Signer.generate("x").signer,
      logName: "audit.example.com",
    });
    await expect(fresh.latestCheckpoint(CHAIN)).rejects.toSatisfy(
      code("ERR_AUDIT_CHECKPOINT_INVALID"),
    );
  });

  it("never signs an older time than the last checkpoint (clock stepped back)", async () => {
    let t = 2_000;
    const { store, log } = setup(() => t);
    await appendEntries(store, log, CHAIN, 2);
    await log.signCheckpoint(CHAIN);
    t = 1_000;
    const { checkpoint } = await log.signCheckpoint(CHAIN);
    expect(checkpoint.timestamp).toBe(2_000);
  });
});

describe("TransparencyLog: receipts (c2sp.org/tlog-proof@v1)", () => {
  it("issues a receipt per entry that verifies offline and proves the entry body", async () => {
    const { store, log, policy } = setup();
    const bodies = await appendEntries(store, log, CHAIN, 21);
    const cp = await log.signCheckpoint(CHAIN);
    for (const seq of [0, 1, 7, 16, 20]) {
      const text = await log.receipt(CHAIN, seq, cp);
      expect(text.startsWith(`c2sp.org/tlog-proof@v1\nextra `)).toBe(true);
      const r = verifyReceipt(text, policy);
      expect(r.index).toBe(seq);
      expect(r.body).toBe(bodies[seq]);
      expect(
        verifyReceipt(text, { ...policy, leafHash: leafHashOfBody(bodies[seq] as string) }).index,
      ).toBe(seq);
    }
  });

  it("rejects a receipt with a changed body, index, proof hash, leaf, or a checkpoint the policy does not trust", async () => {
    const { store, log, policy } = setup();
    const bodies = await appendEntries(store, log, CHAIN, 9);
    const text = await log.receipt(CHAIN, 4);
    const r = parseReceipt(text);
    const proofFail = code("ERR_AUDIT_PROOF_INVALID");
    const forged = formatReceipt({
      ...r,
      extra: new TextEncoder().encode((bodies[4] as string).replace("e-4", "e-X")),
    });
    expect(() => verifyReceipt(forged, policy)).toThrow(expect.toSatisfy(proofFail));
    expect(() => verifyReceipt(formatReceipt({ ...r, index: 5 }), policy)).toThrow(
      expect.toSatisfy(proofFail),
    );
    const badProof = [...r.proof];
    badProof[1] = new Uint8Array(32);
    expect(() => verifyReceipt(formatReceipt({ ...r, proof: badProof }), policy)).toThrow(
      expect.toSatisfy(proofFail),
    );
    expect(() =>
      verifyReceipt(text, { ...policy, leafHash: leafHashOfBody(bodies[3] as string) }),
    ).toThrow(expect.toSatisfy(proofFail));
    const other = LocalEd25519Signer.generate("audit.example.com").signer;
    expect(() =>
      verifyReceipt(text, { ...policy, logKeys: [parseVerifierKey(other.verifierKey)] }),
    ).toThrow(expect.toSatisfy(code("ERR_AUDIT_CHECKPOINT_INVALID")));
    expect(() =>
      verifyReceipt(text, { ...policy, origin: "audit.example.com/keywarden/user:43" }),
    ).toThrow();
    expect(() => parseReceipt(text.replace("index 4", "index 04"))).toThrow(
      expect.toSatisfy(proofFail),
    );
  });

  it("Precondition: a receipt whose extra body does not hash to the given leaf is rejected.", async () => {
    const { store, log, policy } = setup();
    const bodies = await appendEntries(store, log, CHAIN, 3);
    const text = await log.receipt(CHAIN, 1);
    expect(() =>
      verifyReceipt(text, { ...policy, leafHash: leafHashOfBody(bodies[2] as string) }),
    ).toThrow();
  });

  it("Precondition: a receipt is issued only for a body whose hash is the stored leaf.", async () => {
    const { store, log } = setup();
    await appendEntries(store, log, CHAIN, 3);
    const e = store.chains.get(CHAIN)?.entries;
    if (e?.[1]) e[1] = { ...e[1], body: e[1].body.replace("e-1", "e-Z") };
    await expect(log.receipt(CHAIN, 1)).rejects.toSatisfy(code("ERR_AUDIT_STORE_INVARIANT"));
  });
});

describe("TransparencyLog.treeNodes: the cached tree edge", () => {
  it("a lost race that leaves a same-size cache of other leaves is detected (by node read or by the head hash)", async () => {
    for (const passHead of [false, true]) {
      const { store, log } = setup();
      await appendEntries(store, log, CHAIN, 3);
      // attempt at size 3 computes nodes for leaf X (cache advances to size 4) but never commits
      const x = leafHashOfBody("lost");
      await log.treeNodes.nodesForAppend(store, CHAIN, 3, [x]);
      // another writer (another process) commits a different entry at seq 3
      const other = new TransparencyLog({
        store,
        signer: LocalEd25519Signer.generate("o").signer,
        logName: "audit.example.com",
      });
      const bodies = await appendEntries(store, other, CHAIN, 1, "winner");
      // our retry at size 4 must not reuse the edge built from "lost"
      const head = await store.head(CHAIN);
      const y = leafHashOfBody("next");
      const nodes = await log.treeNodes.nodesForAppend(
        store,
        CHAIN,
        4,
        [y],
        passHead ? head.headHash : undefined,
      );
      const n21 = nodes.find((n) => n.level === 0);
      expect(n21?.index).toBe(4);
      await store.append({
        chainId: CHAIN,
        expectedSize: 4,
        entries: [{ seq: 4, hash: Buffer.from(y).toString("hex"), body: "next", payload: null }],
        treeNodes: nodes,
      });
      // later appends combine with the edge: (3,0) = H((2,0), (2,1)) at size 8
      await appendEntries(store, log, CHAIN, 5, "later");
      const all = [...(store.chains.get(CHAIN)?.entries ?? [])].map(
        (e) => new Uint8Array(Buffer.from(e.hash, "hex")),
      );
      const { checkpoint } = await log.signCheckpoint(CHAIN);
      expect(Buffer.from(checkpoint.rootHash)).toEqual(Buffer.from(merkleRoot(all)));
      expect(bodies).toHaveLength(1);
    }
  });
});

describe("TransparencyLog.treeNodes: concurrency", () => {
  it("concurrent builder calls at the same size never share a mutable edge", async () => {
    const { store, log } = setup();
    await appendEntries(store, log, CHAIN, 5);
    const a = leafHashOfBody("a");
    const b = leafHashOfBody("b");
    const [na, nb] = await Promise.all([
      log.treeNodes.nodesForAppend(store, CHAIN, 5, [a]),
      log.treeNodes.nodesForAppend(store, CHAIN, 5, [b]),
    ]);
    // both computed for position 5, each from the committed edge of size 5
    expect(na.find((n) => n.level === 0)?.index).toBe(5);
    expect(nb.find((n) => n.level === 0)?.index).toBe(5);
    expect(na.map((n) => `${n.level}/${n.index}`)).toEqual(nb.map((n) => `${n.level}/${n.index}`));
  });
});

describe("TransparencyLog: node cache for proofs", () => {
  it("caches committed nodes high in the tree, so repeated proofs read fewer nodes from the store, and stay correct", async () => {
    const { store, log, policy } = setup();
    const bodies = await appendEntries(store, log, CHAIN, 1100);
    const cp = await log.signCheckpoint(CHAIN);
    let reads = 0;
    const original = store.getTreeNodes?.bind(store);
    store.getTreeNodes = async (chainId, keys) => {
      reads += keys.length;
      return (original as NonNullable<typeof original>)(chainId, keys);
    };
    await log.inclusionProof(CHAIN, 3, 1100);
    const first = reads;
    reads = 0;
    await log.inclusionProof(CHAIN, 5, 1100); // shares the level-8 and level-9 siblings with seq 3
    expect(first).toBe(13);
    expect(reads).toBe(11);
    for (const seq of [0, 255, 256, 700, 1023, 1099]) {
      const r = verifyReceipt(await log.receipt(CHAIN, seq, cp), policy);
      expect(r.body).toBe(bodies[seq]);
    }
  });
});
