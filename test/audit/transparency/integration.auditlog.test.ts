import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog, createMemoryAuditStore, userChainId } from "../../../src/audit/index.js";
import { fromHex } from "../../../src/audit/primitives/portable.js";
import { openFileAuditStore } from "../../../src/audit/storage/file/store.js";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { merkleRoot } from "../../../src/audit/transparency/merkle.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import {
  CheckpointPublisher,
  type UserDelivery,
} from "../../../src/audit/transparency/publisher.js";
import { verifyReceipt } from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { hostIdentity, runAs } from "../../../src/guard/index.js";

const CHAIN = userChainId("alice");
const fired = (i: number) => ({
  action: "killswitch.fired",
  payload: { scope: `s${i}`, reason: "drawdown" },
});

describe("with the audit core: AuditLog writes tree nodes atomically with each append", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-int-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ["memory", "file"] as const) {
    it(`(${kind} store) checkpoints, receipts and per-user delivery over real entries`, async () => {
      const store =
        kind === "memory"
          ? createMemoryAuditStore()
          : await openFileAuditStore(join(dir, "audit.jsonl"));
      const { signer } = LocalEd25519Signer.generate("audit.example.com");
      const transparency = new TransparencyLog({ store, signer, logName: "audit.example.com" });
      const deliveries: UserDelivery[] = [];
      const publisher = new CheckpointPublisher({
        log: transparency,
        everyEntries: 5,
        deliverToUser: async (d) => void deliveries.push(d),
      });
      const log = new AuditLog({
        store,
        treeNodes: transparency.treeNodes,
        onAppended: publisher.onAppended,
      });
      const hashes: string[] = [];
      await runAs(hostIdentity("alice"), async () => {
        for (let i = 0; i < 12; i++) hashes.push((await log.appendEntry(CHAIN, fired(i))).hash);
        // concurrent appends on one chain still produce the right tree
        const many = await Promise.all(
          Array.from({ length: 8 }, (_, i) => log.appendEntry(CHAIN, fired(100 + i))),
        );
        for (const e of many.sort((a, b) => a.seq - b.seq)) hashes.push(e.hash);
      });
      await publisher.stop();
      const { checkpoint, note } = await transparency.signCheckpoint(CHAIN);
      expect(checkpoint.size).toBe(20);
      expect(Buffer.from(checkpoint.rootHash)).toEqual(
        Buffer.from(merkleRoot(hashes.map((h) => fromHex(h) as Uint8Array))),
      );
      const policy = {
        logKeys: [parseVerifierKey(signer.verifierKey)],
        origin: transparency.origin(CHAIN),
      };
      const r = verifyReceipt(await transparency.receipt(CHAIN, 13), policy);
      expect(JSON.parse(r.body ?? "{}").seq).toBe(13);
      expect(r.checkpoint.note).toBe(note);
      expect(deliveries.length).toBeGreaterThan(0);
      expect(deliveries.at(-1)?.userId).toBe("alice");
      for (const d of deliveries)
        for (const x of d.receipts) expect(verifyReceipt(x.receipt, policy).index).toBe(x.seq);
      await store.close?.();
    });
  }
});
