/**
 * Test support: a minimal AuditStore with the treeNodes and checkpoints capabilities (kept here so
 * these tests do not depend on the core's adapters), and a helper that appends entries the way
 * AuditLog does (entry hash = SHA-256(0x00 || body); tree nodes written atomically with them).
 */

import { toHex } from "../../../src/audit/primitives/portable.js";
import type {
  AuditStore,
  StoredCheckpoint,
  StoredEntry,
} from "../../../src/audit/storage/store.js";
import type { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { leafHashOfBody } from "../../../src/audit/transparency/receipt.js";
import { KeywardenError } from "../../../src/errors.js";

export interface TestStore extends AuditStore {
  /** Direct access for tamper tests. */
  readonly chains: Map<
    string,
    { entries: StoredEntry[]; nodes: Map<string, Uint8Array>; checkpoints: StoredCheckpoint[] }
  >;
}

export function createTestStore(): TestStore {
  const chains: TestStore["chains"] = new Map();
  const chain = (id: string) => {
    let c = chains.get(id);
    if (!c) {
      c = { entries: [], nodes: new Map(), checkpoints: [] };
      chains.set(id, c);
    }
    return c;
  };
  return {
    chains,
    capabilities: { idempotency: false, treeNodes: true, checkpoints: true },
    async head(chainId) {
      const e = chains.get(chainId)?.entries ?? [];
      return { size: e.length, headHash: e.length ? (e[e.length - 1] as StoredEntry).hash : null };
    },
    async append(req) {
      const c = chain(req.chainId);
      if (c.entries.length !== req.expectedSize)
        throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "conflict");
      c.entries.push(...req.entries);
      for (const n of req.treeNodes ?? [])
        c.nodes.set(`${n.level}/${n.index}`, new Uint8Array(n.hash));
      const last = c.entries[c.entries.length - 1] as StoredEntry;
      return { size: c.entries.length, headHash: last.hash };
    },
    async *read(chainId, from, to) {
      const e = chains.get(chainId)?.entries ?? [];
      for (let i = from; i < Math.min(to ?? e.length, e.length); i++) yield e[i] as StoredEntry;
    },
    async erasePayload() {},
    async getTreeNodes(chainId, keys) {
      const c = chains.get(chainId);
      return keys.map((k) => c?.nodes.get(`${k.level}/${k.index}`));
    },
    async putCheckpoint(chainId, cp) {
      chain(chainId).checkpoints.push(cp);
    },
    async latestCheckpoint(chainId) {
      const cps = chains.get(chainId)?.checkpoints ?? [];
      let best: StoredCheckpoint | undefined;
      for (const cp of cps) if (!best || cp.size >= best.size) best = cp;
      return best;
    },
  };
}

/** Appends `n` entries with distinct bodies, as AuditLog would (one batch per entry). */
export async function appendEntries(
  store: AuditStore,
  log: TransparencyLog,
  chainId: string,
  n: number,
  tag = "e",
): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const head = await store.head(chainId);
    const body = JSON.stringify({
      chainId,
      prevHash: head.headHash,
      seq: head.size,
      tag: `${tag}-${i}`,
    });
    const leaf = leafHashOfBody(body);
    const treeNodes = await log.treeNodes.nodesForAppend(store, chainId, head.size, [leaf]);
    await store.append({
      chainId,
      expectedSize: head.size,
      entries: [{ seq: head.size, hash: toHex(leaf), body, payload: null }],
      treeNodes,
    });
    bodies.push(body);
  }
  return bodies;
}
