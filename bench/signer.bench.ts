/**
 * Signer latency, same run. First a short multi-process run of bench/signer-latency.ts (simulator,
 * signer and 4 bots each in its own process; 3 s per mode at 100 orders/s — the full
 * target is `npx tsx bench/signer-latency.ts 60 200`), printed. Then one vitest group compares a
 * single sequential remote order (through a signer on a Unix socket) with a single in-process
 * order, both in this process against one simulator.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, bench, describe } from "vitest";
import { runAs } from "../src/guard/context.js";
import { startExchangeSimulator } from "../src/permissions/testing/index.js";
import { Secret } from "../src/secret.js";
import { createMemoryCapabilityStore, createSignerServer } from "../src/signer/index.js";
import { createRemoteTrading } from "../src/trading/remote/index.js";
import { BENCH_KEY, ORDER, tradingWorld } from "./signer/world.js";
import { formatSignerLatency, measureSignerLatency } from "./signer-latency.js";

console.log(formatSignerLatency(await measureSignerLatency(3, 100, { blockSeconds: 3 })));

const sim = await startExchangeSimulator();
sim.setKey("binance", {
  ...BENCH_KEY,
  permissions: { read: true, trade: true },
  balances: { USDT: "1000000000", BTC: "1000" },
});
const w = await tradingWorld(sim.baseUrl);
const socketPath = join(mkdtempSync(join(tmpdir(), "kw-bench-signer-")), "signer.sock");
const server = await createSignerServer({
  vault: w.vault,
  audit: w.audit,
  trading: w.trading,
  state: w.state,
  capabilities: createMemoryCapabilityStore(),
  operator: { id: "ops", token: Secret.fromString("bench-operator-token") },
  listen: { socketPath },
});
const { capability } = await server.enrol(w.alice, {
  botId: "bench-0",
  exchanges: ["binance"],
  actions: ["trade", "cancel", "read"],
  ttlMs: 3_600_000,
});
const remote = createRemoteTrading({ signer: { socketPath }, capability, botId: "bench-0" });
const remoteHandle = remote.handle(w.credentialId);
const { grant } = await w.vault.createGrant(w.alice, {
  exchanges: ["binance"],
  actions: ["trade"],
  ttlMs: 3_600_000,
});
const local = w.trading.handle(w.credentialId);
afterAll(async () => {
  remote.close();
  await server.close();
  await sim.close();
});

describe("one order, sequential (baseline: in-process)", () => {
  bench(
    "in-process createOrder",
    async () => {
      await runAs(grant, () => local.createOrder(...ORDER));
    },
    { time: 1000 },
  );
  bench(
    "remote createOrder through the signer",
    async () => {
      await remoteHandle.createOrder(...ORDER);
    },
    { time: 1000 },
  );
});
