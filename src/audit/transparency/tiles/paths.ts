/**
 * C2SP tlog-tiles (`c2sp.org/tlog-tiles`) tile math and resource paths.
 *
 * A tile at level `L`, index `N` holds up to 256 consecutive 32-byte hashes of tree level `8·L`
 * (level 0 = leaf hashes), starting at node `N·256`. A full tile (256 hashes) is served at
 * `tile/<L>/<N>`; a partial tile of width `W` (1–255) at `tile/<L>/<N>.p/<W>`. Entry bundles use
 * the same index scheme under `tile/entries/`. `N` is written as 3-digit zero-padded groups, every
 * group but the last prefixed with `x` (1234067 → `x001/x234/067`).
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { assertIndex } from "../../primitives/portable.js";

/** Tile height: each tile spans 8 tree levels. */
export const TILE_HEIGHT = 8;
/** Hashes (or entries) in a full tile: 2^8. */
export const TILE_WIDTH = 256;

/** Address of one tile (or entry bundle): level, index and width (256 = full). */
export interface TileKey {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/**
 * Encodes a tile index as C2SP path elements: `x`-prefixed 3-digit groups, the last without `x`.
 *
 * @example
 * ```ts
 * encodeTileIndex(1234067); // "x001/x234/067"
 * encodeTileIndex(5);       // "005"
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a negative or unsafe index.
 */
export function encodeTileIndex(index: number): string {
  assertIndex(index, "tile index");
  let n = index;
  const groups: string[] = [String(n % 1000).padStart(3, "0")];
  n = Math.floor(n / 1000);
  while (n > 0) {
    groups.unshift(`x${String(n % 1000).padStart(3, "0")}`);
    n = Math.floor(n / 1000);
  }
  return groups.join("/");
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "tile width must be 1..256");
  }
  return width === TILE_WIDTH ? "" : `.p/${width}`;
}

/**
 * Path of a hash tile, relative to the log's prefix.
 *
 * @example
 * ```ts
 * tilePath({ level: 0, index: 1234067, width: 8 }); // "tile/0/x001/x234/067.p/8"
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a bad level, index or width.
 */
export function tilePath(key: TileKey): string {
  if (!Number.isInteger(key.level) || key.level < 0 || key.level > 63) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "tile level must be 0..63");
  }
  return `tile/${key.level}/${encodeTileIndex(key.index)}${widthSuffix(key.width)}`;
}

/**
 * Path of an entry bundle (entries `index·256 …`), relative to the log's prefix.
 *
 * @example
 * ```ts
 * entryBundlePath(0, 3); // "tile/entries/000.p/3"
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a bad index or width.
 */
export function entryBundlePath(index: number, width: number): string {
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

/**
 * Number of hashes stored at tile level `level` for a tree of `size` leaves: ⌊size / 256^level⌋.
 *
 * @example
 * ```ts
 * hashesAtLevel(70000, 1); // 273
 * ```
 * @throws never.
 */
export function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The tile of level `level` and index `index` as it exists in a tree of `size` leaves (its width
 * is 256 when full, else the partial width). Undefined when the tree has no such tile yet.
 *
 * @example
 * ```ts
 * tileAt(1000, 0, 3); // { level: 0, index: 3, width: 232 }
 * ```
 * @throws never.
 */
export function tileAt(size: number, level: number, index: number): TileKey | undefined {
  const count = hashesAtLevel(size, level);
  const width = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
  return width > 0 ? { level, index, width } : undefined;
}

/**
 * Tile levels a tree of `size` leaves has (levels with at least one hash). 0 for an empty tree.
 *
 * @example
 * ```ts
 * tileLevels(1000); // 2 (a partial tile at level 1 holds 3 hashes)
 * ```
 * @throws never.
 */
export function tileLevels(size: number): number {
  let levels = 0;
  while (hashesAtLevel(size, levels) > 0) levels++;
  return levels;
}

/**
 * Whether the tile (or, at level 0, the entry bundle) `key` is covered by a tree of `size`
 * leaves: every hash it holds exists in that tree (`index·256 + width ≤ ⌊size / 256^level⌋`). A
 * covered resource may be read by anyone holding that tree's checkpoint, so it is immutable; an
 * uncovered one (a full tile at or past the tree's coverage, a partial tile wider than the
 * tree's) is named by no checkpoint of that size or smaller.
 *
 * @example
 * ```ts
 * tileCoveredBy({ level: 0, index: 1, width: 44 }, 300); // true
 * tileCoveredBy({ level: 0, index: 1, width: 45 }, 300); // false
 * tileCoveredBy({ level: 0, index: 1, width: 256 }, 300); // false
 * ```
 * @throws never.
 */
export function tileCoveredBy(key: TileKey, size: number): boolean {
  return key.index * TILE_WIDTH + key.width <= hashesAtLevel(size, key.level);
}
