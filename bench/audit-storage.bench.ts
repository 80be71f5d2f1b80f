/**
 * Audit storage throughput at real durability, as same-run ratios (issue: audit storage at scale).
 *
 * - PostgreSQL 15 restarted with fsync=on, full_page_writes=on, synchronous_commit=on (the test
 *   helper's fsync=off is switched off here): 8 concurrent async writers in one process on one
 *   chain (group commit) vs the naive single writer with one transaction per entry (target >= 3x).
 *   The multi-process figure: 4 writer processes x 2 lanes on the same chain.
 * - SQLite with synchronous=FULL on ext4 (not tmpfs): 64 concurrent appends (group commit) vs one
 *   transaction per entry (target >= 10x).
 *
 * Every iteration appends the same number of entries (64), so ops/s ratios are throughput ratios.
 * Run: `npx vitest bench --run bench/audit-storage.bench.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { hash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, bench, describe } from "vitest";
import { AuditLog } from "../src/audit/core/log.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../src/audit/storage/postgres/store.js";
import { openSqliteAuditStore } from "../src/audit/storage/sqlite/store.js";
import type { AuditStore, StoredEntry, TreeNode } from "../src/audit/storage/store.js";
import { storeNodeReader } from "../src/audit/transparency/log.js";
import { inclusionProof, MerkleFrontier } from "../src/audit/transparency/merkle.js";
import { hostIdentity } from "../src/guard/identity.js";
import { startRestartablePostgres } from "../test/audit/storage/support/pg-server.js";

const PER_ITERATION = 64;
const actor = (u: string) => hostIdentity(u);
const input = (u: string, i: number) => ({
  action: "parameter.changed",
  payload: { name: `p${i}`, to: { i, note: "bench" } },
  actor: actor(u),
});

async function sequential(log: AuditLog, chain: string, user: string): Promise<void> {
  for (let i = 0; i < PER_ITERATION; i++) await log.appendEntry(chain, input(user, i));
}
async function concurrent(
  log: AuditLog,
  chain: string,
  user: string,
  writers: number,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = next++; i < PER_ITERATION; i = next++)
        await log.appendEntry(chain, input(user, i));
    }),
  );
}

// --- PostgreSQL, durable ------------------------------------------------------------------------
const server = await startRestartablePostgres();
await server.halt();
await server.resume({ durable: true });
const pool = new pg.Pool({ connectionString: server.url, max: 16 });
await migratePostgresAuditStore(pool);
const settings = await pool.query(
  "select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes')",
);
if (!settings.rows.every((r) => r.setting === "on"))
  throw new Error(`bench PostgreSQL is not durable: ${JSON.stringify(settings.rows)}`);
const pgNaive = new AuditLog({ store: createPostgresAuditStore({ pool, groupCommit: false }) });
const pgGroup = new AuditLog({ store: createPostgresAuditStore({ pool }) });

const WRITER = fileURLToPath(new URL("../test/audit/storage/support/writer.ts", import.meta.url));
const children: ChildProcess[] = [];
const lines = new Map<ChildProcess, Array<(line: string) => void>>();
function startServeWriter(w: number): Promise<ChildProcess> {
  const cfg = {
    kind: "postgres",
    target: server.url,
    userId: "bench-mp",
    writer: `mp${w}`,
    count: 0,
    lanes: 2,
    serve: true,
  };
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, JSON.stringify(cfg)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  lines.set(child, []);
  let buf = "";
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.get(child)?.shift()?.(line);
    }
  });
  return new Promise((resolve) => lines.get(child)?.push(() => resolve(child)));
}
const procs = await Promise.all([0, 1, 2, 3].map(startServeWriter));
const askAll = (n: number) =>
  Promise.all(
    procs.map(
      (c) =>
        new Promise<string>((resolve) => {
          lines.get(c)?.push(resolve);
          c.stdin?.write(`run ${n}\n`);
        }),
    ),
  );

// --- SQLite, synchronous=FULL on disk -----------------------------------------------------------
const dir = mkdtempSync(join(process.env.KEYWARDEN_BENCH_DIR ?? "/var/tmp", "kw-bench-sqlite-"));
const sqliteNaive = new AuditLog({
  store: await openSqliteAuditStore({
    database: join(dir, "naive.db"),
    synchronous: "FULL",
    groupCommit: false,
  }),
});
const sqliteGroup = new AuditLog({
  store: await openSqliteAuditStore({ database: join(dir, "group.db"), synchronous: "FULL" }),
});

afterAll(async () => {
  for (const c of children) c.stdin?.end();
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("close", r)))),
  );
  await pool.end();
  await server.stop();
  await sqliteNaive.store.close?.();
  await sqliteGroup.store.close?.();
  await proofSqlite.close?.();
  rmSync(dir, { recursive: true, force: true });
});

const opts = { time: 4000, warmupIterations: 2, iterations: 8 };

// --- Inclusion proofs from the SQL stores at 1,000 vs 1,000,000 entries (transparency issue) ------
/** Bulk-loads `n` synthetic leaves with their Merkle nodes, in large batches. */
async function seedTree(store: AuditStore, chainId: string, n: number): Promise<void> {
  const frontier = new MerkleFrontier();
  for (let start = 0; start < n; start += 5000) {
    const entries: StoredEntry[] = [];
    const treeNodes: TreeNode[] = [];
    for (let seq = start; seq < Math.min(n, start + 5000); seq++) {
      const body = `{"seq":${seq}}`;
      const leaf = hash("sha256", Buffer.concat([Buffer.from([0]), Buffer.from(body)]), "buffer");
      entries.push({ seq, hash: leaf.toString("hex"), body, payload: null });
      treeNodes.push(...frontier.append(new Uint8Array(leaf)));
    }
    await store.append({ chainId, expectedSize: start, entries, treeNodes });
  }
}
const BIG = Number(process.env.KEYWARDEN_BENCH_PROOF_SIZE ?? 1_000_000);
const proofSqlite = await openSqliteAuditStore({
  database: join(dir, "proofs.db"),
  synchronous: "NORMAL",
});
const proofPg = createPostgresAuditStore({ pool });
for (const store of [proofSqlite, proofPg]) {
  await seedTree(store, "user:small", 1000);
  await seedTree(store, "user:big", BIG);
}
const prove = (store: AuditStore, chainId: string, size: number) =>
  inclusionProof(storeNodeReader(store, chainId), Math.floor(Math.random() * size), size);

describe(`PostgreSQL, synchronous_commit=on, fsync=on: ${PER_ITERATION} appends per iteration`, () => {
  bench(
    "baseline: one writer, one transaction per entry",
    () => sequential(pgNaive, "user:bench-naive", "bench-naive"),
    opts,
  );
  bench(
    "8 concurrent async writers, one chain, group commit",
    () => concurrent(pgGroup, "user:bench-group", "bench-group", 8),
    opts,
  );
  bench(
    "4 writer processes x 2 lanes, one chain (multi-process figure)",
    async () => {
      await askAll(PER_ITERATION / 4);
    },
    opts,
  );
});

describe(`SQLite, synchronous=FULL: ${PER_ITERATION} appends per iteration`, () => {
  bench(
    "baseline: one transaction per entry",
    () => sequential(sqliteNaive, "user:bench-naive", "bench-naive"),
    opts,
  );
  bench(
    "64 concurrent appends, group commit",
    () => concurrent(sqliteGroup, "user:bench-group", "bench-group", 64),
    opts,
  );
});

describe("inclusion proof from SQLite: 1,000 vs 1,000,000 entries (target: at most 2x)", () => {
  bench("1,000 entries", () => prove(proofSqlite, "user:small", 1000).then(() => {}), {
    time: 2000,
  });
  bench(
    `${BIG.toLocaleString("en")} entries`,
    () => prove(proofSqlite, "user:big", BIG).then(() => {}),
    { time: 2000 },
  );
});

describe("inclusion proof from PostgreSQL: 1,000 vs 1,000,000 entries (target: at most 2x)", () => {
  bench("1,000 entries", () => prove(proofPg, "user:small", 1000).then(() => {}), { time: 2000 });
  bench(
    `${BIG.toLocaleString("en")} entries`,
    () => prove(proofPg, "user:big", BIG).then(() => {}),
    { time: 2000 },
  );
});
