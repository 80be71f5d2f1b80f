/**
 * Issue 19's figures in one run, as same-run ratios with per-append latency percentiles
 * (`npx tsx bench/audit-sequencer-report.ts [rounds]`). PostgreSQL 15 restarted with fsync,
 * full_page_writes and synchronous_commit on; SQLite with synchronous=FULL on disk. Prints the
 * settings that ran, the load average before and after (the machine is shared), then:
 *
 * - PostgreSQL: one writer, one transaction per entry (baseline) vs in-process group commit with 8
 *   concurrent writers on one chain (target ≥ 3×);
 * - SQLite synchronous=FULL (WAL): the same pair with 64 concurrent appends (target ≥ 10×);
 * - SQLite, one chain in one file: 4 processes × 2 lanes through the SQLite sequencer vs the
 *   in-process group commit with 8 concurrent writers (the same shape as PostgreSQL's), and 4
 *   processes × 2 lanes through the plain store (racing for the write lock) for contrast;
 * - one chain, 4 processes × 2 lanes through the sequencer vs the in-process group commit
 *   (targets: throughput ≥ 0.8×, p99 ≤ 2×), and through the plain store (racing) for contrast;
 * - 1,000 users' chains written concurrently from 4 processes × 8 lanes through the sequencer,
 *   against the single-chain sequencer figure.
 *
 * Rounds alternate the contenders so that load changes hit them alike.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { AuditLog } from "../src/audit/core/log.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../src/audit/storage/postgres/store.js";
import { openSqliteAuditStore } from "../src/audit/storage/sqlite/store.js";
import { hostIdentity } from "../src/guard/identity.js";
import { startRestartablePostgres } from "../test/audit/storage/support/pg-server.js";
import { settingsLine } from "./floors.js";
import { type Figure, fig, pct, rate, serveWriters, timed } from "./sequencer-support.js";

const ROUNDS = Number(process.argv[2] ?? 5);
const PER = 256; // appends per contender per round
const say = (s: string) => process.stdout.write(`${s}\n`);

const input = (u: string, i: number) => ({
  action: "parameter.changed",
  payload: { name: `p${i}`, to: { i, note: "bench" } },
  actor: hostIdentity(u),
});

const server = await startRestartablePostgres();
await server.halt();
await server.resume({ durable: true });
const pool = new pg.Pool({ connectionString: server.url, max: 16 });
await migratePostgresAuditStore(pool, { sequencer: true });
const settings = await pool.query<{ name: string; setting: string }>(
  "select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'server_version') order by name",
);
const pgSettings = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
if (["fsync", "synchronous_commit", "full_page_writes"].some((k) => pgSettings[k] !== "on"))
  throw new Error(`bench PostgreSQL is not durable: ${JSON.stringify(pgSettings)}`);
const dir = mkdtempSync(join(process.env.KEYWARDEN_BENCH_DIR ?? "/var/tmp", "kw-bench-seq-"));
const sqliteNaive = await openSqliteAuditStore({
  database: join(dir, "naive.db"),
  synchronous: "FULL",
  groupCommit: false,
});
const sqliteGroup = await openSqliteAuditStore({
  database: join(dir, "group.db"),
  synchronous: "FULL",
});
say(
  settingsLine("audit sequencer report", {
    postgres: pgSettings.server_version ?? "?",
    fsync: pgSettings.fsync ?? "?",
    synchronous_commit: pgSettings.synchronous_commit ?? "?",
    full_page_writes: pgSettings.full_page_writes ?? "?",
    sqlite_synchronous: "FULL",
    sqlite_dir: dir,
    appends_per_round: PER,
    rounds: ROUNDS,
  }),
);

const children: ChildProcess[] = [];
const writers = serveWriters(children);
const { askAll } = writers;
function startServeWriter(
  userId: string,
  w: number,
  lanes: number,
  extra: Record<string, unknown>,
): Promise<ChildProcess> {
  const cfg = {
    kind: "postgres",
    target: server.url as string,
    userId,
    writer: `${userId}-${w}`,
    count: 0,
    lanes,
    serve: true,
    noTree: true,
    app: w % 2 ? "keywarden-host-a" : "keywarden-host-b",
    ...extra,
  };
  return writers.start(cfg);
}

const seqOne = await Promise.all(
  [0, 1, 2, 3].map((w) => startServeWriter("b-seq", w, 2, { sequencer: true })),
);
const plain = await Promise.all([0, 1, 2, 3].map((w) => startServeWriter("b-plain", w, 2, {})));
const many = await Promise.all(
  [0, 1, 2, 3].map((w) => startServeWriter("b-many", w, 8, { sequencer: true, chains: 1000 })),
);

const sqSeqFile = join(dir, "seq.db");
const sqPlainFile = join(dir, "plain.db");
const sqOpen = await openSqliteAuditStore({ database: sqSeqFile, synchronous: "FULL" });
await sqOpen.close?.();
const sqPlainOpen = await openSqliteAuditStore({ database: sqPlainFile, synchronous: "FULL" });
await sqPlainOpen.close?.();
const sqSeq = await Promise.all(
  [0, 1, 2, 3].map((w) =>
    startServeWriter("s-seq", w, 2, { kind: "sqlite", target: sqSeqFile, sequencer: true }),
  ),
);
const sqPlain = await Promise.all(
  [0, 1, 2, 3].map((w) =>
    startServeWriter("s-plain", w, 2, { kind: "sqlite", target: sqPlainFile }),
  ),
);
const sqlite8 = await openSqliteAuditStore({
  database: join(dir, "group8.db"),
  synchronous: "FULL",
});
const sqGroup8Log = new AuditLog({ store: sqlite8 });

const pgNaiveLog = new AuditLog({ store: createPostgresAuditStore({ pool, groupCommit: false }) });
const pgGroupLog = new AuditLog({ store: createPostgresAuditStore({ pool }) });
const sqNaiveLog = new AuditLog({ store: sqliteNaive });
const sqGroupLog = new AuditLog({ store: sqliteGroup });
const f = {
  pgNaive: fig(),
  pgGroup: fig(),
  sqNaive: fig(),
  sqGroup: fig(),
  seq: fig(),
  plain: fig(),
  many: fig(),
  sqGroup8: fig(),
  sqSeq: fig(),
  sqPlain: fig(),
};
let k = 0;
// Warm-up (connections, JIT, the first lease).
await askAll(fig(), seqOne, 16);
await askAll(fig(), many, 16);
await askAll(fig(), sqSeq, 16);
await timed(fig(), 8, 64, (i) => sqGroup8Log.appendEntry("user:s-group", input("s-group", k + i)));
await timed(fig(), 8, 64, (i) => pgGroupLog.appendEntry("user:b-group", input("b-group", k + i)));
k += 64;
for (let r = 0; r < ROUNDS; r++) {
  await timed(f.pgNaive, 1, PER / 4, (i) =>
    pgNaiveLog.appendEntry("user:b-naive", input("b-naive", k + i)),
  );
  await timed(f.pgGroup, 8, PER, (i) =>
    pgGroupLog.appendEntry("user:b-group", input("b-group", k + i)),
  );
  await askAll(f.seq, seqOne, PER / 4);
  await askAll(f.plain, plain, PER / 16);
  await askAll(f.many, many, PER / 4);
  await timed(f.sqNaive, 1, PER / 4, (i) =>
    sqNaiveLog.appendEntry("user:b-naive", input("b-naive", k + i)),
  );
  await timed(f.sqGroup, 64, PER, (i) =>
    sqGroupLog.appendEntry("user:b-group", input("b-group", k + i)),
  );
  await timed(f.sqGroup8, 8, PER, (i) =>
    sqGroup8Log.appendEntry("user:s-group", input("s-group", k + i)),
  );
  await askAll(f.sqSeq, sqSeq, PER / 4);
  await askAll(f.sqPlain, sqPlain, PER / 16);
  k += PER;
}

const line = (name: string, x: Figure, base?: Figure) =>
  `${name.padEnd(62)} ${rate(x).toFixed(0).padStart(7)} appends/s  p50 ${pct(x.lat, 50).toFixed(1).padStart(6)} ms  p99 ${pct(x.lat, 99).toFixed(1).padStart(7)} ms  max ${Math.max(
    ...x.lat,
  )
    .toFixed(0)
    .padStart(
      6,
    )} ms${base ? `  ${(rate(x) / rate(base)).toFixed(2)}× / p99 ${(pct(x.lat, 99) / pct(base.lat, 99)).toFixed(2)}×` : ""}`;
say("PostgreSQL (one chain unless said):");
say(line("  baseline: one writer, one transaction per entry", f.pgNaive));
say(line("  in-process group commit, 8 concurrent writers (vs baseline)", f.pgGroup, f.pgNaive));
say(line("  4 processes × 2 lanes, sequencer (vs group commit)", f.seq, f.pgGroup));
say(line("  4 processes × 2 lanes, plain store racing (vs group commit)", f.plain, f.pgGroup));
say(line("  1,000 chains, 4 processes × 8 lanes, sequencer (vs 1 chain seq)", f.many, f.seq));
say("SQLite synchronous=FULL, journal_mode=WAL (one chain, one file each):");
say(line("  baseline: one transaction per entry", f.sqNaive));
say(line("  group commit, 64 concurrent appends (vs baseline)", f.sqGroup, f.sqNaive));
say(line("  in-process group commit, 8 concurrent writers (vs baseline)", f.sqGroup8, f.sqNaive));
say(line("  4 processes × 2 lanes, sequencer (vs 8-writer group commit)", f.sqSeq, f.sqGroup8));
say(line("  4 processes × 2 lanes, plain store racing (vs 8-writer group)", f.sqPlain, f.sqGroup8));
say(settingsLine("after the run", { rounds: ROUNDS }));

for (const c of children) c.stdin?.end();
await Promise.all(
  children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("close", r)))),
);
await pool.end();
await server.stop();
await sqliteNaive.close?.();
await sqliteGroup.close?.();
await sqlite8.close?.();
rmSync(dir, { recursive: true, force: true });
