/**
 * Audit transparency costs, as same-run ratios (issue: audit transparency):
 *
 * 1. Append with the Merkle state vs the plain chain append (target <= 1.3x): AuditLog on the
 *    memory store, one awaited appendEntry per entry, with and without `treeNodes`.
 * 2. Inclusion proofs stay logarithmic (target: 1,000,000 entries <= 2x 1,000 entries): proofs
 *    read from the SQLite store's node table and from the JSONL file store, and from the
 *    in-memory node store (the algorithm alone), at 1,000 and 1,000,000 entries in the same run.
 *    The large stores are built once, lazily (after the append benches), in batches through the store's own append (tree nodes
 *    computed by TransparencyLog.treeNodes), with synthetic entry bodies (the stores do not parse
 *    bodies; proofs only read tree nodes).
 *
 * Run: `npx vitest bench --run bench/transparency.bench.ts` (building the 1M stores takes a minute).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, bench, describe } from "vitest";
import { AuditLog, createMemoryAuditStore, userChainId } from "../src/audit/index.js";
import { toHex } from "../src/audit/primitives/portable.js";
import { openFileAuditStore } from "../src/audit/storage/file/store.js";
import { openSqliteAuditStore } from "../src/audit/storage/sqlite/store.js";
import type { AuditStore } from "../src/audit/storage/store.js";
import { TransparencyLog } from "../src/audit/transparency/log.js";
import {
  inclusionProof,
  MemoryMerkleNodes,
  MerkleFrontier,
} from "../src/audit/transparency/merkle.js";
import { leafHashOfBody } from "../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../src/audit/transparency/signer.js";
import { hostIdentity, runAs } from "../src/guard/index.js";
import {
  type AuditFloorInput,
  auditEntryFloor,
  auditFloorInputOf,
  auditMerkleFloor,
  settingsLine,
} from "./floors.js";

const chainId = userChainId("bench");
const actor = hostIdentity("bench");
const APPENDS = 500;
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
const { signer } = LocalEd25519Signer.generate("bench.example.com");
const dir = mkdtempSync(join(tmpdir(), "kw-tbench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

console.log(
  settingsLine("transparency.bench.ts", {
    appendsPerIteration: APPENDS,
    timeMsPerAppendBench: 4000,
  }),
);

/** The floors' bytes: the same entries, appended once, as 0x00||body and salt||payload. */
let floorInput: AuditFloorInput = { leaves: [], openings: [] };
const floorSetup = async () => {
  if (floorInput.leaves.length) return;
  const store = createMemoryAuditStore();
  await runAs(actor, () =>
    new AuditLog({ store }).appendEntries(
      chainId,
      Array.from({ length: APPENDS }, (_, i) => input(i)),
    ),
  );
  const stored = [];
  for await (const e of store.read(chainId, 0)) stored.push(e);
  floorInput = auditFloorInputOf(stored);
};

describe(`append ${APPENDS} entries, memory store (target: with Merkle state <= 1.2x plain; floors for each)`, () => {
  bench(
    "floor, plain append: SHA-256 entry hash + payload commitment",
    () => auditEntryFloor(floorInput),
    {
      time: 1000,
      setup: floorSetup,
    },
  );
  bench(
    "floor, Merkle append: the same + SHA-256(0x01||l||r) per completed tree node",
    () => auditMerkleFloor(floorInput),
    { time: 1000, setup: floorSetup },
  );
  bench(
    "plain chain append (AuditLog.appendEntry)",
    async () => {
      const log = new AuditLog({ store: createMemoryAuditStore() });
      await runAs(actor, async () => {
        for (let i = 0; i < APPENDS; i++) await log.appendEntry(chainId, input(i));
      });
    },
    { time: 4000 },
  );
  bench(
    "append with Merkle tree nodes (AuditLog + TransparencyLog.treeNodes)",
    async () => {
      const store = createMemoryAuditStore();
      const transparency = new TransparencyLog({ store, signer, logName: "bench.example.com" });
      const log = new AuditLog({ store, treeNodes: transparency.treeNodes });
      await runAs(actor, async () => {
        for (let i = 0; i < APPENDS; i++) await log.appendEntry(chainId, input(i));
      });
    },
    { time: 4000 },
  );
});

let fileRun = 0;
describe(`append ${APPENDS / 5} entries, JSONL file store with fsync (ratio: with Merkle state / plain)`, () => {
  const run = async (tree: boolean) => {
    const store = await openFileAuditStore(join(dir, `append-${fileRun++}.jsonl`));
    const transparency = new TransparencyLog({ store, signer, logName: "bench.example.com" });
    const log = new AuditLog({ store, ...(tree ? { treeNodes: transparency.treeNodes } : {}) });
    await runAs(actor, async () => {
      for (let i = 0; i < APPENDS / 5; i++) await log.appendEntry(chainId, input(i));
    });
    await store.close?.();
  };
  bench("plain chain append", () => run(false), { time: 3000 });
  bench("append with Merkle tree nodes", () => run(true), { time: 3000 });
});

const SMALL = 1_000;
const LARGE = Number(process.env.KW_BENCH_LARGE ?? 1_000_000);
const BATCH = 10_000;

async function fill(store: AuditStore, size: number): Promise<TransparencyLog> {
  const log = new TransparencyLog({ store, signer, logName: "bench.example.com" });
  for (let at = 0; at < size; at += BATCH) {
    const n = Math.min(BATCH, size - at);
    const bodies = Array.from({ length: n }, (_, i) => `{"seq":${at + i}}`);
    const leaves = bodies.map((b) => leafHashOfBody(b));
    const treeNodes = await log.treeNodes.nodesForAppend(store, chainId, at, leaves);
    await store.append({
      chainId,
      expectedSize: at,
      entries: bodies.map((body, i) => ({
        seq: at + i,
        hash: toHex(leaves[i] as Uint8Array),
        body,
        payload: null,
      })),
      treeNodes,
    });
  }
  return log;
}

function memoryNodes(size: number): MemoryMerkleNodes {
  const nodes = new MemoryMerkleNodes();
  const f = new MerkleFrontier();
  for (let i = 0; i < size; i++) nodes.writeNodes(f.append(leafHashOfBody(`{"seq":${i}}`)));
  return nodes;
}

let seed = 1;
const nextIndex = (size: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % size;
};

let built: Promise<Awaited<ReturnType<typeof build>>> | undefined;
const stores = () => {
  built ??= build();
  return built;
};
async function build() {
  const sqliteSmall = await fill(
    await openSqliteAuditStore({ database: join(dir, "small.db"), synchronous: "NORMAL" }),
    SMALL,
  );
  const sqliteLarge = await fill(
    await openSqliteAuditStore({ database: join(dir, "large.db"), synchronous: "NORMAL" }),
    LARGE,
  );
  const fileSmall = await fill(await openFileAuditStore(join(dir, "small.jsonl")), SMALL);
  const fileLarge = await fill(await openFileAuditStore(join(dir, "large.jsonl")), LARGE);
  return {
    sqliteSmall,
    sqliteLarge,
    fileSmall,
    fileLarge,
    memSmall: memoryNodes(SMALL),
    memLarge: memoryNodes(LARGE),
  };
}

const opts = { setup: async () => void (await stores()), time: 2000 };

describe("inclusion proof, SQLite store (ratio: 1M / 1K)", () => {
  bench(
    `${SMALL} entries`,
    async () =>
      void (await (await stores()).sqliteSmall.inclusionProof(chainId, nextIndex(SMALL), SMALL)),
    opts,
  );
  bench(
    `${LARGE} entries`,
    async () =>
      void (await (await stores()).sqliteLarge.inclusionProof(chainId, nextIndex(LARGE), LARGE)),
    opts,
  );
});

describe("inclusion proof, JSONL file store (ratio: 1M / 1K)", () => {
  bench(
    `${SMALL} entries`,
    async () =>
      void (await (await stores()).fileSmall.inclusionProof(chainId, nextIndex(SMALL), SMALL)),
    opts,
  );
  bench(
    `${LARGE} entries`,
    async () =>
      void (await (await stores()).fileLarge.inclusionProof(chainId, nextIndex(LARGE), LARGE)),
    opts,
  );
});

describe("inclusion proof, in-memory nodes (ratio: 1M / 1K)", () => {
  bench(
    `${SMALL} entries`,
    async () => void (await inclusionProof((await stores()).memSmall, nextIndex(SMALL), SMALL)),
    opts,
  );
  bench(
    `${LARGE} entries`,
    async () => void (await inclusionProof((await stores()).memLarge, nextIndex(LARGE), LARGE)),
    opts,
  );
});
