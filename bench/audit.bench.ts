/**
 * Audit core throughput as same-run ratios against its floor (issue 21): the SHA-256 digests the
 * operation must compute, with node:crypto, over bytes prepared before timing (bench/floors.ts).
 * Verify and append both need two digests per entry: the entry hash SHA-256(0x00 || body) and
 * the salted payload commitment SHA-256(salt || payload). Targets (floor time / operation time):
 * verify stored entries >= 0.80, verify a JSON Lines export read in 64 KiB chunks >= 0.70,
 * append under group commit >= 0.50, awaited single append >= 0.35.
 *
 * The floor takes each digest as a latin1 string (no Buffer allocation, the cheapest form node's
 * one-shot `hash()` returns); the "reference" group shows the same digests as Buffers, about
 * half as fast because of the allocation and GC.
 * Merkle-maintaining append: bench/transparency.bench.ts. Peak RSS: `npx tsx bench/audit-rss.ts`.
 */
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
import {
  type AuditFloorInput,
  auditEntryFloor,
  auditEntryFloorBuffers,
  auditFloorInputOf,
  settingsLine,
} from "./floors.js";

const N = 2000;
/** Longer runs than the default 500 ms: the baseline's own GC pauses make short runs noisy. */
const STEADY = { time: Number(process.env.KW_BENCH_TIME ?? 2000), warmupTime: 500 };
console.log(
  settingsLine("audit.bench.ts", {
    entriesPerIteration: N,
    timeMsPerBench: STEADY.time,
    warmupMs: STEADY.warmupTime,
  }),
);
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
let floorInput: AuditFloorInput = { leaves: [], openings: [] };
const floorSetup = async () => {
  await ready;
  floorInput = auditFloorInputOf(entries);
};
const FLOOR = "floor: node:crypto SHA-256 of 0x00||entry and salt||payload per entry";

describe(`verify ${N} entries (ratio to the floor: entry hash + payload commitment)`, () => {
  bench(FLOOR, () => auditEntryFloor(floorInput), { ...STEADY, setup: floorSetup });
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

describe("reference (not a target's floor): the floor with Buffer output", () => {
  bench(FLOOR, () => auditEntryFloor(floorInput), { ...STEADY, setup: floorSetup });
  bench(
    "reference: the same digests as Buffers (one allocation per digest)",
    () => auditEntryFloorBuffers(floorInput),
    { ...STEADY, setup: floorSetup },
  );
});

describe(`append ${N} entries to the memory store (ratio to the floor: entry hash + payload commitment)`, () => {
  bench(FLOOR, () => auditEntryFloor(floorInput), { ...STEADY, setup: floorSetup });
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
