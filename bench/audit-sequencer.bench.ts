/**
 * The audit sequencer against in-process group commit on one PostgreSQL chain, as same-run
 * ratios (issue 19). PostgreSQL 15 restarted with fsync=on, full_page_writes=on,
 * synchronous_commit=on. Every iteration appends 64 entries to one chain:
 *
 * - baseline: one process, 8 concurrent async writers (group commit), as in audit-storage.bench.ts;
 * - 4 writer processes x 2 lanes through the plain store (each process races the others);
 * - 4 writer processes x 2 lanes through the sequencer (`PostgresSequencedAppender`).
 *
 * Run: `npx vitest bench --run bench/audit-sequencer.bench.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, bench, describe } from "vitest";
import { AuditLog } from "../src/audit/core/log.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../src/audit/storage/postgres/store.js";
import { hostIdentity } from "../src/guard/identity.js";
import { startRestartablePostgres } from "../test/audit/storage/support/pg-server.js";

const PER_ITERATION = 64;

const server = await startRestartablePostgres();
await server.halt();
await server.resume({ durable: true });
const pool = new pg.Pool({ connectionString: server.url, max: 16 });
await migratePostgresAuditStore(pool, { sequencer: true });
const settings = await pool.query(
  "select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes')",
);
if (!settings.rows.every((r) => r.setting === "on"))
  throw new Error(`bench PostgreSQL is not durable: ${JSON.stringify(settings.rows)}`);
const group = new AuditLog({ store: createPostgresAuditStore({ pool }) });
const actor = hostIdentity("bench-group");
let n = 0;

const WRITER = fileURLToPath(new URL("../test/audit/storage/support/writer.ts", import.meta.url));
const children: ChildProcess[] = [];
const waiting = new Map<ChildProcess, Array<(line: string) => void>>();
function startServeWriter(userId: string, w: number, sequencer: boolean): Promise<ChildProcess> {
  const cfg = {
    kind: "postgres",
    target: server.url,
    userId,
    writer: `${userId}-${w}`,
    count: 0,
    lanes: 2,
    serve: true,
    noTree: true,
    sequencer,
  };
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, JSON.stringify(cfg)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  waiting.set(child, []);
  let buf = "";
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === "READY" || line.startsWith("OK")) waiting.get(child)?.shift()?.(line);
    }
  });
  return new Promise((resolve) => waiting.get(child)?.push(() => resolve(child)));
}
const plain = await Promise.all([0, 1, 2, 3].map((w) => startServeWriter("bench-plain", w, false)));
const sequenced = await Promise.all(
  [0, 1, 2, 3].map((w) => startServeWriter("bench-seq", w, true)),
);
const askAll = (procs: ChildProcess[], count: number) =>
  Promise.all(
    procs.map(
      (c) =>
        new Promise<string>((resolve) => {
          waiting.get(c)?.push(resolve);
          c.stdin?.write(`run ${count}\n`);
        }),
    ),
  );

afterAll(async () => {
  for (const c of children) c.stdin?.end();
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("close", r)))),
  );
  await pool.end();
  await server.stop();
});

const opts = { time: 4000, warmupIterations: 2, iterations: 6 };

describe(`PostgreSQL, synchronous_commit=on, fsync=on: ${PER_ITERATION} appends per iteration, one chain, no Merkle nodes`, () => {
  bench(
    "baseline: one process, 8 concurrent writers, group commit",
    async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = next++; i < PER_ITERATION; i = next++)
            await group.appendEntry("user:bench-group", {
              action: "parameter.changed",
              payload: { name: `p${n++}`, to: i },
              actor,
            });
        }),
      );
    },
    opts,
  );
  bench(
    "4 processes x 2 lanes, plain store (racing)",
    async () => {
      await askAll(plain, PER_ITERATION / 4);
    },
    opts,
  );
  bench(
    "4 processes x 2 lanes, sequencer",
    async () => {
      await askAll(sequenced, PER_ITERATION / 4);
    },
    opts,
  );
});
