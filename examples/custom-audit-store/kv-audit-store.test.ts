/**
 * The conformance suite that every keywarden adapter runs, run against the example adapter. This is
 * all an integrator needs to prove their own store: pass a factory and their runner's describe/it.
 */
import { runAuditStoreConformance } from "keywarden/audit/testing";
import { describe, it } from "vitest";
import { KvAuditStore, MemoryKv } from "./kv-audit-store.js";

const kvOf = new WeakMap<KvAuditStore, MemoryKv>();

runAuditStoreConformance(
  "example: transactional key-value adapter",
  {
    async create() {
      const kv = new MemoryKv();
      const store = new KvAuditStore(kv);
      kvOf.set(store, kv);
      return store;
    },
    async reopen(store) {
      // A new adapter instance over the same data, as after a process restart.
      const kv = kvOf.get(store as KvAuditStore) as MemoryKv;
      const again = new KvAuditStore(kv);
      kvOf.set(again, kv);
      return again;
    },
    async tamperBody(store, chainId, seq, body) {
      const kv = kvOf.get(store as KvAuditStore) as MemoryKv;
      const key = `entry/${chainId}/${String(seq).padStart(12, "0")}`;
      const e = JSON.parse(kv.data.get(key) as string) as Record<string, unknown>;
      kv.data.set(key, JSON.stringify({ ...e, body }));
    },
  },
  { describe, it },
);
