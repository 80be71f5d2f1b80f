/**
 * The right edge of a tiled tree, hashed in place: one 8 KiB buffer per tile level holding the
 * hashes of that level's partial tile, filled by writing each digest straight into it. A tile that
 * fills up is handed to the caller as it is (no copy) and its Merkle Tree Hash goes one level up.
 * That is all the state an append needs: the partial tiles determine the RFC 9162 right edge (the
 * binary decomposition of `size` is the concatenation of those of the partial tiles' widths, top
 * level first), so the root is computed from them.
 *
 * Hashes: leaf `SHA-256(0x00 || entry)`, interior `SHA-256(0x01 || left || right)` (RFC 9162
 * §2.1.1), through node:crypto's one-shot `hash()` over reused scratch buffers; per leaf, one leaf
 * hash and (amortized) one interior hash, with no per-leaf or per-node object. A test proves the
 * roots and tiles equal those of the reference tree and of the per-node {@link MerkleFrontier}.
 *
 * @packageDocumentation
 * @internal
 */
import { hash } from "node:crypto";
import { KeywardenError } from "../../../errors.js";
import { EMPTY_ROOT, hashChildren } from "../merkle.js";
import { TILE_WIDTH } from "./paths.js";

const TILE_BYTES = TILE_WIDTH * 32;

/** SHA-256 of `data` written at `out[at … at+32)` (latin1 "binary" digest text: no Buffer allocated). */
function sha256Into(data: Uint8Array, out: Uint8Array, at: number): void {
  const d = hash("sha256", data, "binary");
  for (let k = 0; k < 32; k++) out[at + k] = d.charCodeAt(k);
}

/** Scratch inputs; hashing is synchronous, so no other call can interleave. */
const NODE = new Uint8Array(65);
NODE[0] = 0x01;
let LEAF = new Uint8Array(1024);
const WORK = new Uint8Array(TILE_BYTES);

/** Merkle Tree Hash of the `count` (a power of two ≤ 256) hashes of `tile` from hash `first`. */
function perfectRoot(tile: Uint8Array, first: number, count: number): Uint8Array {
  WORK.set(tile.subarray(first * 32, (first + count) * 32));
  for (let n = count; n > 1; n >>= 1) {
    for (let j = 0; j < n / 2; j++) {
      NODE.set(WORK.subarray(j * 64, j * 64 + 64), 1);
      sha256Into(NODE, WORK, j * 32);
    }
  }
  return WORK.slice(0, 32);
}

/** A tile the builder completed: level, index, and its 8 KiB of hashes (the caller's to keep). */
export interface FullTile {
  readonly level: number;
  readonly index: number;
  readonly bytes: Uint8Array;
}

/** @internal See the file header. */
export class TileTreeBuilder {
  /** tiles[L]: the partial tile of level L (its first `counts[L] % 256` hashes are valid). */
  #tiles: Uint8Array[] = [];
  /** counts[L]: number of hashes ever added at tile level L. */
  #counts: number[] = [];
  #root: Uint8Array | undefined;

  /**
   * A builder for a tree of `size` leaves from its partial tiles (`partial[L]` = the hashes of the
   * level-L partial tile, `floor(size / 256^L) mod 256` of them).
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when a partial tile has the wrong width.
   */
  static fromEdge(size: number, partial: readonly Uint8Array[]): TileTreeBuilder {
    const b = new TileTreeBuilder();
    for (let L = 0, count = size; count > 0; L++, count = Math.floor(count / TILE_WIDTH)) {
      const bytes = partial[L] ?? new Uint8Array(0);
      if (bytes.length !== (count % TILE_WIDTH) * 32) {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "partial tile does not match the size");
      }
      const tile = new Uint8Array(TILE_BYTES);
      tile.set(bytes);
      b.#tiles.push(tile);
      b.#counts.push(count);
    }
    return b;
  }

  /** A copy, so an append can be computed and discarded if writing its tiles fails. */
  clone(): TileTreeBuilder {
    const c = new TileTreeBuilder();
    c.#tiles = this.#tiles.map((t) => t.slice());
    c.#counts = this.#counts.slice();
    c.#root = this.#root;
    return c;
  }

  /** Number of leaves. */
  get size(): number {
    return this.#counts[0] ?? 0;
  }

  /** Number of hashes ever added at tile level `level` (`floor(size / 256^level)`). */
  countAt(level: number): number {
    return this.#counts[level] ?? 0;
  }

  /** Number of tile levels holding at least one hash. */
  get levels(): number {
    return this.#counts.length;
  }

  /** The hashes of the partial tile at `level` (a copy; empty when the level is a multiple of 256). */
  partialTile(level: number): Uint8Array {
    const width = this.countAt(level) % TILE_WIDTH;
    return (this.#tiles[level] ?? new Uint8Array(0)).slice(0, width * 32);
  }

  /** Appends entry `entry` (leaf hash `SHA-256(0x00 || entry)`); `full` receives completed tiles. */
  appendEntry(entry: Uint8Array, full: (tile: FullTile) => void): void {
    if (entry.length + 1 > LEAF.length) LEAF = new Uint8Array(entry.length + 1);
    LEAF[0] = 0x00;
    LEAF.set(entry, 1);
    const at = this.#slot(0);
    sha256Into(LEAF.subarray(0, entry.length + 1), this.#tiles[0] as Uint8Array, at);
    this.#added(0, full);
  }

  /** Appends a leaf whose 32-byte leaf hash the caller computed. */
  appendLeafHash(leafHash: Uint8Array, full: (tile: FullTile) => void): void {
    if (leafHash.length !== 32) throw new KeywardenError("ERR_INVALID_ARGUMENT", "bad leaf hash");
    const at = this.#slot(0);
    (this.#tiles[0] as Uint8Array).set(leafHash, at);
    this.#added(0, full);
  }

  /** Byte offset of the next hash of level `level`'s partial tile (creating the level). */
  #slot(level: number): number {
    if (this.#tiles[level] === undefined) {
      this.#tiles[level] = new Uint8Array(TILE_BYTES);
      this.#counts[level] = 0;
    }
    return ((this.#counts[level] as number) % TILE_WIDTH) * 32;
  }

  /** Records the hash just written at `level`; a full tile is emitted and hashed one level up. */
  #added(level: number, full: (tile: FullTile) => void): void {
    this.#root = undefined;
    const count = (this.#counts[level] as number) + 1;
    this.#counts[level] = count;
    if (count % TILE_WIDTH !== 0) return;
    const bytes = this.#tiles[level] as Uint8Array;
    this.#tiles[level] = new Uint8Array(TILE_BYTES);
    const root = perfectRoot(bytes, 0, TILE_WIDTH);
    full({ level, index: count / TILE_WIDTH - 1, bytes });
    const at = this.#slot(level + 1);
    (this.#tiles[level + 1] as Uint8Array).set(root, at);
    this.#added(level + 1, full);
  }

  /** The RFC 9162 root of the tree (cached until the next append). */
  root(): Uint8Array {
    if (this.#root !== undefined) return this.#root;
    // The right edge, largest subtree first: top level first, each width's bits high to low.
    const edge: Uint8Array[] = [];
    for (let L = this.#counts.length - 1; L >= 0; L--) {
      const width = (this.#counts[L] as number) % TILE_WIDTH;
      let first = 0;
      for (let bit = TILE_WIDTH / 2; bit >= 1; bit >>= 1) {
        if ((width & bit) === 0) continue;
        edge.push(perfectRoot(this.#tiles[L] as Uint8Array, first, bit));
        first += bit;
      }
    }
    let acc = edge[edge.length - 1] ?? EMPTY_ROOT;
    for (let i = edge.length - 2; i >= 0; i--) acc = hashChildren(edge[i] as Uint8Array, acc);
    this.#root = acc;
    return acc;
  }
}
