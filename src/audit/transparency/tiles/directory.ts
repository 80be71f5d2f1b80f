/**
 * Publishing a C2SP tlog-tiles log to a directory (served by any static web server or CDN), and a
 * {@link TileFetcher} that reads one back.
 *
 * Every resource is written to a temporary file in the same directory, fsynced, then moved into
 * place: tiles and entry bundles with `link()` (which refuses to replace an existing file, so a
 * full tile — or any partial tile, whose path names its width — is never rewritten; an existing
 * file with different bytes is an invariant failure), the checkpoint with `rename()` (atomic
 * replace). Tiles and bundles are written before the checkpoint that covers them, so a reader
 * never sees a checkpoint whose tiles are missing. Superseded partial tiles stay in place (readers
 * holding an older checkpoint still need them).
 *
 * The writer keeps only the right edge in memory: one partial tile per level and the frontier.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { KeywardenError } from "../../../errors.js";
import { assertIndex, bytesEqual } from "../../primitives/index.js";
import { parseCheckpoint } from "../checkpoint.js";
import { MerkleFrontier } from "../merkle.js";
import { parseNote } from "../note.js";
import { encodeEntryBundle } from "./bundle.js";
import { entryBundlePath, hashesAtLevel, TILE_HEIGHT, TILE_WIDTH, tilePath } from "./paths.js";
import { type TileFetcher, TileLogClient, tileLeafHash } from "./reader.js";

/**
 * A fetcher over a local directory (the layout {@link TileDirectoryWriter} writes).
 *
 * @example
 * ```ts
 * const client = new TileLogClient(directoryTileFetcher("/srv/heads"));
 * ```
 * @throws never at construction; `fetch` rejects a path that escapes the directory.
 */
export function directoryTileFetcher(dir: string): TileFetcher {
  const root = resolve(dir);
  return {
    async fetch(path) {
      const full = resolve(root, path);
      if (!full.startsWith(root + sep)) {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "tile path escapes the log directory");
      }
      try {
        return new Uint8Array(await readFile(full));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
  };
}

async function writeDurable(path: string, data: Uint8Array): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp-${randomBytes(8).toString("hex")}`);
  const fh = await open(tmp, "wx", 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** Writes `data` at `path` unless it exists; an existing file must hold the same bytes. */
async function writeImmutable(path: string, data: Uint8Array): Promise<void> {
  const tmp = await writeDurable(path, data);
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const existing = new Uint8Array(await readFile(path));
    /* Precondition: a published tile is never rewritten with different bytes. */
    if (!bytesEqual(existing, data)) {
      throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "published tile differs from the log");
    }
  } finally {
    await unlink(tmp);
  }
}

const WRITE_CONCURRENCY = 32;

/** Result of {@link TileDirectoryWriter.append}: the new tree, ready to be signed. */
export interface TileAppendResult {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/**
 * Appends entries to a tiled log in a directory and publishes its checkpoints.
 *
 * @example
 * ```ts
 * const log = await TileDirectoryWriter.open("/srv/heads");
 * const { size, rootHash } = await log.append(entries);
 * await log.publishCheckpoint(await signNote(formatCheckpoint({ origin, size, rootHash, ... }), [signer]));
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the directory disagrees with itself.
 */
export class TileDirectoryWriter {
  readonly #dir: string;
  #frontier: MerkleFrontier;
  /** partial[L] = hashes of the current (incomplete) tile at level L. */
  readonly #partial: Uint8Array[][];
  #bundle: Uint8Array[];
  #published: number;

  private constructor(
    dir: string,
    frontier: MerkleFrontier,
    partial: Uint8Array[][],
    bundle: Uint8Array[],
  ) {
    this.#dir = dir;
    this.#frontier = frontier;
    this.#partial = partial;
    this.#bundle = bundle;
    this.#published = frontier.size;
  }

  /**
   * Opens (or starts) the log in `dir`. The size is the one of the published `checkpoint`
   * (0 when none); the right edge is read back from its partial tiles and checked against it.
   *
   * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the tiles do not hash to the checkpoint root; `ERR_AUDIT_TILE_INVALID` when one is missing.
   */
  static async open(dir: string): Promise<TileDirectoryWriter> {
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    const fetcher = directoryTileFetcher(root);
    const client = new TileLogClient(fetcher);
    const note = await client.checkpointNote();
    if (note === undefined) return new TileDirectoryWriter(root, new MerkleFrontier(), [], []);
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
    return new TileDirectoryWriter(root, frontier, partial, bundle);
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
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an oversized entry; `ERR_AUDIT_STORE_INVARIANT` when a tile on disk differs.
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
    // Independent files: written (and fsynced) WRITE_CONCURRENCY at a time so the file system can
    // batch its journal commits; directories are fsynced after, before any checkpoint names them.
    const dirs = new Set<string>();
    for (let i = 0; i < writes.length; i += WRITE_CONCURRENCY) {
      await Promise.all(
        writes.slice(i, i + WRITE_CONCURRENCY).map(([path, data]) => {
          const full = join(this.#dir, path);
          dirs.add(dirname(full));
          return writeImmutable(full, data);
        }),
      );
    }
    await Promise.all([...dirs].map((d) => syncDirectory(d)));
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
    const path = join(this.#dir, "checkpoint");
    const tmp = await writeDurable(path, new TextEncoder().encode(note));
    await rename(tmp, path);
    await syncDirectory(this.#dir);
    this.#published = assertIndex(cp.size, "checkpoint size");
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function concatHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i] as Uint8Array, i * 32);
  return out;
}
