/**
 * The on-disk index of the JSONL file store (Node only): everything the store needs per entry —
 * where each entry's batch line and payload line are, the Merkle tree nodes, the idempotency keys —
 * kept in fixed-size binary files beside the chain file instead of in memory, so a store's memory
 * does not grow with its entries. All of it is derived from the JSONL files (the source of truth)
 * and is rebuilt from them when missing or behind. Layout under `PATH.index/`, one folder per chain
 * named by the SHA-256 of its id (docs/audit-format.md §8.1):
 *
 * - `id` — the chain id.
 * - `entries` — 64 bytes per entry, at `seq * 64`: the entry hash (32 bytes), the batch line's
 *   byte offset (float64 BE) and length (uint32 BE), the entry's index in its batch (uint32 BE),
 *   the payload line's offset (float64 BE, -1 when none) and length (uint32 BE), 4 zero bytes.
 * - `n<L>` — the tree nodes of level `L`, node `i` at `i * 32` (a never-written node reads as 32
 *   zero bytes). Level 0, 8, 16… files are C2SP tlog-tiles hash data: bytes `[N*8192, (N+1)*8192)`
 *   of `n<8k>` are the hashes of full tile `k/N`.
 * - `k<j>` — idempotency keys, level `j` of a growing set of open-addressing hash tables with
 *   `2^(12+j)` slots of 16 bytes (8-byte fingerprint of SHA-256(key), then seq + 1 as float64 BE),
 *   after a 16-byte header (the key count, float64 BE). A fingerprint only nominates a seq; the store
 *   confirms it against the entry's stored key.
 *
 * @packageDocumentation
 */
import { constants } from "node:fs";
import { type FileHandle, open, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KeywardenError } from "../../../errors.js";
import { sha256Node } from "../../primitives/index.js";
import { KeyBatch, orderPosition, orderSlot } from "./key-batch.js";

/** Bytes per entry record in `entries`. */
export const RECORD_BYTES = 64;
const HASH_BYTES = 32;
/** Hashes per tile (C2SP tlog-tiles full width). */
export const TILE_WIDTH = 256;
const KEY_SLOT = 16;
const KEY_HEADER = 16;
const KEY_BASE_BITS = 12;
const KEY_WINDOW = 64;
/** Keys collected before a windowed write while rebuilding. */
const LATER_MAX = 32_768;
/** Slots per window of a windowed key write (64 KiB). */
const WINDOW_SLOTS = 4096;
/** Bytes one file's buffered writes may reach before they are written out. */
const PENDING_MAX = 64 << 10;
/** Written-out write buffers kept for reuse (1 MiB). */
const SPARE_MAX = 16;
/** Bytes all buffered writes may reach before they are written out. */
const PENDING_TOTAL = 8 << 20;

/** One entry's location, as stored in `entries`. */
export interface EntryRecord {
  readonly hash: string;
  readonly lineOffset: number;
  readonly lineLength: number;
  readonly indexInBatch: number;
  /** -1 when the entry has no payload line. */
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

/** Encodes records into `out` at record position `at`. */
export function encodeRecord(out: Buffer, at: number, r: EntryRecord): void {
  const o = at * RECORD_BYTES;
  out.write(r.hash, o, HASH_BYTES, "hex");
  out.writeDoubleBE(r.lineOffset, o + 32);
  out.writeUInt32BE(r.lineLength, o + 40);
  out.writeUInt32BE(r.indexInBatch, o + 44);
  out.writeDoubleBE(r.payloadOffset, o + 48);
  out.writeUInt32BE(r.payloadLength, o + 56);
  out.writeUInt32BE(0, o + 60);
}

/** Decodes the record at record position `at` of `buf`. */
export function decodeRecord(buf: Buffer, at: number): EntryRecord {
  const o = at * RECORD_BYTES;
  return {
    hash: buf.toString("hex", o, o + HASH_BYTES),
    lineOffset: buf.readDoubleBE(o + 32),
    lineLength: buf.readUInt32BE(o + 40),
    indexInBatch: buf.readUInt32BE(o + 44),
    payloadOffset: buf.readDoubleBE(o + 48),
    payloadLength: buf.readUInt32BE(o + 56),
  };
}

/** The folder name of a chain's index. */
export function chainFolder(chainId: string): string {
  return Buffer.from(sha256Node(Buffer.from(chainId, "utf8"))).toString("hex");
}

/**
 * A bounded set of open file handles (least recently used closed first), so a store with many
 * chains holds a fixed number of descriptors. Callers serialize all use (the store does).
 */
export class HandleCache {
  readonly #open = new Map<string, FileHandle>();
  readonly #dirty = new Set<string>();
  /** One buffer per file (merged writes copied into it: no object per write). */
  readonly #pending = new Map<string, Pending>();
  #pendingBytes = 0;
  readonly #max: number;
  readonly #readOnly: boolean;

  constructor(max: number, readOnly: boolean) {
    this.#max = max;
    this.#readOnly = readOnly;
  }

  /** The handle of `path`, opened (created when `create`) if needed; undefined if it does not exist and `create` is false. */
  async get(path: string, create: boolean): Promise<FileHandle | undefined> {
    const hit = this.#open.get(path);
    if (hit) {
      this.#open.delete(path);
      this.#open.set(path, hit);
      return hit;
    }
    let fh: FileHandle;
    try {
      fh = await open(
        path,
        this.#readOnly ? constants.O_RDONLY : constants.O_RDWR | (create ? constants.O_CREAT : 0),
        0o600,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !create) return undefined;
      throw err;
    }
    this.#open.set(path, fh);
    while (this.#open.size > this.#max) {
      const [oldest, old] = this.#open.entries().next().value as [string, FileHandle];
      if (this.#pending.has(oldest)) {
        // Buffered writes go out through this handle before it closes.
        const p = this.#pending.get(oldest) as Pending;
        this.#pending.delete(oldest);
        this.#pendingBytes -= p.buf.length;
        await old.write(p.buf, 0, p.bytes, p.at);
        if (this.#spare.length < SPARE_MAX) this.#spare.push(p.buf);
      }
      this.#open.delete(oldest);
      if (this.#dirty.delete(oldest)) await old.sync();
      await old.close();
    }
    return fh;
  }

  /**
   * Writes `buf` at `position` of `path` (created if needed), buffered: a write that continues the
   * previous one to the same file is merged with it (the index is mostly written sequentially).
   * Buffered bytes reach the file on {@link HandleCache.flush} and before any other access to it.
   */
  async write(path: string, buf: Uint8Array, position: number): Promise<void> {
    const p = this.#pending.get(path);
    if (p && p.at + p.bytes === position && p.bytes + buf.length <= p.buf.length) {
      p.buf.set(buf, p.bytes);
      p.bytes += buf.length;
    } else if (buf.length >= PENDING_MAX) {
      // As large as a buffer: written now, not copied (the caller may reuse `buf` afterwards).
      if (p) await this.#flushOne(path);
      const fh = (await this.get(path, true)) as FileHandle;
      await fh.write(buf, 0, buf.length, position);
    } else {
      if (p) await this.#flushOne(path);
      const room = this.#spare.pop() ?? Buffer.allocUnsafe(PENDING_MAX);
      room.set(buf, 0);
      this.#pending.set(path, { at: position, buf: room, bytes: buf.length });
      this.#pendingBytes += room.length;
    }
    this.#dirty.add(path);
    if (this.#pendingBytes > PENDING_TOTAL) await this.flush();
  }

  /**
   * Written-out write buffers kept for reuse: a rebuild starts a new buffered write for nearly
   * every key window, and a fresh 64 KiB buffer each time was garbage V8 let pile up.
   */
  readonly #spare: Buffer[] = [];

  async #flushOne(path: string): Promise<void> {
    const p = this.#pending.get(path);
    if (!p) return;
    this.#pending.delete(path);
    this.#pendingBytes -= p.buf.length;
    const fh = (await this.get(path, true)) as FileHandle;
    await fh.write(p.buf, 0, p.bytes, p.at);
    if (this.#spare.length < SPARE_MAX) this.#spare.push(p.buf);
  }

  /** Writes every buffered write to its file (not yet durable: see {@link HandleCache.syncAll}). */
  async flush(): Promise<void> {
    for (const path of [...this.#pending.keys()]) await this.#flushOne(path);
  }

  /** Reads up to `length` bytes at `position`; the returned buffer is as long as what was read. */
  async read(path: string, length: number, position: number): Promise<Buffer | undefined> {
    await this.#flushOne(path);
    const fh = await this.get(path, false);
    if (!fh) return undefined;
    // Small reads come from Node's shared pool (no allocation of their own); only what was read is returned.
    const buf = length <= 4096 ? Buffer.allocUnsafe(length) : Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  }

  /** Reads into `buf` from `position` (as many bytes as `buf` holds); returns the count read (0 when the file is absent). */
  async readInto(path: string, buf: Buffer, position: number): Promise<number> {
    await this.#flushOne(path);
    const fh = await this.get(path, false);
    if (!fh) return 0;
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  }

  /** Size of `path` (0 when absent). */
  async size(path: string): Promise<number> {
    await this.#flushOne(path);
    const fh = await this.get(path, false);
    return fh ? (await fh.stat()).size : 0;
  }

  async truncate(path: string, length: number): Promise<void> {
    await this.#flushOne(path);
    const fh = await this.get(path, false);
    if (fh && (await fh.stat()).size > length) {
      await fh.truncate(length);
      this.#dirty.add(path);
    }
  }

  /** Makes every write since the last call durable. */
  async syncAll(): Promise<void> {
    await this.flush();
    for (const p of this.#dirty) await this.#open.get(p)?.sync();
    this.#dirty.clear();
  }

  async closeAll(): Promise<void> {
    await this.syncAll().catch(() => undefined);
    for (const fh of this.#open.values()) await fh.close().catch(() => undefined);
    this.#open.clear();
  }
}

interface Pending {
  at: number;
  buf: Buffer;
  bytes: number;
}

/** A small LRU of immutable byte pages (full tiles). */
export class PageCache {
  readonly #pages = new Map<string, Buffer>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): Buffer | undefined {
    const p = this.#pages.get(key);
    if (p) {
      this.#pages.delete(key);
      this.#pages.set(key, p);
    }
    return p;
  }
  set(key: string, page: Buffer): void {
    this.#pages.set(key, page);
    if (this.#pages.size > this.#max) {
      const oldest = this.#pages.keys().next().value;
      if (oldest !== undefined) this.#pages.delete(oldest);
    }
  }
}

/** Writes `text` to `path` atomically (temporary file, fsync, rename). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  const fh = await open(tmp, "r+");
  await fh.sync();
  await fh.close();
  await rename(tmp, path);
}

/** Paths of one chain's index files. */
export class ChainFiles {
  readonly dir: string;
  constructor(root: string, chainId: string) {
    this.dir = join(root, chainFolder(chainId));
  }
  get entries(): string {
    return join(this.dir, "entries");
  }
  get id(): string {
    return join(this.dir, "id");
  }
  level(level: number): string {
    return join(this.dir, `n${level}`);
  }
  keys(j: number): string {
    return join(this.dir, `k${j}`);
  }
}

/** Fingerprint (8 bytes, never all zero) and start slot bits of an idempotency key. */
function keyFingerprint(key: string): { fp: Buffer; start: number } {
  const d = Buffer.from(sha256Node(Buffer.from(key, "utf8")));
  const fp = Buffer.from(d.subarray(0, 8));
  if (fp.every((b) => b === 0)) fp[0] = 1;
  return { fp, start: d.readUInt32BE(8) };
}

/**
 * The idempotency-key tables of one chain. Lookups return candidate seqs (a fingerprint match is
 * not proof: the caller compares the stored key); inserts go to the newest table, a new one twice
 * as large starting when it is half full.
 */
export class KeyTables {
  readonly #h: HandleCache;
  readonly #f: ChainFiles;
  /** Count of the newest table as this writer knows it, keyed by table number. */
  #counts = new Map<number, number>();

  constructor(handles: HandleCache, files: ChainFiles) {
    this.#h = handles;
    this.#f = files;
  }

  #tables: number | undefined;

  async #tableCount(): Promise<number> {
    if (this.#tables !== undefined) return this.#tables;
    let j = 0;
    while (await this.#h.get(this.#f.keys(j), false)) j++;
    this.#tables = j;
    return j;
  }

  /** Candidate seqs recorded for `key`, newest table first. */
  async candidates(key: string): Promise<number[]> {
    const { fp, start } = keyFingerprint(key);
    const out: number[] = [];
    const n = await this.#tableCount();
    for (let j = n - 1; j >= 0; j--) {
      await this.#probe(j, fp, start, (_slot, seqPlus1) => {
        if (seqPlus1 > 0) out.push(seqPlus1 - 1);
        return false;
      });
    }
    return out;
  }

  /**
   * Walks table `j` from the key's start slot, calling `onMatch(slot, seq + 1)` on each
   * fingerprint match (returning true stops the walk: -1), and returns the first empty slot.
   */
  async #probe(
    j: number,
    fp: Buffer,
    start: number,
    onMatch: (slot: number, seqPlus1: number) => boolean,
  ): Promise<number> {
    const cap = 2 ** (KEY_BASE_BITS + j);
    const path = this.#f.keys(j);
    let slot = start & (cap - 1);
    for (let seen = 0; seen < cap; ) {
      const n = Math.min(KEY_WINDOW, cap - slot, cap - seen);
      const buf =
        (await this.#h.read(path, n * KEY_SLOT, KEY_HEADER + slot * KEY_SLOT)) ?? Buffer.alloc(0);
      for (let i = 0; i < n; i++) {
        const o = i * KEY_SLOT;
        if (o + KEY_SLOT > buf.length || buf.readDoubleBE(o + 8) === 0) return slot + i;
        if (buf.compare(fp, 0, 8, o, o + 8) === 0 && onMatch(slot + i, buf.readDoubleBE(o + 8)))
          return -1;
      }
      seen += n;
      slot = (slot + n) & (cap - 1);
    }
    return -2; // full (never reached: tables are kept at most half full)
  }

  async #count(j: number): Promise<number> {
    const known = this.#counts.get(j);
    if (known !== undefined) return known;
    const head = await this.#h.read(this.#f.keys(j), 8, 0);
    const c = head && head.length === 8 ? head.readDoubleBE(0) : 0;
    this.#counts.set(j, c);
    return c;
  }

  /** Keys collected for a windowed write (typed arrays: no object per key). */
  #later = new KeyBatch();

  /**
   * Like {@link KeyTables.insert}, but collected and written by {@link KeyTables.flushLater} a
   * window of slots at a time (rebuilding an index: one read and one write per window instead of
   * per key). Lookups do not see collected keys before the flush.
   */
  async insertLater(key: string, seq: number): Promise<void> {
    const { fp, start } = keyFingerprint(key);
    this.#later.push(fp.readUInt32BE(0), fp.readUInt32BE(4), start, seq);
    if (this.#later.length >= LATER_MAX) await this.flushLater();
  }

  /** Writes the keys collected by {@link KeyTables.insertLater}. */
  async flushLater(): Promise<void> {
    const items = this.#later;
    try {
      let i = 0;
      while (i < items.length) {
        let j = Math.max((await this.#tableCount()) - 1, 0);
        if ((await this.#count(j)) + 1 > 2 ** (KEY_BASE_BITS + j - 1)) j++;
        const room = 2 ** (KEY_BASE_BITS + j - 1) - (await this.#count(j));
        const to = Math.min(i + room, items.length);
        await this.#placeGroup(j, items, i, to);
        i = to;
      }
    } finally {
      items.clear();
    }
  }

  /** Writes the collected keys and releases the collection's arrays (kept across batches otherwise). */
  async flushLaterAndRelease(): Promise<void> {
    await this.flushLater();
    this.#later.release();
  }

  /**
   * Places keys `[from, to)` of `items` in table `j`, in slot order, each at the first free slot
   * from its start (the result equals inserting them one by one in that order). Keys whose starts
   * lie within `WINDOW_SLOTS` of the first share one read and one write of the slots from the
   * first start to `KEY_WINDOW` past the last; a key whose probe runs past that is placed alone
   * after the window is written.
   */
  async #placeGroup(j: number, items: KeyBatch, from: number, to: number) {
    const cap = 2 ** (KEY_BASE_BITS + j);
    const path = this.#f.keys(j);
    const order = items.order(from, to, cap);
    const span = Math.min(WINDOW_SLOTS, cap);
    /** One buffer for every window of this group (the handle cache copies or writes it before returning). */
    const win = Buffer.allocUnsafe(Math.min(span + KEY_WINDOW, cap) * KEY_SLOT);
    /** Where a window of `span + KEY_WINDOW` slots from the last one's start would end (see below). */
    let extent = 0;
    for (let k = 0; k < order.length; ) {
      const ws = orderSlot(order[k] as number);
      let last = k;
      while (last + 1 < order.length && orderSlot(order[last + 1] as number) < ws + span) last++;
      // room to probe past the window's last start
      const n = Math.min(orderSlot(order[last] as number) - ws + KEY_WINDOW, cap - ws);
      extent = KEY_HEADER + (ws + Math.min(span + KEY_WINDOW, cap - ws)) * KEY_SLOT;
      const buf = win.subarray(0, n * KEY_SLOT);
      const got = await this.#h.readInto(path, buf, KEY_HEADER + ws * KEY_SLOT);
      buf.fill(0, got);
      const overflow: number[] = [];
      let count = await this.#count(j);
      for (; k <= last; k++) {
        const g = orderPosition(order[k] as number, from);
        const hi = items.hi(g);
        const lo = items.lo(g);
        const seqPlus1 = items.seq(g) + 1;
        let placed = false;
        for (let s = orderSlot(order[k] as number) - ws; s < n; s++) {
          const o = s * KEY_SLOT;
          const used = buf.readDoubleBE(o + 8);
          if (used === 0) {
            buf.writeUInt32BE(hi, o);
            buf.writeUInt32BE(lo, o + 4);
            buf.writeDoubleBE(seqPlus1, o + 8);
            count++;
            placed = true;
            break;
          }
          if (used === seqPlus1 && buf.readUInt32BE(o) === hi && buf.readUInt32BE(o + 4) === lo) {
            placed = true; // already there
            break;
          }
        }
        if (!placed) overflow.push(g);
      }
      this.#counts.set(j, count);
      await this.#h.write(path, buf, KEY_HEADER + ws * KEY_SLOT);
      this.#dirtyCounts.add(j);
      this.#tables = Math.max(this.#tables ?? 0, j + 1);
      // A probe run past the window (rare): place those one by one, after the window is written.
      for (const g of overflow) {
        const fp = Buffer.alloc(8);
        fp.writeUInt32BE(items.hi(g), 0);
        fp.writeUInt32BE(items.lo(g), 4);
        await this.#insertAt(j, fp, items.start(g), items.seq(g));
      }
    }
    // Earlier versions wrote whole windows, so a table file reached at least this far: keep its
    // length (the slots past what was written are empty either way) and the index byte-identical.
    const size = await this.#h.size(path);
    if (size < extent) await this.#h.write(path, Buffer.alloc(extent - size), size);
  }

  async #insertAt(j: number, fp: Buffer, start: number, seq: number): Promise<void> {
    let already = false;
    const slot = await this.#probe(j, fp, start, (_s, seqPlus1) => {
      already = seqPlus1 === seq + 1;
      return already;
    });
    if (already) return;
    if (slot < 0)
      throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "idempotency key table full");
    const rec = Buffer.alloc(KEY_SLOT);
    fp.copy(rec, 0);
    rec.writeDoubleBE(seq + 1, 8);
    await this.#h.write(this.#f.keys(j), rec, KEY_HEADER + slot * KEY_SLOT);
    this.#counts.set(j, (await this.#count(j)) + 1);
    this.#dirtyCounts.add(j);
    this.#tables = Math.max(this.#tables ?? 0, j + 1);
  }

  /** Records that `key` names entry `seq` (idempotent for an identical pair). */
  async insert(key: string, seq: number): Promise<void> {
    const { fp, start } = keyFingerprint(key);
    let j = Math.max((await this.#tableCount()) - 1, 0);
    if ((await this.#count(j)) + 1 > 2 ** (KEY_BASE_BITS + j - 1)) j++;
    await this.#insertAt(j, fp, start, seq);
  }

  #dirtyCounts = new Set<number>();

  /** Writes the key counts changed since the last call into the table headers. */
  async saveCounts(): Promise<void> {
    for (const j of this.#dirtyCounts) {
      const head = Buffer.alloc(8);
      head.writeDoubleBE(this.#counts.get(j) ?? 0, 0);
      await this.#h.write(this.#f.keys(j), head, 0);
    }
    this.#dirtyCounts.clear();
  }

  /** Forgets cached counts and tables (another process may have inserted since). */
  reset(): void {
    this.#counts = new Map();
    this.#tables = undefined;
  }
}
