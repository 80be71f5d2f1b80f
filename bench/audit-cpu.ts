/**
 * The audit targets of issue 21 by CPU time, for a shared machine: each operation and its floor
 * run interleaved, round after round, in one process, and each is timed by `process.cpuUsage()`
 * (user + system time of the whole process, so GC helper threads count) instead of wall time,
 * which on a loaded machine absorbs the time the process waited for a core. Reported per
 * operation: the fastest round and the median, and the ratios floor / operation (verify, append)
 * and Merkle / plain append, each from the same rounds.
 *
 *   npx tsx bench/audit-cpu.ts [rounds] [root] [ops]
 *
 * `ops` (default: all) is a comma-separated subset of the operations, e.g.
 * `floor,verifyStored,verifyExport`; ratios whose operations did not run are not printed.
 * (or `KW_OPS=plain500,merkle500` in the environment).
 *
 * `root` (default: this checkout) is the directory whose `src/` is measured, so the same script
 * can time another checkout (e.g. the main branch) in the same conditions.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { auditEntryFloor, auditFloorInputOf, auditMerkleFloor, settingsLine } from "./floors.js";

const rounds = Number(process.argv[2] ?? 30);
const root = resolve(process.argv[3] ?? new URL("..", import.meta.url).pathname);
const load = (p: string) => import(pathToFileURL(resolve(root, p)).href);

const audit = await load("src/audit/index.ts");
const { jsonlEntryLine, jsonlManifestLine } = await load("src/audit/export/jsonl.ts");
const { TransparencyLog } = await load("src/audit/transparency/log.ts");
const { LocalEd25519Signer } = await load("src/audit/transparency/signer.ts");
const { hostIdentity, runAs } = await load("src/guard/index.ts");
const { AuditLog, ChainVerifier, createMemoryAuditStore, sha256Node, userChainId, verifyExport } =
  audit;

const N = 2000;
const MERKLE_N = 500;
const chainId = userChainId("bench");
const actor = hostIdentity("bench");
const input = (i: number) => ({
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
});
const inputs = Array.from({ length: N }, (_, i) => input(i));

const seed = createMemoryAuditStore();
await runAs(actor, () => new AuditLog({ store: seed }).appendEntries(chainId, inputs));
const entries: { seq: number; body: string; hash: string; payload: string | null }[] = [];
for await (const e of seed.read(chainId, 0)) entries.push(e);
const head = await seed.head(chainId);
const bytes = Buffer.from(
  jsonlManifestLine({
    v: 1,
    format: "keywarden.audit.export",
    chainId,
    size: head.size,
    headHash: head.headHash,
  }) + entries.map(jsonlEntryLine).join(""),
);
const jsonl: Buffer[] = [];
for (let at = 0; at < bytes.length; at += 65536) jsonl.push(bytes.subarray(at, at + 65536));
const floorInput = auditFloorInputOf(entries);
const merkleFloorInput = auditFloorInputOf(entries.slice(0, MERKLE_N));
const { signer } = LocalEd25519Signer.generate("bench.example.com");

const ops: Record<string, () => unknown> = {
  floor: () => auditEntryFloor(floorInput),
  verifyStored: () => {
    const v = new ChainVerifier({ sha256: sha256Node, chainId });
    for (const e of entries) if (v.push(e)) throw new Error("broken");
    if (!v.finish().ok) throw new Error("broken");
  },
  verifyExport: async () => {
    const r = await verifyExport(jsonl, { format: "jsonl", sha256: sha256Node });
    if (!r.ok) throw new Error("broken");
  },
  appendAwaited: async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    await runAs(actor, async () => {
      for (let i = 0; i < N; i++) await log.appendEntry(chainId, inputs[i]);
    });
  },
  appendGroup: async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    await runAs(actor, () => Promise.all(inputs.map((one) => log.appendEntry(chainId, one))));
  },
  floorPlain500: () => auditEntryFloor(merkleFloorInput),
  floorMerkle500: () => auditMerkleFloor(merkleFloorInput),
  plain500: async () => {
    const log = new AuditLog({ store: createMemoryAuditStore() });
    await runAs(actor, async () => {
      for (let i = 0; i < MERKLE_N; i++) await log.appendEntry(chainId, inputs[i]);
    });
  },
  merkle500: async () => {
    const store = createMemoryAuditStore();
    const transparency = new TransparencyLog({ store, signer, logName: "bench.example.com" });
    const log = new AuditLog({ store, treeNodes: transparency.treeNodes });
    await runAs(actor, async () => {
      for (let i = 0; i < MERKLE_N; i++) await log.appendEntry(chainId, inputs[i]);
    });
  },
};

const only = (process.argv[4] ?? process.env.KW_OPS)?.split(",");
if (only) for (const k of Object.keys(ops)) if (!only.includes(k)) delete ops[k];
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
const cpuMs = async (op: () => unknown, reps: number): Promise<number> => {
  const t = process.cpuUsage();
  for (let r = 0; r < reps; r++) await op();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000 / reps;
};
for (const op of Object.values(ops)) await cpuMs(op, 5); // warm-up
for (let r = 0; r < rounds; r++)
  for (const [k, op] of Object.entries(ops)) samples[k]?.push(await cpuMs(op, 3));

const min = (k: string) => Math.min(...(samples[k] as number[]));
const median = (k: string) => {
  const s = [...(samples[k] as number[])].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
console.log(settingsLine("audit-cpu.ts", { root, rounds, repsPerSample: 3, entries: N }));
for (const k of Object.keys(ops))
  console.log(`${k.padEnd(15)} min ${min(k).toFixed(3)} ms  median ${median(k).toFixed(3)} ms`);
const ratio = (a: string, b: string) =>
  `${(min(a) / min(b)).toFixed(3)} (min) / ${(median(a) / median(b)).toFixed(3)} (median)`;
const show = (a: string, b: string, text: string) => {
  if (a in ops && b in ops) console.log(text.replace("%", ratio(a, b)));
};
show("floor", "verifyStored", "verify stored      floor/op %  target >= 0.80");
show("floor", "verifyExport", "verify export      floor/op %  target >= 0.70");
show("floor", "appendGroup", "append group       floor/op %  target >= 0.50");
show("floor", "appendAwaited", "append awaited     floor/op %  target >= 0.35");
show("merkle500", "plain500", "merkle/plain append         %  target <= 1.2");
show("floorMerkle500", "floorPlain500", "(floors merkle/plain)       %");
