/**
 * What the sequencer reports (`audit-sequencer-report.ts`, `audit-sequencer-dynamodb-report.ts`)
 * share: a figure (appends, wall time, per-append latencies), the in-process contender loop, and
 * writer processes (test/audit/storage/support/writer.ts in `serve` mode) driven round by round.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Appends done, wall time spent on them, and each append's latency (ms). */
export type Figure = { appends: number; ms: number; lat: number[] };
export const fig = (): Figure => ({ appends: 0, ms: 0, lat: [] });
/** Appends per second. */
export const rate = (f: Figure) => (f.appends * 1000) / f.ms;
/** The `p`th percentile of `xs` (nearest rank). */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** `n` calls of `one` by `writers` concurrent in-process writers, added to `f`. */
export async function timed(
  f: Figure,
  writers: number,
  n: number,
  one: (i: number) => Promise<unknown>,
) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = next++; i < n; i = next++) {
        const a = performance.now();
        await one(i);
        f.lat.push(performance.now() - a);
      }
    }),
  );
  f.ms += performance.now() - t0;
  f.appends += n;
}

const WRITER = fileURLToPath(new URL("../test/audit/storage/support/writer.ts", import.meta.url));

/**
 * Writer processes in `serve` mode: `start` spawns one with `config` (writer.ts's JSON config)
 * and resolves once it is READY; `askAll` has every given process run `each` appends at once and
 * adds the round to `f` (the processes report each append's latency). Spawned processes are
 * pushed to `children` (the caller kills them at the end).
 */
export function serveWriters(children: ChildProcess[]) {
  const waiting = new Map<ChildProcess, Array<(line: string) => void>>();
  function start(config: Record<string, unknown>): Promise<ChildProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, JSON.stringify(config)], {
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
  async function askAll(f: Figure, procs: ChildProcess[], each: number): Promise<void> {
    const t0 = performance.now();
    const lines = await Promise.all(
      procs.map(
        (c) =>
          new Promise<string>((resolve) => {
            waiting.get(c)?.push(resolve);
            c.stdin?.write(`run ${each}\n`);
          }),
      ),
    );
    f.ms += performance.now() - t0;
    f.appends += each * procs.length;
    for (const l of lines) for (const t of l.slice(3).split(",")) if (t) f.lat.push(Number(t));
  }
  return { start, askAll };
}
