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
 * - `PATH.lock` — `<pid> <nonce>` of the one writer; a lock whose pid is gone is stale.
 *
 * On open, a torn final line (crash mid-append) is truncated away; a bad line anywhere else is
 * corruption and the store refuses to open (`ERR_AUDIT_STORE_CORRUPT`, naming the line).
 *
 * @packageDocumentation
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
import { KeywardenError } from "../errors.js";
import { acquireLock, type HeldLock } from "./file-lock.js";
import { type ScannedLine, scanLines } from "./file-scan.js";
import { isHexHash } from "./hex.js";
import type {
  AppendRequest,
  AuditStore,
  ChainHead,
  StoredCheckpoint,
  StoredEntry,
  TreeNodeKey,
} from "./store.js";

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
  /** Open without the writer lock; appends and erasure then fail. A torn tail is ignored, not repaired. */
  readonly readOnly?: boolean | undefined;
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
 * Opens (creating if needed) the JSONL audit store at `path` and takes its writer lock.
 *
 * @example
 * ```ts
 * const store = await openFileAuditStore("/var/lib/bot/audit.jsonl");
 * const log = new AuditLog({ store });
 * // …
 * await store.close();
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_LOCKED` (another live writer), `ERR_AUDIT_STORE_CORRUPT`.
 */
export async function openFileAuditStore(
  path: string,
  options: FileAuditStoreOptions = {},
): Promise<AuditStore & { close(): Promise<void> }> {
  if (typeof path !== "string" || path.length === 0)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "path must be a non-empty string");
  const readOnly = options.readOnly === true;
  const lock: HeldLock | undefined = readOnly ? undefined : await acquireLock(`${path}.lock`);
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
    return await loadStore(path, main, side, lock, readOnly);
  } catch (err) {
    await main?.close().catch(() => undefined);
    await side?.close().catch(() => undefined);
    await lock?.release();
    throw err;
  }
}

async function loadStore(
  path: string,
  main: FileHandle,
  side: FileHandle,
  lock: HeldLock | undefined,
  readOnly: boolean,
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
  // Payload lines first: a payload line may exist without its batch (crash between the writes), never the reverse.
  let sideEnd = await recover(side, onSide, readOnly);
  let mainEnd = await recover(main, onMain, readOnly);
  let closed = false;
  let poisoned = false;
  let tail: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
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
  const store = {
    capabilities: { idempotency: true, treeNodes: true, checkpoints: true },

    async head(chainId: string): Promise<ChainHead> {
      usable(false);
      const c = chains.get(chainId);
      return { size: c?.size ?? 0, headHash: c?.headHash ?? null };
    },

    append(request: AppendRequest) {
      return serialized(async () => {
        usable(true);
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
        const sideLines: string[] = [];
        const batch = request.entries.map((e, i) => {
          sideLines.push(
            `${JSON.stringify({ chainId: request.chainId, seq: c.size + i, hash: e.hash, payload: e.payload })}\n`,
          );
          return e.idempotencyKey === undefined
            ? { hash: e.hash, body: e.body }
            : { hash: e.hash, body: e.body, key: e.idempotencyKey };
        });
        const nodes = request.treeNodes?.map((n) => [
          n.level,
          n.index,
          Buffer.from(n.hash).toString("hex"),
        ]);
        const line = Buffer.from(
          `${JSON.stringify({ t: "append", chainId: request.chainId, first: c.size, entries: batch, ...(nodes?.length ? { nodes } : {}) })}\n`,
        );
        const sideBuf = Buffer.from(sideLines.join(""));
        try {
          await side.write(sideBuf, 0, sideBuf.length, sideEnd);
          await side.sync();
          await main.write(line, 0, line.length, mainEnd);
          await main.sync();
        } catch (err) {
          poisoned = true; // a partial write is repaired by the torn-line recovery of the next open
          throw new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "audit file write failed", {
            cause: err,
          });
        }
        let at = sideEnd;
        for (const [i, s] of sideLines.entries()) {
          c.payloadAt[c.size + i] = at;
          c.payloadLen[c.size + i] = Buffer.byteLength(s) - 1;
          at += Buffer.byteLength(s);
        }
        sideEnd += sideBuf.length;
        c.batches.push({
          offset: mainEnd,
          length: line.length - 1,
          first: c.size,
          count: batch.length,
        });
        mainEnd += line.length;
        for (const [i, e] of request.entries.entries())
          if (e.idempotencyKey !== undefined) c.keys.set(e.idempotencyKey, c.size + i);
        for (const n of request.treeNodes ?? [])
          c.nodes.set(`${n.level}/${n.index}`, new Uint8Array(n.hash));
        c.size += batch.length;
        c.headHash = (batch[batch.length - 1] as { hash: string }).hash;
        return { size: c.size, headHash: c.headHash };
      });
    },

    async *read(chainId: string, from: number, to?: number): AsyncGenerator<StoredEntry> {
      usable(false);
      const c = chains.get(chainId);
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
      return serialized(async () => {
        usable(true);
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
        await side.write(buf, 0, len, at);
        await side.sync();
      });
    },

    async findByIdempotencyKey(chainId: string, key: string) {
      usable(false);
      const seq = chains.get(chainId)?.keys.get(key);
      if (seq === undefined) return undefined;
      for await (const e of store.read(chainId, seq, seq + 1)) return e;
      return undefined;
    },

    async getTreeNodes(chainId: string, keys: readonly TreeNodeKey[]) {
      usable(false);
      const nodes = chains.get(chainId)?.nodes;
      return keys.map((k) => {
        const h = nodes?.get(`${k.level}/${k.index}`);
        return h ? new Uint8Array(h) : undefined;
      });
    },

    putCheckpoint(chainId: string, checkpoint: StoredCheckpoint) {
      return serialized(async () => {
        usable(true);
        const line = Buffer.from(
          `${JSON.stringify({ t: "checkpoint", chainId, size: checkpoint.size, note: checkpoint.note })}\n`,
        );
        try {
          await main.write(line, 0, line.length, mainEnd);
          await main.sync();
        } catch (err) {
          poisoned = true;
          throw new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "audit file write failed", {
            cause: err,
          });
        }
        mainEnd += line.length;
        const c = chain(chainId);
        if (!c.checkpoint || checkpoint.size >= c.checkpoint.size)
          c.checkpoint = { size: checkpoint.size, note: checkpoint.note };
      });
    },

    async latestCheckpoint(chainId: string) {
      usable(false);
      return chains.get(chainId)?.checkpoint;
    },

    close() {
      return serialized(async () => {
        if (closed) return;
        closed = true;
        await main.close();
        await side.close();
        await lock?.release();
      });
    },
  };
  return store;
}

/** Scans `fh`; truncates a torn final line unless read-only. Returns the end of the complete part. */
async function recover(
  fh: FileHandle,
  onLine: (l: ScannedLine) => void,
  readOnly: boolean,
): Promise<number> {
  const { complete, size } = await scanLines(fh, onLine);
  if (complete < size && !readOnly) {
    await fh.truncate(complete);
    await fh.sync();
  }
  return complete;
}
