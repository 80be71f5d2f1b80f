/**
 * Publishing a C2SP tlog-tiles log to a directory (served by any static web server or CDN), and a
 * {@link TileFetcher} that reads one back.
 *
 * A tile or entry bundle is created at its final path with `O_CREAT | O_EXCL` (so an existing file
 * is never truncated or overwritten by accident), written, fsynced and closed; the folders that
 * gained an entry are fsynced once per batch, in `sync`, before any checkpoint names the files.
 * An existing file with the same bytes is fsynced and kept. An existing file with different bytes
 * is replaced (temporary file, fsync, `rename()`) only when the writer says its path lies beyond
 * the published checkpoint — an orphan of a batch whose checkpoint was never published, e.g.
 * torn by a crash; a covered file is `ERR_AUDIT_STORE_INVARIANT` and stays as it is. The
 * checkpoint is written to a temporary file, fsynced and renamed into place (atomic replace),
 * then the directory is fsynced. Superseded partial tiles stay in place (readers holding an older
 * checkpoint still need them).
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import {
  constants,
  close as fsClose,
  fsync as fsFsync,
  open as fsOpen,
  write as fsWrite,
} from "node:fs";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
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

/** A new file only: never opens (nor truncates) an existing one. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;

/**
 * Writes `data` to a new file at `path`, fsynced and closed (rejects with EEXIST when present).
 * One promise per file over node:fs's callback calls — open, write (until all is written), fsync,
 * close, each a libuv pool request — without a FileHandle object per file.
 */
function writeNewFile(path: string, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    fsOpen(path, CREATE_NEW, 0o644, (openErr, fd) => {
      if (openErr) return reject(openErr);
      const finish = (err: NodeJS.ErrnoException | null) =>
        fsClose(fd, (closeErr) => {
          const failed = err ?? closeErr;
          if (failed) reject(failed);
          else resolve();
        });
      const writeFrom = (at: number): void => {
        if (at >= data.length) {
          fsFsync(fd, finish);
          return;
        }
        fsWrite(fd, data, at, data.length - at, at, (err, written) => {
          if (err) finish(err);
          else if (written === 0) finish(Object.assign(new Error("short write"), { code: "EIO" }));
          else writeFrom(at + written);
        });
      };
      writeFrom(0);
    });
  });
}

/** Writes a durable temporary file in `path`'s folder; returns its path. */
async function writeTemporary(path: string, data: Uint8Array): Promise<string> {
  const tmp = join(dirname(path), `.tmp-${randomBytes(8).toString("hex")}`);
  try {
    await writeNewFile(tmp, data);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return tmp;
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A file is already at `path`: the same bytes are kept (and fsynced: a crashed writer may have
 * left them unsynced); different bytes replace it only when `uncovered`.
 */
async function settleExisting(path: string, data: Uint8Array, uncovered: boolean): Promise<void> {
  const existing = new Uint8Array(await readFile(path));
  if (bytesEqual(existing, data)) return syncFile(path);
  /* Precondition: a tile covered by the published checkpoint is never replaced; different bytes are an invariant failure. */
  if (!uncovered) {
    throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "published tile differs from the log");
  }
  const tmp = await writeTemporary(path, data);
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * A {@link TileStorage} over a local directory: each tile and bundle created at its path, written
 * and fsynced (32 at a time, by the writer); on `sync` every folder that gained an entry fsynced;
 * the checkpoint written durably and renamed into place. See the file header.
 *
 * @example
 * ```ts
 * const writer = await TileLogWriter.openStorage(directoryTileStorage("/srv/heads"));
 * ```
 * @throws never at construction; its methods reject on I/O errors, and `putImmutable` with
 * `ERR_AUDIT_STORE_INVARIANT` when a covered file differs.
 */
export function directoryTileStorage(dir: string): TileStorage {
  const root = resolve(dir);
  /** Folders known to exist. */
  const made = new Set<string>();
  /** Folders that gained an entry since the last `sync`. */
  const dirty = new Set<string>();
  const ensureFolder = async (folder: string) => {
    if (made.has(folder)) return;
    const first = await mkdir(folder, { recursive: true });
    // Each folder mkdir created is a new entry of its parent: the parents are fsynced too.
    if (first !== undefined) {
      for (let d = folder; d.length >= first.length; d = dirname(d)) {
        dirty.add(dirname(d));
        made.add(d);
      }
    }
    made.add(folder);
  };
  return {
    fetcher: directoryTileFetcher(root),
    async putImmutable(path, data, options) {
      const full = resolve(root, path);
      if (!full.startsWith(root + sep)) {
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "tile path escapes the log directory");
      }
      const folder = dirname(full);
      await ensureFolder(folder);
      dirty.add(folder);
      try {
        await writeNewFile(full, data);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        await settleExisting(full, data, options?.uncovered === true);
      }
    },
    async sync() {
      const folders = [...dirty];
      dirty.clear();
      try {
        await Promise.all(folders.map((d) => syncFile(d)));
      } catch (err) {
        for (const d of folders) dirty.add(d);
        throw err;
      }
    },
    async putCheckpoint(note) {
      const path = join(root, "checkpoint");
      await ensureFolder(root);
      const tmp = await writeTemporary(path, note);
      await rename(tmp, path);
      await syncFile(root);
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
