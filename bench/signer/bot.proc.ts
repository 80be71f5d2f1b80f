/**
 * One bench bot, alone in its process (forked by bench/signer-latency.ts). It holds both a remote
 * client (capability over the signer's socket) and, for the baseline, its own in-process trading
 * client against the same simulator; the orchestrator tells it which one to drive. Latencies are
 * taken with this process's own clock (`performance.now()` around each `createOrder`).
 *
 * argv: <simulator base URL> <socket path> <bot id> <capability> <signer's credential id>
 */
import { runAs } from "../../src/guard/context.js";
import { createRemoteTrading } from "../../src/trading/remote/index.js";
import { ORDER, serveCommands, tradingWorld } from "./world.js";

const [simBaseUrl, socketPath, botId, capability, remoteCredentialId] = process.argv.slice(
  2,
) as string[];

const remote = createRemoteTrading({
  signer: { socketPath: socketPath as string },
  capability: capability as string,
  botId: botId as string,
}).handle(remoteCredentialId as string);
const local = await tradingWorld(simBaseUrl as string);
const { grant } = await local.vault.createGrant(local.alice, {
  exchanges: ["binance"],
  actions: ["trade", "cancel", "read"],
  ttlMs: 3_600_000,
});
const localHandle = local.trading.handle(local.credentialId);

type Mode = "in-process" | "remote";
const place = (mode: Mode) =>
  mode === "remote"
    ? remote.createOrder(...ORDER)
    : runAs(grant, () => localHandle.createOrder(...ORDER));

const errorCode = (err: unknown) => String((err as { code?: string }).code ?? "error");

/** Most orders this bot leaves unanswered at once before it skips a slot (and says so). */
const MAX_INFLIGHT = 400;

serveCommands({
  async warm(m) {
    for (let i = 0; i < Number(m.n); i++) await place(m.mode as Mode);
    return null;
  },
  /** `n` orders one after another (no concurrency): the unloaded latency of each mode. */
  async sequential(m) {
    const latencies: number[] = [];
    for (let i = 0; i < Number(m.n); i++) {
      const start = performance.now();
      await place(m.mode as Mode);
      latencies.push(performance.now() - start);
    }
    return latencies;
  },
  /** Open loop: one order every 1000/rate ms from `startAt` (epoch ms) for `seconds`. */
  async run(m) {
    const mode = m.mode as Mode;
    const rate = Number(m.rate);
    const total = Math.round(Number(m.seconds) * rate);
    const t0 = Number(m.startAt) - performance.timeOrigin;
    const latencies: number[] = [];
    const errors: Record<string, number> = {};
    let inflight = 0;
    let skipped = 0;
    let late = 0;
    const pending: Promise<void>[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -5) late++;
      if (inflight >= MAX_INFLIGHT) {
        skipped++;
        continue;
      }
      inflight++;
      const start = performance.now();
      pending.push(
        place(mode).then(
          () => {
            latencies.push(performance.now() - start);
            inflight--;
          },
          (err: unknown) => {
            errors[errorCode(err)] = (errors[errorCode(err)] ?? 0) + 1;
            inflight--;
          },
        ),
      );
    }
    await Promise.all(pending);
    const cpu = process.cpuUsage(cpu0);
    return { latencies, errors, skipped, late, cpuMs: (cpu.user + cpu.system) / 1000 };
  },
  /** Closed loop: `concurrency` callers back to back for `seconds`. */
  async saturate(m) {
    const mode = m.mode as Mode;
    const until = Number(m.startAt) - performance.timeOrigin + Number(m.seconds) * 1000;
    const wait = Number(m.startAt) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let done = 0;
    const errors: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: Number(m.concurrency) }, async () => {
        while (performance.now() < until) {
          try {
            await place(mode);
            done++;
          } catch (err) {
            errors[errorCode(err)] = (errors[errorCode(err)] ?? 0) + 1;
          }
        }
      }),
    );
    return { done, errors };
  },
  close: () => {
    setImmediate(() => process.exit(0));
    return null;
  },
});
process.send?.({ type: "ready", info: { pid: process.pid } });
