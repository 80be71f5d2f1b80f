/**
 * Audit core throughput, as same-run ratios against raw node:crypto SHA-256 over the same
 * canonical bytes (the targets: verify >= 40 %, memory-store append >= 20 %).
 *
 * The baseline is `hash("sha256", 0x00 || entry, "buffer")`: the raw digest, one call per entry.
 * Its mean includes the garbage collection that allocating one digest Buffer per call costs, so
 * its best samples (min) are about half its mean. The "reference" row hashes the same bytes with
 * hex output, which allocates no Buffer and is the path the verifier itself takes; compare with
 * it too. docs/audit-format.md §Performance records measured figures with all three readings.
 *
 * Peak RSS for verifying a 1,000,000-entry export: `npx tsx bench/audit-rss.ts`.
 */
import { hash } from "node:crypto";
import { bench, describe } from "vitest";
import { jsonlEntryLine, jsonlManifestLine } from "../src/audit/export/jsonl.js";
import {
  type AppendEntryInput,
  AuditLog,
  ChainVerifier,
  createMemoryAuditStore,
  type StoredEntry,
  sha256Node,
  userChainId,
  verifyExport,
} from "../src/audit/index.js";
import { hostIdentity, runAs } from "../src/guard/index.js";

const N = 2000;
/** Longer runs than the default 500 ms: the baseline's own GC pauses make short runs noisy. */
const STEADY = { time: 2000, warmupTime: 500 };
const chainId = userChainId("bench");
const actor = hostIdentity("bench");
const input = (i: number) => ({
  action: "order.placed",
  payload: {
    exchange: "binance",
    symbol: "BTC/USDT",
    side: "buy",
    type: "limit",
    amount: `0.${i + 1}`,
    price: "64250.10",
  },
  actor,
});

/** The callers' inputs, built once: the benchmark times appending them, not building them. */
const inputs: AppendEntryInput[] = Array.from({ length: N }, (_, i) => input(i));
const store = createMemoryAuditStore();
const seeded = runAs(actor, () =>
  new AuditLog({ store }).appendEntries(
    chainId,
    Array.from({ length: N }, (_, i) => input(i)),
  ),
);
const entries: StoredEntry[] = [];
/** The export's bytes in 64 KiB chunks, as a file read stream delivers them. */
const jsonl: Buffer[] = [];
const ready = seeded.then(async () => {
  for await (const e of store.read(chainId, 0)) entries.push(e);
  const h = await store.head(chainId);
  const bytes = Buffer.from(
    jsonlManifestLine({
      v: 1,
      format: "keywarden.audit.export",
      chainId,
      size: h.size,
      headHash: h.headHash,
    }) + entries.map(jsonlEntryLine).join(""),
  );
  for (let at = 0; at < bytes.length; at += 65536) jsonl.push(bytes.subarray(at, at + 65536));
});
const leafInputs = () => entries.map((e) => Buffer.concat([Buffer.from([0]), Buffer.from(e.body)]));
let leaves: Buffer[] = [];
let openings: Buffer[] = [];

describe(`verify ${N} entries (ratio vs raw SHA-256 of the same canonical bytes)`, () => {
  bench(
    "baseline: raw node:crypto SHA-256 of 0x00||entry",
    () => {
      for (const l of leaves) hash("sha256", l, "buffer");
    },
    {
      ...STEADY,
      setup: async () => {
        await ready;
        leaves = leafInputs();
      },
    },
  );
  bench(
    "baseline 2: raw node:crypto SHA-256 of every byte verify hashes (0x00||entry and salt||payload)",
    () => {
      for (const l of leaves) hash("sha256", l, "buffer");
      for (const o of openings) hash("sha256", o, "buffer");
    },
    {
      ...STEADY,
      setup: async () => {
        await ready;
        leaves = leafInputs();
        openings = entries.map((e) => {
          const text = e.payload as string;
          return Buffer.concat([
            Buffer.from(text.slice(9, 73), "hex"),
            Buffer.from(text.slice(83, -1)),
          ]);
        });
      },
    },
  );
  bench(
    "ChainVerifier over stored entries (hash, link, payload commitment)",
    () => {
      const v = new ChainVerifier({ sha256: sha256Node, chainId });
      for (const e of entries) if (v.push(e)) throw new Error("broken");
      if (!v.finish().ok) throw new Error("broken");
    },
    {
      ...STEADY,
      setup: async () => {
        await ready;
      },
    },
  );
  bench(
    "verifyExport over the JSON Lines export (64 KiB chunks, as a file stream reads it)",
    async () => {
      const r = await verifyExport(jsonl, { format: "jsonl", sha256: sha256Node });
      if (!r.ok) throw new Error("broken");
    },
    {
      ...STEADY,
      setup: async () => {
        await ready;
      },
    },
  );
});

describe("reference (not a target's baseline): the same hashing with hex output", () => {
  bench(
    "reference: node:crypto SHA-256 of 0x00||entry with hex output (no digest buffer)",
    () => {
      for (const l of leaves) hash("sha256", l, "hex");
    },
    {
      ...STEADY,
      setup: async () => {
        await ready;
        leaves = leafInputs();
      },
    },
  );
});

describe(`append ${N} entries to the memory store (ratio vs raw SHA-256 of the same canonical bytes)`, () => {
  bench(
    "baseline: raw node:crypto SHA-256 of 0x00||entry",
    () => {
      for (const l of leaves) hash("sha256", l, "buffer");
    },
    {
      ...STEADY,
      setup: async () => {
        await ready;
        leaves = leafInputs();
      },
    },
  );
  bench(
    "AuditLog.appendEntry, one awaited call per entry (validation, commitment, encoding, hashing)",
    async () => {
      const log = new AuditLog({ store: createMemoryAuditStore() });
      await runAs(actor, async () => {
        for (let i = 0; i < N; i++) await log.appendEntry(chainId, inputs[i] as AppendEntryInput);
      });
    },
    STEADY,
  );
  bench(
    "AuditLog.appendEntry, N concurrent callers (group commit)",
    async () => {
      const log = new AuditLog({ store: createMemoryAuditStore() });
      await runAs(actor, () => Promise.all(inputs.map((one) => log.appendEntry(chainId, one))));
    },
    STEADY,
  );
});
