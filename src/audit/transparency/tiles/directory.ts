/**
 * Publishing a C2SP tlog-tiles log to a directory (served by any static web server or CDN), and a
 * {@link TileFetcher} that reads one back.
 *
 * Every resource is written to a temporary file in the same directory, fsynced, then moved into
 * place (tiles and bundles of one batch are fsynced together, in `sync`, before any is linked): tiles and entry bundles with `link()` (which refuses to replace an existing file, so a
 * full tile — or any partial tile, whose path names its width — is never rewritten; an existing
 * file with different bytes is an invariant failure), the checkpoint with `rename()` (atomic
 * replace). Tiles and bundles are written before the checkpoint that covers them, so a reader
 * never sees a checkpoint whose tiles are missing. Superseded partial tiles stay in place (readers
 * holding an older checkpoint still need them).
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, link, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { KeywardenError } from "../../../errors.js";
import { bytesEqual } from "../../primitives/index.js";
import type { TileFetcher } from "./reader.js";
import type { TileStorage } from "./storage.js";
import { loadTileEdge, TileLogWriter } from "./writer.js";

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

/** A tile or bundle written to its temporary file, not yet fsynced nor linked into place. */
interface PendingFile {
  readonly path: string;
  readonly tmp: string;
  readonly data: Uint8Array;
  readonly handle: FileHandle;
  /** The storage's generation when it was written (a failed flush starts a new one). */
  readonly generation: number;
}

/** Pending files held open at most; more are flushed first (bounds the open descriptors). */
const MAX_PENDING = 128;

/**
 * Makes pending files durable and puts them in place: every one fsynced (concurrently, so the file
 * system commits them together), then linked to its path; an existing file must hold the same bytes.
 */
async function flushPending(files: readonly PendingFile[]): Promise<void> {
  try {
    await Promise.all(files.map((f) => f.handle.sync()));
  } finally {
    await Promise.allSettled(files.map((f) => f.handle.close()));
  }
  try {
    for (const f of files) {
      try {
        await link(f.tmp, f.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const existing = new Uint8Array(await readFile(f.path));
        /* Precondition: a published tile is never rewritten with different bytes. */
        if (!bytesEqual(existing, f.data)) {
          throw new KeywardenError(
            "ERR_AUDIT_STORE_INVARIANT",
            "published tile differs from the log",
          );
        }
      }
    }
  } finally {
    await Promise.allSettled(files.map((f) => unlink(f.tmp)));
  }
}

/**
 * A {@link TileStorage} over a local directory: tiles and bundles written to temporary files,
 * then on `sync` fsynced together and linked into place (never replacing a file), and their folders
 * fsynced; the checkpoint written durably and renamed into place.
 *
 * @example
 * ```ts
 * const writer = await TileLogWriter.openStorage(directoryTileStorage("/srv/heads"));
 * ```
 * @throws never at construction; its methods reject on I/O errors.
 */
export function directoryTileStorage(dir: string): TileStorage {
  const root = resolve(dir);
  const dirs = new Set<string>();
  const made = new Set<string>();
  let pending: PendingFile[] = [];
  // Files of a batch whose flush failed are never linked later: they are dropped at the next flush.
  let generation = 0;
  const flush = async () => {
    const files = pending.filter((f) => f.generation === generation);
    const stale = pending.filter((f) => f.generation !== generation);
    pending = [];
    await Promise.allSettled(stale.map((f) => f.handle.close().then(() => unlink(f.tmp))));
    try {
      await flushPending(files);
    } catch (err) {
      generation++;
      throw err;
    }
  };
  return {
    fetcher: directoryTileFetcher(root),
    async putImmutable(path, data) {
      const full = join(root, path);
      const folder = dirname(full);
      const at = generation;
      if (!made.has(folder)) {
        await mkdir(folder, { recursive: true });
        made.add(folder);
      }
      dirs.add(folder);
      const tmp = join(folder, `.tmp-${randomBytes(8).toString("hex")}`);
      const handle = await open(tmp, "wx", 0o644);
      try {
        await handle.writeFile(data);
      } catch (err) {
        await handle.close();
        await unlink(tmp);
        throw err;
      }
      pending.push({ path: full, tmp, data, handle, generation: at });
      if (pending.length >= MAX_PENDING) await flush();
    },
    async sync() {
      await flush();
      const folders = [...dirs];
      dirs.clear();
      await Promise.all(folders.map((d) => syncDirectory(d)));
    },
    async putCheckpoint(note) {
      const path = join(root, "checkpoint");
      const tmp = await writeDurable(path, note);
      await rename(tmp, path);
      await syncDirectory(root);
    },
  };
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
export class TileDirectoryWriter extends TileLogWriter {
  /**
   * Opens (or starts) the log in `dir`. The size is the one of the published `checkpoint`
   * (0 when none); the right edge is read back from its partial tiles and checked against it.
   *
   * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the tiles do not hash to the checkpoint root; `ERR_AUDIT_TILE_INVALID` when one is missing.
   */
  static async open(dir: string): Promise<TileDirectoryWriter> {
    await mkdir(resolve(dir), { recursive: true });
    const storage = directoryTileStorage(dir);
    return new TileDirectoryWriter(storage, await loadTileEdge(storage));
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
