/**
 * Metrics and spans, collected with the OpenTelemetry SDK's in-memory exporters from a real flow
 * (vault, KMS, audit log, detector, trading client, kill switch, and the PostgreSQL sequencer when
 * the test server runs): every emitted name and attribute is in the catalog, every catalog entry
 * is emitted, docs/observability.md lists exactly the catalog (name, kind, unit, attributes), and
 * no attribute carries a secret or a user or credential id. The gauges' values under load are
 * checked in gauges.collected.test.ts.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as otel from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/audit/core/log.js";
import { PostgresSequencedAppender } from "../../src/audit/sequencer/index.js";
import { createMemoryAuditStore } from "../../src/audit/storage/memory.js";
import { migratePostgresAuditStore } from "../../src/audit/storage/postgres/store.js";
import { runAs } from "../../src/guard/context.js";
import { hostIdentity } from "../../src/guard/identity.js";
import {
  disableObservability,
  enableObservability,
  METRICS,
  type OtelApiLike,
  observabilityEnabled,
  SPANS,
} from "../../src/observability/index.js";
import { runDetection } from "../../src/permissions/detect.js";
import { decide } from "../../src/permissions/policy.js";
import { createTradingClient } from "../../src/trading/client.js";
import type { ExchangeLike } from "../../src/trading/exchange-like.js";
import { createMemoryTradingState } from "../../src/trading/state.js";
import { createVault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { binanceSample } from "../permissions/fixtures/documented.js";
import { createDatabase } from "../support/postgres.js";
import { pgUrl } from "../support/services.js";
import { canary, localKms, makeIdp } from "../vault/helpers.js";

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spanExporter)],
});

function exchange(): () => ExchangeLike {
  let n = 0;
  return () => ({
    markets: { "BTC/USDT": {} },
    throttler: {},
    loadMarkets: async () => ({ "BTC/USDT": {} }),
    setMarkets: () => undefined,
    createOrder: async (symbol, type, side, amount, price) => ({
      id: String(++n),
      symbol,
      type,
      side,
      amount,
      price,
      status: "open",
    }),
    cancelOrder: async (id) => ({ id }),
    cancelAllOrders: async () => [],
    fetchOrder: async (id) => ({ id, symbol: "BTC/USDT" }),
    fetchOpenOrders: async () => [],
    fetchMyTrades: async () => [],
    fetchBalance: async () => ({}),
    fetchTicker: async () => ({ last: 60000 }),
  });
}

type Point = { attributes: Record<string, unknown>; value: unknown };
const emitted = new Map<string, Point[]>();
let spans: { name: string; attributes: Record<string, unknown> }[] = [];
const SECRET = canary();
/** What the gauges observe is held weakly by keywarden: the flow's objects stay alive until collected. */
const alive: unknown[] = [];
/** The sequencer's metrics need the test PostgreSQL server (always there on CI). */
const SEQUENCER_METRICS = ["keywarden.audit.queue.depth", "keywarden.audit.queue.age"];
let pool: pg.Pool | undefined;

/** The demo's flow, in small: store a key, check it, trade, refuse, fire and reset the switch. */
async function runFlow(): Promise<void> {
  const idp = await makeIdp();
  const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
  const audit = new AuditLog({ store: createMemoryAuditStore() });
  const alice = await idp.session("alice-7c1e");
  const { credentialId } = await vault.store(alice, {
    exchange: "binance",
    credentials: { apiKey: "alice-api-key", secret: SECRET },
  });
  // Verdicts: a trade-only key accepted, a withdraw-enabled key refused, an unreachable exchange.
  const binance = (body: unknown) =>
    runDetection("binance", { apiKey: "k" }, async () => ({ ok: true, body }));
  // Futures trading only: a spot-trading key may be a sub-account's, which can transfer to its master.
  const trade = { ...binanceSample, enableFutures: true, ipRestrict: true };
  decide(await binance(trade));
  decide(await binance({ ...trade, enableWithdrawals: true }));
  decide(
    await runDetection("binance", { apiKey: "k" }, async () => ({ ok: false, kind: "network" })),
  );
  // A failed open: another user's session does not find alice's credential.
  const bob = await idp.session("bob-91aa");
  await vault.withCredentials(bob, credentialId, () => undefined).catch(() => undefined);
  const trading = createTradingClient({
    vault,
    audit,
    state: createMemoryTradingState(),
    exchanges: exchange(),
  });
  await runAs(alice, async () => {
    const h = trading.handle(credentialId);
    await h.createOrder("BTC/USDT", "limit", "buy", 0.01, 60000);
    await trading.fireKillSwitch("alice-7c1e", "drawdown");
    await h.createOrder("BTC/USDT", "limit", "buy", 0.01, 60000).catch(() => undefined);
    await trading.releaseKillSwitch("alice-7c1e", "reviewed");
  });
  alive.push(vault, audit, trading);
  if (pgUrl !== null) {
    // The sequencer: one entry sequenced, one refused (alice's host may not write bob's chain).
    pool = new pg.Pool({ connectionString: await createDatabase(pgUrl), max: 2 });
    await migratePostgresAuditStore(pool, { sequencer: true });
    const sequencer = new PostgresSequencedAppender({ pool });
    const entry = { action: "parameter.changed", payload: { name: "x", to: 1 } };
    await sequencer.append("user:alice-7c1e", { ...entry, actor: hostIdentity("alice-7c1e") });
    await sequencer
      .append("user:bob-91aa", { ...entry, actor: hostIdentity("alice-7c1e") })
      .catch(() => undefined);
    alive.push(sequencer);
  }
}

beforeAll(async () => {
  await enableObservability({
    api: {
      metrics: { getMeter: (n, v) => meterProvider.getMeter(n, v) },
      trace: { getTracer: (n, v) => tracerProvider.getTracer(n, v) as never },
    },
  });
  await runFlow();
  await reader.forceFlush();
  // Cumulative temporality: the last export holds the totals.
  for (const rm of metricExporter.getMetrics().slice(-1))
    for (const scope of rm.scopeMetrics)
      for (const m of scope.metrics) {
        const list = emitted.get(m.descriptor.name) ?? [];
        for (const p of m.dataPoints)
          list.push({ attributes: { ...p.attributes }, value: p.value });
        emitted.set(m.descriptor.name, list);
      }
  spans = spanExporter
    .getFinishedSpans()
    .map((s) => ({ name: s.name, attributes: { ...s.attributes } }));
});

afterAll(async () => {
  for (const s of alive) if (s instanceof PostgresSequencedAppender) await s.close();
  await pool?.end();
  disableObservability();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});

describe("observability", () => {
  it("emits every catalogued metric, and only catalogued names and attributes", () => {
    const catalog = new Map<string, { attributes: readonly string[] }>(
      Object.values(METRICS).map((m) => [m.name, m]),
    );
    const expected = [...catalog.keys()].filter(
      (name) => pgUrl !== null || !SEQUENCER_METRICS.includes(name),
    );
    expect([...emitted.keys()].sort()).toEqual(expected.sort());
    for (const [name, points] of emitted) {
      const allowed = catalog.get(name)?.attributes as readonly string[];
      for (const p of points)
        for (const key of Object.keys(p.attributes)) expect(allowed, name).toContain(key);
    }
  });

  it("records what happened: opens, appends, verdicts, placed and refused orders, switch changes", () => {
    const sum = (name: string, match: Record<string, unknown>) =>
      (emitted.get(name) ?? [])
        .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        .reduce((n, p) => n + (typeof p.value === "number" ? p.value : 1), 0);
    expect(sum("keywarden.trading.orders", { outcome: "placed", exchange: "binance" })).toBe(1);
    expect(
      sum("keywarden.trading.orders", {
        outcome: "refused",
        reason: "ERR_TRADING_KILL_SWITCH_ACTIVE",
      }),
    ).toBe(1);
    expect(sum("keywarden.trading.kill_switch.transitions", { state: "active" })).toBe(1);
    expect(sum("keywarden.trading.kill_switch.transitions", { state: "inactive" })).toBe(1);
    expect(sum("keywarden.permissions.verdicts", { verdict: "ok" })).toBe(1);
    expect(
      sum("keywarden.permissions.verdicts", {
        verdict: "refused",
        "finding.code": "WITHDRAW_ENABLED",
        exchange: "binance",
      }),
    ).toBe(1);
    expect(sum("keywarden.permissions.verdicts", { verdict: "refused" })).toBeGreaterThan(1);
    expect(sum("keywarden.vault.credential.opens", { outcome: "ok" })).toBeGreaterThan(0);
    expect(sum("keywarden.vault.credential.opens", { outcome: "error" })).toBe(1);
    expect(sum("keywarden.kms.calls", { "kms.operation": "generateDataKey" })).toBeGreaterThan(0);
    expect(sum("keywarden.audit.appends", { outcome: "ok" })).toBeGreaterThan(0);
    // Gauges, read at the final collection: the flow released the only switch it fired, and
    // nothing is left queued.
    expect(emitted.get("keywarden.trading.kill_switch.active")).toEqual([
      { attributes: {}, value: 0 },
    ]);
    expect(sum("keywarden.audit.queue.waiting", { queue: "group_commit" })).toBe(0);
    if (pgUrl !== null) {
      expect(sum("keywarden.audit.queue.depth", { state: "failed" })).toBe(1);
      expect(sum("keywarden.audit.queue.depth", { state: "pending" })).toBe(0);
      expect(sum("keywarden.audit.queue.waiting", { queue: "sequencer" })).toBe(0);
    }
  });

  it("spans the order path with catalogued names and attributes", () => {
    const catalog = new Map<string, { attributes: readonly string[] }>(
      Object.values(SPANS).map((s) => [s.name, s]),
    );
    expect(spans.map((s) => s.name)).toContain("keywarden.order.create");
    for (const s of spans) {
      const allowed = catalog.get(s.name)?.attributes as readonly string[];
      expect(allowed, s.name).toBeDefined();
      for (const key of Object.keys(s.attributes)) expect(allowed, s.name).toContain(key);
    }
  });

  it("no metric or span attribute carries a secret, an api key, a user id or a credential id", () => {
    const text = JSON.stringify({ metrics: [...emitted], spans });
    for (const forbidden of [SECRET, "alice-api-key", "alice-7c1e", "bob-91aa"])
      expect(text).not.toContain(forbidden);
  });

  it("docs/observability.md lists exactly the catalogued metrics and spans with their kind, unit and attributes", () => {
    const doc = readFileSync(resolve(__dirname, "../../docs/observability.md"), "utf8");
    const rows = [
      ...doc.matchAll(/^\| `(keywarden\.[a-z._]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|/gm),
    ].map((m) => [
      m[1],
      (m[2] as string).trim(),
      (m[3] as string).trim().replace(/^`|`$/g, ""),
      [...(m[4] as string).matchAll(/`([^`]+)`/g)].map((a) => a[1]).sort(),
    ]);
    const expected = [
      ...Object.values(METRICS).map((m) => [m.name, m.kind, m.unit, [...m.attributes].sort()]),
      ...Object.values(SPANS).map((s) => [s.name, "span", "—", [...s.attributes].sort()]),
    ];
    expect(rows.sort()).toEqual(expected.sort());
  });

  it("takes the real @opentelemetry/api module as is, and imports it when none is given", async () => {
    const api: OtelApiLike = otel;
    await expect(enableObservability({ api })).resolves.toBeUndefined();
    await expect(enableObservability()).resolves.toBeUndefined();
    expect(observabilityEnabled()).toBe(true);
    disableObservability();
    expect(observabilityEnabled()).toBe(false);
    await expect(enableObservability({ api: {} as OtelApiLike })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
  });
});
