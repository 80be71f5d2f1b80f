/**
 * The DynamoDB sequenced appender's figures on **dynalite** (`npx tsx
 * bench/audit-sequencer-dynamodb-report.ts [rounds]`). dynalite is an in-memory DynamoDB
 * emulator in one Node process, not DynamoDB: its latencies, throughput and contention behaviour
 * are not DynamoDB's, so read only the same-run ratios, and only as relative. dynalite runs in a
 * process of its own (so that the in-process contender does not share its CPU). Prints the
 * settings and the load average before and after, then, on one chain unless said:
 *
 * - one writer, one append at a time (baseline) vs in-process group commit, 8 concurrent writers
 *   (both with idempotency keys, which every sequenced append carries);
 * - 4 processes × 2 lanes through `DynamoDbSequencedAppender` vs the in-process group commit
 *   (throughput and p99), and through the plain store (the core's racing retries) for contrast;
 * - 1,000 users' chains from 4 processes × 8 lanes through the appender, vs its one-chain figure.
 *
 * Rounds alternate the contenders so that load changes hit them alike.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AuditLog } from "../src/audit/core/log.js";
import {
  createDynamoDbAuditTable,
  openDynamoDbAuditStore,
} from "../src/audit/storage/dynamodb/store.js";
import { hostIdentity } from "../src/guard/identity.js";
import { settingsLine } from "./floors.js";
import { type Figure, fig, pct, rate, serveWriters, timed } from "./sequencer-support.js";

const ROUNDS = Number(process.argv[2] ?? 3);
const PER = 128; // appends per contender per round
const TABLE = "bench-audit";
const say = (s: string) => process.stdout.write(`${s}\n`);
/** With an idempotency key, as every sequenced append has (and the writer processes send). */
const input = (u: string, i: number) => ({
  action: "parameter.changed",
  payload: { name: `p${i}`, to: { i, note: "bench" } },
  actor: hostIdentity(u),
  idempotencyKey: `${u}-${i}`,
});

const children: ChildProcess[] = [];
const writers = serveWriters(children);
const { askAll } = writers;
const cli = createRequire(import.meta.url).resolve("dynalite/cli.js");
const port = 20_000 + Math.floor(Math.random() * 20_000);
const dynalite = spawn(
  process.execPath,
  [cli, "--port", String(port), "--host", "127.0.0.1", "--createTableMs", "0"],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
children.push(dynalite);
await new Promise<void>((resolve) => dynalite.stdout?.once("data", () => resolve()));
const endpoint = `http://127.0.0.1:${port}`;
const client = new DynamoDBClient({
  endpoint,
  region: "eu-west-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
await createDynamoDbAuditTable(client, TABLE);
const store = await openDynamoDbAuditStore({ client, tableName: TABLE });
say(
  settingsLine(
    "audit DynamoDB sequencer report — dynalite, NOT DynamoDB: ratios are relative only",
    {
      emulator: "dynalite 4 (in-memory, own process)",
      appends_per_round: PER,
      rounds: ROUNDS,
      merkle_nodes: "off",
      idempotency_keys: "on (all contenders)",
    },
  ),
);

function startServeWriter(
  userId: string,
  w: number,
  lanes: number,
  extra: Record<string, unknown>,
): Promise<ChildProcess> {
  const cfg = {
    kind: "dynamodb",
    target: endpoint,
    table: TABLE,
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
  [0, 1, 2, 3].map((w) => startServeWriter("d-seq", w, 2, { sequencer: true })),
);
const plain = await Promise.all([0, 1, 2, 3].map((w) => startServeWriter("d-plain", w, 2, {})));
const many = await Promise.all(
  [0, 1, 2, 3].map((w) => startServeWriter("d-many", w, 8, { sequencer: true, chains: 1000 })),
);
const naiveLog = new AuditLog({ store });
const groupLog = new AuditLog({ store });
const f = { naive: fig(), group: fig(), seq: fig(), plain: fig(), many: fig() };
let k = 0;
await askAll(fig(), seqOne, 16); // warm-up: connections, JIT
await timed(fig(), 8, 64, (i) => groupLog.appendEntry("user:d-group", input("d-group", k + i)));
k += 64;
for (let r = 0; r < ROUNDS; r++) {
  await timed(f.naive, 1, PER / 4, (i) =>
    naiveLog.appendEntry("user:d-naive", input("d-naive", k + i)),
  );
  await timed(f.group, 8, PER, (i) =>
    groupLog.appendEntry("user:d-group", input("d-group", k + i)),
  );
  await askAll(f.seq, seqOne, PER / 4);
  await askAll(f.plain, plain, PER / 16);
  await askAll(f.many, many, PER / 4);
  k += PER;
}

const line = (name: string, x: Figure, base?: Figure) =>
  `${name.padEnd(66)} ${rate(x).toFixed(0).padStart(7)} appends/s  p50 ${pct(x.lat, 50).toFixed(1).padStart(6)} ms  p99 ${pct(x.lat, 99).toFixed(1).padStart(7)} ms${base ? `  ${(rate(x) / rate(base)).toFixed(2)}× / p99 ${(pct(x.lat, 99) / pct(base.lat, 99)).toFixed(2)}×` : ""}`;
say("DynamoDB on dynalite (NOT DynamoDB; one chain unless said):");
say(line("  baseline: one writer, one append at a time", f.naive));
say(line("  in-process group commit, 8 concurrent writers (vs baseline)", f.group, f.naive));
say(line("  4 processes × 2 lanes, sequenced appender (vs group commit)", f.seq, f.group));
say(line("  4 processes × 2 lanes, plain store racing (vs group commit)", f.plain, f.group));
say(line("  1,000 chains, 4 processes × 8 lanes, sequenced (vs 1 chain seq)", f.many, f.seq));
say(settingsLine("after the run", { rounds: ROUNDS }));

for (const c of children) if (c !== dynalite) c.stdin?.end();
await Promise.all(
  children
    .filter((c) => c !== dynalite)
    .map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("close", r)))),
);
client.destroy();
dynalite.kill();
