/**
 * The worked example of docs/adapters.md: an AuditStore over any key-value store with atomic
 * compare-and-put transactions (etcd Txn, FoundationDB, Redis WATCH/MULTI, Consul txn). It runs
 * the keywarden/audit/testing conformance suite in example-adapter.conformance.test.ts.
 */

import type {
  AppendRequest,
  AppendResult,
  AuditStore,
  StoredEntry,
} from "../../../../src/audit/storage/store.js";
import { KeywardenError } from "../../../../src/errors.js";

/** The only thing the adapter needs from the database: reads and one atomic compare-and-put. */
export interface TxKv {
  get(key: string): Promise<string | undefined>;
  /** Atomically: if every `compare` key holds exactly `value` (undefined = absent), apply `puts`. */
  txn(
    compare: ReadonlyArray<{ key: string; value: string | undefined }>,
    puts: ReadonlyArray<[string, string]>,
  ): Promise<boolean>;
}

const headKey = (c: string) => `audit/${c}/head`;
const entryKey = (c: string, seq: number) => `audit/${c}/e/${seq}`;
const idemKey = (c: string, k: string) => `audit/${c}/k/${k}`;

export function createTxKvAuditStore(kv: TxKv): AuditStore {
  const head = async (chainId: string) => {
    const h = await kv.get(headKey(chainId));
    return h ? (JSON.parse(h) as { size: number; headHash: string }) : { size: 0, headHash: null };
  };
  const entry = async (chainId: string, seq: number): Promise<StoredEntry | undefined> => {
    const v = await kv.get(entryKey(chainId, seq));
    return v ? (JSON.parse(v) as StoredEntry) : undefined;
  };
  return {
    // No Merkle nodes, no checkpoints: the core never calls what is not declared.
    capabilities: { idempotency: true, treeNodes: false, checkpoints: false },
    head,
    async append(r: AppendRequest): Promise<AppendResult> {
      const current = await kv.get(headKey(r.chainId));
      const size = current ? (JSON.parse(current) as { size: number }).size : 0;
      if (size !== r.expectedSize)
        throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "chain size changed");
      const last = r.entries[r.entries.length - 1] as StoredEntry;
      const next = JSON.stringify({ size: size + r.entries.length, headHash: last.hash });
      const keys = r.entries.flatMap((e) => (e.idempotencyKey === undefined ? [] : [e]));
      if (new Set(keys.map((e) => e.idempotencyKey)).size !== keys.length)
        throw new KeywardenError(
          "ERR_AUDIT_APPEND_CONFLICT",
          "idempotency key used twice in one batch",
        );
      const ok = await kv.txn(
        // The head must be unchanged since we read it, and every idempotency key unused.
        [
          { key: headKey(r.chainId), value: current },
          ...keys.map((e) => ({
            key: idemKey(r.chainId, e.idempotencyKey as string),
            value: undefined,
          })),
        ],
        [
          ...r.entries.map((e): [string, string] => [
            entryKey(r.chainId, e.seq),
            JSON.stringify(e),
          ]),
          ...keys.map((e): [string, string] => [
            idemKey(r.chainId, e.idempotencyKey as string),
            String(e.seq),
          ]),
          [headKey(r.chainId), next],
        ],
      );
      if (!ok)
        throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "lost the race or key already used");
      return { size: size + r.entries.length, headHash: last.hash };
    },
    async *read(chainId, from, to) {
      const end = to ?? (await head(chainId)).size;
      for (let seq = Math.max(0, from); seq < end; seq++) {
        const e = await entry(chainId, seq);
        if (!e) return;
        yield e;
      }
    },
    async erasePayload(chainId, seq) {
      const e = await entry(chainId, seq);
      if (!e) throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
      const before = await kv.get(entryKey(chainId, seq));
      await kv.txn(
        [{ key: entryKey(chainId, seq), value: before }],
        [[entryKey(chainId, seq), JSON.stringify({ ...e, payload: null })]],
      );
    },
    async findByIdempotencyKey(chainId, key) {
      const seq = await kv.get(idemKey(chainId, key));
      return seq === undefined ? undefined : entry(chainId, Number(seq));
    },
  };
}

/** An in-memory TxKv, standing in for etcd & co. in the example's test. */
export function memoryTxKv(): TxKv & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    async get(key) {
      return data.get(key);
    },
    async txn(compare, puts) {
      if (!compare.every((c) => data.get(c.key) === c.value)) return false;
      for (const [k, v] of puts) data.set(k, v);
      return true;
    },
  };
}
