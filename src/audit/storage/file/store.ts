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
 *
 * Under the lock, a writer first catches up with lines other processes appended, and truncates a
 * torn final line (a writer that crashed mid-append); a bad line anywhere else is corruption and
 * the store refuses to work (`ERR_AUDIT_STORE_CORRUPT`, naming the line). Reads catch up without the
 * lock and ignore an incomplete final line.
 *
 * @packageDocumentation
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
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
import { acquireLock } from "./lock.js";
import { type ScannedLine, scanLines } from "./scan.js";

interface BatchLine {
  offset: number;
  length: number;
  first: number;
  count: number;
}
interface FileChain {
  size: number;
  headHash: string | null;
  batches: BatchLine[];
  payloadAt: number[];
  payloadLen: number[];
  keys: Map<string, number>;
  nodes: Map<string, Uint8Array>;
  checkpoint: StoredCheckpoint | undefined;
}

/** Options of {@link openFileAuditStore}. */
export interface FileAuditStoreOptions {
  /** Open read-only: appends and erasure fail, and a torn tail is ignored, not repaired. */
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

/**
 * Opens (creating if needed) the JSONL audit store at `path`, repairing a torn final line under the
 * writer lock. Several processes may open the same file; each write takes the lock briefly.
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
      const dir = await open(dirname(path), "r");
      await dir.sync().catch(() => undefined); // make the new files' directory entries durable
      await dir.close();
    }
    return await loadStore(path, main, side, readOnly, lockWaitMs);
  } catch (err) {
    await main?.close().catch(() => undefined);
    await side?.close().catch(() => undefined);
    throw err;
  }
}

async function loadStore(
  path: string,
  main: FileHandle,
  side: FileHandle,
  readOnly: boolean,
  lockWaitMs: number,
) {
  const chains = new Map<string, FileChain>();
  const chain = (id: string): FileChain => {
    let c = chains.get(id);
    if (!c) {
      c = {
        size: 0,
        headHash: null,
        batches: [],
        payloadAt: [],
        payloadLen: [],
        keys: new Map(),
        nodes: new Map(),
        checkpoint: undefined,
      };
      chains.set(id, c);
    }
    return c;
  };
  const onMain = (l: ScannedLine) => {
    let r: unknown;
    try {
      r = JSON.parse(l.text);
    } catch {
      corrupt(path, l.line, "not valid JSON");
    }
    if (!isObj(r) || typeof r.chainId !== "string")
      return corrupt(path, l.line, "not a store record");
    const c = chain(r.chainId);
    if (r.t === "checkpoint") {
      if (typeof r.size !== "number" || typeof r.note !== "string")
        corrupt(path, l.line, "bad checkpoint record");
      if (!c.checkpoint || r.size >= c.checkpoint.size)
        c.checkpoint = { size: r.size, note: r.note };
      return;
    }
    const entries = r.entries;
    if (r.t !== "append" || r.first !== c.size || !Array.isArray(entries) || entries.length === 0)
      return corrupt(path, l.line, "bad or non-contiguous append record");
    for (const [i, e] of entries.entries()) {
      if (!isObj(e) || !isHexHash(e.hash) || typeof e.body !== "string")
        corrupt(path, l.line, "bad entry");
      if (typeof e.key === "string") c.keys.set(e.key, c.size + i);
    }
    for (const n of Array.isArray(r.nodes) ? r.nodes : []) {
      if (!Array.isArray(n) || typeof n[2] !== "string") corrupt(path, l.line, "bad tree node");
      c.nodes.set(`${n[0]}/${n[1]}`, Buffer.from(n[2] as string, "hex"));
    }
    c.batches.push({ offset: l.offset, length: l.length, first: c.size, count: entries.length });
    c.size += entries.length;
    c.headHash = (entries[entries.length - 1] as { hash: string }).hash;
  };
  const onSide = (l: ScannedLine) => {
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
    const c = chain(r.chainId);
    c.payloadAt[r.seq] = l.offset; // a later line for the same seq (re-append after a crash) wins
    c.payloadLen[r.seq] = l.length;
  };
  let mainEnd = 0;
  let sideEnd = 0;
  let mainLine = 0;
  let sideLine = 0;
  /**
   * Catches up with lines appended since the last scan (by this or another process). The chain
   * file is scanned before the payload file: payload lines are written first, so every batch seen
   * has its payload lines visible too. Holding the lock, an incomplete final line can only be left
   * by a writer that died mid-append, and is cut away; without it, it is ignored for now.
   */
  const refresh = async (locked: boolean) => {
    for (const [fh, onLine, which] of [
      [main, onMain, "main"],
      [side, onSide, "side"],
    ] as const) {
      const from = which === "main" ? mainEnd : sideEnd;
      const r = await scanLines(fh, onLine, from, (which === "main" ? mainLine : sideLine) + 1);
      if (which === "main") {
        mainEnd = r.complete;
        mainLine = r.lastLine;
      } else {
        sideEnd = r.complete;
        sideLine = r.lastLine;
      }
      if (locked && r.complete < r.size) {
        await fh.truncate(r.complete);
        await fh.sync();
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
        await refresh(true);
        return await fn();
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
  const readAt = async (fh: FileHandle, offset: number, length: number): Promise<unknown> => {
    const buf = Buffer.allocUnsafe(length);
    await fh.read(buf, 0, length, offset);
    return JSON.parse(buf.toString("utf8"));
  };
  const payloadOf = async (c: FileChain, seq: number, hash: string): Promise<string | null> => {
    const at = c.payloadAt[seq];
    if (at === undefined) return null;
    const r = (await readAt(side, at, c.payloadLen[seq] as number)) as Record<string, unknown>;
    if (r.erased === true || r.hash !== hash || typeof r.payload !== "string") return null;
    return r.payload;
  };
  if (readOnly) await refresh(false);
  else await locked(async () => undefined); // repairs a torn tail left by a crashed writer
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
        const c = chain(request.chainId);
        if (request.expectedSize !== c.size)
          throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "chain size changed");
        const seen = new Set<string>();
        for (const e of request.entries) {
          const k = e.idempotencyKey;
          if (k !== undefined && (c.keys.has(k) || seen.has(k)))
            throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "idempotency key already used");
          if (k !== undefined) seen.add(k);
        }
        const sideText = request.entries
          .map(
            (e, i) =>
              `${JSON.stringify({ chainId: request.chainId, seq: c.size + i, hash: e.hash, payload: e.payload })}\n`,
          )
          .join("");
        const batch = request.entries.map((e) =>
          e.idempotencyKey === undefined
            ? { hash: e.hash, body: e.body }
            : { hash: e.hash, body: e.body, key: e.idempotencyKey },
        );
        const nodes = request.treeNodes?.map((n) => [
          n.level,
          n.index,
          Buffer.from(n.hash).toString("hex"),
        ]);
        const line = `${JSON.stringify({ t: "append", chainId: request.chainId, first: c.size, entries: batch, ...(nodes?.length ? { nodes } : {}) })}\n`;
        // Payload lines first, then the batch line: a batch is visible only once its payloads are durable.
        await durableWrite(side, Buffer.from(sideText), sideEnd);
        await durableWrite(main, Buffer.from(line), mainEnd);
        const expected = c.size + batch.length;
        await refresh(true); // index what was just written through the same path as every other line
        // Defensive: only a writer ignoring the lock could make the file differ from what was written.
        if (c.size !== expected || c.headHash !== batch[batch.length - 1]?.hash)
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
      let lo = 0;
      let hi = c.batches.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((c.batches[mid] as BatchLine).first <= from) lo = mid;
        else hi = mid - 1;
      }
      for (let b = lo; b < c.batches.length; b++) {
        const batch = c.batches[b] as BatchLine;
        if (batch.first >= end) return;
        const r = (await readAt(main, batch.offset, batch.length)) as {
          entries: Array<{ hash: string; body: string; key?: string }>;
        };
        for (const [i, e] of r.entries.entries()) {
          const seq = batch.first + i;
          if (seq < from || seq >= end) continue;
          const payload = await payloadOf(c, seq, e.hash);
          yield {
            seq,
            hash: e.hash,
            body: e.body,
            payload,
            ...(e.key === undefined ? {} : { idempotencyKey: e.key }),
          };
        }
      }
    },

    erasePayload(chainId: string, seq: number) {
      return locked(async () => {
        const c = chains.get(chainId);
        if (!c || !Number.isSafeInteger(seq) || seq < 0 || seq >= c.size)
          throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
        const at = c.payloadAt[seq];
        if (at === undefined) return;
        const len = c.payloadLen[seq] as number;
        const r = (await readAt(side, at, len)) as Record<string, unknown>;
        if (r.erased === true) return;
        const erased = JSON.stringify({ chainId, seq, hash: r.hash, erased: true });
        // Same length as the original line (the opening alone is longer than the marker), so no other line moves.
        const buf = Buffer.from(erased.padEnd(len, " "));
        if (buf.length !== len)
          throw new KeywardenError("ERR_INTERNAL", "erasure record does not fit");
        await durableWrite(side, buf, at);
      });
    },

    async findByIdempotencyKey(chainId: string, key: string) {
      const seq = await fresh(() => chains.get(chainId)?.keys.get(key));
      if (seq === undefined) return undefined;
      for await (const e of store.read(chainId, seq, seq + 1)) return e;
      return undefined;
    },

    getTreeNodes(chainId: string, keys: readonly TreeNodeKey[]) {
      return fresh(() => {
        const nodes = chains.get(chainId)?.nodes;
        return keys.map((k) => {
          const h = nodes?.get(`${k.level}/${k.index}`);
          return h ? new Uint8Array(h) : undefined;
        });
      });
    },

    putCheckpoint(chainId: string, checkpoint: StoredCheckpoint) {
      return locked(async () => {
        const line = `${JSON.stringify({ t: "checkpoint", chainId, size: checkpoint.size, note: checkpoint.note })}\n`;
        await durableWrite(main, Buffer.from(line), mainEnd);
        await refresh(true);
      });
    },

    latestCheckpoint(chainId: string) {
      return fresh(() => chains.get(chainId)?.checkpoint);
    },

    close() {
      return serialized(async () => {
        if (closed) return;
        closed = true;
        await main.close();
        await side.close();
      });
    },
  };
  return store;
}
