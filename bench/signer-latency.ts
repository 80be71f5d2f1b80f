/**
 * Issue 22's target: the latency the signer adds per order, remote (bot → Unix socket → signer →
 * trading client) against in-process (`trading.createOrder`), both against the exchange simulator
 * on loopback, at a fixed offered rate from 4 bot clients; then throughput at saturation and RSS.
 *
 * Honest limits of this harness: the simulator, the signer and the 4 bot clients run in ONE process
 * (on a 2-core machine shared with other work), so the RSS is of all of them together and the bots'
 * own work competes with the signer's. Target: added p50 ≤ 1 ms, p99 ≤ 5 ms at 200 orders/s for
 * 60 s from 4 bot processes — run `npx tsx bench/signer-latency.ts 60 200` for the full duration.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../src/audit/core/log.js";
import { createMemoryAuditStore } from "../src/audit/storage/memory.js";
import { runAs } from "../src/guard/context.js";
import { startExchangeSimulator } from "../src/permissions/testing/index.js";
import { Secret } from "../src/secret.js";
import { createMemoryCapabilityStore, createSignerServer } from "../src/signer/index.js";
import { ccxtExchangeFactory } from "../src/trading/ccxt.js";
import { createTradingClient, type TradingHandle } from "../src/trading/client.js";
import { createRemoteTrading } from "../src/trading/remote/index.js";
import { createMemoryTradingState } from "../src/trading/state.js";
import { createVault } from "../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../src/vault/stores/memory.js";
import { localKms, makeIdp } from "../test/vault/helpers.js";

export interface SignerLatencyReport {
  seconds: number;
  rate: number;
  bots: number;
  inProcess: { p50: number; p99: number };
  remote: { p50: number; p99: number };
  addedP50: number;
  addedP99: number;
  saturationOrdersPerSecond: number;
  rssMb: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** Sends `rate` orders/s for `seconds`, spread over `bots` callers; returns latencies in ms. */
async function offered(
  seconds: number,
  rate: number,
  bots: number,
  place: (bot: number) => Promise<unknown>,
): Promise<number[]> {
  const out: number[] = [];
  const total = Math.round(seconds * rate);
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    pending.push(
      place(i % bots).then(() => {
        out.push(performance.now() - start);
      }),
    );
  }
  await Promise.all(pending);
  return out;
}

/** The simulator, the trading client and a signer with `bots` enrolled clients. */
export async function signerBenchWorld(bots = 4) {
  const sim = await startExchangeSimulator();
  const dir = mkdtempSync(join(tmpdir(), "kw-bench-signer-"));
  const apiKey = "bench-key";
  const secret = "bench-secret-0123456789abcdef";
  sim.setKey("binance", {
    apiKey,
    secret,
    permissions: { read: true, trade: true },
    balances: { USDT: "1000000000", BTC: "1000" },
  });
  const idp = await makeIdp();
  const alice = await idp.session("alice", 7200);
  const vault = createVault({ kms: localKms(), store: new MemoryCredentialStore() });
  const audit = new AuditLog({ store: createMemoryAuditStore() });
  const state = createMemoryTradingState();
  const trading = createTradingClient({
    vault,
    audit,
    state,
    exchanges: ccxtExchangeFactory({ config: (ex) => ({ ...sim.ccxtOptions(ex as "binance") }) }),
  });
  const cred = (await vault.store(alice, { exchange: "binance", credentials: { apiKey, secret } }))
    .credentialId;
  const server = await createSignerServer({
    vault,
    audit,
    trading,
    state,
    capabilities: createMemoryCapabilityStore(),
    operator: { id: "ops", token: Secret.fromString("bench-operator") },
    limits: { perBot: { perSecond: 1e6, burst: 1e6 }, perUser: { perSecond: 1e6, burst: 1e6 } },
    listen: { socketPath: join(dir, "signer.sock") },
  });
  {
    const { grant } = await vault.createGrant(alice, {
      exchanges: ["binance"],
      actions: ["trade", "cancel", "read"],
      ttlMs: 3_600_000,
    });
    const clients: TradingHandle[] = [];
    for (let b = 0; b < bots; b++) {
      const e = await server.enrol(alice, {
        botId: `bench-${b}`,
        exchanges: ["binance"],
        actions: ["trade", "cancel", "read"],
        ttlMs: 3_600_000,
      });
      clients.push(
        createRemoteTrading({
          signer: { socketPath: join(dir, "signer.sock") },
          capability: e.capability,
          botId: `bench-${b}`,
        }).handle(cred),
      );
    }
    const local = trading.handle(cred);
    const inProc = () =>
      runAs(grant, () => local.createOrder("BTC/USDT", "limit", "buy", 0.001, 50000));
    const remote = (b: number) =>
      (clients[b] as TradingHandle).createOrder("BTC/USDT", "limit", "buy", 0.001, 50000);
    const close = async () => {
      await server.close();
      await sim.close();
    };
    return { inProc, remote, close };
  }
}

export async function measureSignerLatency(
  seconds = 5,
  rate = 200,
  bots = 4,
): Promise<SignerLatencyReport> {
  const { inProc, remote, close } = await signerBenchWorld(bots);
  try {
    for (let i = 0; i < 50; i++) {
      await inProc();
      await remote(i % bots);
    }
    const a = await offered(seconds, rate, bots, () => inProc());
    const r = await offered(seconds, rate, bots, remote);
    // Saturation: 32 callers back to back for 2 s.
    let done = 0;
    const until = performance.now() + 2000;
    await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        while (performance.now() < until) {
          await remote(i % bots);
          done++;
        }
      }),
    );
    const inProcess = { p50: pct(a, 50), p99: pct(a, 99) };
    const rem = { p50: pct(r, 50), p99: pct(r, 99) };
    return {
      seconds,
      rate,
      bots,
      inProcess,
      remote: rem,
      addedP50: rem.p50 - inProcess.p50,
      addedP99: rem.p99 - inProcess.p99,
      saturationOrdersPerSecond: done / 2,
      rssMb: Math.round(process.memoryUsage().rss / 1e6),
    };
  } finally {
    await close();
  }
}

if (process.argv[1]?.endsWith("signer-latency.ts")) {
  const [s, rate] = process.argv.slice(2).map(Number);
  const report = await measureSignerLatency(s || 5, rate || 200);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
