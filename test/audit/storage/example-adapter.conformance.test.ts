import { describe, it } from "vitest";
import type { AuditStore } from "../../../src/audit/storage/store.js";
import { runAuditStoreConformance } from "../../../src/audit/testing/index.js";
import { createTxKvAuditStore, memoryTxKv } from "./example/txkv-adapter.js";

// The docs/adapters.md worked example, run through the public conformance suite.
const kvs = new WeakMap<AuditStore, ReturnType<typeof memoryTxKv>>();
runAuditStoreConformance(
  "docs example: transactional key-value adapter",
  {
    async create() {
      const kv = memoryTxKv();
      const store = createTxKvAuditStore(kv);
      kvs.set(store, kv);
      return store;
    },
    async reopen(store) {
      const kv = kvs.get(store) as ReturnType<typeof memoryTxKv>;
      const again = createTxKvAuditStore(kv);
      kvs.set(again, kv);
      return again;
    },
    async tamperBody(store, chainId, seq, body) {
      const kv = kvs.get(store) as ReturnType<typeof memoryTxKv>;
      const key = `audit/${chainId}/e/${seq}`;
      kv.data.set(key, JSON.stringify({ ...JSON.parse(kv.data.get(key) as string), body }));
    },
  },
  { describe, it },
);
