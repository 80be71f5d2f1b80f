/**
 * The heads log's tile directory under real process crashes: a child process integrating batches
 * (test/audit/transparency/support/tiles-crash-child.ts) is SIGKILLed at random points — often
 * between a batch's tiles and its checkpoint, leaving orphans, sometimes mid-write, leaving a torn
 * file. After each kill a fresh process opens the same directory and continues, and the published
 * log verifies: signature, right edge against the root, consistency with every checkpoint seen
 * before (printed by a child or read from disk after a kill), sampled inclusion proofs; and, where
 * Go is installed, with golang.org/x/mod/sumdb/tlog at the end.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fromBase64 } from "../../../src/audit/primitives/index.js";
import { LocalEd25519Signer, SIGNING_KEY_ENV } from "../../../src/audit/transparency/signer.js";
import { type TileKey, tileCoveredBy } from "../../../src/audit/transparency/tiles/index.js";
import { goTilecheck, type SeenCheckpoint, verifyPublishedDirectory } from "./tiles-verify.js";

const CHILD = fileURLToPath(new URL("./support/tiles-crash-child.ts", import.meta.url));
const KILLS = Number(process.env.KW_TILES_KILLS ?? 24);
const ORIGIN = "tiles.example.com/crash";

let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Life {
  readonly published: SeenCheckpoint[];
  readonly ready: Promise<number>;
  readonly done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    finished: boolean;
  }>;
  kill(): void;
}

function startChild(life: number, batches: number, key: string): Life {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", CHILD, JSON.stringify({ dir, life, batches })],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, [SIGNING_KEY_ENV]: key } },
  );
  const published: SeenCheckpoint[] = [];
  let buf = "";
  let stderr = "";
  let finished = false;
  let onReady: (size: number) => void = () => undefined;
  const ready = new Promise<number>((r) => {
    onReady = r;
  });
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const [tag, a, b] = buf.slice(0, nl).split(" ");
      buf = buf.slice(nl + 1);
      if (tag === "READY") onReady(Number(a));
      if (tag === "PUBLISHED")
        published.push({ size: Number(a), rootHash: fromBase64(b as string) ?? new Uint8Array(0) });
      if (tag === "DONE") finished = true;
    }
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    finished: boolean;
  }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr, finished })));
  void done.then(() => onReady(-1));
  return { published, ready, done, kill: () => child.kill("SIGKILL") };
}

/** The tile, or bundle (level 0), a path names; undefined for the checkpoint or a temporary file. */
function keyOf(path: string): TileKey | undefined {
  const m = /^tile\/(entries|\d+)\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?$/.exec(path);
  if (!m) return undefined;
  const index = Number((m[2] as string).replaceAll("x", "").replaceAll("/", ""));
  const level = m[1] === "entries" ? 0 : Number(m[1]);
  return { level, index, width: m[3] === undefined ? 256 : Number(m[3]) };
}

async function uncoveredFiles(size: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const key = keyOf(relative(dir, p));
        if (key !== undefined && !tileCoveredBy(key, size)) out.push(relative(dir, p));
      }
    }
  };
  await walk(join(dir, "tile")).catch(() => undefined);
  return out;
}

describe("heads log tiles under SIGKILL", () => {
  it(`${KILLS} SIGKILLs at random points of a process integrating batches: each fresh process continues, and the published log verifies and stays consistent with every earlier checkpoint`, async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-tiles-crash-"));
    const { signer, privateKey } = LocalEd25519Signer.generate(ORIGIN);
    const key = privateKey.useText((t) => t);
    const seen: SeenCheckpoint[] = [];
    let killsWithOrphans = 0;
    let publishedAfterOrphans = 0;
    let orphansPending = false;
    let lastSize = 0;
    for (let life = 0; life < KILLS; life++) {
      const run = startChild(life, 1_000_000, key);
      const size = await run.ready;
      if (size < 0) {
        const r = await run.done;
        throw new Error(`life ${life} failed to open: ${r.stderr}`);
      }
      expect(size, `life ${life} opened at the last published size`).toBe(lastSize);
      // A random point: before its first batch, inside a batch's tile writes, between tiles and checkpoint, …
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
      run.kill();
      const end = await run.done;
      expect(end.signal, `life ${life} ended by itself: ${end.stderr}`).toBe("SIGKILL");
      if (orphansPending && run.published.length > 0) publishedAfterOrphans++;
      seen.push(...run.published);
      const now = await verifyPublishedDirectory(dir, signer.verifierKey, seen, [
        0,
        Math.floor(lastSize / 2),
        Math.max(0, lastSize - 1),
      ]).catch((err: unknown) => {
        throw new Error(`after kill ${life}: ${(err as Error).message}`);
      });
      seen.push({ size: now.size, rootHash: now.rootHash });
      lastSize = now.size;
      const orphans = await uncoveredFiles(now.size);
      if (orphans.length > 0) killsWithOrphans++;
      orphansPending = orphans.length > 0;
    }
    // A last process runs to its end on top of whatever the last kill left.
    const last = startChild(KILLS, 3, key);
    const end = await last.done;
    expect(end.finished, end.stderr).toBe(true);
    expect(end.code).toBe(0);
    seen.push(...last.published);
    const final = await verifyPublishedDirectory(dir, signer.verifierKey, seen, [0, 1, lastSize]);
    expect(final.size).toBeGreaterThan(lastSize);
    // The kills did land between tiles and checkpoint, and later processes published over the orphans.
    expect(killsWithOrphans).toBeGreaterThan(0);
    expect(publishedAfterOrphans).toBeGreaterThan(0);
    const go = await goTilecheck(dir, signer.verifierKey, seen, [0, 1, final.size - 1]);
    if (go !== undefined) expect(go).toMatch(/^ok \d+$/);
  }, 600_000);
});
