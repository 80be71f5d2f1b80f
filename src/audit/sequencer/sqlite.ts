/**
 * The SQLite sequencer (opt-in): many processes append to one chain in one SQLite file through a
 * durable queue in that file, and one of them at a time, the holder of the chain's lease, turns
 * queued entries into chain entries with the ordinary {@link AuditLog} group commit. See
 * docs/audit-operations.md ("Sequencer", SQLite) for the invariants and failure semantics.
 *
 * - Enqueue: one short `BEGIN IMMEDIATE` transaction per process round (every append of this
 *   process waiting at that moment) inserts into `audit_sequencer_queue`, keyed by
 *   `(chain_id, idempotency_key)`; a retried enqueue inserts nothing, and a key already on the
 *   chain is answered from the same transaction. The lease holder's own appends skip the queue:
 *   they go straight into its next batch, after a check that neither the chain nor the queue
 *   holds their key (a key the queue holds is answered as the queue answers it).
 * - Lease: `audit_sequencer_leases` holds one row per chain with a fencing `token`. Taking a
 *   lapsed lease is a compare-and-set that increments the token; SQLite's write lock serialises
 *   it with every commit.
 * - Commit: each batch is one `BEGIN IMMEDIATE` transaction that checks the token and expiry,
 *   the head and the idempotency keys, writes entries and Merkle nodes and deletes the sequenced
 *   queue rows. A fenced-out sequencer's transaction writes nothing.
 * - Await: there is no NOTIFY; waiters poll every `pollMs` and read their entries back from the
 *   chain (and failure marks from the queue).
 *
 * better-sqlite3 is synchronous: a statement waiting for another process's write lock blocks the
 * event loop for at most `busyTimeoutMs` (short, by default 100 ms); past it the appender backs
 * off asynchronously and tries again until the caller's deadline, so `SQLITE_BUSY` never reaches
 * a caller.
 *
 * @packageDocumentation
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { isKeywardenError, KeywardenError, type KeywardenErrorCode } from "../../errors.js";
import { assertIdentity, requireIdentity } from "../../guard/index.js";
import { registerAuditQueue, unregisterAuditQueue } from "../../observability/gauges.js";
import {
  ActionCatalog,
  type AppendEntryInput,
  AuditLog,
  type TreeNodeBuilder,
} from "../core/index.js";
import type { AppendRequest, AppendResult, AuditStore, TreeNode } from "../storage/index.js";
import {
  mapSqliteError,
  openSqliteAuditStore,
  openSqliteDatabase,
  type SqliteDatabaseLike,
  type SqliteStatementLike,
} from "../storage/sqlite/index.js";
import {
  actorText,
  fencedOut,
  intOption,
  isRetryable,
  isTransient,
  notQueuedTimeout,
  now,
  type PurgeFailedOptions,
  queuedTimeout,
  readQueueRow,
  type SequencedEntry,
  type SequencerLease,
  sleep,
  WaiterBook,
} from "./shared.js";

/** The host's clock in ms, read by SQLite inside the statement (one file lives on one host). */
const NOW = "cast(unixepoch('subsec') * 1000 as integer)";

/** Options of {@link SqliteSequencedAppender.open}. */
export interface SqliteSequencerOptions {
  /**
   * The database file (opened on a connection of the appender's own; better-sqlite3 is loaded
   * lazily), or an open better-sqlite3 `Database`, which the appender then does not close. The
   * sequencer tables are created if missing (as `openSqliteAuditStore({ sequencer: true })`).
   */
  readonly database: string | SqliteDatabaseLike;
  /** Merkle tree maintenance for the entries this process sequences (as in {@link AuditLog}). */
  readonly treeNodes?: TreeNodeBuilder | undefined;
  /** Accepted actions; defaults to the built-in catalog. Checked at enqueue and at sequencing. */
  readonly actions?: ActionCatalog | undefined;
  /** As in `openSqliteAuditStore` (default `FULL`: a committed enqueue survives power loss). */
  readonly synchronous?: "FULL" | "NORMAL" | undefined;
  /**
   * The longest one statement blocks the event loop waiting for another process's write lock,
   * in ms (default 100; 0..5000). Past it the appender backs off and retries asynchronously.
   */
  readonly busyTimeoutMs?: number | undefined;
  /** How long a taken lease lasts without renewal, in ms (default 2000; 200..60000). */
  readonly leaseMs?: number | undefined;
  /** Most queued entries sequenced in one round (default 512; 1..5000). */
  readonly batch?: number | undefined;
  /** How often a waiter looks for its entry, and a holder for queued entries, in ms (default 5; 1..1000). */
  readonly pollMs?: number | undefined;
  /** How long `append` waits for its entry to be sequenced, in ms (default 30000; 100..3600000). */
  readonly timeoutMs?: number | undefined;
}

type Held = SequencerLease & { renewedAt: number };

/** This process's view of one chain. */
interface Chain {
  readonly id: string;
  readonly waiters: WaiterBook;
  pump: Promise<void> | undefined;
  lease: Held | undefined;
  /** Ends the pump's nap (a new caller of this process). */
  wake: (() => void) | undefined;
  /** The lease holder's own entries for its next batch (they skip the queue). */
  direct: Direct[];
}

/** An append of the lease holder's own process, sequenced without a queue row. */
type Direct = {
  readonly key: string;
  readonly action: string;
  readonly payload: string;
  readonly actor: string;
  readonly deadline: number;
};

type Enqueued = {
  readonly chainId: string;
  readonly key: string;
  readonly action: string;
  readonly payload: string;
  readonly actor: string;
  readonly deadline: number;
  readonly done: (found: SequencedEntry | undefined) => void;
  readonly fail: (e: unknown) => void;
};

type QueueRow = {
  id: number;
  idempotency_key: string;
  action: string;
  payload: string;
  actor: string;
  present: number;
};

type EntryRow = { seq: number; hash: string; body: string; idempotency_key: string };

/** A busy/locked database: nothing was written, try again. */
function isBusy(err: unknown): boolean {
  const code = isKeywardenError(err) ? err.details?.driverCode : undefined;
  return (
    typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
  );
}

/** Runs `fn` mapping driver errors to keywarden's. */
function mapped<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapSqliteError(err);
  }
}

const conflict = (message: string) => new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", message);

const prepared = new WeakMap<SqliteDatabaseLike, ReturnType<typeof prepareOn>>();

/** The prepared statements and transactions of one connection (prepared once per connection). */
function prepare(db: SqliteDatabaseLike): ReturnType<typeof prepareOn> {
  let sql = prepared.get(db);
  if (!sql) {
    sql = prepareOn(db);
    prepared.set(db, sql);
  }
  return sql;
}

function prepareOn(db: SqliteDatabaseLike) {
  const q = (sql: string): SqliteStatementLike => db.prepare(sql);
  const entryByKey = q(
    "select seq, hash, body, idempotency_key from audit_entries where chain_id = ? and idempotency_key = ?",
  );
  const head = q("select seq from audit_entries where chain_id = ? order by seq desc limit 1");
  const insertQueued = q(
    `insert into audit_sequencer_queue (chain_id, idempotency_key, action, payload, actor, enqueued_at)
     values (?, ?, ?, ?, ?, ${NOW}) on conflict (chain_id, idempotency_key) do nothing`,
  );
  const leaseOk = q(
    `select 1 as ok from audit_sequencer_leases
     where chain_id = ? and token = ? and holder = ? and expires_at > ${NOW}`,
  );
  const insertEntry = q(
    "insert into audit_entries (chain_id, seq, hash, body, payload, idempotency_key) values (?, ?, ?, ?, ?, ?)",
  );
  const upsertNode = q(
    "insert into audit_tree_nodes (chain_id, level, idx, hash) values (?, ?, ?, ?) on conflict (chain_id, level, idx) do update set hash = excluded.hash",
  );
  const mark = q(
    `update audit_sequencer_queue set failed_code = ?, failed_at = ${NOW}, payload = 'null'
     where chain_id = ? and id = ?`,
  );
  const dequeue = q("delete from audit_sequencer_queue where chain_id = ? and idempotency_key = ?");
  const take = q(
    `insert into audit_sequencer_leases as l (chain_id, token, holder, expires_at)
     values (?, 1, ?, ${NOW} + ?)
     on conflict (chain_id) do update set token = l.token + 1, holder = excluded.holder,
       expires_at = excluded.expires_at
     where l.expires_at <= ${NOW}
     returning token`,
  );

  const enqueue = db.transaction((rows: readonly Enqueued[]) => {
    const found = new Map<string, SequencedEntry>();
    for (const r of rows) {
      const e = entryByKey.get(r.chainId, r.key) as EntryRow | undefined;
      if (e)
        found.set(`${r.chainId}\n${r.key}`, {
          seq: e.seq,
          hash: e.hash,
          body: e.body,
          idempotencyKey: r.key,
        });
      else insertQueued.run(r.chainId, r.key, r.action, r.payload, r.actor);
    }
    return found;
  });

  const acquire = db.transaction(
    (chainId: string, holder: string, leaseMs: number): number | undefined =>
      (take.get(chainId, holder, leaseMs) as { token: number } | undefined)?.token,
  );

  const fencedCommit = db.transaction(
    (lease: SequencerLease, request: AppendRequest, alsoDequeue: readonly string[]) => {
      const { chainId, entries } = request;
      const ok = leaseOk.get(chainId, lease.token, lease.holder) !== undefined;
      /* Precondition: a SQLite sequencer commits only while its fencing token is the chain's current, unexpired one, checked inside the commit's write transaction. */
      if (!ok || chainId !== lease.chainId) throw fencedOut();
      const h = head.get(chainId) as { seq: number } | undefined;
      const size = h ? h.seq + 1 : 0;
      if (request.expectedSize !== size) throw conflict("chain size changed");
      const keys = new Set<string>();
      for (const e of entries) {
        if (e.idempotencyKey === undefined) continue;
        if (keys.has(e.idempotencyKey) || entryByKey.get(chainId, e.idempotencyKey) !== undefined)
          throw conflict("idempotency key already used");
        keys.add(e.idempotencyKey);
      }
      const last = entries[entries.length - 1];
      if (!last) throw new KeywardenError("ERR_INVALID_ARGUMENT", "an append needs entries");
      for (const e of entries)
        insertEntry.run(chainId, e.seq, e.hash, e.body, e.payload, e.idempotencyKey ?? null);
      const nodes = new Map<string, TreeNode>();
      for (const n of request.treeNodes ?? []) nodes.set(`${n.level}/${n.index}`, n);
      for (const n of nodes.values())
        upsertNode.run(chainId, n.level, n.index, Buffer.from(n.hash));
      for (const k of [...keys, ...alsoDequeue]) dequeue.run(chainId, k);
      return { size: size + entries.length, headHash: last.hash };
    },
  );

  return {
    enqueue,
    acquire,
    fencedCommit,
    leaseState: q(
      `select holder, token, expires_at > ${NOW} as live from audit_sequencer_leases where chain_id = ?`,
    ),
    renew: q(
      `update audit_sequencer_leases set expires_at = ${NOW} + ?
       where chain_id = ? and token = ? and holder = ? and expires_at > ${NOW}`,
    ),
    release: q(
      `update audit_sequencer_leases set expires_at = ${NOW} where chain_id = ? and token = ? and holder = ?`,
    ),
    readQueue: q(
      `select q.id, q.idempotency_key, q.action, q.payload, q.actor,
         exists (select 1 from audit_entries e
           where e.chain_id = q.chain_id and e.idempotency_key = q.idempotency_key) as present
       from audit_sequencer_queue q
       where q.chain_id = ? and q.failed_code is null order by q.id limit ?`,
    ),
    markFailed: db.transaction(
      (lease: SequencerLease, ids: readonly number[], code: KeywardenErrorCode): number => {
        if (leaseOk.get(lease.chainId, lease.token, lease.holder) === undefined) return 0;
        let n = 0;
        for (const id of ids) n += mark.run(code, lease.chainId, id).changes;
        return n;
      },
    ),
    dequeuePresent: db.transaction((lease: SequencerLease, keys: readonly string[]) => {
      if (leaseOk.get(lease.chainId, lease.token, lease.holder) === undefined) return;
      for (const k of keys)
        if (entryByKey.get(lease.chainId, k) !== undefined) dequeue.run(lease.chainId, k);
    }),
    directState: q(
      `select exists (select 1 from audit_entries where chain_id = @chain and idempotency_key = @key) as present,
         (select coalesce(failed_code, 'pending') from audit_sequencer_queue
           where chain_id = @chain and idempotency_key = @key) as queued`,
    ),
    settle: q(
      `select idempotency_key, seq, hash, body, null as failed_code from audit_entries
         where chain_id = @chain and idempotency_key in (select value from json_each(@keys))
       union all
       select idempotency_key, null, null, null, failed_code from audit_sequencer_queue
         where chain_id = @chain and idempotency_key in (select value from json_each(@keys)) and failed_code is not null`,
    ),
    queuedChains: q(
      "select distinct chain_id from audit_sequencer_queue where failed_code is null order by chain_id",
    ),
    purge: q(
      `delete from audit_sequencer_queue where failed_code is not null and failed_at <= ${NOW} - @older
       and (@chain is null or chain_id = @chain)`,
    ),
    depth: q(
      `select count(*) filter (where failed_code is null) as pending,
         count(*) filter (where failed_code is not null) as failed,
         coalesce(${NOW} - min(enqueued_at) filter (where failed_code is null), 0) as age
       from audit_sequencer_queue`,
    ),
  };
}

/**
 * Takes the chain's lease in the SQLite file if it is free or lapsed, incrementing its fencing
 * token (a compare-and-set under the write lock). Returns the lease, or `undefined` while another
 * holder's lease is unexpired.
 *
 * @example
 * ```ts
 * const lease = acquireSqliteSequencerLease(db, "user:alice", "ops-sequencer", 2000);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` (`details.retryable`) when the file is
 * locked past its busy timeout or cannot be written.
 */
export function acquireSqliteSequencerLease(
  db: SqliteDatabaseLike,
  chainId: string,
  holder: string,
  leaseMs: number,
): SequencerLease | undefined {
  const token = mapped(() => prepare(db).acquire.immediate(chainId, holder, leaseMs));
  return token === undefined ? undefined : { chainId, token, holder };
}

/**
 * One fenced append transaction on an SQLite file (`BEGIN IMMEDIATE`): checks that `lease` is the
 * chain's current, unexpired token, the head and the idempotency keys, then writes `request`'s
 * entries and tree nodes and deletes the queue rows of its keys (and of `alsoDequeue`). A stale
 * lease writes nothing.
 *
 * @example
 * ```ts
 * const r = fencedSqliteAppend(db, lease, { chainId, expectedSize, entries });
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` with `details.fenced` when the lease is
 * not current; `ERR_AUDIT_APPEND_CONFLICT` when the chain moved or a key is already used;
 * `ERR_AUDIT_STORE_UNAVAILABLE` (`details.retryable`) when the file stays locked.
 */
export function fencedSqliteAppend(
  db: SqliteDatabaseLike,
  lease: SequencerLease,
  request: AppendRequest,
  alsoDequeue: readonly string[] = [],
): AppendResult {
  return mapped(() => prepare(db).fencedCommit.immediate(lease, request, alsoDequeue));
}

/**
 * Appends to SQLite audit chains through the sequencer queue, so any number of processes can
 * write one chain in one file without losing races (`ERR_AUDIT_APPEND_CONTENDED`). Each instance
 * may also act as the chain's sequencer: while it has writers waiting and the lease has lapsed,
 * it takes it; while it holds it, it drains the queue in batches (everyone's entries, not only its
 * own) polling every `pollMs`, and after a short idle time it releases the lease.
 *
 * @example
 * ```ts
 * const appender = await SqliteSequencedAppender.open({ database: "/var/lib/bot/audit.db", treeNodes: transparency.treeNodes });
 * const e = await appender.append("user:alice", { action: "order.intent", payload, actor, idempotencyKey: orderId });
 * await appender.close();
 * ```
 * @throws {KeywardenError} see {@link SqliteSequencedAppender.append}.
 */
export class SqliteSequencedAppender {
  readonly #db: SqliteDatabaseLike;
  readonly #owned: boolean;
  readonly #sql: ReturnType<typeof prepare>;
  readonly #actions: ActionCatalog;
  readonly #leaseMs: number;
  readonly #batch: number;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  /** How long a holder with nothing to do keeps its lease, polling for enqueues. */
  readonly #idleMs: number;
  /** This instance's holder id: host, pid and a random part (a restarted process is a new holder). */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  readonly #chains = new Map<string, Chain>();
  readonly #log: AuditLog;
  /** Keys of the current round already on the chain, per chain: their queue rows go with the commit. */
  readonly #dequeue = new Map<string, string[]>();
  #buffer: Enqueued[] = [];
  #flushing = false;
  #closing = false;

  /**
   * Opens the appender on `options.database`, creating the sequencer tables if missing.
   *
   * @example
   * ```ts
   * const appender = await SqliteSequencedAppender.open({ database: "audit.db" });
   * ```
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on invalid options; `ERR_NOT_SUPPORTED`
   * without better-sqlite3; `ERR_AUDIT_STORE_CORRUPT` / `ERR_AUDIT_STORE_UNAVAILABLE` as
   * `openSqliteAuditStore`.
   */
  static async open(options: SqliteSequencerOptions): Promise<SqliteSequencedAppender> {
    const database = options?.database;
    if (typeof database !== "string" && typeof database?.prepare !== "function")
      throw new KeywardenError(
        "ERR_INVALID_ARGUMENT",
        "database must be a path or a better-sqlite3 Database",
      );
    const busy = intOption(options.busyTimeoutMs, 100, 0, 5000, "busyTimeoutMs");
    const limits = {
      leaseMs: intOption(options.leaseMs, 2000, 200, 60_000, "leaseMs"),
      batch: intOption(options.batch, 512, 1, 5000, "batch"),
      pollMs: intOption(options.pollMs, 5, 1, 1000, "pollMs"),
      timeoutMs: intOption(options.timeoutMs, 30_000, 100, 3_600_000, "timeoutMs"),
    };
    let db: SqliteDatabaseLike;
    try {
      db = await openSqliteDatabase(database, false);
    } catch (err) {
      throw mapSqliteError(err);
    }
    const owned = typeof database === "string";
    try {
      // Opening (and creating the tables) may wait longer for the lock than an append would.
      const store = await openSqliteAuditStore({
        database: db,
        synchronous: options.synchronous ?? "FULL",
        busyTimeoutMs: Math.max(busy, 5000),
        groupCommit: false,
        sequencer: true,
      });
      db.pragma(`busy_timeout = ${busy}`);
      return new SqliteSequencedAppender(db, owned, store, options, limits);
    } catch (err) {
      if (owned && db.open) db.close();
      throw err;
    }
  }

  private constructor(
    db: SqliteDatabaseLike,
    owned: boolean,
    base: AuditStore,
    options: SqliteSequencerOptions,
    limits: { leaseMs: number; batch: number; pollMs: number; timeoutMs: number },
  ) {
    this.#db = db;
    this.#owned = owned;
    this.#sql = prepare(db);
    this.#actions = options.actions ?? new ActionCatalog();
    this.#leaseMs = limits.leaseMs;
    this.#batch = limits.batch;
    this.#pollMs = limits.pollMs;
    this.#timeoutMs = limits.timeoutMs;
    this.#idleMs = Math.min(100, Math.floor(this.#leaseMs / 4));
    const store: AuditStore = {
      ...base,
      append: (request) => {
        const lease = this.#chains.get(request.chainId)?.lease;
        if (!lease) return Promise.reject(fencedOut());
        const extra = this.#dequeue.get(request.chainId) ?? [];
        this.#dequeue.delete(request.chainId);
        try {
          return Promise.resolve(
            mapped(() => this.#sql.fencedCommit.immediate(lease, request, extra)),
          );
        } catch (err) {
          if (isKeywardenError(err) && err.details?.fenced === true) this.#drop(lease);
          return Promise.reject(err);
        }
      },
    };
    this.#log = new AuditLog({
      store,
      actions: this.#actions,
      maxAttempts: 4,
      ...(options.treeNodes ? { treeNodes: options.treeNodes } : {}),
    });
    registerAuditQueue(this, {
      queue: "sequencer",
      waiting: () => {
        let n = 0;
        for (const chain of this.#chains.values()) n += chain.waiters.count();
        return n;
      },
      database: db,
      readDurable: async () => this.queueDepth(),
    });
  }

  /**
   * Enqueues one entry (committed before this waits) and resolves with it once a sequencer has
   * committed it to the chain. Without `idempotencyKey` a random one is used; with one, a retry
   * returns the original entry and never writes twice. The entry's timestamp is the sequencing
   * time. Never fails with `ERR_AUDIT_APPEND_CONTENDED`, however many processes write.
   *
   * @example
   * ```ts
   * const e = await appender.append("user:alice", { action: "order.intent", payload, actor, idempotencyKey: orderId });
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_UNKNOWN_ACTION` / `ERR_AUDIT_INVALID_ENTRY` /
   * `ERR_GUARD_UNAUTHENTICATED` before enqueueing; the sequencer's error code when it refused the
   * entry (`ERR_AUDIT_INVALID_ENTRY` for a queue row it could not read);
   * `ERR_AUDIT_STORE_UNAVAILABLE` with `details.retryable` after `timeoutMs`:
   * `details.enqueued: true` when the entry is durable in the queue and will still be sequenced,
   * `details.enqueued: false` when the file stayed locked and nothing was written (retry with the
   * same key in both cases), and without `enqueued` on other database faults.
   */
  async append(chainId: string, input: AppendEntryInput): Promise<SequencedEntry> {
    const identity = input?.actor ?? requireIdentity();
    assertIdentity(identity);
    const kind = chainId === "operator" ? "operator" : "user";
    this.#actions.validate(kind, input.action, input.payload);
    if (this.#closing)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "this sequenced appender is closed");
    const key = input.idempotencyKey ?? randomUUID();
    const chain = this.#chain(chainId);
    const deadline = now() + this.#timeoutMs;
    // Waiting before the enqueue commits: a sequencer may commit the entry before we look.
    const settled = chain.waiters.wait(key, deadline);
    const item = {
      key,
      action: input.action,
      payload: JSON.stringify(input.payload),
      actor: actorText(identity),
      deadline,
    };
    if (chain.lease && chain.pump) {
      // The holder's own entry skips the queue: its one durable commit is the (fenced) batch.
      chain.direct.push(item);
      chain.wake?.();
      return settled;
    }
    return this.#enqueue(chain, item, settled);
  }

  /** Hands `item` to the group enqueue; its caller's answer is `settled`. */
  async #enqueue(
    chain: Chain,
    item: Direct,
    settled: Promise<SequencedEntry>,
  ): Promise<SequencedEntry> {
    const { key, deadline } = item;
    const chainId = chain.id;
    let found: SequencedEntry | undefined;
    try {
      found = await new Promise<SequencedEntry | undefined>((done, fail) => {
        this.#buffer.push({ chainId, ...item, deadline, done, fail });
        if (!this.#flushing) {
          this.#flushing = true;
          setImmediate(() => void this.#flush());
        }
      });
    } catch (err) {
      chain.waiters.settle(key, undefined, err);
      this.#forget(chain);
      return settled;
    }
    if (found) chain.waiters.settle(key, found);
    this.#startPump(chain);
    return settled;
  }

  /** Group enqueue: every append waiting at that moment goes into one committed transaction. */
  async #flush(): Promise<void> {
    try {
      while (this.#buffer.length > 0) {
        let rows = this.#buffer.splice(0, 1000);
        for (;;) {
          try {
            const found = this.#sql.enqueue.immediate(rows);
            for (const x of rows) x.done(found.get(`${x.chainId}\n${x.key}`));
            break;
          } catch (raw) {
            const err = mapSqliteError(raw);
            const t = now();
            const late = rows.filter((x) => t > x.deadline);
            rows = rows.filter((x) => t <= x.deadline);
            /* Precondition: a SQLite enqueue that finds the file locked never fails its caller for contention: it is retried until the caller's deadline, then reported as not enqueued. */
            for (const x of late) x.fail(isBusy(err) ? notQueuedTimeout() : err);
            if (rows.length === 0) break;
            if (!isRetryable(err)) {
              for (const x of rows) x.fail(err);
              break;
            }
            await sleep(1 + Math.random() * this.#pollMs * 2);
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #chain(chainId: string): Chain {
    let chain = this.#chains.get(chainId);
    if (!chain) {
      chain = {
        id: chainId,
        waiters: new WaiterBook(),
        pump: undefined,
        lease: undefined,
        wake: undefined,
        direct: [],
      };
      this.#chains.set(chainId, chain);
    }
    return chain;
  }

  #forget(chain: Chain): void {
    if (!chain.pump && chain.waiters.size === 0 && !chain.lease) this.#chains.delete(chain.id);
  }

  #startPump(chain: Chain): void {
    if (chain.pump) {
      chain.wake?.();
      return;
    }
    chain.pump = this.#pump(chain).finally(() => {
      chain.pump = undefined;
      if (chain.waiters.size > 0 && !this.#closing) this.#startPump(chain);
      else this.#forget(chain);
    });
  }

  /** Forgets a lease found fenced out. */
  #drop(lease: SequencerLease): void {
    const chain = this.#chains.get(lease.chainId);
    if (chain?.lease?.token === lease.token) chain.lease = undefined;
  }

  /** Takes the chain's lease when it lapsed (one read first, so a live lease costs no write). */
  #tryLease(chain: Chain): void {
    const state = this.#sql.leaseState.get(chain.id) as { live: number } | undefined;
    if (state?.live === 1) return;
    const token = mapped(() => this.#sql.acquire.immediate(chain.id, this.holder, this.#leaseMs));
    if (token !== undefined)
      chain.lease = { chainId: chain.id, token, holder: this.holder, renewedAt: now() };
  }

  /** Renews the held lease when a third of it has passed; false (and dropped) when it was lost. */
  #renewIfDue(chain: Chain): boolean {
    const held = chain.lease;
    if (!held) return false;
    if (now() - held.renewedAt < this.#leaseMs / 3) return true;
    const at = now();
    const r = mapped(() =>
      this.#db
        .transaction(() =>
          this.#sql.renew.run(this.#leaseMs, held.chainId, held.token, held.holder),
        )
        .immediate(),
    );
    if (r.changes === 1) {
      held.renewedAt = at;
      return true;
    }
    if (chain.lease === held) chain.lease = undefined;
    return false;
  }

  #release(lease: SequencerLease): void {
    try {
      this.#db
        .transaction(() => this.#sql.release.run(lease.chainId, lease.token, lease.holder))
        .immediate();
    } catch {
      // Best effort: an unreleased lease lapses after leaseMs.
    }
  }

  /** Sends the holder's own entries that missed their batch through the queue instead. */
  #rerouteDirect(chain: Chain): void {
    for (const d of chain.direct.splice(0)) {
      // A caller past its deadline was told its entry would still be sequenced: enqueue it
      // anyway. The waiting caller (if any) is already registered for its key.
      void this.#enqueue(chain, d, Promise.resolve(undefined as never)).catch(() => {});
    }
  }

  /**
   * The holder's own entries for this round: those whose key the chain or the queue already
   * holds are answered as the queue would answer them; the rest become entries of the batch.
   */
  #directRound(
    chain: Chain,
    direct: readonly Direct[],
  ): Array<{ d: Direct; input: AppendEntryInput }> {
    const out: Array<{ d: Direct; input: AppendEntryInput }> = [];
    const late: Direct[] = [];
    const keys = new Set<string>();
    for (const d of direct) {
      if (keys.has(d.key)) continue; // a second caller of one key waits for the first's entry
      keys.add(d.key);
      if (!chain.waiters.has(d.key)) {
        late.push(d);
        continue;
      }
      const st = mapped(
        () =>
          this.#sql.directState.get({ chain: chain.id, key: d.key }) as {
            present: number;
            queued: string | null;
          },
      );
      // On the chain already, or another process's queued row: read back after the round.
      if (st.present === 1 || st.queued === "pending") continue;
      /* Precondition: the SQLite holder answers its own append of a key the queue holds as the queue does: refused while a refused row is kept, else the queued row is the one sequenced. */
      if (st.queued !== null) {
        chain.waiters.settle(
          d.key,
          undefined,
          new KeywardenError(st.queued as KeywardenErrorCode, "the sequencer refused this entry"),
        );
        continue;
      }
      const input = readQueueRow({ idempotency_key: d.key, ...d });
      if (input) out.push({ d, input });
      else
        chain.waiters.settle(
          d.key,
          undefined,
          new KeywardenError("ERR_AUDIT_INVALID_ENTRY", "unreadable entry"),
        );
    }
    if (late.length > 0) {
      chain.direct.push(...late);
      this.#rerouteDirect(chain);
    }
    return out;
  }

  /**
   * Sequences up to `batch` queued entries and the holder's own direct entries in one commit;
   * returns how many it read.
   */
  async #sequenceRound(chain: Chain, lease: Held): Promise<number> {
    const chainId = chain.id;
    const direct = chain.direct.splice(0, this.#batch);
    let rows: QueueRow[];
    let mine: Array<{ d: Direct; input: AppendEntryInput }>;
    try {
      rows = mapped(() => this.#sql.readQueue.all(chainId, this.#batch) as QueueRow[]);
      mine = this.#directRound(chain, direct);
    } catch (err) {
      chain.direct.unshift(...direct);
      throw err;
    }
    if (rows.length === 0 && mine.length === 0) return direct.length;
    const present = rows.filter((r) => r.present === 1).map((r) => r.idempotency_key);
    const fresh: Array<{ row?: QueueRow; d?: Direct; input: AppendEntryInput }> = [];
    const unreadable: number[] = [];
    for (const row of rows) {
      if (row.present === 1) continue;
      const input = readQueueRow(row);
      if (input) fresh.push({ row, input });
      else unreadable.push(row.id);
    }
    const seen = new Set(fresh.map((f) => f.input.idempotencyKey));
    for (const m of mine) if (!seen.has(m.d.key)) fresh.push(m);
    /* Precondition: a SQLite queue row the sequencer cannot read is marked failed for its waiter, and the rows behind it are still sequenced. */
    if (unreadable.length > 0)
      mapped(() => this.#sql.markFailed.immediate(lease, unreadable, "ERR_AUDIT_INVALID_ENTRY"));
    if (fresh.length === 0) {
      if (present.length > 0) mapped(() => this.#sql.dequeuePresent.immediate(lease, present));
      return rows.length;
    }
    this.#dequeue.set(chainId, present);
    try {
      // One batch, one commit; a refusal of one row fails the batch, so then row by row.
      const done = await this.#log
        .appendEntries(
          chainId,
          fresh.map((f) => f.input),
        )
        .catch(async (err: unknown) => {
          if (isTransient(err)) throw err;
          const out: Array<Awaited<ReturnType<AuditLog["appendEntry"]>> | undefined> = [];
          for (const f of fresh)
            out.push(
              await this.#log.appendEntry(chainId, f.input).catch((e: unknown) => {
                if (isTransient(e)) throw e;
                if (!f.row) {
                  // A direct entry has no queue row: its caller is told at once.
                  chain.waiters.settle(f.input.idempotencyKey as string, undefined, e);
                  return undefined;
                }
                const code = isKeywardenError(e) ? e.code : "ERR_AUDIT_INVALID_ENTRY";
                const id = f.row.id;
                mapped(() => this.#sql.markFailed.immediate(lease, [id], code));
                return undefined;
              }),
            );
          return out;
        });
      fresh.forEach((f, i) => {
        const e = done[i];
        const key = f.input.idempotencyKey as string;
        if (e)
          chain.waiters.settle(key, {
            seq: e.seq,
            hash: e.hash,
            body: e.body,
            idempotencyKey: key,
          });
      });
    } catch (err) {
      // Not written: the direct entries go round again (their keys are checked), or through the
      // queue when the lease was lost.
      chain.direct.unshift(
        ...fresh.flatMap((f) => (f.d && chain.waiters.has(f.d.key) ? [f.d] : [])),
      );
      if (!chain.lease) this.#rerouteDirect(chain);
      if (!isTransient(err)) throw err;
      // Rows stay queued for the next round (this holder's, or the next one's).
      if (isRetryable(err) && !(isKeywardenError(err) && err.details?.fenced === true)) throw err;
    } finally {
      this.#dequeue.delete(chainId);
    }
    return rows.length + direct.length;
  }

  /** Reads this process's waiting keys back from the chain (and failure marks from the queue). */
  #settle(chain: Chain): void {
    const keys = chain.waiters.keys();
    if (keys.length === 0) return;
    const rows = mapped(
      () =>
        this.#sql.settle.all({ chain: chain.id, keys: JSON.stringify(keys) }) as Array<{
          idempotency_key: string;
          seq: number | null;
          hash: string;
          body: string;
          failed_code: KeywardenErrorCode | null;
        }>,
    );
    for (const e of rows) {
      if (e.seq !== null)
        chain.waiters.settle(e.idempotency_key, {
          seq: e.seq,
          hash: e.hash,
          body: e.body,
          idempotencyKey: e.idempotency_key,
        });
      else if (e.failed_code)
        chain.waiters.settle(
          e.idempotency_key,
          undefined,
          new KeywardenError(e.failed_code, "the sequencer refused this entry"),
        );
    }
  }

  /** Sleeps until woken (a new caller of this process) or `ms` passes. */
  #nap(chain: Chain, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        chain.wake = undefined;
        resolve();
      }, ms);
      chain.wake = () => {
        clearTimeout(timer);
        chain.wake = undefined;
        resolve();
      };
    });
  }

  async #pump(chain: Chain): Promise<void> {
    let idleSince = now();
    try {
      for (;;) {
        let worked = false;
        // The lease was lost or let go: the holder's own entries go through the queue instead.
        if (!chain.lease && chain.direct.length > 0) this.#rerouteDirect(chain);
        try {
          if (!chain.lease && chain.waiters.size > 0) {
            this.#tryLease(chain);
            if (chain.lease) idleSince = now();
          }
          if (chain.lease && this.#renewIfDue(chain)) {
            const n = await this.#sequenceRound(chain, chain.lease);
            if (n > 0) {
              worked = true;
              idleSince = now();
            }
          }
          if (chain.waiters.size > 0) this.#settle(chain);
        } catch (err) {
          // A database fault (e.g. the file stayed locked): the queue is durable, so keep trying
          // until each waiter's deadline, which then says the entry is queued.
          if (!isRetryable(err)) throw err;
          chain.waiters.expire(now(), queuedTimeout);
          if (chain.waiters.size === 0 && !chain.lease) return;
          await sleep(1 + Math.random() * this.#pollMs * 2);
          continue;
        }
        chain.waiters.expire(now(), queuedTimeout);
        if (worked) {
          await new Promise<void>((r) => setImmediate(r)); // let this process's enqueues in
          continue;
        }
        if (chain.lease) {
          if (chain.waiters.size === 0 && (this.#closing || now() - idleSince > this.#idleMs))
            return; // the finally releases it
        } else if (chain.waiters.size === 0) return;
        await this.#nap(chain, this.#pollMs);
      }
    } catch (err) {
      chain.waiters.failAll(err);
    } finally {
      // Hand the lease on at once: nobody should wait for it to lapse while this process idles.
      const lease = chain.lease;
      chain.lease = undefined;
      this.#rerouteDirect(chain);
      if (lease) this.#release(lease);
    }
  }

  /**
   * Runs as the chain's sequencer until its queue is empty (e.g. from a dedicated
   * `keywarden audit sequencer` process, or after writers died with entries queued). Waits for
   * a live lease of another holder to be released or to lapse.
   *
   * @example
   * ```ts
   * await appender.drain("user:alice");
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database faults other than a
   * locked file (which is retried).
   */
  async drain(chainId: string): Promise<void> {
    const chain = this.#chain(chainId);
    try {
      for (;;) {
        try {
          if (!chain.lease) {
            this.#tryLease(chain);
            if (!chain.lease) {
              await sleep(this.#pollMs * 10);
              continue;
            }
          }
          if (!this.#renewIfDue(chain)) continue;
          const lease = chain.lease as Held;
          if ((await this.#sequenceRound(chain, lease)) === 0) {
            if (chain.pump) return; // the pump holds the lease on and releases it
            chain.lease = undefined;
            this.#release(lease);
            return;
          }
        } catch (err) {
          if (!isBusy(err) && !(isKeywardenError(err) && err.details?.fenced === true)) throw err;
          await sleep(1 + Math.random() * this.#pollMs * 2);
        }
      }
    } finally {
      this.#forget(chain);
    }
  }

  /**
   * Sequences every chain that has queued entries, one after the other, and returns their ids (a
   * dedicated sequencer process, `keywarden audit sequencer --store sqlite:PATH`, calls this in a
   * loop). Rows marked failed are left alone.
   *
   * @example
   * ```ts
   * const chains = await appender.drainQueued();
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database faults.
   */
  async drainQueued(): Promise<string[]> {
    const chains = mapped(() =>
      (this.#sql.queuedChains.all() as Array<{ chain_id: string }>).map((r) => r.chain_id),
    );
    for (const chainId of chains) await this.drain(chainId);
    return chains;
  }

  /**
   * Deletes queue rows the sequencer marked failed (their payload is already cleared), by
   * default those failed ten minutes ago or earlier, so a waiting writer still learns the refusal.
   * A later append with a purged row's key is enqueued afresh.
   *
   * @example
   * ```ts
   * const { purged } = await appender.purgeFailed({ olderThanMs: 24 * 3600_000 });
   * ```
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on bad options; `ERR_AUDIT_STORE_UNAVAILABLE`
   * on database faults.
   */
  async purgeFailed(options: PurgeFailedOptions = {}): Promise<{ purged: number }> {
    const older = intOption(
      options.olderThanMs,
      600_000,
      0,
      Number.MAX_SAFE_INTEGER,
      "olderThanMs",
    );
    if (options.chainId !== undefined && typeof options.chainId !== "string")
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "chainId must be a string");
    for (let attempt = 0; ; attempt++) {
      try {
        const r = mapped(() =>
          this.#db
            .transaction(() => this.#sql.purge.run({ older, chain: options.chainId ?? null }))
            .immediate(),
        );
        return { purged: r.changes };
      } catch (err) {
        if (!isBusy(err) || attempt > 100) throw err;
        await sleep(1 + Math.random() * this.#pollMs * 2);
      }
    }
  }

  /**
   * The file's sequencer queue (all chains): pending and failed entries, and the oldest pending
   * entry's age in seconds (also read by the `keywarden.audit.queue.*` gauges).
   *
   * @example
   * ```ts
   * const { pending, failed } = appender.queueDepth();
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` when the file cannot be read.
   */
  queueDepth(): { pending: number; failed: number; oldestPendingSeconds: number } {
    const row = mapped(
      () => this.#sql.depth.get() as { pending: number; failed: number; age: number },
    );
    return {
      pending: row.pending,
      failed: row.failed,
      oldestPendingSeconds: Math.max(0, row.age / 1000),
    };
  }

  /**
   * Waits for this instance's pending appends to settle, releases any lease it holds and closes
   * the connection it opened. Appends after `close()` are refused.
   *
   * @example
   * ```ts
   * await appender.close();
   * ```
   * @throws never.
   */
  async close(): Promise<void> {
    unregisterAuditQueue(this);
    this.#closing = true;
    for (const chain of this.#chains.values()) chain.wake?.();
    while ([...this.#chains.values()].some((c) => c.pump))
      await Promise.all([...this.#chains.values()].map((c) => c.pump));
    for (const chain of this.#chains.values()) {
      const lease = chain.lease;
      chain.lease = undefined;
      if (lease) this.#release(lease);
    }
    if (this.#owned && this.#db.open) this.#db.close();
  }
}
