/**
 * Issue 22's target: the latency the signer adds per order, remote (bot process → Unix socket →
 * signer process → simulator) against in-process (the bot's own trading client → simulator), at
 * 200 orders/s offered from 4 bot processes for 60 s: added p50 ≤ 1 ms and p99 ≤ 5 ms; plus
 * throughput at saturation and the signer's RSS.
 *
 * Separate processes (forked with tsx): the exchange simulator, the signer, and 4 bots. Each bot
 * holds both a remote client and its own in-process trading client against the same simulator;
 * the run alternates blocks of in-process and remote load (so drift in the shared machine's load
 * hits both), and the percentiles come from the bots' own clocks. The signer's RSS and CPU are
 * read from /proc/<pid>; the load average is recorded before and after.
 *
 *   npx tsx bench/signer-latency.ts [seconds per mode = 10] [orders/s = 200] [--log info|warn|off]
 *   npx tsx bench/signer-latency.ts 60 200        # the full run (about 2.5 minutes)
 *
 * Not a unit test: it prints figures and never asserts on time.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildMessage } from "./signer/world.js";

const here = dirname(fileURLToPath(import.meta.url));

export interface SignerLatencyReport {
  secondsPerMode: number;
  rate: number;
  bots: number;
  log: string;
  loadAverage: { before: number[]; after: number[] };
  cores: number;
  inProcess: Percentiles;
  remote: Percentiles;
  addedP50: number;
  addedP99: number;
  /** One bot, one order at a time (no load), alternating modes: the unloaded cost of the hop. */
  sequential: { inProcess: Percentiles; remote: Percentiles; addedP50: number };
  /** Closed-loop orders/s (4 bots × `concurrency` callers). */
  saturation: { remote: number; inProcess: number; concurrency: number; seconds: number };
  /** Signer process RSS (MB) while under load: peak, and after the run. */
  signerRssMb: { peak: number; end: number };
  /** Signer process CPU (user + system) per remote order at the offered rate, in ms. */
  signerCpuMsPerOrder: number;
  /** Bot process CPU per order, in ms, by mode (in-process: the whole trading client). */
  botCpuMsPerOrder: { inProcess: number; remote: number };
  errors: Record<string, number>;
  skipped: number;
}

interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const percentiles = (xs: number[]): Percentiles => {
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), max: s[s.length - 1] ?? NaN };
};

/** A forked child that answers `{ id, cmd }` messages. */
class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<Record<string, unknown>>;
  #next = 0;
  readonly #waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  constructor(file: string, args: string[], extraExecArgv: string[] = []) {
    this.proc = fork(join(here, "signer", file), args, {
      execArgv: ["--import", "tsx", ...extraExecArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((resolve, reject) => {
      this.proc.once("exit", (code) => reject(new Error(`${file} exited (${code})`)));
      this.proc.on("message", (raw) => {
        const m = raw as ChildMessage;
        if (m.type === "ready") resolve(m.info);
        else {
          const w = this.#waiting.get(m.id);
          this.#waiting.delete(m.id);
          if (m.type === "done") w?.resolve(m.result);
          else w?.reject(new Error(`${file}: ${m.error}`));
        }
      });
    });
    this.ready.catch(() => {});
  }

  ask<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected) return reject(new Error("child is gone"));
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, ...args });
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }
}

/** RSS in MB and CPU ticks (user + system) of a process, from /proc. */
const procStat = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the command name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, cpuMs: ticks * 10 };
};

export async function measureSignerLatency(
  secondsPerMode = 10,
  rate = 200,
  options: { bots?: number; log?: "info" | "warn" | "off"; blockSeconds?: number } = {},
): Promise<SignerLatencyReport> {
  const bots = options.bots ?? 4;
  const log = options.log ?? "info";
  const dir = mkdtempSync(join(tmpdir(), "kw-bench-signer-"));
  const socketPath = join(dir, "signer.sock");
  const before = loadavg();
  const children: Child[] = [];
  try {
    const sim = new Child("sim.proc.ts", []);
    children.push(sim);
    const { baseUrl } = (await sim.ready) as { baseUrl: string };
    const signer = new Child(
      "signer.proc.ts",
      [baseUrl, socketPath, String(bots), log, join(dir, "signer.log")],
      // KW_SIGNER_PROFILE_DIR=<dir>: a V8 CPU profile of the signer process, for bench/profile/top-frames.ts.
      process.env.KW_SIGNER_PROFILE_DIR
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.KW_SIGNER_PROFILE_DIR}`]
        : [],
    );
    children.push(signer);
    const s = (await signer.ready) as {
      credentialId: string;
      bots: { botId: string; capability: string }[];
    };
    const botProcs = s.bots.map(
      (b) => new Child("bot.proc.ts", [baseUrl, socketPath, b.botId, b.capability, s.credentialId]),
    );
    children.push(...botProcs);
    await Promise.all(botProcs.map((b) => b.ready));
    const all = <T>(cmd: string, args: (i: number) => Record<string, unknown>) =>
      Promise.all(botProcs.map((b, i) => b.ask<T>(cmd, args(i))));

    await all("warm", () => ({ mode: "in-process", n: 100 }));
    await all("warm", () => ({ mode: "remote", n: 100 }));

    // Alternating blocks of each mode; every block starts all bots at the same instant.
    const block = Math.min(options.blockSeconds ?? 10, secondsPerMode);
    const lat = { "in-process": [] as number[], remote: [] as number[] };
    const errors: Record<string, number> = {};
    let skipped = 0;
    let peak = 0;
    let signerCpu = 0;
    let remoteOrders = 0;
    const botCpu = { "in-process": 0, remote: 0 };
    const sampler = setInterval(() => {
      peak = Math.max(peak, procStat(signer.pid).rssMb);
    }, 250);
    try {
      for (let done = 0; done < secondsPerMode; done += block) {
        const seconds = Math.min(block, secondsPerMode - done);
        for (const mode of ["in-process", "remote"] as const) {
          const startAt = Date.now() + 300;
          const cpu0 = procStat(signer.pid).cpuMs;
          const results = await all<{
            latencies: number[];
            errors: Record<string, number>;
            skipped: number;
            cpuMs: number;
          }>("run", (i) => ({
            mode,
            seconds,
            rate: rate / bots,
            // Bots interleave: together they send one order every 1000/rate ms.
            startAt: startAt + (i * 1000) / rate,
          }));
          for (const r of results) {
            for (const x of r.latencies) lat[mode].push(x);
            for (const [k, v] of Object.entries(r.errors))
              errors[`${mode}:${k}`] = (errors[`${mode}:${k}`] ?? 0) + v;
            skipped += r.skipped;
            botCpu[mode] += r.cpuMs;
          }
          if (mode === "remote") {
            signerCpu += procStat(signer.pid).cpuMs - cpu0;
            remoteOrders += results.reduce((n, r) => n + r.latencies.length, 0);
          }
        }
      }

      // Unloaded: one bot, one order at a time, alternating modes in rounds of 50.
      const seq = { "in-process": [] as number[], remote: [] as number[] };
      for (let round = 0; round < 4; round++)
        for (const mode of ["in-process", "remote"] as const)
          seq[mode].push(
            ...(await (botProcs[0] as Child).ask<number[]>("sequential", { mode, n: 50 })),
          );
      const sequential = {
        inProcess: percentiles(seq["in-process"]),
        remote: percentiles(seq.remote),
        addedP50: 0,
      };
      sequential.addedP50 = sequential.remote.p50 - sequential.inProcess.p50;

      // Saturation: every bot runs `concurrency` callers back to back.
      const concurrency = 8;
      const satSeconds = Math.min(5, secondsPerMode);
      const saturate = async (mode: string) => {
        const startAt = Date.now() + 300;
        const r = await all<{ done: number }>("saturate", () => ({
          mode,
          seconds: satSeconds,
          concurrency,
          startAt,
        }));
        return r.reduce((n, x) => n + x.done, 0) / satSeconds;
      };
      const satInProcess = await saturate("in-process");
      const satRemote = await saturate("remote");
      const end = procStat(signer.pid).rssMb;
      const inProcess = percentiles(lat["in-process"]);
      const remote = percentiles(lat.remote);
      return {
        secondsPerMode,
        rate,
        bots,
        log,
        loadAverage: { before, after: loadavg() },
        cores: (await import("node:os")).availableParallelism(),
        inProcess,
        remote,
        addedP50: remote.p50 - inProcess.p50,
        addedP99: remote.p99 - inProcess.p99,
        sequential,
        saturation: {
          remote: satRemote,
          inProcess: satInProcess,
          concurrency,
          seconds: satSeconds,
        },
        signerRssMb: { peak: Math.round(peak), end: Math.round(end) },
        botCpuMsPerOrder: {
          inProcess: botCpu["in-process"] / Math.max(1, inProcess.n),
          remote: botCpu.remote / Math.max(1, remote.n),
        },
        signerCpuMsPerOrder: remoteOrders > 0 ? signerCpu / remoteOrders : NaN,
        errors,
        skipped,
      };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await Promise.allSettled(
      children
        .slice()
        .reverse()
        .map(async (c) => {
          const exited = new Promise((r) => c.proc.once("exit", r));
          await c.ask("close").catch(() => {});
          // A child exits by itself after `close` (and writes its CPU profile); kill a straggler.
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          c.proc.kill();
        }),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report as a few lines of text. */
export function formatSignerLatency(r: SignerLatencyReport): string {
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const la = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  return [
    `signer: ${r.bots} bot processes, ${r.rate} orders/s offered, ${r.secondsPerMode} s per mode (alternating blocks), signer log ${r.log}`,
    `  machine: ${r.cores} cores, load average before ${la(r.loadAverage.before)}, after ${la(r.loadAverage.after)}`,
    `  in-process n=${r.inProcess.n} p50 ${ms(r.inProcess.p50)} p90 ${ms(r.inProcess.p90)} p99 ${ms(r.inProcess.p99)} max ${ms(r.inProcess.max)}`,
    `  remote     n=${r.remote.n} p50 ${ms(r.remote.p50)} p90 ${ms(r.remote.p90)} p99 ${ms(r.remote.p99)} max ${ms(r.remote.max)}`,
    `  added      p50 ${ms(r.addedP50)} (target ≤ 1 ms), p99 ${ms(r.addedP99)} (target ≤ 5 ms)`,
    `  unloaded   (1 bot, sequential) in-process p50 ${ms(r.sequential.inProcess.p50)}, remote p50 ${ms(r.sequential.remote.p50)}, added p50 ${ms(r.sequential.addedP50)}`,
    `  saturation (${r.bots}×${r.saturation.concurrency} callers, ${r.saturation.seconds} s): remote ${r.saturation.remote.toFixed(0)} orders/s, in-process ${r.saturation.inProcess.toFixed(0)} orders/s`,
    `  signer process: RSS peak ${r.signerRssMb.peak} MB, after ${r.signerRssMb.end} MB; CPU ${r.signerCpuMsPerOrder.toFixed(2)} ms per order`,
    `  bot processes: CPU per order in-process ${r.botCpuMsPerOrder.inProcess.toFixed(2)} ms, remote ${r.botCpuMsPerOrder.remote.toFixed(2)} ms`,
    `  errors ${JSON.stringify(r.errors)}, skipped slots ${r.skipped}`,
  ].join("\n");
}

if (process.argv[1]?.endsWith("signer-latency.ts")) {
  const args = process.argv.slice(2);
  const flag = args.indexOf("--log");
  const log = flag >= 0 ? (args.splice(flag, 2)[1] as "info" | "warn" | "off") : "info";
  const [seconds, rate] = args.map(Number);
  const report = await measureSignerLatency(seconds || 10, rate || 200, { log });
  process.stdout.write(`${formatSignerLatency(report)}\n${JSON.stringify(report)}\n`);
}
