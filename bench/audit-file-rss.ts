/**
 * Peak RSS of the JSONL file store at scale. Issue 20's target: at 10,000,000 entries, peak RSS
 * <= 128 MiB for append and for proofs.
 *
 *   npx tsx bench/audit-file-rss.ts [entries] [small] [--no-cap] [--fixtures DIR]
 *   (defaults: 10000000 and 10000)
 *
 * `--fixtures DIR` keeps each size's fixture in `DIR/<entries>/` and reuses it on the next run (a
 * 10M fixture takes minutes to write): before each run the chain and payload files are cut back to
 * their fixture lengths (the append phase adds to them) and the index is deleted.
 *
 * For each size: writes the store in bulk (bench/file-store-fixture.ts: the same bytes one-entry
 * appends with idempotency keys and tree nodes write, without the fsyncs), then runs three plain
 * `node` children (bundled with esbuild; no tsx loader in the measured process), each reporting
 * its own `maxRSS` and time:
 * - `index`: the first open, which scans every line and builds the on-disk index (the path of a
 *   file written before the index existed);
 * - `append`: open, then 1,000 appends, each with a fresh idempotency key and its tree nodes;
 * - `proof`: open, then 1,000 inclusion proofs (random leaves) and 100 consistency proofs against
 *   the current size, each verified against the root.
 * The append and proof phases then run again with V8's old space capped at 32 MiB. The small run
 * is the baseline measured in the same run. The last line prints every phase's peak RSS at both sizes
 * against issue 20's 128 MiB bound, which the large run must meet in every phase (first open included).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { userChainId } from "../src/audit/index.js";
import { writeFileStoreFixture } from "./file-store-fixture.js";
import { settingsLine } from "./floors.js";

const positional = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--fixtures");
const large = Number(positional[0] ?? 10_000_000);
const small = Number(positional[1] ?? 10_000);
/** `--no-cap` skips the capped-heap phases (a shorter run). */
const capped = !process.argv.includes("--no-cap");
/** `--fixtures DIR`: where fixtures are kept between runs (default: a temporary folder, deleted). */
const fixturesAt = process.argv.indexOf("--fixtures");
const fixtures = fixturesAt > 0 ? process.argv[fixturesAt + 1] : undefined;
const chainId = userChainId("file-rss-bench");
const APPENDS = 1000;
const INCLUSIONS = 1000;
const CONSISTENCIES = 100;
/**
 * The append and proof phases run again with V8's old space capped: a process that completes under
 * the cap shows the store's live memory is bounded (the default run's peak also counts garbage V8
 * had not yet collected, which grows with the lines the open scans).
 */
const HEAP_CAP = "--max-old-space-size=32";

const CHILD = (
  src: string,
) => `import { openFileAuditStore } from "${src}audit/storage/file/store.ts";
import { storeNodeReader } from "${src}audit/transparency/log.ts";
import { MerkleFrontier, inclusionProof, consistencyProof, rootAtSize, verifyInclusion, verifyConsistency } from "${src}audit/transparency/merkle.ts";
import { fixtureEntries } from "${src}audit/testing/fixtures.ts";
const [, , path, phase, chainId, appends, inclusions, consistencies] = process.argv;
const t0 = performance.now();
const store = await openFileAuditStore(path);
const openMs = performance.now() - t0;
const t1 = performance.now();
let ok = true;
const head = await store.head(chainId);
if (phase === "append") {
  const frontier = await MerkleFrontier.load(storeNodeReader(store, chainId), head.size);
  let prev = head.headHash;
  for (let i = 0; i < Number(appends); i++) {
    const seq = head.size + i;
    const [e] = fixtureEntries(chainId, seq, 1, prev, "bench");
    const treeNodes = frontier.append(Buffer.from(e.hash, "hex"));
    const r = await store.append({ chainId, expectedSize: seq, entries: [{ ...e, idempotencyKey: "bench-" + seq }], treeNodes });
    ok &&= r.size === seq + 1;
    prev = e.hash;
  }
} else if (phase === "proof") {
  const nodes = storeNodeReader(store, chainId);
  const size = head.size;
  const root = await rootAtSize(nodes, size);
  const leaf = async (i) => { for await (const e of store.read(chainId, i, i + 1)) return Buffer.from(e.hash, "hex"); };
  for (let i = 0; i < Number(inclusions); i++) {
    const index = Math.floor(Math.random() * size);
    const proof = await inclusionProof(nodes, index, size);
    ok &&= verifyInclusion(await leaf(index), index, size, proof, root);
  }
  for (let i = 0; i < Number(consistencies); i++) {
    const old = 1 + Math.floor(Math.random() * (size - 1));
    const proof = await consistencyProof(nodes, old, size);
    ok &&= verifyConsistency(old, size, proof, await rootAtSize(nodes, old), root);
  }
}
const workMs = performance.now() - t1;
await store.close();
process.stdout.write(JSON.stringify({ ok, openMs, workMs, maxRssKiB: process.resourceUsage().maxRSS }));
`;

interface PhaseRun {
  phase: string;
  ok: boolean;
  openSeconds: number;
  workSeconds: number;
  peakRssMiB: number;
}

async function du(path: string): Promise<number> {
  const { stdout } = await promisify(execFile)("du", ["-sk", path]);
  return Number(stdout.split("\t")[0]) / 1024;
}

interface FixtureSizes {
  entries: number;
  chainId: string;
  mainBytes: number;
  sideBytes: number;
}

/** Cuts a kept fixture in `dir` back to its recorded lengths, without an index; false if there is none. */
async function restoreFixture(dir: string, total: number): Promise<boolean> {
  const path = join(dir, "audit.jsonl");
  await rm(`${path}.index`, { recursive: true, force: true });
  await rm(`${path}.lock`, { force: true });
  const kept = await readFile(join(dir, "fixture.json"), "utf8")
    .then((t) => JSON.parse(t) as FixtureSizes)
    .catch(() => undefined);
  if (!kept || kept.entries !== total || kept.chainId !== chainId) return false;
  await truncate(path, kept.mainBytes);
  await truncate(`${path}.payloads`, kept.sideBytes);
  return true;
}

/**
 * Makes `dir/audit.jsonl` a fixture of `total` entries without an index: reuses a kept one or
 * writes it. Returns the seconds spent writing (0 when reused).
 */
async function prepareFixture(dir: string, total: number): Promise<number> {
  if (await restoreFixture(dir, total)) return 0;
  const path = join(dir, "audit.jsonl");
  const marker = join(dir, "fixture.json");
  await rm(marker, { force: true });
  const t = performance.now();
  await writeFileStoreFixture(path, chainId, total);
  const sizes: FixtureSizes = {
    entries: total,
    chainId,
    mainBytes: (await stat(path)).size,
    sideBytes: (await stat(`${path}.payloads`)).size,
  };
  await writeFile(marker, JSON.stringify(sizes));
  return +((performance.now() - t) / 1000).toFixed(1);
}

async function measure(total: number) {
  const dir = fixtures
    ? join(fixtures, String(total))
    : await mkdtemp(join(tmpdir(), "kw-file-rss-"));
  if (fixtures) await mkdir(dir, { recursive: true });
  try {
    const path = join(dir, "audit.jsonl");
    const writeSeconds = await prepareFixture(dir, total);
    const src = new URL("../src/", import.meta.url).pathname;
    await writeFile(join(dir, "child.ts"), CHILD(src));
    await build({
      entryPoints: [join(dir, "child.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: join(dir, "child.mjs"),
      logLevel: "error",
    });
    const phases: PhaseRun[] = [];
    const runs: ReadonlyArray<readonly [string, readonly string[]]> = [
      ["index", []],
      ["append", []],
      ["proof", []],
      ...(capped
        ? ([
            ["append", [HEAP_CAP]],
            ["proof", [HEAP_CAP]],
          ] as const)
        : []),
    ];
    for (const [phase, flags] of runs) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          ...flags,
          join(dir, "child.mjs"),
          path,
          phase,
          chainId,
          String(APPENDS),
          String(INCLUSIONS),
          String(CONSISTENCIES),
        ],
        { maxBuffer: 1 << 20 },
      );
      const r = JSON.parse(stdout) as {
        ok: boolean;
        openMs: number;
        workMs: number;
        maxRssKiB: number;
      };
      phases.push({
        phase: flags.length ? `${phase} ${flags.join(" ")}` : phase,
        ok: r.ok,
        openSeconds: +(r.openMs / 1000).toFixed(1),
        workSeconds: +(r.workMs / 1000).toFixed(2),
        peakRssMiB: +(r.maxRssKiB / 1024).toFixed(1),
      });
    }
    return {
      entries: total,
      chainMiB: +((await stat(path)).size / 2 ** 20).toFixed(0),
      indexMiB: +(await du(`${path}.index`)).toFixed(0),
      bulkWriteSeconds: writeSeconds,
      phases,
    };
  } finally {
    if (fixtures)
      await restoreFixture(dir, total); // cut the appends back off for the next run
    else await rm(dir, { recursive: true, force: true });
  }
}

process.stdout.write(
  `${settingsLine("audit-file-rss.ts", { largeEntries: large, smallEntries: small, appends: APPENDS, inclusions: INCLUSIONS, consistencies: CONSISTENCIES })}\n`,
);
const base = await measure(small);
process.stdout.write(`${JSON.stringify(base)}\n`);
const big = await measure(large);
process.stdout.write(`${JSON.stringify(big)}\n`);
/** Issue 20's bound, applied to every phase of the large run: first open (index build), append, proof. */
const TARGET_MIB = 128;
const figures = (m: typeof big) =>
  Object.fromEntries(m.phases.map((p) => [p.phase, p.peakRssMiB])) as Record<string, number>;
const peak = Math.max(...big.phases.map((p) => p.peakRssMiB));
process.stdout.write(
  `${JSON.stringify({
    peakRssMiB: { [String(small)]: figures(base), [String(large)]: figures(big) },
    targetMiB: TARGET_MIB,
    largestPeakMiB: peak,
    met: peak <= TARGET_MIB,
    allOk: [...base.phases, ...big.phases].every((p) => p.ok),
  })}\n`,
);
