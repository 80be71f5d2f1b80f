/**
 * Peak RSS while streaming-verifying a JSON Lines export. Issue 21's target: at 10,000,000 entries
 * the peak is <= 1.1x the peak at 10,000 entries (measured in the same run) and <= 96 MiB.
 *
 *   npx tsx bench/audit-rss.ts [entries] [small]     (defaults: 10000000 and 10000)
 *
 * For each size, writes a valid export to a temp file (streaming), bundles the verifier with
 * esbuild and runs it in a plain `node` child (no tsx loader in the measured process), which
 * reports `maxRSS`. The small run is the baseline; the ratio is printed with the settings.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { jsonlEntryLine, jsonlManifestLine } from "../src/audit/export/jsonl.js";
import { GENESIS_PREV_HASH, userChainId } from "../src/audit/index.js";
import { fixtureEntries } from "../src/audit/testing/fixtures.js";
import { settingsLine } from "./floors.js";

const large = Number(process.argv[2] ?? 10_000_000);
const small = Number(process.argv[3] ?? 10_000);
const chainId = userChainId("rss-bench");
const CHUNK = 10_000;
/** Extra `node` flags for the measured child (e.g. `KW_NODE_FLAGS=--max-semi-space-size=1`). */
const nodeFlags = (process.env.KW_NODE_FLAGS ?? "").split(" ").filter(Boolean);

interface RssRun {
  entries: number;
  fileMiB: number;
  valid: boolean;
  seconds: number;
  entriesPerSecond: number;
  peakRssMiB: number;
}

function* chunks(total: number): Generator<ReturnType<typeof fixtureEntries>> {
  let prev = GENESIS_PREV_HASH;
  for (let first = 0; first < total; first += CHUNK) {
    const batch = fixtureEntries(chainId, first, Math.min(CHUNK, total - first), prev);
    prev = (batch[batch.length - 1] as { hash: string }).hash;
    yield batch;
  }
}

async function measure(total: number): Promise<RssRun> {
  const dir = await mkdtemp(join(tmpdir(), "kw-audit-rss-"));
  try {
    let head = GENESIS_PREV_HASH;
    for (const batch of chunks(total)) head = (batch[batch.length - 1] as { hash: string }).hash; // pass 1: the head for the manifest
    const file = join(dir, "export.jsonl");
    const out = createWriteStream(file);
    out.write(
      jsonlManifestLine({
        v: 1,
        format: "keywarden.audit.export",
        chainId,
        size: total,
        headHash: total ? head : null,
      }),
    );
    for (const batch of chunks(total))
      if (!out.write(batch.map(jsonlEntryLine).join(""))) await once(out, "drain");
    out.end();
    await once(out, "close");

    const child = join(dir, "verify-child.ts");
    const src = new URL("../src/", import.meta.url).pathname;
    await writeFile(
      child,
      `import { createReadStream } from "node:fs";
import { verifyExport } from "${src}audit/export/reader.ts";
import { sha256Node } from "${src}audit/primitives/sha256.ts";
const t = performance.now();
const result = await verifyExport(createReadStream(process.argv[2]), { format: "jsonl", sha256: sha256Node });
process.stdout.write(JSON.stringify({ ok: result.ok, size: result.ok ? result.size : -1, ms: performance.now() - t, maxRssKiB: process.resourceUsage().maxRSS }));`,
    );
    await build({
      entryPoints: [child],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: join(dir, "verify-child.mjs"),
      logLevel: "error",
    });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [...nodeFlags, join(dir, "verify-child.mjs"), file],
      { maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout) as { ok: boolean; size: number; ms: number; maxRssKiB: number };
    const bytes = (await stat(file)).size;
    return {
      entries: total,
      fileMiB: +(bytes / 2 ** 20).toFixed(1),
      valid: r.ok && r.size === total,
      seconds: +(r.ms / 1000).toFixed(1),
      entriesPerSecond: Math.round(total / (r.ms / 1000)),
      peakRssMiB: +(r.maxRssKiB / 1024).toFixed(1),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.stdout.write(
  `${settingsLine("audit-rss.ts", { largeEntries: large, smallEntries: small, chunkOfFixture: CHUNK, nodeFlags: nodeFlags.join(" ") })}\n`,
);
const base = await measure(small);
process.stdout.write(`${JSON.stringify(base)}\n`);
const big = await measure(large);
process.stdout.write(`${JSON.stringify(big)}\n`);
const ratio = big.peakRssMiB / base.peakRssMiB;
process.stdout.write(
  `${JSON.stringify({ peakRatio: +ratio.toFixed(3), targetRatio: 1.1, ratioMet: ratio <= 1.1, targetMiB: 96, mibMet: big.peakRssMiB <= 96 })}\n`,
);
