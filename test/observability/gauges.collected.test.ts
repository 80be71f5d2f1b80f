/**
 * The observable gauges, collected with the OpenTelemetry SDK's MeterProvider while the state
 * they report is held in place: entries queued behind a group-commit append, users with an active
 * kill switch (fired through the trading client), and the PostgreSQL sequencer's durable queue
 * while another holder keeps the lease. No gauge carries a user or chain id. Delta temporality,
 * so that each collection shows only what was observed in it (a cumulative reader keeps
 * re-exporting a series' last value after its source stops reporting).
 */
import * as otel from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import {
  acquireSequencerLease,
  PostgresSequencedAppender,
} from "../../src/audit/sequencer/index.js";
import { type AuditStore, createMemoryAuditStore } from "../../src/audit/storage/index.js";
import { migratePostgresAuditStore } from "../../src/audit/storage/postgres/store.js";
import { runAs } from "../../src/guard/context.js";
import { hostIdentity } from "../../src/guard/identity.js";
import { disableObservability, enableObservability } from "../../src/observability/index.js";
import { createTradingClient } from "../../src/trading/client.js";
import type { ExchangeLike } from "../../src/trading/exchange-like.js";
import { createMemoryTradingState, type TradingStateStore } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { createDatabase } from "../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../support/services.js";
import { localKms, makeIdp } from "../vault/helpers.js";

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.DELTA),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });

type Point = { attributes: Record<string, unknown>; value: unknown };

/** One collection: metric name -> its data points. */
async function collect(): Promise<Map<string, Point[]>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, Point[]>();
  for (const scope of resourceMetrics.scopeMetrics)
    for (const m of scope.metrics)
      out.set(
        m.descriptor.name,
        m.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value })),
      );
  return out;
}

/** The value of `name` at the point whose attributes are exactly `attributes`. */
function pointValue(
  points: Map<string, Point[]>,
  name: string,
  attributes: Record<string, unknown> = {},
): unknown {
  return points.get(name)?.find((p) => JSON.stringify(p.attributes) === JSON.stringify(attributes))
    ?.value;
}

const WAITING = "keywarden.audit.queue.waiting";
const DEPTH = "keywarden.audit.queue.depth";
const AGE = "keywarden.audit.queue.age";
const ACTIVE = "keywarden.trading.kill_switch.active";

beforeAll(async () => {
  await enableObservability({
    api: {
      metrics: { getMeter: (n, v) => meterProvider.getMeter(n, v) },
      trace: otel.trace, // no tracer provider registered: the API's no-op tracer
    },
  });
});

afterAll(async () => {
  disableObservability();
  await meterProvider.shutdown();
});

/** A memory store whose appends wait for `open()`. */
function gatedStore(): { store: AuditStore; open: () => void; appends: () => number } {
  const base = createMemoryAuditStore();
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let appends = 0;
  return {
    store: {
      ...base,
      append: async (request) => {
        appends++;
        await gate;
        return base.append(request);
      },
    },
    open,
    appends: () => appends,
  };
}

describe("keywarden.audit.queue.waiting", () => {
  it("counts the entries queued behind the store append in progress, and none once it commits", async () => {
    const { store, open, appends } = gatedStore();
    const log = new AuditLog({ store });
    const actor = hostIdentity("gauge-user");
    const entry = (i: number) => ({ action: "parameter.changed", payload: { name: "x", to: i } });
    const done = runAs(actor, () =>
      Promise.all([
        log.appendEntry("user:gauge-user", entry(0)),
        // These three queue while the first append waits at the gate: one entry, then a batch of two.
        log.appendEntry("user:gauge-user", entry(1)),
        log.appendEntries("user:gauge-user", [entry(2), entry(3)]),
      ]),
    );
    while (appends() === 0) await new Promise((r) => setTimeout(r, 1));
    const during = await collect();
    expect(pointValue(during, WAITING, { queue: "group_commit" })).toBe(3);
    open();
    await done;
    expect(pointValue(await collect(), WAITING, { queue: "group_commit" })).toBe(0);
  });
});

function exchanges(): () => ExchangeLike {
  return () => ({
    markets: { "BTC/USDT": {} },
    throttler: {},
    loadMarkets: async () => ({ "BTC/USDT": {} }),
    setMarkets: () => undefined,
    createOrder: async (symbol) => ({ id: "1", symbol, status: "open" }),
    cancelOrder: async (id) => ({ id }),
    cancelAllOrders: async () => [],
    fetchOrder: async (id) => ({ id, symbol: "BTC/USDT" }),
    fetchOpenOrders: async () => [],
    fetchMyTrades: async () => [],
    fetchBalance: async () => ({}),
    fetchTicker: async () => ({ last: 60000 }),
  });
}

describe("keywarden.trading.kill_switch.active", () => {
  it("counts each user with an active switch once across the clients' stores, with no attribute", async () => {
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const shared = createMemoryTradingState();
    const client = (state: TradingStateStore) =>
      createTradingClient({ vault, audit, state, exchanges: exchanges() });
    const one = client(shared);
    const two = client(shared); // the same store through a second client: counted once
    const elsewhere = createMemoryTradingState();
    const three = client(elsewhere);
    const alice = await idp.session("alice-5d0b");
    const bob = await idp.session("bob-0e3f");
    await runAs(alice, () => one.fireKillSwitch("alice-5d0b", "drawdown"));
    expect(pointValue(await collect(), ACTIVE)).toBe(1);
    await runAs(bob, () => two.fireKillSwitch("bob-0e3f", "drawdown"));
    // Alice fired again on the other store: still one user.
    await runAs(alice, () => three.fireKillSwitch("alice-5d0b", "drawdown"));
    const both = await collect();
    expect(pointValue(both, ACTIVE)).toBe(2);
    expect(both.get(ACTIVE)).toEqual([{ attributes: {}, value: 2 }]);
    await runAs(alice, () => one.releaseKillSwitch("alice-5d0b", "reviewed"));
    await runAs(alice, () => three.releaseKillSwitch("alice-5d0b", "reviewed"));
    expect(pointValue(await collect(), ACTIVE)).toBe(1);
    expect(JSON.stringify([...(await collect())])).not.toMatch(/alice|bob/);
  });

  it("is left unreported while a client's state store cannot be listed", async () => {
    const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
    const audit = new AuditLog({ store: createMemoryAuditStore() });
    const state = createMemoryTradingState();
    const broken: TradingStateStore = {
      ...state,
      listActive: () => Promise.reject(new Error("state store down")),
    };
    const client = createTradingClient({ vault, audit, state: broken, exchanges: exchanges() });
    expect(client).toBeDefined();
    expect((await collect()).get(ACTIVE)).toBeUndefined();
  });
});

describeWithPostgres("keywarden.audit.queue.depth and .age (PostgreSQL sequencer)", () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 4 });
    await migratePostgresAuditStore(pool, { sequencer: true });
  });
  afterAll(async () => {
    await pool.end();
  });

  it("report the durable queue and this process's waiting appends while another holder has the lease", async () => {
    const appender = new PostgresSequencedAppender({ pool, pollMs: 5 });
    const chain = "user:depth-4a1c";
    try {
      // Another process holds the chain's lease: entries stay queued until it lapses.
      await acquireSequencerLease(pool, chain, "elsewhere", 60_000);
      const actor = hostIdentity("depth-4a1c");
      const appends = [0, 1, 2].map((i) =>
        appender.append(chain, {
          action: "parameter.changed",
          payload: { name: "x", to: i },
          actor,
          idempotencyKey: `depth-${i}`,
        }),
      );
      const queued = async () =>
        (
          await pool.query<{ n: number }>(
            "select count(*)::int as n from keywarden_audit.sequencer_queue",
          )
        ).rows[0]?.n;
      while ((await queued()) !== 3) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      const during = await collect();
      expect(pointValue(during, DEPTH, { state: "pending" })).toBe(3);
      expect(pointValue(during, DEPTH, { state: "failed" })).toBe(0);
      expect(pointValue(during, WAITING, { queue: "sequencer" })).toBe(3);
      expect(pointValue(during, AGE)).toBeGreaterThan(0.01);
      expect(pointValue(during, AGE)).toBeLessThan(60);
      // The lease lapses: this appender takes it and sequences everything.
      await pool.query(
        "update keywarden_audit.sequencer_leases set expires_at = clock_timestamp()",
      );
      await Promise.all(appends);
      const after = await collect();
      expect(pointValue(after, DEPTH, { state: "pending" })).toBe(0);
      expect(pointValue(after, AGE)).toBe(0);
      expect(pointValue(after, WAITING, { queue: "sequencer" })).toBe(0);
      expect(JSON.stringify([...after])).not.toContain("depth-4a1c");
    } finally {
      await appender.close();
    }
  });

  it("count an entry the sequencer refused as failed until purgeFailed removes it, and stop once the appender is closed", async () => {
    const appender = new PostgresSequencedAppender({ pool });
    // Alice's host identity may not write Bob's chain: the sequencer refuses it and keeps the row.
    await appender
      .append("user:bob-77aa", {
        action: "parameter.changed",
        payload: { name: "x", to: 1 },
        actor: hostIdentity("alice-77aa"),
      })
      .catch(() => undefined);
    const points = await collect();
    expect(pointValue(points, DEPTH, { state: "failed" })).toBe(1);
    expect(pointValue(points, DEPTH, { state: "pending" })).toBe(0);
    // Purging the refused row (age 0: every failed row) brings the failed gauge back down.
    expect(await appender.purgeFailed({ chainId: "user:bob-77aa", olderThanMs: 0 })).toEqual({
      purged: 1,
    });
    expect(pointValue(await collect(), DEPTH, { state: "failed" })).toBe(0);
    await appender.close();
    const closed = await collect();
    expect(closed.get(DEPTH)).toBeUndefined();
    expect(pointValue(closed, WAITING, { queue: "sequencer" })).toBeUndefined();
  });

  it("skip a database that cannot be read instead of reporting zero", async () => {
    const down = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none", max: 1 });
    const appender = new PostgresSequencedAppender({ pool: down });
    try {
      expect((await collect()).get(DEPTH)).toBeUndefined();
    } finally {
      await appender.close();
      await down.end();
    }
  });
});

describe("disabled", () => {
  it("observes nothing once observability is disabled, and again once re-enabled", async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    expect(log).toBeDefined();
    expect(pointValue(await collect(), WAITING, { queue: "group_commit" })).toBe(0);
    disableObservability();
    expect((await collect()).get(WAITING)).toBeUndefined();
    await enableObservability({
      api: {
        metrics: { getMeter: (n, v) => meterProvider.getMeter(n, v) },
        trace: otel.trace, // no tracer provider registered: the API's no-op tracer
      },
    });
    expect(pointValue(await collect(), WAITING, { queue: "group_commit" })).toBe(0);
  });
});
