/**
 * Test support: checks a published tile directory from the outside — the checkpoint signature, the
 * right edge against the root, every remembered older checkpoint by a consistency proof built
 * from the tiles, and sampled entries by inclusion proofs — and, where Go is installed, with the
 * independent sumdb/tlog verifier (test/interop/go/tilecheck).
 */
import { execFileSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { toBase64 } from "../../../src/audit/primitives/index.js";
import { parseCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { verifyConsistency, verifyInclusion } from "../../../src/audit/transparency/merkle.js";
import { openNote, parseVerifierKey } from "../../../src/audit/transparency/note.js";
import {
  directoryTileFetcher,
  directoryTileStorage,
  loadTileEdge,
  TileLogClient,
  tileLeafHash,
} from "../../../src/audit/transparency/tiles/index.js";
import { buildGoProgram, hasGo } from "../../support/go-toolchain.js";

export interface SeenCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** What {@link verifyPublishedDirectory} found. */
export interface PublishedLog extends SeenCheckpoint {
  readonly note: string;
}

/**
 * Verifies the directory's published log; throws on the first failure. `olds` are checkpoints
 * seen earlier (each must be consistent with the current one); `sample` leaf indexes to prove.
 */
export async function verifyPublishedDirectory(
  dir: string,
  vkey: string,
  olds: readonly SeenCheckpoint[],
  sample: readonly number[],
): Promise<PublishedLog> {
  const client = new TileLogClient(directoryTileFetcher(dir), { cacheTiles: 0 });
  const note = await client.checkpointNote();
  if (note === undefined) throw new Error("no checkpoint published");
  const cp = parseCheckpoint(openNote(note, [parseVerifierKey(vkey)]).text);
  // The right edge hashes to the root (what a writer checks on open).
  const edge = await loadTileEdge(directoryTileStorage(dir));
  if (edge.tree.size !== cp.size) throw new Error("edge size differs");
  for (const old of olds) {
    if (old.size > cp.size) throw new Error(`checkpoint shrank from ${old.size} to ${cp.size}`);
    if (old.size === 0 || old.size === cp.size) {
      if (old.size === cp.size && Buffer.compare(old.rootHash, cp.rootHash) !== 0)
        throw new Error(`two roots at size ${old.size}`);
      continue;
    }
    const proof = await client.consistencyProof(old.size, cp.size);
    if (!verifyConsistency(old.size, cp.size, proof, old.rootHash, cp.rootHash))
      throw new Error(`checkpoint ${old.size} is not consistent with ${cp.size}`);
  }
  for (const i of sample) {
    if (i >= cp.size) continue;
    const leaf = tileLeafHash(await client.entry(i, cp.size));
    const proof = await client.inclusionProof(i, cp.size);
    if (!verifyInclusion(leaf, i, cp.size, proof, cp.rootHash))
      throw new Error(`inclusion of ${i} failed`);
  }
  return { note, size: cp.size, rootHash: cp.rootHash };
}

let tilecheck: string | undefined;

/**
 * Runs Go's tilecheck on the directory (signature, tree hash from tiles, our proofs checked and
 * rebuilt by sumdb/tlog). Returns its output, or undefined when Go is not installed.
 */
export async function goTilecheck(
  dir: string,
  vkey: string,
  olds: readonly SeenCheckpoint[],
  sample: readonly number[],
): Promise<string | undefined> {
  if (!hasGo) return undefined;
  tilecheck ??= buildGoProgram(resolve(import.meta.dirname, "../../interop/go/tilecheck"));
  const client = new TileLogClient(directoryTileFetcher(dir));
  const note = await client.checkpointNote();
  const size = parseCheckpoint(openNote(note ?? "", [parseVerifierKey(vkey)]).text).size;
  const inclusion = [];
  for (const index of sample.filter((i) => i < size))
    inclusion.push({ index, hashes: (await client.inclusionProof(index, size)).map(toBase64) });
  const consistency = [];
  for (const old of olds.filter((o) => o.size > 0 && o.size < size)) {
    const hashes = (await client.consistencyProof(old.size, size)).map(toBase64);
    consistency.push({ oldSize: old.size, oldRoot: toBase64(old.rootHash), hashes });
  }
  const file = `${dir}.tilecheck.json`;
  await writeFile(file, JSON.stringify({ dir, vkey, inclusion, consistency }));
  try {
    return execFileSync(tilecheck, [file], { encoding: "utf8", stdio: "pipe" }).trim();
  } finally {
    await rm(file, { force: true });
  }
}
