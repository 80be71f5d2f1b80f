/**
 * Example: an audit storage adapter over a transactional key-value store — the shape of DynamoDB,
 * FoundationDB, Deno KV or etcd: single-key reads plus an atomic commit guarded by expected values.
 * It implements keywarden's `AuditStore` contract and passes the exported conformance suite
 * (kv-audit-store.test.ts). Swap `MemoryKv` for a client of your store.
 *
 * Key layout, per chain:
 *   head/<chain>               {"size":N,"headHash":"…"}       the committed end of the chain
 *   entry/<chain>/<seq>        {"hash","body","idempotencyKey"} one per entry, never rewritten
 *   payload/<chain>/<seq>      the payload opening, deleted on erasure
 *   idem/<chain>/<key>         the seq appended with that idempotency key
 */
import { KeywardenError } from "keywarden";
import type {
  AppendRequest,
  AppendResult,
  AuditStore,
  ChainHead,
  StoredEntry,
} from "keywarden/audit";

/** The key-value API the adapter needs: reads and one atomic, conditional multi-key commit. */
export interface TransactionalKv {
  get(key: string): Promise<string | undefined>;
  /**
   * Applies `set` and `remove` atomically if every key in `expect` currently has the given value
   * (`null` = absent). Returns false, changing nothing, when a check fails.
   */
  commit(op: {
    expect: Record<string, string | null>;
    set: Record<string, string>;
    remove?: string[];
  }): Promise<boolean>;
}

/** An in-process TransactionalKv, standing in for the real store. */
export class MemoryKv implements TransactionalKv {
  readonly data = new Map<string, string>();
  async get(key: string) {
    return this.data.get(key);
  }
  async commit(op: {
    expect: Record<string, string | null>;
    set: Record<string, string>;
    remove?: string[];
  }) {
    for (const [k, v] of Object.entries(op.expect))
      if ((this.data.get(k) ?? null) !== v) return false;
    for (const [k, v] of Object.entries(op.set)) this.data.set(k, v);
    for (const k of op.remove ?? []) this.data.delete(k);
    return true;
  }
}

const seqKey = (seq: number) => String(seq).padStart(12, "0");

/** The adapter. keywarden's core checks every value it returns; the adapter only stores. */
export class KvAuditStore implements AuditStore {
  readonly capabilities = { idempotency: true, treeNodes: false, checkpoints: false } as const;

  constructor(private readonly kv: TransactionalKv) {}

  async head(chainId: string): Promise<ChainHead> {
    const raw = await this.kv.get(`head/${chainId}`);
    return raw ? (JSON.parse(raw) as ChainHead) : { size: 0, headHash: null };
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { chainId, expectedSize, entries } = request;
    const current = (await this.kv.get(`head/${chainId}`)) ?? null;
    const size = current ? (JSON.parse(current) as ChainHead).size : 0;
    const conflict = () => new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "chain moved on");
    if (size !== expectedSize) throw conflict();
    const last = entries[entries.length - 1];
    if (!last) throw new KeywardenError("ERR_INVALID_ARGUMENT", "nothing to append");
    const expect: Record<string, string | null> = { [`head/${chainId}`]: current };
    const set: Record<string, string> = {
      [`head/${chainId}`]: JSON.stringify({
        size: expectedSize + entries.length,
        headHash: last.hash,
      }),
    };
    for (const e of entries) {
      set[`entry/${chainId}/${seqKey(e.seq)}`] = JSON.stringify({
        hash: e.hash,
        body: e.body,
        idempotencyKey: e.idempotencyKey,
      });
      if (e.payload !== null) set[`payload/${chainId}/${seqKey(e.seq)}`] = e.payload;
      if (e.idempotencyKey !== undefined) {
        // Absent now, or the commit fails: an idempotency key is used at most once per chain.
        expect[`idem/${chainId}/${e.idempotencyKey}`] = null;
        set[`idem/${chainId}/${e.idempotencyKey}`] = String(e.seq);
      }
    }
    if (!(await this.kv.commit({ expect, set }))) throw conflict();
    return { size: expectedSize + entries.length, headHash: last.hash };
  }

  async *read(chainId: string, from: number, to?: number): AsyncIterable<StoredEntry> {
    const end = to ?? (await this.head(chainId)).size;
    for (let seq = from; seq < end; seq++) {
      const raw = await this.kv.get(`entry/${chainId}/${seqKey(seq)}`);
      if (raw === undefined) return;
      const e = JSON.parse(raw) as { hash: string; body: string; idempotencyKey?: string };
      const payload = (await this.kv.get(`payload/${chainId}/${seqKey(seq)}`)) ?? null;
      yield { seq, hash: e.hash, body: e.body, payload, idempotencyKey: e.idempotencyKey };
    }
  }

  async erasePayload(chainId: string, seq: number): Promise<void> {
    const entry = await this.kv.get(`entry/${chainId}/${seqKey(seq)}`);
    if (entry === undefined) throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such entry");
    await this.kv.commit({ expect: {}, set: {}, remove: [`payload/${chainId}/${seqKey(seq)}`] });
  }

  async findByIdempotencyKey(chainId: string, key: string): Promise<StoredEntry | undefined> {
    const seq = await this.kv.get(`idem/${chainId}/${key}`);
    if (seq === undefined) return undefined;
    for await (const e of this.read(chainId, Number(seq), Number(seq) + 1)) return e;
    return undefined;
  }
}
