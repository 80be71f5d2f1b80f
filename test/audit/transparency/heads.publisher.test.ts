/**
 * Automatic heads enqueue (format §17.3): the per-chain CheckpointPublisher, given `heads`, records
 * every checkpoint it publishes in the operator's HeadsLog; one batched integration turns them into
 * one witness-cosigned heads checkpoint, and each user's heads receipt verifies against the chain
 * checkpoint and chain key delivered to them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import {
  HeadsLog,
  parseChainKey,
  verifyHeadsReceipt,
} from "../../../src/audit/transparency/heads/index.js";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { parseNote, parseVerifierKey } from "../../../src/audit/transparency/note.js";
import {
  CheckpointPublisher,
  type PublishError,
  type UserDelivery,
} from "../../../src/audit/transparency/publisher.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  cosignatureVerifier,
  createCosigner,
  MemoryWitnessState,
  witnessCheckpoint,
} from "../../../src/audit/transparency/witness.js";
import { Secret } from "../../../src/secret.js";
import { appendEntries, createTestStore } from "./support.js";

const HEADS = "audit.example.com/keywarden-heads";
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), "kw-heads-pub-"));
  dirs.push(dir);
  const store = createTestStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const log = new TransparencyLog({ store, signer, logName: "audit.example.com" });
  const { signer: headsSigner } = LocalEd25519Signer.generate(HEADS);
  const headsKey = parseVerifierKey(headsSigner.verifierKey);
  const witnesses = ["w1.example", "w2.example", "w3.example"].map((n) => ({
    cosigner: createCosigner(LocalEd25519Signer.generate(n).signer),
    state: new MemoryWitnessState(),
  }));
  let signatures = 0;
  const heads = await HeadsLog.open({
    dir,
    origin: HEADS,
    signer: {
      keyName: headsSigner.keyName,
      keyId: headsSigner.keyId,
      sign: (m: Uint8Array) => {
        signatures++;
        return headsSigner.sign(m);
      },
    },
    headsSecret: Secret.copyOf(new Uint8Array(32).fill(7)),
    cosign: async (note, proofFrom, oldSize) => {
      const proof = await proofFrom(oldSize);
      let out = note;
      for (const w of witnesses) {
        const r = await witnessCheckpoint({
          note,
          proof,
          logs: { [HEADS]: [headsKey] },
          state: w.state,
          cosigner: w.cosigner,
        });
        if (!r.ok) throw new Error(`witness refused: ${r.reason}`);
        out += r.cosignature;
      }
      return out;
    },
  });
  const deliveries: UserDelivery[] = [];
  const errors: PublishError[] = [];
  const publisher = new CheckpointPublisher({
    log,
    heads,
    deliverToUser: async (d) => void deliveries.push(d),
    onError: (e) => void errors.push(e),
  });
  const policy = {
    logKeys: [headsKey],
    witnesses: witnesses.map((w) => cosignatureVerifier(w.cosigner.verifierKey)),
    quorum: 2,
    origin: HEADS,
  };
  return {
    store,
    log,
    heads,
    publisher,
    deliveries,
    errors,
    policy,
    signatures: () => signatures,
  };
}

describe("CheckpointPublisher → HeadsLog (opt-in heads enqueue)", () => {
  it("publishing N chains gives one heads checkpoint, and each user's heads receipt verifies", async () => {
    const t = await setup();
    const chains = Array.from({ length: 12 }, (_, i) => `user:u${i}`);
    for (const [i, c] of chains.entries()) {
      await appendEntries(t.store, t.log, c, 1 + (i % 4), c);
      t.publisher.onAppended({ chainId: c, size: 1 + (i % 4) });
    }
    await t.publisher.flush();
    expect(t.errors).toEqual([]);
    expect(t.heads.size).toBe(0); // queued, not yet integrated
    const batch = await t.heads.integrate();
    expect(batch?.count).toBe(chains.length);
    expect(t.signatures()).toBe(1); // one heads checkpoint, signed once
    expect(parseNote(batch?.note ?? "").signatures.length).toBe(4); // log + 3 witnesses
    // Every user: their delivered chain checkpoint, their chain key, their heads receipt.
    for (const d of t.deliveries) {
      const cp = parseCheckpoint(parseNote(d.checkpoint.note).text);
      const entry = batch?.heads.find((h) => h.origin === cp.origin);
      expect(entry?.size).toBe(cp.size);
      expect(d.headsChainKey).toBeDefined();
      const receipt = await t.heads.receipt(entry?.index ?? -1);
      const v = verifyHeadsReceipt(receipt, {
        chainKey: parseChainKey(d.headsChainKey ?? ""),
        chain: { size: cp.size, rootHash: cp.rootHash, time: cp.timestamp },
        policy: t.policy,
      });
      expect(v.headsIndex).toBe(entry?.index);
      expect(v.heads.cosignatures.length).toBe(3);
      // Another user's key does not open it.
      const other = t.deliveries.find((o) => o.chainId !== d.chainId);
      expect(() =>
        verifyHeadsReceipt(receipt, {
          chainKey: parseChainKey(other?.headsChainKey ?? ""),
          chain: { size: cp.size, rootHash: cp.rootHash, time: cp.timestamp },
          policy: t.policy,
        }),
      ).toThrow();
    }
    expect(new Set(t.deliveries.map((d) => d.chainId))).toEqual(new Set(chains));
  });

  it("a chain is recorded once per new size: a re-publish without growth adds nothing; growth adds a leaf", async () => {
    const t = await setup();
    await appendEntries(t.store, t.log, "user:a", 2, "a");
    await t.publisher.publishNow("user:a");
    await t.publisher.publishNow("user:a");
    expect((await t.heads.integrate())?.count).toBe(1);
    await t.publisher.publishNow("user:a");
    expect(await t.heads.integrate()).toBeUndefined();
    await appendEntries(t.store, t.log, "user:a", 3, "b");
    const cp = await t.publisher.publishNow("user:a");
    const batch = await t.heads.integrate();
    expect(batch?.heads).toEqual([{ index: 1, origin: cp.checkpoint.origin, size: 5 }]);
    // The chain key is delivered with the first checkpoint only.
    expect(t.deliveries.map((d) => d.headsChainKey !== undefined)).toEqual([true, false]);
    const receipt = await t.heads.receipt(1);
    expect(
      verifyHeadsReceipt(receipt, {
        chainKey: t.heads.chainKey(cp.checkpoint.origin),
        chain: { size: 5, rootHash: cp.checkpoint.rootHash, time: cp.checkpoint.timestamp },
        policy: t.policy,
      }).headsIndex,
    ).toBe(1);
  });

  it("a heads queue that throws is reported as stage 'heads' and never blocks publication", async () => {
    const store = createTestStore();
    const { signer } = LocalEd25519Signer.generate("audit.example.com");
    const log = new TransparencyLog({ store, signer, logName: "audit.example.com" });
    const errors: PublishError[] = [];
    const delivered: string[] = [];
    const publisher = new CheckpointPublisher({
      log,
      heads: {
        enqueue: () => {
          throw new Error("queue full");
        },
      },
      deliverToUser: async (d) => void delivered.push(d.chainId),
      onError: (e) => void errors.push(e),
    });
    await appendEntries(store, log, "user:x", 1, "x");
    await publisher.publishNow("user:x");
    expect(errors.map((e) => e.stage)).toEqual(["heads"]);
    expect(delivered).toEqual(["user:x"]);
  });
});

describe("HeadsLog: a failed integration is not lost", () => {
  it("leaves written before a cosigning failure are published, listed and receipted with the next batch", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kw-heads-retry-"));
    dirs.push(dir);
    const { signer } = LocalEd25519Signer.generate(HEADS);
    let failures = 1;
    const previousSizes: number[] = [];
    const heads = await HeadsLog.open({
      dir,
      origin: HEADS,
      signer,
      headsSecret: Secret.copyOf(new Uint8Array(32).fill(7)),
      cosign: async (note, _proofFrom, previousSize) => {
        previousSizes.push(previousSize);
        if (failures-- > 0) throw new Error("witnesses unreachable");
        return note;
      },
    });
    const head = (i: number) => ({
      origin: `audit.example.com/keywarden/user:r${i}`,
      size: 1,
      rootHash: new Uint8Array(32).fill(i),
      timestamp: 1764400000,
    });
    heads.enqueue(head(0));
    heads.enqueue(head(1));
    await expect(heads.integrate()).rejects.toThrow("witnesses unreachable");
    expect(heads.size).toBe(0);
    await expect(heads.receipt(0)).rejects.toThrow("not published yet");
    heads.enqueue(head(2));
    const batch = await heads.integrate();
    expect(batch?.heads.map((h) => h.index)).toEqual([0, 1, 2]);
    expect(batch?.firstIndex).toBe(0);
    expect(batch?.count).toBe(3);
    expect(previousSizes).toEqual([0, 0]); // the witnesses were last shown size 0 both times
    const logKeys = [parseVerifierKey(signer.verifierKey)];
    for (const i of [0, 1, 2]) {
      const v = verifyHeadsReceipt(await heads.receipt(i), {
        chainKey: heads.chainKey(head(i).origin),
        chain: { size: 1, rootHash: head(i).rootHash, time: 1764400000 },
        policy: { logKeys },
      });
      expect(v.headsIndex).toBe(i);
    }
    expect(await heads.integrate()).toBeUndefined();
  });
});
