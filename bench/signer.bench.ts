/**
 * Signer latency, same run: remote (bot client → Unix socket → signer) against in-process orders,
 * both against the exchange simulator, at an offered rate from 4 bot clients (a short run: 5 s at
 * 40 orders/s; the full target is `npx tsx bench/signer-latency.ts 60 200`). Printed, then
 * one vitest group compares a single remote order with a single in-process order.
 */
import { afterAll, bench, describe } from "vitest";
import { measureSignerLatency, signerBenchWorld } from "./signer-latency.js";

const report = await measureSignerLatency(5, 40, 4);
console.log(
  [
    `signer: ${report.bots} bots, ${report.rate} orders/s offered for ${report.seconds} s`,
    `  in-process p50 ${report.inProcess.p50.toFixed(2)} ms, p99 ${report.inProcess.p99.toFixed(2)} ms`,
    `  remote     p50 ${report.remote.p50.toFixed(2)} ms, p99 ${report.remote.p99.toFixed(2)} ms`,
    `  added      p50 ${report.addedP50.toFixed(2)} ms (target ≤ 1), p99 ${report.addedP99.toFixed(2)} ms (target ≤ 5)`,
    `  saturation ${report.saturationOrdersPerSecond} orders/s; RSS ${report.rssMb} MB (simulator + signer + bots in one process)`,
  ].join("\n"),
);

const world = await signerBenchWorld(1);
afterAll(() => world.close());

describe("one order, sequential (baseline: in-process)", () => {
  bench(
    "in-process createOrder",
    async () => {
      await world.inProc();
    },
    { time: 1000 },
  );
  bench(
    "remote createOrder through the signer",
    async () => {
      await world.remote(0);
    },
    { time: 1000 },
  );
});
