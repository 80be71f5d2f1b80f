/**
 * The append-only JSON Lines file {@link AuditStore} (Node only). Layout, documented in
 * docs/audit-format.md ("File store"):
 *
 * - `PATH` — append-only. One line per committed batch:
 *   `{"t":"append","chainId":…,"first":N,"entries":[{"hash":…,"body":…,"key"?:…}],"nodes"?:[[level,index,"hex"]…]}`,
 *   or `{"t":"checkpoint","chainId":…,"size":N,"note":…}`. A batch is one line, so it is atomic.
 * - `PATH.payloads` — one line per entry, `{"chainId":…,"seq":N,"hash":…,"payload":"<opening>"}`,
 *   written (and fsynced) before the batch line. Erasure overwrites the line in place with
 *   `{"chainId":…,"seq":N,"hash":…,"erased":true}` padded with spaces: the personal data is gone
 *   from the file, and the chain file is never rewritten.
 * - `PATH.lock` — `<pid> <nonce>` of the one writer, held for the duration of each write (so several
 *   processes may share the file, one writer at a time); a lock whose pid is gone is stale.
 * - `PATH.index/` — the per-entry index (entry and payload locations, Merkle tree nodes in
 *   tile-shaped level files, idempotency keys; see ./index-files.ts), derived from the two JSONL
 *   files and rebuilt from them when missing (a file written before the index existed) or behind
 *   (after a crash). Memory holds only per-chain state (size, head, latest checkpoint) and bounded
 *   caches, never per-entry state.
 *
 * Under the lock, a writer first catches up with lines other processes appended, and truncates a
 * torn final line (a writer that crashed mid-append); a bad line anywhere else is corruption and
 * the store refuses to work (`ERR_AUDIT_STORE_CORRUPT`, naming the line). Reads catch up without the
 * lock and ignore an incomplete final line. A writer indexes a batch before writing its line, so a
 * line another process sees is already indexed; index data of a batch whose line never landed lies
 * beyond the chain's size and is ignored, then overwritten.
 *
 * @packageDocumentation
 */
import { constants } from "node:fs";
import { type FileHandle, mkdir, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { KeywardenError } from "../../../errors.js";
import { isHexHash } from "../../primitives/portable.js";
import type {
  AppendRequest,
  AuditStore,
  ChainHead,
  StoredCheckpoint,
  StoredEntry,
  TreeNodeKey,
} from "../index.js";
import {
  ChainFiles,
  decodeRecord,
  type EntryRecord,
  encodeRecord,
  HandleCache,
  KeyTables,
  PageCache,
  RECORD_BYTES,
  TILE_WIDTH,
  writeFileAtomic,
} from "./index-files.js";
import { appendLineText, payloadLineText } from "./lines.js";
import { acquireLock } from "./lock.js";
import { type ScannedLine, scanLines } from "./scan.js";

/** Version of the `PATH.index/state.json` layout; any other value rebuilds the index. */
const INDEX_VERSION = 1;
/** Batch lines between two durable index states (a crash re-indexes at most this many lines). */
const STATE_EVERY = 1024;
/** Open index files kept (each chain has a few). */
const MAX_HANDLES = 64;
/** Full tiles (8 KiB each) kept for proof reads: 4 MiB. */
const MAX_TILES = 512;
/** Tree levels from which full tiles are cached (each node covers >= 256 entries). */
const CACHE_MIN_LEVEL = 8;
/** Records read per chunk by `read()`. */
const READ_CHUNK = 256;

interface FileChain {
  readonly id: string;
  readonly files: ChainFiles;
  readonly keys: KeyTables;
  size: number;
  headHash: string | null;
  checkpoint: StoredCheckpoint | undefined;
  /** Highest tree level this process knows a node file for (-1: none). */
  maxLevel: number;
}

interface IndexState {
  v: number;
  mainEnd: number;
  sideEnd: number;
}

/** Options of {@link openFileAuditStore}. */
export interface FileAuditStoreOptions {
  /**
   * Open read-only: appends and erasure fail, a torn tail is ignored, not repaired, and the index
   * is only read (when it is missing or behind, a private one is built in a temporary folder).
   */
  readonly readOnly?: boolean | undefined;
  /** How long a write waits for another process's lock before `ERR_AUDIT_STORE_LOCKED` (default 10 s). */
  readonly lockWaitMs?: number | undefined;
}

function corrupt(file: string, line: number, why: string): never {
  throw new KeywardenError(
    "ERR_AUDIT_STORE_CORRUPT",
    `audit file corrupt at ${file} line ${line}: ${why}`,
    {
      details: { line },
    },
  );
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

class StaleIndex extends Error {}

/**
 * Opens (creating if needed) the JSONL audit store at `path`, repairing a torn final line under the
 * writer lock and building or catching up its on-disk index (`PATH.index/`). Several processes may
 * open the same file; each write takes the lock briefly. Memory does not grow with the number of
 * entries.
 *
 * @example
 * ```ts
 * const store = await openFileAuditStore("/var/lib/bot/audit.jsonl");
 * const log = new AuditLog({ store });
 * // …
 * await store.close();
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_LOCKED` (a live writer held the lock longer than `lockWaitMs`), `ERR_AUDIT_STORE_CORRUPT`.
 */
export async function openFileAuditStore(
  path: string,
  options: FileAuditStoreOptions = {},
): Promise<AuditStore & { close(): Promise<void> }> {
  if (typeof path !== "string" || path.length === 0)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "path must be a non-empty string");
  const readOnly = options.readOnly === true;
  const lockWaitMs = options.lockWaitMs ?? 10_000;
  let main: FileHandle | undefined;
  let side: FileHandle | undefined;
  try {
    const flags = readOnly ? constants.O_RDONLY : constants.O_RDWR | constants.O_CREAT;
    main = await open(path, flags, 0o600);
    side = await open(`${path}.payloads`, flags, 0o600);
    if (!readOnly) {
      await mkdir(`${path}.index`, { recursive: true, mode: 0o700 });
      const dir = await open(dirname(path), "r");
      await dir.sync().catch(() => undefined); // make the new files' directory entries durable
      await dir.close();
      return await loadStore(path, main, side, { readOnly, lockWaitMs, root: `${path}.index` });
    }
    try {
      return await loadStore(path, main, side, { readOnly, lockWaitMs, root: `${path}.index` });
    } catch (err) {
      if (!(err instanceof StaleIndex)) throw err;
      const root = await mkdtemp(join(tmpdir(), "keywarden-index-"));
      return await loadStore(path, main, side, { readOnly, lockWaitMs, root, privateRoot: true });
    }
  } catch (err) {
    await main?.close().catch(() => undefined);
    await side?.close().catch(() => undefined);
    throw err;
  }
}

async function readState(root: string): Promise<IndexState | undefined> {
  try {
    const s = JSON.parse(await readFile(join(root, "state.json"), "utf8")) as IndexState;
    const n = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
    if (s.v === INDEX_VERSION && n(s.mainEnd) && n(s.sideEnd)) return s;
  } catch {
    // missing or unreadable: rebuilt
  }
  return undefined;
}

async function loadStore(
  path: string,
  main: FileHandle,
  side: FileHandle,
  opts: { readOnly: boolean; lockWaitMs: number; root: string; privateRoot?: boolean },
) {
  const { readOnly, lockWaitMs, root } = opts;
  const privateRoot = opts.privateRoot === true;
  /** Whether this process may write the index (it may always write a private one). */
  const indexWritable = !readOnly || privateRoot;
  const handles = new HandleCache(MAX_HANDLES, !indexWritable);
  const tiles = new PageCache(MAX_TILES);
  const chains = new Map<string, FileChain>();
  if (readOnly && !privateRoot && !(await readState(root))) throw new StaleIndex();
  const newChain = (id: string): FileChain => {
    const files = new ChainFiles(root, id);
    return {
      id,
      files,
      keys: new KeyTables(handles, files),
      size: 0,
      headHash: null,
      checkpoint: undefined,
      maxLevel: -1,
    };
  };
  /** The chain's state, creating its index folder when this process may write. */
  const chain = async (id: string): Promise<FileChain> => {
    let c = chains.get(id);
    if (!c) {
      c = newChain(id);
      if (indexWritable) {
        await mkdir(c.files.dir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(c.files.id, id);
      }
      chains.set(id, c);
    }
    return c;
  };

  const readAt = async (fh: FileHandle, offset: number, length: number): Promise<unknown> => {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length) return undefined;
    try {
      return JSON.parse(buf.toString("utf8"));
    } catch {
      return undefined;
    }
  };
  /** The complete batch line at `offset` if it is chain `id`'s and holds `seq` with `hash`. */
  const batchLineAt = async (id: string, r: EntryRecord, seq: number) => {
    const line = (await readAt(main, r.lineOffset, r.lineLength)) as
      | { t?: unknown; chainId?: unknown; first?: unknown; entries?: unknown }
      | undefined;
    if (
      !isObj(line) ||
      line.t !== "append" ||
      line.chainId !== id ||
      line.first !== seq - r.indexInBatch ||
      !Array.isArray(line.entries)
    )
      return undefined;
    const e = line.entries[r.indexInBatch] as { hash?: unknown } | undefined;
    return isObj(e) && e.hash === r.hash
      ? (line.entries as Array<{ hash: string; body: string; key?: string }>)
      : undefined;
  };
  const readRecords = async (c: FileChain, from: number, count: number): Promise<EntryRecord[]> => {
    const buf = await handles.read(c.files.entries, count * RECORD_BYTES, from * RECORD_BYTES);
    const out: EntryRecord[] = [];
    for (let i = 0; buf && (i + 1) * RECORD_BYTES <= buf.length; i++)
      out.push(decodeRecord(buf, i));
    return out;
  };

  /** Keys collected by `insertLater` since the last flush, across chains. */
  let keysLater = 0;
  /** Whether the open is rebuilding the index from nothing (no record exists yet). */
  let rebuilding = false;
  /** Cuts tree nodes past `size` (left by a batch whose line never landed). */
  const cutLeftovers = async (c: FileChain, size: number) => {
    for (let level = 0; level <= c.maxLevel; level++)
      await handles.truncate(c.files.level(level), Math.floor(size / 2 ** level) * 32);
  };
  /** Hands every buffered index write to the files (other processes then see them). */
  const indexOut = async () => {
    for (const c of chains.values()) {
      await c.keys.flushLaterAndRelease();
      await c.keys.saveCounts();
    }
    await handles.flush();
  };
  /** Writes the index records, tree nodes and keys of a batch about to be (or already) on line `lineOffset`. */
  const indexBatch = async (
    c: FileChain,
    first: number,
    entries: ReadonlyArray<{ hash: string; key?: string | undefined }>,
    nodes: ReadonlyArray<readonly [number, number, Uint8Array]>,
    lineOffset: number,
    lineLength: number,
    payloads: ReadonlyArray<readonly [number, number]> | undefined,
  ) => {
    // Keep the payload locations of records already written for this very line (a re-index).
    const existing = payloads || rebuilding ? [] : await readRecords(c, first, entries.length);
    const buf = Buffer.alloc(entries.length * RECORD_BYTES);
    for (const [i, e] of entries.entries()) {
      const old = existing[i];
      const keep = old && old.hash === e.hash && old.lineOffset === lineOffset;
      encodeRecord(buf, i, {
        hash: e.hash,
        lineOffset,
        lineLength,
        indexInBatch: i,
        payloadOffset: payloads
          ? (payloads[i] as readonly [number, number])[0]
          : keep
            ? old.payloadOffset
            : -1,
        payloadLength: payloads
          ? (payloads[i] as readonly [number, number])[1]
          : keep
            ? old.payloadLength
            : 0,
      });
    }
    // Nodes past the committed size are leftovers of a batch whose line never landed: cut them
    // (at open, once per chain after the scan instead).
    if (payloads) await cutLeftovers(c, first);
    await handles.write(c.files.entries, buf, first * RECORD_BYTES);
    const sorted = [...nodes].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let i = 0; i < sorted.length; ) {
      const [level, index] = sorted[i] as readonly [number, number, Uint8Array];
      let j = i + 1;
      while (j < sorted.length && sorted[j]?.[0] === level && sorted[j]?.[1] === index + (j - i))
        j++;
      const run = Buffer.alloc((j - i) * 32);
      for (let k = i; k < j; k++)
        run.set((sorted[k] as readonly [number, number, Uint8Array])[2], (k - i) * 32);
      await handles.write(c.files.level(level), run, index * 32);
      c.maxLevel = Math.max(c.maxLevel, level);
      i = j;
    }
    for (const [i, e] of entries.entries())
      if (e.key !== undefined) {
        if (payloads) await c.keys.insert(e.key, first + i);
        else {
          await c.keys.insertLater(e.key, first + i);
          if (++keysLater >= 32_768) {
            // Bound the keys collected across chains, not only per chain.
            // Only this chain keeps its collection's arrays: memory stays bounded with many chains.
            for (const other of chains.values())
              await (other === c ? other.keys.flushLater() : other.keys.flushLaterAndRelease());
            keysLater = 0;
          }
        }
      }
  };

  /** Parses and checks one chain-file line; `index` also (re)writes its index data. */
  const onMain = async (l: ScannedLine, index: boolean) => {
    let r: unknown;
    try {
      r = JSON.parse(l.text);
    } catch {
      corrupt(path, l.line, "not valid JSON");
    }
    if (!isObj(r) || typeof r.chainId !== "string")
      return corrupt(path, l.line, "not a store record");
    const c = index ? await chain(r.chainId) : (chains.get(r.chainId) ?? newChain(r.chainId));
    chains.set(r.chainId, c);
    if (r.t === "checkpoint") {
      if (typeof r.size !== "number" || typeof r.note !== "string")
        return corrupt(path, l.line, "bad checkpoint record");
      if (!c.checkpoint || r.size >= c.checkpoint.size)
        c.checkpoint = { size: r.size, note: r.note };
      return;
    }
    const entries = r.entries;
    if (r.t !== "append" || r.first !== c.size || !Array.isArray(entries) || entries.length === 0)
      return corrupt(path, l.line, "bad or non-contiguous append record");
    for (const e of entries)
      if (!isObj(e) || !isHexHash(e.hash) || typeof e.body !== "string")
        corrupt(path, l.line, "bad entry");
    const nodes: Array<[number, number, Uint8Array]> = [];
    for (const n of Array.isArray(r.nodes) ? r.nodes : []) {
      if (
        !Array.isArray(n) ||
        !Number.isSafeInteger(n[0]) ||
        !Number.isSafeInteger(n[1]) ||
        n[0] < 0 ||
        n[1] < 0 ||
        typeof n[2] !== "string" ||
        !isHexHash(n[2])
      )
        corrupt(path, l.line, "bad tree node");
      nodes.push([n[0], n[1], Buffer.from(n[2], "hex")]);
      c.maxLevel = Math.max(c.maxLevel, n[0]);
    }
    const list = entries as Array<{ hash: string; key?: unknown }>;
    if (index)
      await indexBatch(
        c,
        c.size,
        list.map((e) => ({ hash: e.hash, key: typeof e.key === "string" ? e.key : undefined })),
        nodes,
        l.offset,
        l.length,
        undefined,
      );
    c.size += list.length;
    c.headHash = (list[list.length - 1] as { hash: string }).hash;
  };
  /** Re-points the record of a payload line's entry at it (a later line for the same seq wins). */
  const onSide = async (l: ScannedLine) => {
    let r: unknown;
    try {
      r = JSON.parse(l.text);
    } catch {
      corrupt(`${path}.payloads`, l.line, "not valid JSON");
    }
    if (
      !isObj(r) ||
      typeof r.chainId !== "string" ||
      typeof r.seq !== "number" ||
      !Number.isSafeInteger(r.seq) ||
      r.seq < 0
    )
      return corrupt(`${path}.payloads`, l.line, "not a payload record");
    const c = chains.get(r.chainId);
    if (!c || r.seq >= c.size) return; // a payload line whose batch never landed
    // Payload lines come in seq order: edit a window of records in memory, written back once.
    if (!win || win.c !== c || r.seq < win.start || r.seq >= win.start + win.count) {
      await sideWindowOut();
      const count = Math.min(READ_CHUNK, c.size - r.seq);
      const buf = sideBuf.subarray(0, count * RECORD_BYTES);
      if ((await handles.readInto(c.files.entries, buf, r.seq * RECORD_BYTES)) !== buf.length)
        return;
      win = { c, start: r.seq, count, buf, dirty: false };
    }
    const o = (r.seq - win.start) * RECORD_BYTES;
    if (win.buf.toString("hex", o, o + 32) !== r.hash) return;
    win.buf.writeDoubleBE(l.offset, o + 48);
    win.buf.writeUInt32BE(l.length, o + 56);
    win.dirty = true;
  };
  let win: { c: FileChain; start: number; count: number; buf: Buffer; dirty: boolean } | undefined;
  /** The one buffer every window of records uses (`handles.write` copies it). */
  const sideBuf = Buffer.alloc(READ_CHUNK * RECORD_BYTES);
  const sideWindowOut = async () => {
    if (win?.dirty) await handles.write(win.c.files.entries, win.buf, win.start * RECORD_BYTES);
    win = undefined;
  };
  let mainEnd = 0;
  let sideEnd = 0;
  let mainLine = 0;
  let sideLine = 0;
  let sinceState = 0;
  /** Makes the index durable up to the current ends and records them (a crash re-indexes from here). */
  const saveState = async () => {
    if (!indexWritable || privateRoot) return;
    await handles.syncAll();
    await writeFileAtomic(
      join(root, "state.json"),
      JSON.stringify({ v: INDEX_VERSION, mainEnd, sideEnd }),
    );
    sinceState = 0;
  };
  /**
   * Catches up with lines appended since the last scan (by this or another process). The chain
   * file is scanned before the payload file: payload lines are written first, so every batch seen
   * has its payload lines visible too. Holding the lock, an incomplete final line can only be left
   * by a writer that died mid-append, and is cut away; without it, it is ignored for now. Lines
   * at or after `indexFrom` (byte offsets in the chain and payload files) are (re)indexed: at open,
   * those after the index's last durable state, and every line of a private index; any other line's
   * writer indexed it before writing it.
   */
  const refresh = async (
    locked: boolean,
    indexFrom: readonly [number, number] = privateRoot ? [0, 0] : [Infinity, Infinity],
  ) => {
    const m = await scanLines(
      main,
      (l) => onMain(l, l.offset >= indexFrom[0]),
      mainEnd,
      mainLine + 1,
    );
    sinceState += m.lastLine - mainLine;
    mainEnd = m.complete;
    mainLine = m.lastLine;
    const s = await scanLines(
      side,
      (l) => (l.offset >= indexFrom[1] ? onSide(l) : undefined),
      sideEnd,
      sideLine + 1,
    );
    await sideWindowOut();
    sideEnd = s.complete;
    sideLine = s.lastLine;
    if (locked) {
      for (const [fh, r] of [
        [main, m],
        [side, s],
      ] as const) {
        if (r.complete < r.size) {
          await fh.truncate(r.complete);
          await fh.sync();
        }
      }
    }
  };
  let closed = false;
  let poisoned = false;
  let tail: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  /** Runs a write under the cross-process lock, after catching up with other writers. */
  const locked = <T>(fn: () => Promise<T>): Promise<T> =>
    serialized(async () => {
      usable(true);
      const lock = await acquireLock(`${path}.lock`, lockWaitMs);
      try {
        for (const c of chains.values()) c.keys.reset();
        await refresh(true);
        const out = await fn();
        await indexOut();
        if (sinceState >= STATE_EVERY) await saveState();
        return out;
      } catch (err) {
        poisonIfIo(err);
        throw err;
      } finally {
        await lock.release();
      }
    });
  /** Runs a read after catching up with other writers. */
  const fresh = <T>(fn: () => Promise<T> | T): Promise<T> =>
    serialized(async () => {
      usable(false);
      await refresh(false);
      return fn();
    });
  /** Any failure other than a store error (an I/O fault) poisons the handle: the page cache cannot be trusted. */
  const poisonIfIo = (err: unknown) => {
    if (!(err instanceof KeywardenError)) poisoned = true;
  };
  /** Writes and fsyncs; any failure poisons the handle (after an fsync error the page cache cannot be trusted). */
  const durableWrite = async (fh: FileHandle, buf: Buffer, position: number) => {
    try {
      await fh.write(buf, 0, buf.length, position);
      await fh.sync();
    } catch (err) {
      poisoned = true; // a partial write is a torn tail, cut by the next writer under the lock
      throw new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "audit file write failed", {
        cause: err,
      });
    }
  };
  const usable = (write: boolean) => {
    if (closed) throw new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "audit store is closed");
    if (write && readOnly)
      throw new KeywardenError("ERR_NOT_SUPPORTED", "audit store was opened read-only");
    if (poisoned)
      throw new KeywardenError(
        "ERR_AUDIT_STORE_UNAVAILABLE",
        "audit store failed a write; reopen it to recover",
      );
  };
  const payloadOf = async (r: EntryRecord): Promise<string | null> => {
    if (r.payloadOffset < 0) return null;
    const p = (await readAt(side, r.payloadOffset, r.payloadLength)) as
      | Record<string, unknown>
      | undefined;
    if (!p || p.erased === true || p.hash !== r.hash || typeof p.payload !== "string") return null;
    return p.payload;
  };
  /** Entry `seq` of `c` if it holds `key` (confirms a key-table candidate). */
  const entryWithKey = async (c: FileChain, seq: number, key: string): Promise<boolean> => {
    if (seq >= c.size) return false;
    const [r] = await readRecords(c, seq, 1);
    if (!r) return false;
    const batch = await batchLineAt(c.id, r, seq);
    return batch?.[r.indexInBatch]?.key === key;
  };
  const keyUsed = async (c: FileChain, key: string): Promise<number | undefined> => {
    await c.keys.flushLater(); // keys a private index collected while following other writers
    for (const seq of await c.keys.candidates(key)) if (await entryWithKey(c, seq, key)) return seq;
    return undefined;
  };

  // Open: scan and check every line (as before the index existed: a bad line anywhere is
  // corruption), re-indexing those written since the index's last durable state, under the lock so
  // a torn tail is repaired first. Read-only, check the index covers every chain instead.
  if (readOnly && !privateRoot) {
    await refresh(false);
    for (const c of chains.values()) {
      if (c.size === 0) continue;
      const [r] = await readRecords(c, c.size - 1, 1);
      if (!r || !(await batchLineAt(c.id, r, c.size - 1))) throw new StaleIndex();
    }
  } else if (readOnly) {
    rebuilding = true;
    await refresh(false);
    rebuilding = false;
    await indexOut();
  } else {
    await serialized(async () => {
      const lock = await acquireLock(`${path}.lock`, lockWaitMs);
      try {
        let state = await readState(root);
        if (!state) {
          // No usable index (a file written before it existed, or an unknown layout): rebuild it.
          await rm(root, { recursive: true, force: true });
          await mkdir(root, { recursive: true, mode: 0o700 });
          state = { v: INDEX_VERSION, mainEnd: 0, sideEnd: 0 };
          rebuilding = true;
        }
        await refresh(true, [state.mainEnd, state.sideEnd]);
        rebuilding = false;
        for (const c of chains.values()) await cutLeftovers(c, c.size);
        await indexOut();
        await saveState();
      } finally {
        await lock.release();
      }
    });
  }

  const store = {
    capabilities: { idempotency: true, treeNodes: true, checkpoints: true },

    head(chainId: string): Promise<ChainHead> {
      return fresh(() => {
        const c = chains.get(chainId);
        return { size: c?.size ?? 0, headHash: c?.headHash ?? null };
      });
    },

    append(request: AppendRequest) {
      return locked(async () => {
        const c = await chain(request.chainId);
        if (request.expectedSize !== c.size)
          throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "chain size changed");
        const seen = new Set<string>();
        for (const e of request.entries) {
          const k = e.idempotencyKey;
          if (k !== undefined && (seen.has(k) || (await keyUsed(c, k)) !== undefined))
            throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "idempotency key already used");
          if (k !== undefined) seen.add(k);
        }
        const first = c.size;
        const payloads: Array<[number, number]> = [];
        let at = sideEnd;
        const sideText = request.entries
          .map((e, i) => {
            const text = payloadLineText(request.chainId, first + i, e);
            const bytes = Buffer.byteLength(text);
            payloads.push([at, bytes - 1]);
            at += bytes;
            return text;
          })
          .join("");
        const line = Buffer.from(
          appendLineText(request.chainId, first, request.entries, request.treeNodes),
        );
        const end = first + request.entries.length;
        for (const n of request.treeNodes ?? [])
          if (
            !Number.isSafeInteger(n.level) ||
            !Number.isSafeInteger(n.index) ||
            n.level < 0 ||
            n.index < 0 ||
            !(n.hash instanceof Uint8Array) ||
            n.hash.length !== 32
          )
            throw new KeywardenError("ERR_INVALID_ARGUMENT", "a tree node is malformed");
        const nodes = (request.treeNodes ?? [])
          .filter((n) => (n.index + 1) * 2 ** n.level <= end) // a node past the batch is no node of this tree yet
          .map((n) => [n.level, n.index, Uint8Array.from(n.hash)] as const);
        // Payload lines first, then the index, then the batch line: a batch is visible only once
        // its payloads are durable and its index data written.
        await durableWrite(side, Buffer.from(sideText), sideEnd);
        await indexBatch(
          c,
          first,
          request.entries.map((e) => ({ hash: e.hash, key: e.idempotencyKey })),
          nodes,
          mainEnd,
          line.length - 1,
          payloads,
        );
        await indexOut();
        await durableWrite(main, line, mainEnd);
        await refresh(true); // take in what was just written through the same path as every other line
        // Defensive: only a writer ignoring the lock could make the file differ from what was written.
        if (c.size !== end || c.headHash !== request.entries[request.entries.length - 1]?.hash)
          throw new KeywardenError(
            "ERR_AUDIT_STORE_CORRUPT",
            "audit file changed under the writer lock",
          );
        return { size: c.size, headHash: c.headHash };
      });
    },

    async *read(chainId: string, from: number, to?: number): AsyncGenerator<StoredEntry> {
      const c = await fresh(() => chains.get(chainId));
      if (!c) return;
      const end = Math.min(to ?? c.size, c.size);
      let cached:
        | { offset: number; entries: Array<{ hash: string; body: string; key?: string }> }
        | undefined;
      for (let seq = Math.max(from, 0); seq < end; ) {
        const count = Math.min(READ_CHUNK, end - seq);
        const recs = await serialized(async () => {
          usable(false);
          return readRecords(c, seq, count);
        });
        if (recs.length !== count)
          throw new KeywardenError("ERR_AUDIT_STORE_CORRUPT", "audit file index is short");
        for (const r of recs) {
          if (cached?.offset !== r.lineOffset) {
            const entries = await batchLineAt(chainId, r, seq);
            if (!entries)
              throw new KeywardenError(
                "ERR_AUDIT_STORE_CORRUPT",
                `audit file index does not match the chain file at seq ${seq}`,
              );
            cached = { offset: r.lineOffset, entries };
          }
          const e = cached.entries[r.indexInBatch] as { hash: string; body: string; key?: string };
          if (e.hash !== r.hash)
            throw new KeywardenError(
              "ERR_AUDIT_STORE_CORRUPT",
              `audit file index does not match the chain file at seq ${seq}`,
            );
          yield {
            seq,
            hash: e.hash,
            body: e.body,
            payload: await payloadOf(r),
            ...(e.key === undefined ? {} : { idempotencyKey: e.key }),
          };
          seq++;
        }
      }
    },

    erasePayload(chainId: string, seq: number) {
      return locked(async () => {
        const c = chains.get(chainId);
        if (!c || !Number.isSafeInteger(seq) || seq < 0 || seq >= c.size)
          throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
        const [rec] = await readRecords(c, seq, 1);
        if (!rec || rec.payloadOffset < 0) return;
        const len = rec.payloadLength;
        const r = (await readAt(side, rec.payloadOffset, len)) as
          | Record<string, unknown>
          | undefined;
        if (!r)
          throw new KeywardenError("ERR_AUDIT_STORE_CORRUPT", "audit payload line unreadable");
        if (r.erased === true) return;
        const erased = JSON.stringify({ chainId, seq, hash: r.hash, erased: true });
        // Same length as the original line (the opening alone is longer than the marker), so no other line moves.
        const buf = Buffer.from(erased.padEnd(len, " "));
        if (buf.length !== len)
          throw new KeywardenError("ERR_INTERNAL", "erasure record does not fit");
        await durableWrite(side, buf, rec.payloadOffset);
      });
    },

    async findByIdempotencyKey(chainId: string, key: string) {
      const seq = await fresh(async () => {
        const c = chains.get(chainId);
        return c ? keyUsed(c, key) : undefined;
      });
      if (seq === undefined) return undefined;
      for await (const e of store.read(chainId, seq, seq + 1)) return e;
      return undefined;
    },

    getTreeNodes(chainId: string, keys: readonly TreeNodeKey[]) {
      return fresh(async () => {
        const c = chains.get(chainId);
        const out: Array<Uint8Array | undefined> = [];
        for (const k of keys) out.push(c ? await nodeOf(c, k) : undefined);
        return out;
      });
    },

    putCheckpoint(chainId: string, checkpoint: StoredCheckpoint) {
      return locked(async () => {
        const line = checkpointLineText(chainId, checkpoint);
        await durableWrite(main, Buffer.from(line), mainEnd);
        await refresh(true);
      });
    },

    latestCheckpoint(chainId: string) {
      return fresh(() => {
        return chains.get(chainId)?.checkpoint;
      });
    },

    close() {
      return serialized(async () => {
        if (closed) return;
        closed = true;
        try {
          if (!readOnly && !poisoned) {
            const lock = await acquireLock(`${path}.lock`, lockWaitMs).catch(() => undefined);
            if (lock) {
              try {
                await saveState();
              } finally {
                await lock.release();
              }
            }
          }
        } finally {
          await handles.closeAll();
          await main.close();
          await side.close();
          if (privateRoot) await rm(root, { recursive: true, force: true });
        }
      });
    },
  };

  /**
   * A stored tree node, or undefined: never written, or not yet complete at the chain's size (a
   * node of a batch whose line never landed). A full tile at level 8 or above is read whole and cached, since complete
   * nodes never change.
   */
  async function nodeOf(c: FileChain, k: TreeNodeKey): Promise<Uint8Array | undefined> {
    if (
      !Number.isSafeInteger(k.level) ||
      !Number.isSafeInteger(k.index) ||
      k.level < 0 ||
      k.index < 0
    )
      return undefined;
    if (k.level > c.maxLevel || (k.index + 1) * 2 ** k.level > c.size) return undefined;
    const tile = Math.floor(k.index / TILE_WIDTH);
    // Only tiles high in the tree are on many proofs' paths; a low tile is read for one node.
    const full = k.level >= CACHE_MIN_LEVEL && (tile + 1) * TILE_WIDTH * 2 ** k.level <= c.size;
    let bytes: Buffer | undefined;
    if (full) {
      const key = `${c.files.dir}/${k.level}/${tile}`;
      let page = tiles.get(key);
      if (!page) {
        page = await handles.read(c.files.level(k.level), TILE_WIDTH * 32, tile * TILE_WIDTH * 32);
        if (page && page.length === TILE_WIDTH * 32) tiles.set(key, page);
      }
      const o = (k.index % TILE_WIDTH) * 32;
      bytes = page && page.length >= o + 32 ? page.subarray(o, o + 32) : undefined;
    } else {
      bytes = await handles.read(c.files.level(k.level), 32, k.index * 32);
    }
    if (bytes?.length !== 32 || bytes.every((b) => b === 0)) return undefined;
    return new Uint8Array(bytes);
  }
  return store;
}

function checkpointLineText(chainId: string, cp: StoredCheckpoint): string {
  return `${JSON.stringify({ t: "checkpoint", chainId, size: cp.size, note: cp.note })}\n`;
}
