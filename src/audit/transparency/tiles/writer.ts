/**
 * Appending to a C2SP tlog-tiles log on any {@link TileStorage} (a directory, an S3-compatible
 * bucket, …) and publishing its checkpoints: every tile and entry bundle a batch completes or
 * extends is written, all of them durable before the checkpoint that names them.
 *
 * Immutability is what a C2SP log operator promises: a resource is immutable once a published
 * checkpoint covers it. Everything an append writes lies beyond the published tree (readers do
 * not look there), so a resource already at such a path — the orphan of an append whose
 * checkpoint was never published, e.g. by a process that crashed in between — is replaced. A
 * covered resource is never replaced. Before each append and each publication the writer reads
 * the stored `checkpoint` back and requires it to be the tree it knows (one writer per log; a
 * second writer that published meanwhile is an invariant failure, never overwritten).
 *
 * The writer keeps only the right edge in memory: one partial tile per level (builder.ts), from which
 * the root is computed, and the partial entry bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { assertIndex, bytesEqual } from "../../primitives/index.js";
import { parseCheckpoint } from "../checkpoint.js";
import { parseNote } from "../note.js";
import { type FullTile, TileTreeBuilder } from "./builder.js";
import { encodeEntryBundle, MAX_BUNDLE_ENTRY } from "./bundle.js";
import {
  entryBundlePath,
  hashesAtLevel,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileKey,
  tileCoveredBy,
  tilePath,
} from "./paths.js";
import { TileLogClient } from "./reader.js";
import type { TileStorage } from "./storage.js";

/** Tile and bundle writes in flight at once (libuv's pool or the HTTP agent queues the rest). */
const WRITE_CONCURRENCY = 32;

/** One resource of an append: its path, address (for the coverage check) and bytes. */
interface PendingWrite {
  readonly path: string;
  readonly key: TileKey;
  readonly data: Uint8Array;
}

/** Result of {@link TileDirectoryWriter.append}: the new tree, ready to be signed. */
export interface TileAppendResult {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** The right edge of a published tree, read back by {@link loadTileEdge}. */
export interface TileEdge {
  /** The tree, built from its partial tiles. */
  readonly tree: TileTreeBuilder;
  /** The entries of the partial entry bundle. */
  readonly bundle: Uint8Array[];
}

/**
 * Reads the right edge of the tree named by the storage's `checkpoint` (empty when none) — its
 * partial tiles and partial entry bundle — and checks it against the checkpoint root.
 *
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the tiles do not hash to the checkpoint root; `ERR_AUDIT_TILE_INVALID` when one is missing.
 */
export async function loadTileEdge(storage: TileStorage): Promise<TileEdge> {
  const client = new TileLogClient(storage.fetcher);
  const note = await client.checkpointNote();
  if (note === undefined) return { tree: new TileTreeBuilder(), bundle: [] };
  const cp = parseCheckpoint(parseNote(note).text);
  const reader = client.nodeReader(cp.size);
  const partial: Uint8Array[] = [];
  for (let level = 0; hashesAtLevel(cp.size, level) > 0; level++) {
    const count = hashesAtLevel(cp.size, level);
    const width = count % TILE_WIDTH;
    const keys = Array.from({ length: width }, (_, i) => ({
      level: level * TILE_HEIGHT,
      index: count - width + i,
    }));
    partial.push(concatHashes(width > 0 ? await reader.readNodes(keys) : []));
  }
  const tree = TileTreeBuilder.fromEdge(cp.size, partial);
  if (!bytesEqual(tree.root(), cp.rootHash)) {
    throw new KeywardenError(
      "ERR_AUDIT_STORE_INVARIANT",
      "tiles do not match the published checkpoint",
    );
  }
  const bundle: Uint8Array[] = [];
  const bundleWidth = cp.size % TILE_WIDTH;
  if (bundleWidth > 0) {
    const last = cp.size - bundleWidth;
    for (let i = 0; i < bundleWidth; i++) bundle.push(await client.entry(last + i, cp.size));
  }
  return { tree, bundle };
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
  #tree: TileTreeBuilder;
  #bundle: Uint8Array[];
  #published: number;
  #publishedRoot: Uint8Array;

  protected constructor(storage: TileStorage, edge: TileEdge) {
    this.#storage = storage;
    this.#tree = edge.tree;
    this.#bundle = edge.bundle;
    this.#published = edge.tree.size;
    this.#publishedRoot = edge.tree.root();
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
    return this.#tree.size;
  }

  /** Root of the tree of all appended entries. */
  root(): Uint8Array {
    return this.#tree.root();
  }

  /**
   * Appends entries (each ≤ 65535 bytes; its leaf hash is `SHA-256(0x00 || entry)`), writing
   * every tile and entry bundle they complete or extend. Nothing is visible to readers until
   * {@link TileDirectoryWriter.publishCheckpoint}. Resources left beyond the published tree by an
   * append whose checkpoint was never published are replaced.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an oversized entry; `ERR_AUDIT_STORE_INVARIANT` when the stored checkpoint is not the one this writer knows (another writer published).
   */
  async append(
    entries: readonly Uint8Array[],
    leafHashes?: readonly Uint8Array[],
  ): Promise<TileAppendResult> {
    if (leafHashes !== undefined && leafHashes.length !== entries.length) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "one leaf hash per entry");
    }
    for (const e of entries) {
      if (!(e instanceof Uint8Array) || e.length > MAX_BUNDLE_ENTRY) {
        throw new KeywardenError(
          "ERR_INVALID_ARGUMENT",
          "entry bundle entry must be ≤ 65535 bytes",
        );
      }
    }
    await this.#checkPublished();
    const tree = this.#tree.clone();
    const before = Array.from({ length: tree.levels }, (_, L) => tree.countAt(L));
    let bundle = this.#bundle.slice();
    const writes: PendingWrite[] = [];
    const onFull = (t: FullTile) => {
      const key = { level: t.level, index: t.index, width: TILE_WIDTH };
      writes.push({ path: tilePath(key), key, data: t.bytes });
    };
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Uint8Array;
      const leaf = leafHashes?.[i];
      if (leaf === undefined) tree.appendEntry(entry, onFull);
      else tree.appendLeafHash(leaf, onFull);
      bundle.push(entry);
      if (bundle.length === TILE_WIDTH) {
        const key = { level: 0, index: tree.size / TILE_WIDTH - 1, width: TILE_WIDTH };
        writes.push({
          path: entryBundlePath(key.index, key.width),
          key,
          data: encodeEntryBundle(bundle),
        });
        bundle = [];
      }
    }
    const size = tree.size;
    for (let level = 0; level < tree.levels; level++) {
      const count = tree.countAt(level);
      const width = count % TILE_WIDTH;
      if (count === (before[level] ?? 0) || width === 0) continue;
      const key = { level, index: Math.floor(count / TILE_WIDTH), width };
      writes.push({ path: tilePath(key), key, data: tree.partialTile(level) });
    }
    if (bundle.length > 0 && entries.length > 0) {
      const key = { level: 0, index: Math.floor(size / TILE_WIDTH), width: bundle.length };
      writes.push({
        path: entryBundlePath(key.index, key.width),
        key,
        data: encodeEntryBundle(bundle),
      });
    }
    // Independent resources: WRITE_CONCURRENCY in flight, each worker taking the next as soon as
    // its last is done; `sync` then makes all of them durable before any checkpoint names them.
    const published = this.#published;
    let next = 0;
    const worker = async () => {
      while (next < writes.length) {
        const w = writes[next++] as PendingWrite;
        /* Precondition: a tile covered by the published checkpoint is never replaced; only one beyond it may be. */
        const uncovered = !tileCoveredBy(w.key, published);
        await this.#storage.putImmutable(w.path, w.data, { uncovered });
      }
    };
    const workers = Math.min(WRITE_CONCURRENCY, writes.length);
    const results = await Promise.allSettled(Array.from({ length: workers }, worker));
    for (const r of results) if (r.status === "rejected") throw r.reason;
    await this.#storage.sync?.();
    this.#tree = tree;
    this.#bundle = bundle;
    return { size, rootHash: tree.root() };
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
    await this.#checkPublished();
    await this.#storage.putCheckpoint(new TextEncoder().encode(note));
    this.#published = assertIndex(cp.size, "checkpoint size");
    this.#publishedRoot = cp.rootHash;
  }

  /**
   * Reads the stored `checkpoint` back: it must be the tree this writer loaded or last published
   * (or the one it appended, when its publication failed after the write).
   */
  async #checkPublished(): Promise<void> {
    const bytes = await this.#storage.fetcher.fetch("checkpoint");
    let size = 0;
    let root: Uint8Array | undefined;
    if (bytes !== undefined) {
      const cp = parseCheckpoint(parseNote(new TextDecoder().decode(bytes)).text);
      size = cp.size;
      root = cp.rootHash;
    }
    const isTree = (n: number, r: Uint8Array) =>
      size === n && (root === undefined ? n === 0 : bytesEqual(root, r));
    if (isTree(this.#published, this.#publishedRoot)) return;
    if (root !== undefined && isTree(this.size, this.root())) {
      this.#published = size;
      this.#publishedRoot = root;
      return;
    }
    /* Precondition: a writer appends and publishes only on the checkpoint it knows; one published by another writer is never overwritten. */
    throw new KeywardenError(
      "ERR_AUDIT_STORE_INVARIANT",
      "the published checkpoint is not the one this writer holds",
    );
  }
}

function concatHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i] as Uint8Array, i * 32);
  return out;
}
