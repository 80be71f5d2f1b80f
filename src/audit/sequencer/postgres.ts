/**
 * The PostgreSQL sequencer (opt-in): many processes append to one chain through a durable queue,
 * and one of them at a time, the holder of the chain's lease, turns queued entries into chain
 * entries with the ordinary {@link AuditLog} group commit. See docs/audit-operations.md
 * ("Sequencer") for the invariants and failure semantics.
 *
 * - Enqueue: one committed, uncontended insert into `keywarden_audit.sequencer_queue`, keyed by
 *   `(chain_id, idempotency_key)`; a retried enqueue with the same key inserts nothing.
 * - Lease: `keywarden_audit.sequencer_leases` holds one row per chain with a fencing `token`. A
 *   process takes a lapsed lease with a compare-and-set that increments the token; only the holder
 *   of the current, unexpired token may commit.
 * - Commit: each sequenced batch is one transaction that first locks the lease row (`for share`)
 *   and checks the token, then takes the chain's advisory lock and writes through `appendBatch`,
 *   deletes the sequenced queue rows and sends `NOTIFY` (delivered on commit). A fenced-out
 *   sequencer's transaction writes nothing.
 * - Await: the writer polls for its idempotency key in `entries` (and for a failure mark in the
 *   queue) until it is sequenced or `timeoutMs` passes.
 *
 * @packageDocumentation
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { isKeywardenError, KeywardenError, type KeywardenErrorCode } from "../../errors.js";
import { mintIdentity } from "../../guard/identity.js";
import { assertIdentity, requireIdentity } from "../../guard/index.js";
import type { PgClientLike, PgPoolLike } from "../../guard/pg-like.js";
import {
  ActionCatalog,
  type AppendEntryInput,
  AuditLog,
  type TreeNodeBuilder,
} from "../core/index.js";
import type { AppendRequest, AppendResult, AuditStore } from "../storage/index.js";
import {
  AUDIT_LOCK_CLASS,
  appendBatch,
  createPostgresAuditStore,
  mapPgError,
  watchConnection,
} from "../storage/postgres/index.js";
import { observeSequencerQueue } from "./depth.js";

/** The `NOTIFY` channel a sequencer signals on after each committed batch (payload: chain id). */
export const SEQUENCER_CHANNEL = "keywarden_audit_sequenced";

/** Options of {@link PostgresSequencedAppender}. */
export interface PostgresSequencerOptions {
  /** A `pg.Pool`, migrated with `migratePostgresAuditStore(pool, { sequencer: true })`. */
  readonly pool: PgPoolLike;
  /** Merkle tree maintenance for the entries this process sequences (as in {@link AuditLog}). */
  readonly treeNodes?: TreeNodeBuilder | undefined;
  /** Accepted actions; defaults to the built-in catalog. Checked at enqueue and at sequencing. */
  readonly actions?: ActionCatalog | undefined;
  /** How long a taken lease lasts without renewal, in ms (default 2000; 200..60000). */
  readonly leaseMs?: number | undefined;
  /** Most queued entries sequenced in one round (default 256). */
  readonly batch?: number | undefined;
  /** Poll interval while waiting, in ms (default 3). */
  readonly pollMs?: number | undefined;
  /** How long `append` waits for its entry to be sequenced, in ms (default 30000). */
  readonly timeoutMs?: number | undefined;
}

/** What {@link PostgresSequencedAppender.append} acknowledges: the committed entry. */
export interface SequencedEntry {
  readonly seq: number;
  readonly hash: string;
  readonly body: string;
  readonly idempotencyKey: string;
}

/** A held lease: the fencing token and who holds it. */
export interface SequencerLease {
  readonly chainId: string;
  readonly token: number;
  readonly holder: string;
}

/** Errors that say nothing about the entry itself: its row stays queued for the next round. */
const TRANSIENT: ReadonlySet<KeywardenErrorCode> = new Set([
  "ERR_AUDIT_APPEND_CONTENDED",
  "ERR_AUDIT_APPEND_CONFLICT",
  "ERR_AUDIT_STORE_INVARIANT",
  "ERR_AUDIT_STORE_UNAVAILABLE",
]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withClient<T>(
  pool: PgPoolLike,
  fn: (c: PgClientLike) => Promise<T>,
  transaction: boolean,
): Promise<T> {
  let client: PgClientLike;
  try {
    client = await pool.connect();
  } catch (err) {
    throw mapPgError(err);
  }
  let broken: Error | undefined;
  const unwatch = watchConnection(client, () => {
    broken ??= new Error("connection lost");
  });
  try {
    if (transaction) await client.query("begin");
    const out = await fn(client);
    if (transaction) await client.query("commit");
    return out;
  } catch (err) {
    if (transaction)
      await client.query("rollback").catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error("rollback failed");
      });
    if (isKeywardenError(err)) throw err;
    const mapped = mapPgError(err);
    if (mapped.details?.retryable === true) broken ??= new Error("connection fault");
    throw mapped;
  } finally {
    unwatch();
    client.release(broken);
  }
}

/**
 * Takes the chain's lease if it is free or lapsed, incrementing its fencing token. Returns the
 * lease, or `undefined` while another holder's lease is unexpired.
 *
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database errors.
 */
export async function acquireSequencerLease(
  pool: PgPoolLike,
  chainId: string,
  holder: string,
  leaseMs: number,
): Promise<SequencerLease | undefined> {
  const r = await withClient(
    pool,
    (c) =>
      c.query<{ token: string }>(
        `insert into keywarden_audit.sequencer_leases as l (chain_id, token, holder, expires_at)
         values ($1, 1, $2, clock_timestamp() + $3 * interval '1 millisecond')
         on conflict (chain_id) do update set token = l.token + 1, holder = excluded.holder,
           expires_at = excluded.expires_at
         where l.expires_at <= clock_timestamp()
         returning token`,
        [chainId, holder, leaseMs],
      ),
    false,
  );
  const row = r.rows[0];
  return row ? { chainId, token: Number(row.token), holder } : undefined;
}

/** Extends a held lease; false when it was lost (expired or taken over). */
async function renewLease(pool: PgPoolLike, lease: SequencerLease, leaseMs: number) {
  const r = await withClient(
    pool,
    (c) =>
      c.query(
        `update keywarden_audit.sequencer_leases
         set expires_at = clock_timestamp() + $4 * interval '1 millisecond'
         where chain_id = $1 and token = $2 and holder = $3 and expires_at > clock_timestamp()`,
        [lease.chainId, lease.token, lease.holder, leaseMs],
      ),
    false,
  );
  return r.rowCount === 1;
}

async function releaseLease(pool: PgPoolLike, lease: SequencerLease): Promise<void> {
  await withClient(
    pool,
    (c) =>
      c.query(
        "update keywarden_audit.sequencer_leases set expires_at = clock_timestamp() where chain_id = $1 and token = $2 and holder = $3",
        [lease.chainId, lease.token, lease.holder],
      ),
    false,
  );
}

const fenced = () =>
  new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    "this sequencer's lease is no longer current; nothing was written",
    { details: { retryable: true, fenced: true } },
  );

/**
 * One fenced append transaction: locks the lease row, checks that `lease` is still the current,
 * unexpired token, then writes `request` under the chain's advisory lock, deletes the sequenced
 * queue rows and notifies waiters. A stale lease writes nothing.
 *
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` with `details.fenced` when the lease is
 * not current; `ERR_AUDIT_APPEND_CONFLICT` when the chain moved; database errors as the store.
 */
export function fencedAppend(
  pool: PgPoolLike,
  lease: SequencerLease,
  request: AppendRequest,
): Promise<AppendResult> {
  return withClient(
    pool,
    async (c) => {
      const l = await c.query<{ ok: boolean }>(
        "select (token = $2 and holder = $3 and expires_at > clock_timestamp()) as ok from keywarden_audit.sequencer_leases where chain_id = $1 for share",
        [request.chainId, lease.token, lease.holder],
      );
      /* Precondition: a sequencer commits only while its fencing token is the chain's current, unexpired one. */
      if (l.rows[0]?.ok !== true || request.chainId !== lease.chainId) throw fenced();
      await c.query("select pg_advisory_xact_lock($1, hashtext($2))", [
        AUDIT_LOCK_CLASS,
        request.chainId,
      ]);
      const [outcome] = await appendBatch(c, request.chainId, [
        { request, resolve: () => {}, reject: () => {} },
      ]);
      if (!outcome || "err" in outcome) throw outcome?.err ?? fenced();
      const keys = request.entries.flatMap((e) => (e.idempotencyKey ? [e.idempotencyKey] : []));
      await c.query(
        "delete from keywarden_audit.sequencer_queue where chain_id = $1 and idempotency_key = any($2::text[])",
        [request.chainId, keys],
      );
      await c.query("select pg_notify($1, $2)", [SEQUENCER_CHANNEL, request.chainId]);
      return outcome.ok;
    },
    true,
  );
}

type QueueRow = {
  id: string;
  idempotency_key: string;
  action: string;
  payload: string;
  actor: string;
};
type Waiter = {
  readonly key: string;
  readonly deadline: number;
  readonly resolve: (e: SequencedEntry) => void;
  readonly reject: (e: unknown) => void;
};

/**
 * Appends to PostgreSQL audit chains through the sequencer queue, so any number of processes can
 * write one chain without losing races. Each instance may also act as the chain's sequencer: while
 * it has writers waiting it tries to take the lapsed lease, and while it holds it, it drains the
 * queue in batches (everyone's entries, not only its own) and releases the lease when the queue is
 * empty.
 *
 * @example
 * ```ts
 * await migratePostgresAuditStore(pool, { sequencer: true });
 * const appender = new PostgresSequencedAppender({ pool, treeNodes: transparency.treeNodes });
 * const e = await appender.append("user:alice", { action: "order.intent", payload, actor, idempotencyKey: orderId });
 * ```
 * @throws {KeywardenError} see {@link PostgresSequencedAppender.append}.
 */
export class PostgresSequencedAppender {
  readonly #pool: PgPoolLike;
  readonly #actions: ActionCatalog;
  readonly #leaseMs: number;
  readonly #batch: number;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  /** This instance's holder id: host, pid and a random part (a restarted process is a new holder). */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #pumps = new Map<string, Promise<void>>();
  readonly #leases = new Map<string, SequencerLease>();
  readonly #log: AuditLog;
  /**
   * Keys of the current round known absent from the chain (one batched read), answered once each
   * without a round trip; a second lookup (after a conflict) reads the database. The commit's own
   * idempotency check under the chain lock stays authoritative.
   */
  readonly #absent = new Set<string>();
  /** Removes this appender from the queue gauges (observability). */
  readonly #unobserve: () => void;

  /** @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on invalid options. */
  constructor(options: PostgresSequencerOptions) {
    const pool = options?.pool;
    if (!pool || typeof pool.connect !== "function")
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "the sequencer needs a pg Pool");
    const int = (v: number | undefined, d: number, lo: number, hi: number, what: string) => {
      const n = v ?? d;
      if (!Number.isSafeInteger(n) || n < lo || n > hi)
        throw new KeywardenError("ERR_INVALID_ARGUMENT", `${what} must be ${lo}..${hi}`);
      return n;
    };
    this.#pool = pool;
    this.#actions = options.actions ?? new ActionCatalog();
    this.#leaseMs = int(options.leaseMs, 2000, 200, 60_000, "leaseMs");
    this.#batch = int(options.batch, 256, 1, 5000, "batch");
    this.#pollMs = int(options.pollMs, 3, 1, 1000, "pollMs");
    this.#timeoutMs = int(options.timeoutMs, 30_000, 100, 3_600_000, "timeoutMs");
    const base = createPostgresAuditStore({ pool });
    const store: AuditStore = {
      ...base,
      findByIdempotencyKey: (chainId, key) => {
        if (this.#absent.delete(`${chainId}\n${key}`)) return Promise.resolve(undefined);
        return base.findByIdempotencyKey?.(chainId, key) ?? Promise.resolve(undefined);
      },
      append: (request) => {
        const lease = this.#leases.get(request.chainId);
        return lease ? fencedAppend(pool, lease, request) : Promise.reject(fenced());
      },
    };
    this.#log = new AuditLog({
      store,
      actions: this.#actions,
      maxAttempts: 4,
      ...(options.treeNodes ? { treeNodes: options.treeNodes } : {}),
    });
    this.#unobserve = observeSequencerQueue(this, pool, () => {
      let n = 0;
      for (const list of this.#waiters.values()) n += list.length;
      return n;
    });
  }

  /**
   * Enqueues one entry (committed before this waits) and resolves with it once a sequencer has
   * committed it to the chain. Without `idempotencyKey` a random one is used; with one, a retry
   * returns the original entry and never writes twice. The entry's timestamp is the sequencing time.
   *
   * @throws {KeywardenError} `ERR_AUDIT_UNKNOWN_ACTION` / `ERR_AUDIT_INVALID_ENTRY` /
   * `ERR_GUARD_UNAUTHENTICATED` before enqueueing; the sequencer's error code when it refused the
   * entry; `ERR_AUDIT_STORE_UNAVAILABLE` with `details.retryable` on database faults or after
   * `timeoutMs` (`details.enqueued: true`: the entry is durable in the queue and will still be
   * sequenced; retry with the same key to learn its position).
   */
  async append(chainId: string, input: AppendEntryInput): Promise<SequencedEntry> {
    const identity = input?.actor ?? requireIdentity();
    assertIdentity(identity);
    const kind = chainId === "operator" ? "operator" : "user";
    this.#actions.validate(kind, input.action, input.payload);
    const key = input.idempotencyKey ?? randomUUID();
    const found = await this.#log.store.findByIdempotencyKey?.(chainId, key);
    if (found) return { seq: found.seq, hash: found.hash, body: found.body, idempotencyKey: key };
    await withClient(
      this.#pool,
      (c) =>
        c.query(
          "insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor) values ($1, $2, $3, $4, $5) on conflict (chain_id, idempotency_key) do nothing",
          [
            chainId,
            key,
            input.action,
            JSON.stringify(input.payload),
            JSON.stringify({ kind: identity.kind, userId: identity.userId, id: identity.id }),
          ],
        ),
      false,
    );
    return new Promise<SequencedEntry>((resolve, reject) => {
      let list = this.#waiters.get(chainId);
      if (!list) {
        list = [];
        this.#waiters.set(chainId, list);
      }
      list.push({ key, deadline: Date.now() + this.#timeoutMs, resolve, reject });
      if (!this.#pumps.has(chainId)) this.#pumps.set(chainId, this.#pump(chainId));
    });
  }

  /**
   * Runs as the chain's sequencer until its queue is empty (e.g. from a dedicated
   * `keywarden audit sequencer` process, or after writers died with entries queued).
   *
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database faults.
   */
  async drain(chainId: string): Promise<void> {
    for (;;) {
      const lease = await this.#ensureLease(chainId);
      if (!lease) {
        await sleep(this.#pollMs * 10);
        continue;
      }
      if ((await this.#sequenceRound(chainId, lease)) === 0) {
        this.#leases.delete(chainId);
        await releaseLease(this.#pool, lease);
        return;
      }
    }
  }

  async #ensureLease(chainId: string): Promise<SequencerLease | undefined> {
    const held = this.#leases.get(chainId);
    if (held) {
      if (await renewLease(this.#pool, held, this.#leaseMs)) return held;
      this.#leases.delete(chainId);
    }
    const got = await acquireSequencerLease(this.#pool, chainId, this.holder, this.#leaseMs);
    if (got) this.#leases.set(chainId, got);
    return got;
  }

  /** Sequences up to `batch` queued entries; returns how many rows it read. */
  async #sequenceRound(chainId: string, lease: SequencerLease): Promise<number> {
    const rows = await withClient(
      this.#pool,
      (c) =>
        c.query<QueueRow>(
          `select id, idempotency_key, action, payload, actor from keywarden_audit.sequencer_queue where chain_id = $1 and failed_code is null order by id limit ${this.#batch}`,
          [chainId],
        ),
      false,
    );
    const done: string[] = [];
    if (rows.rows.length > 0) {
      const keys = rows.rows.map((r) => r.idempotency_key);
      const present = await withClient(
        this.#pool,
        (c) =>
          c.query<{ idempotency_key: string }>(
            "select idempotency_key from keywarden_audit.entries where chain_id = $1 and idempotency_key = any($2::text[])",
            [chainId, keys],
          ),
        false,
      );
      const there = new Set(present.rows.map((r) => r.idempotency_key));
      for (const k of keys) if (!there.has(k)) this.#absent.add(`${chainId}\n${k}`);
    }
    await Promise.all(
      rows.rows.map(async (row) => {
        try {
          const a = JSON.parse(row.actor) as { kind: "host"; userId: string; id: string };
          await this.#log.appendEntry(chainId, {
            action: row.action,
            payload: JSON.parse(row.payload) as unknown,
            actor: mintIdentity({ kind: a.kind, userId: a.userId, id: a.id }),
            idempotencyKey: row.idempotency_key,
          });
          done.push(row.id);
        } catch (err) {
          if (isKeywardenError(err) && err.details?.fenced === true) this.#leases.delete(chainId);
          const code: KeywardenErrorCode | undefined = isKeywardenError(err) ? err.code : undefined;
          const transient =
            code === undefined ||
            (err as KeywardenError).details?.retryable === true ||
            TRANSIENT.has(code);
          /* Precondition: only an entry the sequencer refuses for itself (not for a fault) is marked failed, and only under the current lease. */
          if (!transient)
            await withClient(
              this.#pool,
              (c) =>
                c.query(
                  `update keywarden_audit.sequencer_queue set failed_code = $3, payload = 'null' where id = $2 and chain_id = $1
                   and exists (select 1 from keywarden_audit.sequencer_leases where chain_id = $1 and token = $4 and holder = $5)`,
                  [chainId, row.id, code, lease.token, lease.holder],
                ),
              false,
            ).catch(() => {});
        }
      }),
    );
    for (const r of rows.rows) this.#absent.delete(`${chainId}\n${r.idempotency_key}`);
    // Rows whose key was already sequenced (a retried enqueue) are not deleted by the append.
    if (done.length > 0)
      await withClient(
        this.#pool,
        (c) =>
          c.query("delete from keywarden_audit.sequencer_queue where id = any($1::bigint[])", [
            done,
          ]),
        false,
      );
    return rows.rows.length;
  }

  /** Settles this instance's waiters whose entries were sequenced or refused. */
  async #settle(chainId: string): Promise<void> {
    const list = [...(this.#waiters.get(chainId) ?? [])];
    if (list.length === 0) return;
    const keys = list.map((w) => w.key);
    const [ok, bad] = await withClient(
      this.#pool,
      async (c) => [
        await c.query<{ idempotency_key: string; seq: string; hash: string; body: string }>(
          "select idempotency_key, seq, hash, body from keywarden_audit.entries where chain_id = $1 and idempotency_key = any($2::text[])",
          [chainId, keys],
        ),
        await c.query<{ idempotency_key: string; failed_code: KeywardenErrorCode }>(
          "select idempotency_key, failed_code from keywarden_audit.sequencer_queue where chain_id = $1 and idempotency_key = any($2::text[]) and failed_code is not null",
          [chainId, keys],
        ),
      ],
      false,
    );
    const entries = new Map(ok.rows.map((r) => [r.idempotency_key, r]));
    const failed = new Map(bad.rows.map((r) => [r.idempotency_key, r.failed_code]));
    const now = Date.now();
    // Waiters that arrived while the queries ran stay in the list untouched.
    const current = this.#waiters.get(chainId) ?? [];
    const rest: Waiter[] = current.slice(list.length);
    for (const w of list) {
      const e = entries.get(w.key);
      const f = failed.get(w.key);
      if (e) w.resolve({ seq: Number(e.seq), hash: e.hash, body: e.body, idempotencyKey: w.key });
      else if (f) w.reject(new KeywardenError(f, "the sequencer refused this entry"));
      else if (now > w.deadline) w.reject(this.#timeout());
      else rest.push(w);
    }
    this.#waiters.set(chainId, rest);
  }

  async #pump(chainId: string): Promise<void> {
    try {
      for (;;) {
        let n = 0;
        try {
          const lease = await this.#ensureLease(chainId);
          // The holder keeps the lease while it has callers waiting and releases it when it stops.
          n = lease ? await this.#sequenceRound(chainId, lease) : 0;
          await this.#settle(chainId);
        } catch (err) {
          // A database fault: the queue is durable, so keep trying until each waiter's deadline.
          if (!isKeywardenError(err) || err.details?.retryable !== true) throw err;
          const list = this.#waiters.get(chainId) ?? [];
          const now = Date.now();
          for (const w of list) if (now > w.deadline) w.reject(err);
          this.#waiters.set(
            chainId,
            list.filter((w) => now <= w.deadline),
          );
          await sleep(this.#pollMs * 10);
        }
        if ((this.#waiters.get(chainId)?.length ?? 0) === 0) return;
        if (n === 0) await sleep(this.#pollMs);
      }
    } catch (err) {
      for (const w of this.#waiters.get(chainId) ?? []) w.reject(err);
      this.#waiters.delete(chainId);
    } finally {
      // Hand the lease on at once: nobody should wait for it to lapse while this process idles.
      // (A caller arriving meanwhile starts a new pump, which takes the lease once it is released.)
      const lease = this.#leases.get(chainId);
      this.#leases.delete(chainId);
      this.#pumps.delete(chainId);
      if (lease) await releaseLease(this.#pool, lease).catch(() => {});
    }
  }

  #timeout(): KeywardenError {
    return new KeywardenError(
      "ERR_AUDIT_STORE_UNAVAILABLE",
      "the entry is enqueued but was not sequenced in time; it will still be sequenced, retry with the same idempotency key",
      { details: { retryable: true, enqueued: true } },
    );
  }

  /** Waits for this instance's pending appends to settle and releases any lease it holds. */
  async close(): Promise<void> {
    this.#unobserve();
    await Promise.all([...this.#pumps.values()]);
    for (const lease of this.#leases.values())
      await releaseLease(this.#pool, lease).catch(() => {});
    this.#leases.clear();
  }
}
