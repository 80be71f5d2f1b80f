/**
 * Peak RSS while verifying a 1,000,000-entry JSON Lines export (issue target: <= 150 MB).
 *
 *   npx tsx bench/audit-rss.ts [entries]
 *
 * Writes a valid export to a temp file (streaming), bundles the verifier with esbuild and runs it in
 * a plain `node` child (no tsx loader in the measured process), which reports `maxRSS`.
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

const total = Number(process.argv[2] ?? 1_000_000);
const chainId = userChainId("rss-bench");
const CHUNK = 10_000;

function* chunks(): Generator<ReturnType<typeof fixtureEntries>> {
  let prev = GENESIS_PREV_HASH;
  for (let first = 0; first < total; first += CHUNK) {
    const batch = fixtureEntries(chainId, first, Math.min(CHUNK, total - first), prev);
    prev = (batch[batch.length - 1] as { hash: string }).hash;
    yield batch;
  }
}

const dir = await mkdtemp(join(tmpdir(), "kw-audit-rss-"));
try {
  let head = GENESIS_PREV_HASH;
  for (const batch of chunks()) head = (batch[batch.length - 1] as { hash: string }).hash; // pass 1: the head for the manifest
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
  for (const batch of chunks())
    if (!out.write(batch.map(jsonlEntryLine).join(""))) await once(out, "drain");
  out.end();
  await once(out, "close");

  const child = join(dir, "verify-child.ts");
  const src = new URL("../src/", import.meta.url).pathname;
  await writeFile(
    child,
    `import { createReadStream } from "node:fs";
import { verifyExport } from "${src}audit/export-reader.ts";
import { sha256Node } from "${src}audit/sha256.ts";
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
    [join(dir, "verify-child.mjs"), file],
    { maxBuffer: 1 << 20 },
  );
  const r = JSON.parse(stdout) as { ok: boolean; size: number; ms: number; maxRssKiB: number };
  const bytes = (await stat(file)).size;
  process.stdout.write(
    `${JSON.stringify({ entries: total, fileMiB: +(bytes / 2 ** 20).toFixed(1), valid: r.ok && r.size === total, seconds: +(r.ms / 1000).toFixed(1), entriesPerSecond: Math.round(total / (r.ms / 1000)), peakRssMiB: +(r.maxRssKiB / 1024).toFixed(1), targetMiB: 150 })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
