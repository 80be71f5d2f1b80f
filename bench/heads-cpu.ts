/**
 * The heads-log targets of issue 20 by CPU and wall time, for a shared machine: each operation and
 * its floor run interleaved, round after round, in one process; CPU time is `process.cpuUsage()`
 * (user + system of the whole process, so libuv and GC threads count), wall time is the elapsed
 * time (which also holds the waits for fsync, and on a loaded machine for a core). Reported per
 * operation: the fastest round and the median, and each ratio from the same rounds.
 *
 *   npx tsx bench/heads-cpu.ts [rounds] [root]
 *
 * `root` (default: this checkout) is the directory whose `src/` is measured, so the same script
 * can time another checkout in the same conditions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const rounds = Number(process.argv[2] ?? 7);
const root = resolve(process.argv[3] ?? new URL("..", import.meta.url).pathname);
const load = (p: string) => import(pathToFileURL(resolve(root, p)).href);

const { sha256 } = await load("src/audit/primitives/index.ts");
const { encodeHeadLeaf } = await load("src/audit/transparency/heads/leaf.ts");
const { HeadsLog } = await load("src/audit/transparency/heads/log.ts");
const { MerkleFrontier } = await load("src/audit/transparency/merkle.ts");
const { LocalEd25519Signer } = await load("src/audit/transparency/signer.ts");
const { TileDirectoryWriter } = await load("src/audit/transparency/tiles/directory.ts");
const { TileLogWriter } = await load("src/audit/transparency/tiles/writer.ts");
const { tileLeafHash } = await load("src/audit/transparency/tiles/reader.ts");
const { Secret } = await load("src/secret.ts");

const N = 100_000;
const key = new Uint8Array(32).fill(9);
const leaves: Uint8Array[] = Array.from({ length: N }, (_, i) =>
  encodeHeadLeaf(key, {
    size: i + 1,
    rootHash: sha256(Uint8Array.of(i & 255, i >> 8)),
    time: 1764400000 + i,
  }),
);
const { signer } = LocalEd25519Signer.generate("bench.example/heads");
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), "kw-heads-cpu-"));
  dirs.push(d);
  return d;
};

type Op = () => unknown;
const ops: Record<string, Op> = {
  leafFloor: () => {
    for (const l of leaves) tileLeafHash(l);
  },
  integrate: async () => {
    const heads = await HeadsLog.open({
      dir: fresh(),
      origin: "bench.example/heads",
      signer,
      headsSecret: Secret.copyOf(key),
    });
    for (const l of leaves) heads.enqueueLeaf(l);
    await heads.integrate();
  },
  treeFloor: () => {
    const f = new MerkleFrontier();
    for (const l of leaves) f.append(tileLeafHash(l));
    f.root();
  },
  tiles: async () => {
    const w = await TileDirectoryWriter.open(fresh());
    await w.append(leaves);
  },
  /** The writer's own work without I/O: tiles and bundles put into a Map. */
  tilesMemory: async () => {
    const files = new Map<string, Uint8Array>();
    const w = await TileLogWriter.openStorage({
      fetcher: { fetch: async (p: string) => files.get(p) },
      putImmutable: async (p: string, d: Uint8Array) => {
        files.set(p, d);
      },
      putCheckpoint: async (n: Uint8Array) => {
        files.set("checkpoint", n);
      },
    });
    await w.append(leaves);
  },
  enqueue: async () => {
    const heads = await HeadsLog.open({
      dir: fresh(),
      origin: "bench.example/heads",
      signer,
      headsSecret: Secret.copyOf(key),
    });
    for (let i = 0; i < N; i++)
      heads.enqueue({
        origin: `bench.example/keywarden/u${i}`,
        size: 1,
        rootHash: key,
        timestamp: 1,
      });
  },
};
const only = process.env.HEADS_CPU_ONLY?.split(",");
const names = Object.keys(ops).filter((n) => !only || only.includes(n));
const cpu: Record<string, number[]> = {};
const wall: Record<string, number[]> = {};
for (const n of names) {
  cpu[n] = [];
  wall[n] = [];
}
for (let r = 0; r < rounds + 1; r++) {
  for (const n of names) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await (ops[n] as Op)();
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (r === 0) continue; // warm-up
    (cpu[n] as number[]).push((c.user + c.system) / 1000);
    (wall[n] as number[]).push(t);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
const min = (a: number[]) => Math.min(...a);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`heads-cpu: ${rounds} rounds, N=${N}, root ${root}`);
for (const n of names)
  out(
    `  ${n.padEnd(10)} cpu min ${min(cpu[n] as number[]).toFixed(1)} ms, median ${med(cpu[n] as number[]).toFixed(1)} ms; wall min ${min(wall[n] as number[]).toFixed(1)} ms, median ${med(wall[n] as number[]).toFixed(1)} ms`,
  );
const ratio = (a: string, b: string, label: string) => {
  if (!cpu[a] || !cpu[b]) return;
  out(
    `  ${label}: cpu ${(min(cpu[a] as number[]) / min(cpu[b] as number[])).toFixed(2)} (min) ${(med(cpu[a] as number[]) / med(cpu[b] as number[])).toFixed(2)} (median); wall ${(min(wall[a] as number[]) / min(wall[b] as number[])).toFixed(2)} (min) ${(med(wall[a] as number[]) / med(wall[b] as number[])).toFixed(2)} (median)`,
  );
};
ratio("leafFloor", "integrate", "integrate rate vs leaf hashing (target >= 0.5)");
ratio("tiles", "treeFloor", "tiles vs tree hashing (target <= 1.2)");
ratio("tilesMemory", "treeFloor", "tiles to memory (no I/O) vs tree hashing");
