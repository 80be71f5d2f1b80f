/**
 * Appending to a C2SP tlog-tiles log on any {@link TileStorage} (a directory, an S3-compatible
 * bucket, …) and publishing its checkpoints: every tile and entry bundle a batch completes or
 * extends is written immutably, all of them durable before the checkpoint that names them.
 *
 * The writer keeps only the right edge in memory: one partial tile per level and the frontier.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { assertIndex, bytesEqual } from "../../primitives/index.js";
import { parseCheckpoint } from "../checkpoint.js";
import { MerkleFrontier } from "../merkle.js";
import { parseNote } from "../note.js";
import { encodeEntryBundle } from "./bundle.js";
import { entryBundlePath, hashesAtLevel, TILE_HEIGHT, TILE_WIDTH, tilePath } from "./paths.js";
import { TileLogClient, tileLeafHash } from "./reader.js";
import type { TileStorage } from "./storage.js";

const WRITE_CONCURRENCY = 32;

/** Result of {@link TileDirectoryWriter.append}: the new tree, ready to be signed. */
export interface TileAppendResult {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** The right edge of a published tree, read back by {@link loadTileEdge}. */
export interface TileEdge {
  readonly frontier: MerkleFrontier;
  readonly partial: Uint8Array[][];
  readonly bundle: Uint8Array[];
}

/**
 * Reads the right edge of the tree named by the storage's `checkpoint` (empty when none) and
 * checks it against the checkpoint root.
 *
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the tiles do not hash to the checkpoint root; `ERR_AUDIT_TILE_INVALID` when one is missing.
 */
export async function loadTileEdge(storage: TileStorage): Promise<TileEdge> {
  const client = new TileLogClient(storage.fetcher);
  const note = await client.checkpointNote();
  if (note === undefined) return { frontier: new MerkleFrontier(), partial: [], bundle: [] };
  const cp = parseCheckpoint(parseNote(note).text);
  const frontier = await MerkleFrontier.load(client.nodeReader(cp.size), cp.size);
  if (!bytesEqual(frontier.root(), cp.rootHash)) {
    throw new KeywardenError(
      "ERR_AUDIT_STORE_INVARIANT",
      "tiles do not match the published checkpoint",
    );
  }
  const partial: Uint8Array[][] = [];
  for (let level = 0; hashesAtLevel(cp.size, level) > 0; level++) {
    const count = hashesAtLevel(cp.size, level);
    const width = count % TILE_WIDTH;
    const hashes: Uint8Array[] = [];
    if (width > 0) {
      const reader = client.nodeReader(cp.size);
      const start = count - width;
      const keys = Array.from({ length: width }, (_, i) => ({
        level: level * TILE_HEIGHT,
        index: start + i,
      }));
      hashes.push(...(await reader.readNodes(keys)));
    }
    partial.push(hashes);
  }
  const bundle: Uint8Array[] = [];
  const bundleWidth = cp.size % TILE_WIDTH;
  if (bundleWidth > 0) {
    const last = cp.size - bundleWidth;
    for (let i = 0; i < bundleWidth; i++) bundle.push(await client.entry(last + i, cp.size));
  }
  return { frontier, partial, bundle };
}

/**
 * Appends entries to a tiled log on a {@link TileStorage} and publishes its checkpoints.
 *
 * @example
 * ```ts
 * const log = await TileLogWriter.openStorage(await s3TileStorage({ client, bucket }));
 * const { size, rootHash } = await log.append(entries);
 * await log.publishCheckpoint(await signNote(formatCheckpoint({ origin, size, rootHash, ... }), [signer]));
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the storage disagrees with itself.
 */
export class TileLogWriter {
  readonly #storage: TileStorage;
  #frontier: MerkleFrontier;
  /** partial[L] = hashes of the current (incomplete) tile at level L. */
  readonly #partial: Uint8Array[][];
  #bundle: Uint8Array[];
  #published: number;

  protected constructor(storage: TileStorage, edge: TileEdge) {
    this.#storage = storage;
    this.#frontier = edge.frontier;
    this.#partial = edge.partial;
    this.#bundle = edge.bundle;
    this.#published = edge.frontier.size;
  }

  /**
   * Opens (or starts) the log on `storage`. The size is the one of the published `checkpoint`
   * (0 when none); the right edge is read back from its partial tiles and checked against it.
   *
   * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the tiles do not hash to the checkpoint root; `ERR_AUDIT_TILE_INVALID` when one is missing.
   */
  static async openStorage(storage: TileStorage): Promise<TileLogWriter> {
    return new TileLogWriter(storage, await loadTileEdge(storage));
  }

  /** Number of entries appended (published or not). */
  get size(): number {
    return this.#frontier.size;
  }

  /** Root of the tree of all appended entries. */
  root(): Uint8Array {
    return this.#frontier.root();
  }

  /**
   * Appends entries (each ≤ 65535 bytes; its leaf hash is `SHA-256(0x00 || entry)`), writing
   * every tile and entry bundle they complete or extend. Nothing is visible to readers until
   * {@link TileDirectoryWriter.publishCheckpoint}.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an oversized entry; `ERR_AUDIT_STORE_INVARIANT` when a stored tile differs.
   */
  async append(
    entries: readonly Uint8Array[],
    leafHashes?: readonly Uint8Array[],
  ): Promise<TileAppendResult> {
    if (leafHashes !== undefined && leafHashes.length !== entries.length) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "one leaf hash per entry");
    }
    const frontier = this.#frontier.clone();
    const partial = this.#partial.map((p) => p.slice());
    let bundle = this.#bundle.slice();
    const writes: [string, Uint8Array][] = [];
    const touched = new Set<number>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Uint8Array;
      const leaf = leafHashes?.[i] ?? tileLeafHash(entry);
      const at = frontier.size;
      bundle.push(entry);
      if (bundle.length === TILE_WIDTH) {
        writes.push([
          entryBundlePath(Math.floor(at / TILE_WIDTH), TILE_WIDTH),
          encodeEntryBundle(bundle),
        ]);
        bundle = [];
      }
      for (const node of frontier.append(leaf)) {
        if (node.level % TILE_HEIGHT !== 0) continue;
        const level = node.level / TILE_HEIGHT;
        let hashes = partial[level];
        if (hashes === undefined) {
          hashes = [];
          partial[level] = hashes;
        }
        hashes.push(node.hash);
        touched.add(level);
        if (hashes.length === TILE_WIDTH) {
          writes.push([
            tilePath({ level, index: Math.floor(node.index / TILE_WIDTH), width: TILE_WIDTH }),
            concatHashes(hashes),
          ]);
          partial[level] = [];
        }
      }
    }
    const size = frontier.size;
    for (const level of touched) {
      const hashes = partial[level] as Uint8Array[];
      if (hashes.length === 0) continue;
      const index = Math.floor(hashesAtLevel(size, level) / TILE_WIDTH);
      writes.push([tilePath({ level, index, width: hashes.length }), concatHashes(hashes)]);
    }
    if (bundle.length > 0 && entries.length > 0) {
      writes.push([
        entryBundlePath(Math.floor(size / TILE_WIDTH), bundle.length),
        encodeEntryBundle(bundle),
      ]);
    }
    // Independent resources: written WRITE_CONCURRENCY at a time (a file system batches its
    // journal commits); all made durable before any checkpoint names them.
    for (let i = 0; i < writes.length; i += WRITE_CONCURRENCY) {
      await Promise.all(
        writes
          .slice(i, i + WRITE_CONCURRENCY)
          .map(([path, data]) => this.#storage.putImmutable(path, data)),
      );
    }
    await this.#storage.sync?.();
    this.#frontier = frontier;
    this.#partial.length = 0;
    this.#partial.push(...partial);
    this.#bundle = bundle;
    return { size, rootHash: frontier.root() };
  }

  /**
   * Publishes a signed checkpoint note for the appended tree (atomic replace of `checkpoint`).
   * The note's size and root must match the tree; its signature is the caller's business.
   *
   * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` when the note does not describe this tree or would shrink the published one.
   */
  async publishCheckpoint(note: string): Promise<void> {
    const cp = parseCheckpoint(parseNote(note).text);
    /* Precondition: a published checkpoint describes exactly the tree whose tiles are on disk, never a smaller one. */
    if (
      cp.size !== this.size ||
      !bytesEqual(cp.rootHash, this.root()) ||
      cp.size < this.#published
    ) {
      throw new KeywardenError(
        "ERR_AUDIT_CHECKPOINT_INVALID",
        "checkpoint does not match the tiled tree",
      );
    }
    await this.#storage.putCheckpoint(new TextEncoder().encode(note));
    this.#published = assertIndex(cp.size, "checkpoint size");
  }
}

function concatHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i] as Uint8Array, i * 32);
  return out;
}
