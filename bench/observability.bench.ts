/**
 * What keywarden's observability hooks cost on the audit append path, same run: appends with
 * observability off (the default: every hook is one check and a call) against the same appends
 * with it on, recording through a real OpenTelemetry SDK `MeterProvider` (with a metric reader, so
 * every counter add and histogram record is aggregated) and the SDK's tracer. The gauges cost
 * nothing here: they are read only when the SDK collects, and this never collects while timing.
 *
 * Two shapes: one awaited append per entry (one store append each, so one counter add and two
 * histogram records per entry: the worst case) and N concurrent callers (group commit: the hooks
 * run once per batch). Both on the memory store, whose append is far cheaper than any durable
 * store's, so the ratio is an upper bound; for scale, the printed line also gives awaited appends
 * to the SQLite store (synchronous FULL, a fsync per commit). The vitest groups report the ratio;
 * before them, an interleaved same-run measurement (off, on, off, on, ... rounds, median of the
 * per-pair ratios) is printed, which the shared machine's load drifts less.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { bench, describe } from "vitest";
import { type AppendEntryInput, AuditLog } from "../src/audit/core/index.js";
import { createMemoryAuditStore } from "../src/audit/storage/index.js";
import { openSqliteAuditStore } from "../src/audit/storage/sqlite/store.js";
import { runAs } from "../src/guard/context.js";
import { hostIdentity } from "../src/guard/identity.js";
import { disableObservability, enableObservability } from "../src/observability/index.js";
import { settingsLine } from "./floors.js";

const N = 500;
/** Entries per round against SQLite (each awaited append is one fsynced commit). */
const N_SQLITE = 50;
const ROUNDS = Number(process.env.KW_BENCH_ROUNDS ?? 15);
const STEADY = { time: Number(process.env.KW_BENCH_TIME ?? 1000), warmupTime: 300 };
console.log(
  settingsLine("observability.bench.ts", {
    entriesPerIteration: N,
    interleavedRounds: ROUNDS,
    timeMsPerBench: STEADY.time,
    warmupMs: STEADY.warmupTime,
  }),
);

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meters = new MeterProvider({ readers: [reader] });
const tracers = new BasicTracerProvider();
const on = () =>
  enableObservability({
    api: {
      metrics: { getMeter: (n, v) => meters.getMeter(n, v) },
      trace: { getTracer: (n, v) => tracers.getTracer(n, v) as never },
    },
  });
const off = async () => disableObservability();

const chainId = "user:bench";
const actor = hostIdentity("bench");
const inputs: AppendEntryInput[] = Array.from({ length: N }, (_, i) => ({
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
}));

async function awaitedAppends(): Promise<void> {
  const log = new AuditLog({ store: createMemoryAuditStore() });
  await runAs(actor, async () => {
    for (const input of inputs) await log.appendEntry(chainId, input);
  });
}

async function groupCommit(): Promise<void> {
  const log = new AuditLog({ store: createMemoryAuditStore() });
  await runAs(actor, () => Promise.all(inputs.map((one) => log.appendEntry(chainId, one))));
}

/** Median over `ROUNDS` of (time with observability on) / (time with it off), interleaved. */
async function interleavedRatio(fn: () => Promise<void>): Promise<number> {
  const time = async () => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await time(); // warm-up
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await off();
    const a = await time();
    await on();
    const b = await time();
    await off();
    ratios.push(b / a);
  }
  ratios.sort((x, y) => x - y);
  return ratios[Math.floor(ratios.length / 2)] as number;
}

const awaited = await interleavedRatio(awaitedAppends);
const grouped = await interleavedRatio(groupCommit);
const dir = mkdtempSync(join(tmpdir(), "kw-obs-bench-"));
const sqlite = await openSqliteAuditStore({ database: join(dir, "audit.db") });
const sqliteLog = new AuditLog({ store: sqlite });
const durable = await interleavedRatio(() =>
  runAs(actor, async () => {
    for (const input of inputs.slice(0, N_SQLITE)) await sqliteLog.appendEntry(chainId, input);
  }),
);
await sqlite.close?.();
rmSync(dir, { recursive: true, force: true });
console.log(
  `[observability overhead] time on / time off (median of ${ROUNDS} interleaved pairs): ` +
    `memory store, ${N} awaited appends ${awaited.toFixed(3)}x; memory store, ${N} concurrent ` +
    `(group commit) ${grouped.toFixed(3)}x; SQLite FULL, ${N_SQLITE} awaited appends ${durable.toFixed(3)}x`,
);
await reader.forceFlush();

describe(`${N} awaited appends, one store append each (ratio: observability on / off)`, () => {
  bench("observability off (default)", awaitedAppends, { ...STEADY, setup: off });
  bench("observability on, SDK MeterProvider and tracer", awaitedAppends, {
    ...STEADY,
    setup: on,
    teardown: off,
  });
});

describe(`${N} concurrent appends, group commit (ratio: observability on / off)`, () => {
  bench("observability off (default)", groupCommit, { ...STEADY, setup: off });
  bench("observability on, SDK MeterProvider and tracer", groupCommit, {
    ...STEADY,
    setup: on,
    teardown: off,
  });
});
