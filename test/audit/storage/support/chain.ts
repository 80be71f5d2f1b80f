import { AuditLog } from "../../../../src/audit/core/log.js";
import { type VerifyResult, verifyEntries } from "../../../../src/audit/core/verify.js";
import { sha256Node } from "../../../../src/audit/primitives/sha256.js";
import type { AuditStore, StoredEntry } from "../../../../src/audit/storage/store.js";
import { TransparencyLog } from "../../../../src/audit/transparency/log.js";
import { LocalEd25519Signer } from "../../../../src/audit/transparency/signer.js";
import { hostIdentity } from "../../../../src/guard/identity.js";

/** An AuditLog over `store` that also maintains the Merkle tree nodes (when the store keeps them). */
export function logFor(store: AuditStore): { log: AuditLog; tlog: TransparencyLog } {
  const tlog = new TransparencyLog({
    store,
    signer: LocalEd25519Signer.generate("audit.test").signer,
    logName: "audit.test",
  });
  return { log: new AuditLog({ store, treeNodes: tlog.treeNodes }), tlog };
}

/** Appends `n` entries for `userId` (one call each, concurrently), returning their seqs. */
export async function appendN(
  log: AuditLog,
  userId: string,
  n: number,
  tag = "t",
): Promise<number[]> {
  const actor = hostIdentity(userId);
  const done = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.appendEntry(`user:${userId}`, {
        action: "parameter.changed",
        payload: { name: `${tag}-${i}`, to: i },
        actor,
      }),
    ),
  );
  return done.map((e) => e.seq);
}

/** Verifies a stream of stored entries as one chain from genesis. */
export function verifyStream(
  source: AsyncIterable<StoredEntry> | Iterable<StoredEntry>,
  chainId: string,
): Promise<VerifyResult> {
  return verifyEntries(source, { sha256: sha256Node, chainId });
}

/** Verifies a store's whole chain. */
export async function verifyStored(store: AuditStore, chainId: string): Promise<VerifyResult> {
  return verifyStream(store.read(chainId, 0), chainId);
}
