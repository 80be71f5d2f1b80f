/**
 * Heads log and tlog-tiles costs, as same-run ratios (issue 20):
 *
 * 1. Integrating 100,000 chain checkpoints (leaves already encoded at enqueue time) into one signed
 *    heads checkpoint, tiles and bundles written durably to ext4 — vs SHA-256 over the same leaf
 *    bytes (target >= 0.5x the baseline's rate). Enqueueing (two HMACs per checkpoint) is measured
 *    on its own.
 * 2. Tile writing vs the tree's own hashing over the same 100,000 leaves (target <= 1.2x).
 * 3. Inclusion proofs from tiles with a warm cache at 10,000,000 vs 1,000 leaves (target <= 2x).
 *    The 10M tree is synthesized by serving tiles directly from memory: level-0 tiles are
 *    pseudo-random hashes, and every higher-level entry on the paths of the benchmarked leaves is
 *    the real root of the tile below it, so those proofs verify against the root the tiles define.
 *    Cold fetch counts (target <= ceil(log256 n) + 1) are printed once per size.
 *
 * Run: `npx vitest bench --run bench/heads.bench.ts`.
 */
import { hash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, bench, describe } from "vitest";
import { sha256 } from "../src/audit/primitives/index.js";
import { encodeHeadLeaf } from "../src/audit/transparency/heads/leaf.js";
import { HeadsLog } from "../src/audit/transparency/heads/log.js";
import {
  hashChildren,
  MerkleFrontier,
  rootAtSize,
  verifyInclusion,
} from "../src/audit/transparency/merkle.js";
import { LocalEd25519Signer } from "../src/audit/transparency/signer.js";
import { TileDirectoryWriter } from "../src/audit/transparency/tiles/directory.js";
import {
  hashesAtLevel,
  TILE_WIDTH,
  type TileKey,
  tilePath,
} from "../src/audit/transparency/tiles/paths.js";
import {
  type TileFetcher,
  TileLogClient,
  tileLeafHash,
} from "../src/audit/transparency/tiles/reader.js";
import { Secret } from "../src/secret.js";

const N = 100_000;
const key = new Uint8Array(32).fill(9);
const leaves = Array.from({ length: N }, (_, i) =>
  encodeHeadLeaf(key, {
    size: i + 1,
    rootHash: sha256(Uint8Array.of(i & 255, i >> 8)),
    time: 1764400000 + i,
  }),
);
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), "kw-heads-bench-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const { signer } = LocalEd25519Signer.generate("bench.example/heads");
const opts = { iterations: 3, warmupIterations: 1, time: 0 };

describe("heads: integrate 100,000 checkpoints", () => {
  bench(
    "baseline: SHA-256(0x00 || leaf) over the same 100,000 leaves",
    () => {
      for (const l of leaves) tileLeafHash(l);
    },
    opts,
  );
  bench(
    "integrate: tiles + bundles written, one checkpoint signed and published",
    async () => {
      const heads = await HeadsLog.open({
        dir: fresh(),
        origin: "bench.example/heads",
        signer,
        headsSecret: Secret.copyOf(key),
      });
      for (const l of leaves) heads.enqueueLeaf(l);
      await heads.integrate();
    },
    opts,
  );
  bench(
    "enqueue: encode 100,000 leaves (chain key + tag HMACs)",
    async () => {
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
    opts,
  );
});

describe("heads: tile writing vs tree hashing (100,000 leaves)", () => {
  bench(
    "baseline: leaf hashes + RFC 9162 tree (MerkleFrontier) over 100,000 leaves",
    () => {
      const f = new MerkleFrontier();
      for (const l of leaves) f.append(tileLeafHash(l));
      f.root();
    },
    opts,
  );
  bench(
    "tiles: TileDirectoryWriter.append (same hashing, plus tiles and bundles written durably)",
    async () => {
      const w = await TileDirectoryWriter.open(fresh());
      await w.append(leaves);
    },
    opts,
  );
});

/** An in-memory synthetic tiled tree of `size` leaves, consistent along the paths of `chosen`. */
function syntheticTiles(
  size: number,
  chosen: readonly number[],
): TileFetcher & { fetches: number } {
  const memo = new Map<string, Uint8Array>();
  const pseudo = (level: number, index: number) => hash("sha256", `${level}/${index}`, "buffer");
  const onPath = (level: number, entry: number) =>
    chosen.some((i) => Math.floor(i / TILE_WIDTH ** level) === entry);
  const tileBytes = (t: TileKey): Uint8Array => {
    const path = tilePath(t);
    const hit = memo.get(path);
    if (hit) return hit;
    const out = new Uint8Array(t.width * 32);
    for (let j = 0; j < t.width; j++) {
      const entry = t.index * TILE_WIDTH + j;
      let h: Uint8Array;
      if (t.level > 0 && onPath(t.level, entry)) {
        const below = tileBytes({ level: t.level - 1, index: entry, width: TILE_WIDTH });
        let row: Uint8Array[] = Array.from({ length: TILE_WIDTH }, (_, k) =>
          below.subarray(k * 32, k * 32 + 32),
        );
        while (row.length > 1) {
          const up: Uint8Array[] = [];
          for (let k = 0; k < row.length; k += 2)
            up.push(hashChildren(row[k] as Uint8Array, row[k + 1] as Uint8Array));
          row = up;
        }
        h = row[0] as Uint8Array;
      } else h = pseudo(t.level, entry);
      out.set(h, j * 32);
    }
    memo.set(path, out);
    return out;
  };
  const f = {
    fetches: 0,
    async fetch(path: string) {
      f.fetches++;
      const m = /^tile\/(\d+)\/(.+?)(?:\.p\/(\d+))?$/.exec(path);
      if (!m) return undefined;
      const level = Number(m[1]);
      const index = Number((m[2] as string).replace(/x/g, "").replace(/\//g, ""));
      const count = hashesAtLevel(size, level);
      const width = m[3] ? Number(m[3]) : TILE_WIDTH;
      if (index * TILE_WIDTH + width > count) return undefined;
      return tileBytes({ level, index, width });
    },
  };
  return f;
}

const SIZES = [1_000, 10_000_000];
const setups = await Promise.all(
  SIZES.map(async (size) => {
    const chosen = Array.from({ length: 32 }, (_, k) => Math.floor(((k + 0.5) / 32) * (size - 1)));
    const fetcher = syntheticTiles(size, chosen);
    // Cold: one fresh client, one proof, count fetches.
    const cold = new TileLogClient(fetcher);
    const before = fetcher.fetches;
    const proof = await cold.inclusionProof(chosen[5] as number, size);
    const coldFetches = fetcher.fetches - before;
    const client = new TileLogClient(fetcher, { cacheTiles: 4096 });
    const root = await rootAtSize(client.nodeReader(size), size);
    for (const i of chosen) {
      const p = await client.inclusionProof(i, size);
      const leaf = await client.leafHash(i, size);
      if (!verifyInclusion(leaf, i, size, p, root))
        throw new Error(`synthetic proof ${i} does not verify`);
    }
    const bound = Math.ceil(Math.log(size) / Math.log(256)) + 1;
    process.stdout.write(
      `heads bench: n=${size} cold tile fetches for one proof = ${coldFetches} (bound ${bound}), proof length ${proof.length}\n`,
    );
    return { size, chosen, client };
  }),
);

describe("tiles: inclusion proof, warm cache (10M vs 1K leaves)", () => {
  for (const s of setups) {
    let k = 0;
    bench(`proof at ${s.size.toLocaleString("en")} leaves`, async () => {
      const i = s.chosen[k++ % s.chosen.length] as number;
      await s.client.inclusionProof(i, s.size);
    });
  }
});
