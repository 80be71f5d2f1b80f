/**
 * Reading a C2SP tlog-tiles log: a pluggable {@link TileFetcher} (directory, HTTP, anything that
 * maps a path to bytes), an LRU tile cache, and a {@link MerkleNodeReader} over the tiles so the
 * RFC 9162 proof functions in merkle.ts build inclusion and consistency proofs from static files,
 * with no operator API. What the tiles say is never trusted: proofs are checked against a signed
 * checkpoint root by the caller ({@link TileLogClient} does it for you).
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { assertIndex, decodeUtf8, sha256 } from "../../primitives/portable.js";
import {
  consistencyProof,
  hashChildren,
  hashRanges,
  inclusionRanges,
  type MerkleNodeReader,
  type NodeKey,
} from "../merkle.js";
import { decodeEntryBundle } from "./bundle.js";
import {
  entryBundlePath,
  hashesAtLevel,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileKey,
  tileAt,
  tilePath,
} from "./paths.js";

/**
 * Fetches one resource of a tiled log by its path relative to the log prefix (`checkpoint`,
 * `tile/0/000`, …). Resolves to undefined when the resource does not exist (HTTP 404, ENOENT);
 * rejects on any other failure. Implementations must not follow the path outside the log.
 */
export interface TileFetcher {
  /** The bytes at `path`, or undefined when absent. */
  fetch(path: string): Promise<Uint8Array | undefined>;
}

/**
 * A fetcher over HTTP(S): `GET <baseUrl>/<path>`, 404 → undefined. Uses the global `fetch`
 * unless one is passed. Responses larger than `maxBytes` (default 1 MiB) are refused.
 *
 * @example
 * ```ts
 * const fetcher = httpTileFetcher("http://127.0.0.1:8080/heads/");
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a base URL that is not http(s).
 */
export function httpTileFetcher(
  baseUrl: string,
  options: { fetch?: typeof fetch; maxBytes?: number } = {},
): TileFetcher {
  const base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "tile base URL must be http or https");
  }
  const doFetch = options.fetch ?? fetch;
  const maxBytes = options.maxBytes ?? 1 << 20;
  return {
    async fetch(path) {
      const res = await doFetch(new URL(path, base), { redirect: "error" });
      if (res.status === 404) return undefined;
      if (!res.ok) {
        throw new KeywardenError(
          "ERR_AUDIT_TILE_INVALID",
          `tile fetch failed (HTTP ${res.status})`,
        );
      }
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > maxBytes) {
        throw new KeywardenError("ERR_AUDIT_TILE_INVALID", "tile response too large");
      }
      return body;
    },
  };
}

/** Cache key of a tile (cheaper than its path). */
const tileId = (level: number, index: number, width: number): string =>
  `${level}:${index}:${width}`;

/** 2^r for the levels inside a tile. */
const POW2: readonly number[] = Array.from({ length: TILE_HEIGHT }, (_, r) => 2 ** r);

/** A hash tile with its internal subtree levels precomputed (levels[r][j] = node of 2^r hashes). */
type ExpandedTile = Uint8Array[][];

function expandTile(bytes: Uint8Array, width: number): ExpandedTile {
  if (bytes.length !== width * 32) {
    throw new KeywardenError("ERR_AUDIT_TILE_INVALID", "tile has the wrong size");
  }
  const levels: Uint8Array[][] = [[]];
  const base = levels[0] as Uint8Array[];
  for (let i = 0; i < width; i++) base.push(bytes.slice(i * 32, i * 32 + 32));
  for (let r = 1; r < TILE_HEIGHT; r++) {
    const below = levels[r - 1] as Uint8Array[];
    const up: Uint8Array[] = [];
    for (let j = 0; j + 1 < below.length; j += 2) {
      up.push(hashChildren(below[j] as Uint8Array, below[j + 1] as Uint8Array));
    }
    levels.push(up);
  }
  return levels;
}

/**
 * Reads a tiled log through a fetcher, with an LRU cache of decoded tiles. One client serves any
 * tree size; proofs for a size use that size's (partial) tiles.
 *
 * @example
 * ```ts
 * const client = new TileLogClient(httpTileFetcher(url));
 * const proof = await client.inclusionProof(17, cp.size);
 * verifyInclusion(leafHash, 17, cp.size, proof, cp.rootHash);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_TILE_INVALID` from its methods when a needed tile is missing or malformed.
 */
export class TileLogClient {
  readonly #fetcher: TileFetcher;
  readonly #cache = new Map<string, ExpandedTile>();
  readonly #capacity: number;
  #fetches = 0;
  /** Folded right-edge range hashes ([start, size) → hash) of the last tree size proved. */
  #edge: { size: number; hashes: Map<number, Uint8Array> } | undefined;

  /** `cacheTiles` (default 512) is the LRU capacity in tiles (each ≤ ~16 KiB decoded). */
  constructor(fetcher: TileFetcher, options: { cacheTiles?: number } = {}) {
    this.#fetcher = fetcher;
    this.#capacity = Math.max(1, options.cacheTiles ?? 512);
  }

  /** Number of tile fetches this client has made (cache misses), for tests and benchmarks. */
  get fetchCount(): number {
    return this.#fetches;
  }

  /** The raw `checkpoint` note text, or undefined when the log has published none. */
  async checkpointNote(): Promise<string | undefined> {
    const bytes = await this.#fetcher.fetch("checkpoint");
    if (bytes === undefined) return undefined;
    const text = decodeUtf8(bytes);
    if (text === undefined) {
      throw new KeywardenError("ERR_AUDIT_CHECKPOINT_INVALID", "checkpoint is not UTF-8");
    }
    return text;
  }

  async #tile(key: TileKey): Promise<ExpandedTile> {
    const id = tileId(key.level, key.index, key.width);
    const hit = this.#cache.get(id);
    if (hit !== undefined) {
      this.#cache.delete(id);
      this.#cache.set(id, hit);
      return hit;
    }
    const path = tilePath(key);
    this.#fetches++;
    let bytes = await this.#fetcher.fetch(path);
    // A reader may see a full tile that superseded the partial one it asked for: use its prefix.
    if (bytes === undefined && key.width < TILE_WIDTH) {
      const full = await this.#fetcher.fetch(tilePath({ ...key, width: TILE_WIDTH }));
      if (full !== undefined && full.length === TILE_WIDTH * 32)
        bytes = full.subarray(0, key.width * 32);
    }
    if (bytes === undefined) throw new KeywardenError("ERR_AUDIT_TILE_INVALID", "tile is missing");
    const tile = expandTile(bytes, key.width);
    this.#cache.set(id, tile);
    if (this.#cache.size > this.#capacity) {
      const oldest = this.#cache.keys().next().value as string;
      this.#cache.delete(oldest);
    }
    return tile;
  }

  /** A node reader for the tree of `size` leaves (nodes must lie inside complete subtrees of it). */
  nodeReader(size: number): MerkleNodeReader {
    assertIndex(size, "tree size");
    return { readNodes: (keys: readonly NodeKey[]) => this.#readNodes(size, keys) };
  }

  /**
   * Warm path without per-node allocation: each node is located by arithmetic, its tile looked up
   * by a numeric id (touched in the LRU once per call, not once per node), and only the tiles
   * missing from the cache are fetched, in parallel.
   */
  async #readNodes(size: number, keys: readonly NodeKey[]): Promise<Uint8Array[]> {
    const n = keys.length;
    // Tiles this call needs (few: about one per tile level touched), found by a linear scan of
    // numbers; a tile's string id is built once per call, not once per node.
    const levels: number[] = [];
    const indexes: number[] = [];
    const widths: number[] = [];
    const tiles: (ExpandedTile | undefined)[] = [];
    const slot: number[] = new Array(n);
    const rs: number[] = new Array(n);
    const offsets: number[] = new Array(n);
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i] as NodeKey;
      const level = Math.floor(k.level / TILE_HEIGHT);
      const r = k.level % TILE_HEIGHT;
      const span = POW2[r] as number;
      const first = k.index * span; // index of the node's first hash at tile level `level`
      const tileIndex = Math.floor(first / TILE_WIDTH);
      const width = Math.min(TILE_WIDTH, hashesAtLevel(size, level) - tileIndex * TILE_WIDTH);
      const offset = (first % TILE_WIDTH) / span;
      if (!(width > 0) || (offset + 1) * span > width) {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "node is outside the tree");
      }
      rs[i] = r;
      offsets[i] = offset;
      let s = 0;
      while (s < tiles.length && (levels[s] !== level || indexes[s] !== tileIndex)) s++;
      slot[i] = s;
      if (s < tiles.length) continue;
      levels.push(level);
      indexes.push(tileIndex);
      widths.push(width);
      const id = tileId(level, tileIndex, width);
      const hit = this.#cache.get(id);
      if (hit !== undefined) {
        this.#cache.delete(id);
        this.#cache.set(id, hit);
      } else missing++;
      tiles.push(hit);
    }
    if (missing > 0) {
      // Fetch the distinct missing tiles in parallel.
      await Promise.all(
        tiles.map(async (t, s) => {
          if (t !== undefined) return;
          tiles[s] = await this.#tile({
            level: levels[s] as number,
            index: indexes[s] as number,
            width: widths[s] as number,
          });
        }),
      );
    }
    const out: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const node = tiles[slot[i] as number]?.[rs[i] as number]?.[offsets[i] as number];
      if (node === undefined)
        throw new KeywardenError("ERR_AUDIT_TILE_INVALID", "tile is missing a node");
      out[i] = node;
    }
    return out;
  }

  /**
   * Inclusion proof of leaf `index` in the tree of `size` leaves, from tiles.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `index >= size`; `ERR_AUDIT_TILE_INVALID` on a missing or malformed tile.
   */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    assertIndex(index, "leaf index");
    assertIndex(size, "tree size");
    if (index >= size)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "leaf index is outside the tree");
    // A range of the path that is not a perfect subtree ends at `size` ([a, size), the tree's
    // right edge): at most log2(size) of them per tree size, shared by every proof at that size,
    // so their folded hashes are kept for the last size asked (the same tiles would fold to the
    // same hash again). Every other range is one node.
    let edge = this.#edge;
    if (edge === undefined || edge.size !== size) {
      edge = { size, hashes: new Map() };
      this.#edge = edge;
    }
    const ranges = inclusionRanges(index, size);
    const out: (Uint8Array | undefined)[] = new Array(ranges.length);
    const pending: [number, number][] = [];
    const at: number[] = [];
    for (let i = 0; i < ranges.length; i++) {
      const range = ranges[i] as [number, number];
      const known = range[1] === size ? edge.hashes.get(range[0]) : undefined;
      if (known !== undefined) out[i] = known;
      else {
        pending.push(range);
        at.push(i);
      }
    }
    if (pending.length > 0) {
      const hashes = await hashRanges(this.nodeReader(size), pending);
      for (let j = 0; j < pending.length; j++) {
        const h = hashes[j] as Uint8Array;
        const range = pending[j] as [number, number];
        out[at[j] as number] = h;
        if (range[1] === size) edge.hashes.set(range[0], h);
      }
    }
    return out as Uint8Array[];
  }

  /**
   * Consistency proof from the tree of `size1` leaves to the tree of `size2` leaves, from the
   * tiles of `size2`.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `size1 > size2`; `ERR_AUDIT_TILE_INVALID` on a missing or malformed tile.
   */
  consistencyProof(size1: number, size2: number): Promise<Uint8Array[]> {
    return consistencyProof(this.nodeReader(size2), size1, size2);
  }

  /** The leaf hash of entry `index` in the tree of `size` leaves. */
  async leafHash(index: number, size: number): Promise<Uint8Array> {
    const [h] = await this.nodeReader(size).readNodes([{ level: 0, index }]);
    return h as Uint8Array;
  }

  /**
   * Entry `index` (its bytes from the entry bundle) in the tree of `size` leaves. The caller
   * checks `SHA-256(0x00 || entry)` against a proven leaf hash before trusting it.
   *
   * @throws {KeywardenError} `ERR_AUDIT_TILE_INVALID` on a missing or malformed bundle.
   */
  async entry(index: number, size: number): Promise<Uint8Array> {
    assertIndex(index, "entry index");
    if (index >= size)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "entry is outside the tree");
    const bundle = Math.floor(index / TILE_WIDTH);
    const width = (tileAt(size, 0, bundle) as TileKey).width;
    const bytes = await this.#fetcher.fetch(entryBundlePath(bundle, width));
    if (bytes === undefined && width < TILE_WIDTH) {
      const full = await this.#fetcher.fetch(entryBundlePath(bundle, TILE_WIDTH));
      if (full !== undefined)
        return decodeEntryBundle(full, TILE_WIDTH)[index % TILE_WIDTH] as Uint8Array;
    }
    if (bytes === undefined)
      throw new KeywardenError("ERR_AUDIT_TILE_INVALID", "entry bundle is missing");
    return decodeEntryBundle(bytes, width)[index % TILE_WIDTH] as Uint8Array;
  }
}

/**
 * RFC 9162 leaf hash of an entry: `SHA-256(0x00 || entry)`.
 *
 * @example
 * ```ts
 * tileLeafHash(utf8("hello"));
 * ```
 * @throws never.
 */
export function tileLeafHash(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf.set(entry, 1);
  return sha256(buf);
}
