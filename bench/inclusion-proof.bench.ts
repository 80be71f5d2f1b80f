/**
 * Inclusion proofs stay logarithmic on the database stores (issue 21's target: a proof at
 * 1,000,000 entries costs at most 2x a proof at 1,000 entries, same run), on SQLite
 * (better-sqlite3) and PostgreSQL (a throwaway server from test/support/postgres.ts, fsync off as
 * in the tests). Each size lives in a store of its own (its own SQLite file, its own PostgreSQL
 * database), so the large figure pays for the deeper B-tree of a table holding ~2M tree nodes.
 *
 * The stores are built through their own append (entries and the tree nodes
 * `TransparencyLog.treeNodes.nodesForAppend` computes, 10,000 entries per append), with synthetic
 * bodies `{"seq":n}`: stores do not parse bodies and a proof reads only tree nodes. Each proof is
 * for a pseudo-random leaf of the whole tree, and a sample of them is checked against the tree
 * root before timing, so a store that returned wrong nodes would fail rather than look fast.
 * Two rows per store: `TransparencyLog.inclusionProof` (the product path; its cache of nodes of
 * level >= 8 is warmed first, as in a long-running log) and the store's own node reads, uncached.
 *
 * Run: `npx vitest bench --run bench/inclusion-proof.bench.ts` (building takes minutes on a
 * loaded machine; `KW_BENCH_LARGE=100000` for a quicker run; `KW_BENCH_PG=0` skips PostgreSQL,
 * `KW_BENCH_SQLITE=0` SQLite).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, bench, describe } from "vitest";
import { userChainId } from "../src/audit/index.js";
import { toHex } from "../src/audit/primitives/portable.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../src/audit/storage/postgres/index.js";
import { openSqliteAuditStore } from "../src/audit/storage/sqlite/store.js";
import type { AuditStore } from "../src/audit/storage/store.js";
import { storeNodeReader, TransparencyLog } from "../src/audit/transparency/log.js";
import { inclusionProof, rootAtSize, verifyInclusion } from "../src/audit/transparency/merkle.js";
import { leafHashOfBody } from "../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../src/audit/transparency/signer.js";
import { createDatabase, startPostgres } from "../test/support/postgres.js";
import { settingsLine } from "./floors.js";

const SMALL = 1_000;
const LARGE = Number(process.env.KW_BENCH_LARGE ?? 1_000_000);
const BATCH = 10_000;
const TIME = Number(process.env.KW_BENCH_TIME ?? 2000);
const WITH_PG = process.env.KW_BENCH_PG !== "0";
const WITH_SQLITE = process.env.KW_BENCH_SQLITE !== "0";
const chainId = userChainId("bench");
const { signer } = LocalEd25519Signer.generate("bench.example.com");
const dir = mkdtempSync(join(tmpdir(), "kw-proof-bench-"));
const closers: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  rmSync(dir, { recursive: true, force: true });
});

async function fill(store: AuditStore, size: number): Promise<[TransparencyLog, AuditStore]> {
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
  // A store that answered with wrong or missing nodes fails here instead of looking fast.
  const nodes = log.nodes(chainId);
  const root = await rootAtSize(nodes, size);
  for (const index of [0, size - 1, Math.floor(size / 3), nextIndex(size)]) {
    const proof = await log.inclusionProof(chainId, index, size);
    if (!verifyInclusion(leafHashOfBody(`{"seq":${index}}`), index, size, proof, root))
      throw new Error(`inclusion proof of ${index} in ${size} does not verify`);
  }
  // Steady state of a long-running log: one proof per 256-leaf block reads every node of level
  // >= 8 once, so TransparencyLog's cache of high nodes is warm at both sizes (a short bench of
  // random leaves would otherwise time the 1M tree with a mostly cold cache and the 1K tree with
  // a warm one). The store-reader rows below bypass that cache entirely.
  for (let leaf = 0; leaf < size; leaf += 256) await log.inclusionProof(chainId, leaf, size);
  return [log, store];
}

let seed = 1;
function nextIndex(size: number): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % size;
}

type Built = {
  small: TransparencyLog;
  large: TransparencyLog;
  smallStore: AuditStore;
  largeStore: AuditStore;
};
const timings: Record<string, number> = {};
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  timings[name] = Math.round(performance.now() - t0);
  return out;
}

let sqlite: Promise<Built> | undefined;
const sqliteStores = () => {
  sqlite ??= (async () => {
    const open = async (name: string) => {
      const store = await openSqliteAuditStore({
        database: join(dir, name),
        synchronous: "NORMAL",
      });
      closers.push(() => store.close?.());
      return store;
    };
    const [small, smallStore] = await timed("sqlite 1K build", async () =>
      fill(await open("small.db"), SMALL),
    );
    const [large, largeStore] = await timed("sqlite large build", async () =>
      fill(await open("large.db"), LARGE),
    );
    console.log(`[bench build, ms] ${JSON.stringify(timings)}`);
    return { small, large, smallStore, largeStore };
  })();
  return sqlite;
};

let postgres: Promise<Built> | undefined;
const postgresStores = () => {
  postgres ??= (async () => {
    const { default: pg } = await import("pg");
    const server = await startPostgres();
    closers.push(() => server.stop());
    const open = async () => {
      const pool = new pg.Pool({ connectionString: await createDatabase(server.url), max: 4 });
      closers.push(() => pool.end());
      await migratePostgresAuditStore(pool);
      return createPostgresAuditStore({ pool });
    };
    const [small, smallStore] = await timed("postgres 1K build", async () =>
      fill(await open(), SMALL),
    );
    const [large, largeStore] = await timed("postgres large build", async () =>
      fill(await open(), LARGE),
    );
    console.log(`[bench build, ms] ${JSON.stringify(timings)}`);
    return { small, large, smallStore, largeStore };
  })();
  return postgres;
};

console.log(
  settingsLine("inclusion-proof.bench.ts", {
    small: SMALL,
    large: LARGE,
    entriesPerAppend: BATCH,
    timeMsPerBench: TIME,
    sqlite: WITH_SQLITE ? "yes" : "skipped",
    postgres: WITH_PG ? "yes" : "skipped",
  }),
);

const proof = (log: TransparencyLog, size: number) => async () =>
  void (await log.inclusionProof(chainId, nextIndex(size), size));
/** The store's own node reads, without TransparencyLog's cache of high nodes (reference). */
const storeProof = (store: AuditStore, size: number) => async () =>
  void (await inclusionProof(storeNodeReader(store, chainId), nextIndex(size), size));

function group(name: string, stores: () => Promise<Built>): void {
  describe(`inclusion proof, ${name} store (target: ${LARGE} entries <= 2x ${SMALL})`, () => {
    let b: Built;
    const setup = async () => {
      b = await stores();
    };
    bench(`${SMALL} entries (TransparencyLog.inclusionProof)`, () => proof(b.small, SMALL)(), {
      setup,
      time: TIME,
    });
    bench(`${LARGE} entries (TransparencyLog.inclusionProof)`, () => proof(b.large, LARGE)(), {
      setup,
      time: TIME,
    });
  });
  describe(`inclusion proof, ${name} store, node reads only, no cache (reference)`, () => {
    let b: Built;
    const setup = async () => {
      b = await stores();
    };
    bench(`${SMALL} entries (store reader)`, () => storeProof(b.smallStore, SMALL)(), {
      setup,
      time: TIME,
    });
    bench(`${LARGE} entries (store reader)`, () => storeProof(b.largeStore, LARGE)(), {
      setup,
      time: TIME,
    });
  });
}

if (WITH_SQLITE) group("SQLite", sqliteStores);
if (WITH_PG) group("PostgreSQL", postgresStores);
