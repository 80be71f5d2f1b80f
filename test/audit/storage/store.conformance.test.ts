import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { createMemoryAuditStore, openFileAuditStore } from "../../../src/audit/index.js";
import type { AuditStore } from "../../../src/audit/storage/store.js";
import { runAuditStoreConformance } from "../../../src/audit/testing/index.js";

runAuditStoreConformance(
  "memory",
  { create: async () => createMemoryAuditStore() },
  { describe, it },
);

const dirs: string[] = [];
const paths = new WeakMap<AuditStore, string>();
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

runAuditStoreConformance(
  "jsonl file",
  {
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "kw-audit-conf-"));
      dirs.push(dir);
      const path = join(dir, "audit.jsonl");
      const store = await openFileAuditStore(path);
      paths.set(store, path);
      return store;
    },
    async reopen(store) {
      const path = paths.get(store) as string;
      await store.close?.();
      const again = await openFileAuditStore(path);
      paths.set(again, path);
      return again;
    },
    async tamperBody(store, _chainId, seq, body) {
      // A same-length in-place edit of the chain file, as an attacker with file access would do.
      const path = paths.get(store) as string;
      const text = await readFile(path, "utf8");
      const [original] = (await readAllBodies(store, seq)) as [string];
      const at = Buffer.from(text).indexOf(Buffer.from(JSON.stringify(original).slice(1, -1)));
      const fh = await open(path, "r+");
      await fh.write(Buffer.from(JSON.stringify(body).slice(1, -1)), 0, undefined, at);
      await fh.close();
    },
  },
  { describe, it },
);

async function readAllBodies(store: AuditStore, seq: number): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.read("user:conformance-user", seq, seq + 1)) out.push(e.body);
  return out;
}
