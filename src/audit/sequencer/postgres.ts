/**
 * The PostgreSQL sequencer (opt-in): many processes append to one chain through a durable queue,
 * and one of them at a time, the holder of the chain's lease, turns queued entries into chain
 * entries with the ordinary {@link AuditLog} group commit. See docs/audit-operations.md
 * ("Sequencer") for the invariants and failure semantics.
 *
 * - Enqueue: one committed, uncontended multi-row insert into `keywarden_audit.sequencer_queue`
 *   (every append of this process waiting at that moment), keyed by `(chain_id, idempotency_key)`;
 *   a retried enqueue with the same key inserts nothing and a key already on the chain is answered
 *   from the same statement. It notifies `keywarden_audit_enqueued` (payload: chain id).
 * - Lease: `keywarden_audit.sequencer_leases` holds one row per chain with a fencing `token`. A
 *   process takes a lapsed lease with a compare-and-set that increments the token; only the holder
 *   of the current, unexpired token may commit.
 * - Commit: each sequenced batch is one transaction of three statements: lock the lease row
 *   (`for share`), check the token and take the chain's advisory lock; read the head and check the
 *   idempotency keys; insert entries and Merkle nodes, delete the sequenced queue rows and notify
 *   `keywarden_audit_sequenced` with the committed range (one statement). A fenced-out
 *   sequencer's transaction writes nothing.
 * - Await: the writer LISTENs; a notification of a committed range wakes it and it reads its
 *   entries by key (one statement); without a live LISTEN connection it polls every `pollMs`.
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
import type { AppendRequest, AppendResult, AuditStore, TreeNode } from "../storage/index.js";
import {
  AUDIT_LOCK_CLASS,
  createPostgresAuditStore,
  mapPgError,
  watchConnection,
} from "../storage/postgres/index.js";
import { observeSequencerQueue } from "./depth.js";
import {
  isTransient,
  now,
  type PurgeFailedOptions,
  type SequencedEntry,
  type SequencerLease,
  sleep,
} from "./shared.js";

export type { PurgeFailedOptions, SequencedEntry, SequencerLease } from "./shared.js";

/**
 * The `NOTIFY` channel a sequencer signals on after each committed batch. Payload: JSON
 * `{ "c": chainId, "f": firstSeq, "t": sizeAfter, "h": holder }`; `{ "c", "r": 1 }` when it
 * released the lease.
 */
export const SEQUENCER_CHANNEL = "keywarden_audit_sequenced";
/** The `NOTIFY` channel an enqueue signals on (payload: chain id), which wakes an idle sequencer. */
export const ENQUEUE_CHANNEL = "keywarden_audit_enqueued";

/** Options of {@link PostgresSequencedAppender}. */
export interface PostgresSequencerOptions {
  /**
   * A `pg.Pool` (max ≥ 2: one connection is held for LISTEN), migrated with
   * `migratePostgresAuditStore(pool, { sequencer: true })`.
   */
  readonly pool: PgPoolLike;
  /** Merkle tree maintenance for the entries this process sequences (as in {@link AuditLog}). */
  readonly treeNodes?: TreeNodeBuilder | undefined;
  /** Accepted actions; defaults to the built-in catalog. Checked at enqueue and at sequencing. */
  readonly actions?: ActionCatalog | undefined;
  /** How long a taken lease lasts without renewal, in ms (default 2000; 200..60000). */
  readonly leaseMs?: number | undefined;
  /** Most queued entries sequenced in one round (default 512; 1..5000). */
  readonly batch?: number | undefined;
  /** Poll interval while no LISTEN connection is live, in ms (default 10; 1..1000). */
  readonly pollMs?: number | undefined;
  /** How long `append` waits for its entry to be sequenced, in ms (default 30000). */
  readonly timeoutMs?: number | undefined;
  /** Use LISTEN/NOTIFY wakeups (default true); false polls every `pollMs`. */
  readonly listen?: boolean | undefined;
  /**
   * Commit each enqueue durably (`synchronous_commit` as the server has it) instead of with
   * `synchronous_commit = off` (default false). An acknowledged entry is durable either way (it is
   * read back from the chain, whose batch commit is synchronous and flushes the WAL, enqueues
   * included). The difference is for entries nobody acknowledged yet: with `false`, a PostgreSQL
   * crash can lose a queued entry written in the last few hundred ms; its waiting writer sees the
   * row gone and enqueues it again, but an entry whose writer also died is lost (it was never
   * acknowledged). With `true` such an entry is still sequenced, at the cost of one more durable
   * commit per enqueue round.
   */
  readonly durableEnqueue?: boolean | undefined;
}

/** True for PostgreSQL's undefined_column (42703), as {@link mapPgError} reports it. */
function isUndefinedColumn(err: unknown): boolean {
  return isKeywardenError(err) && err.details?.sqlState === "42703";
}

/**
 * Refuses a database whose audit tables are under row-level security (`migratePostgresAuditStore`
 * with `rls`): the sequencer writes every user's chain from one role, which per-user policies
 * exist to prevent, so it does not run there.
 */
async function refuseRowSecurity(pool: PgPoolLike): Promise<void> {
  const r = await withClient(
    pool,
    (c) =>
      c.query<{ rls: boolean | null }>(
        "select (select relrowsecurity from pg_class where oid = to_regclass('keywarden_audit.entries')) as rls",
      ),
    false,
  );
  /* Precondition: the PostgreSQL sequencer refuses audit tables under row-level security before it writes anything. */
  if (r.rows[0]?.rls === true)
    throw new KeywardenError(
      "ERR_NOT_SUPPORTED",
      "the audit tables are under row-level security; the sequencer writes every user's chain from one role and does not support it (append through createPostgresAuditStore({ rls: true }) instead)",
      { details: { reason: "row_level_security" } },
    );
}

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
 * @example
 * ```ts
 * const lease = await acquireSequencerLease(pool, "user:alice", "ops-sequencer", 2000);
 * ```
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

/** Lets the lease lapse now and tells waiting processes, so one of them takes over at once. */
async function releaseLease(pool: PgPoolLike, lease: SequencerLease): Promise<void> {
  await withClient(
    pool,
    (c) =>
      c.query(
        `with u as (update keywarden_audit.sequencer_leases set expires_at = clock_timestamp()
           where chain_id = $1 and token = $2 and holder = $3 returning 1)
         select pg_notify($4, $5) from u`,
        [
          lease.chainId,
          lease.token,
          lease.holder,
          SEQUENCER_CHANNEL,
          JSON.stringify({ c: lease.chainId, r: 1 }),
        ],
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
const conflict = (message: string) => new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", message);

/**
 * One fenced append transaction: locks the lease row, checks that `lease` is still the current,
 * unexpired token and takes the chain's advisory lock; checks the head and idempotency keys; then,
 * in one statement, writes `request`'s entries and tree nodes, deletes the queue rows of its keys
 * (and of `alsoDequeue`, keys already on the chain) and notifies waiters of the committed range.
 * A stale lease writes nothing.
 *
 * @example
 * ```ts
 * const r = await fencedAppend(pool, lease, { chainId, expectedSize, entries });
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` with `details.fenced` when the lease is
 * not current; `ERR_AUDIT_APPEND_CONFLICT` when the chain moved or a key is already used;
 * database errors as the store.
 */
export async function fencedAppend(
  pool: PgPoolLike,
  lease: SequencerLease,
  request: AppendRequest,
  alsoDequeue: readonly string[] = [],
): Promise<AppendResult> {
  const { chainId, entries } = request;
  const keys = entries.flatMap((e) => (e.idempotencyKey ? [e.idempotencyKey] : []));
  const last = entries[entries.length - 1];
  if (!last) throw new KeywardenError("ERR_INVALID_ARGUMENT", "an append needs entries");
  if (new Set(keys).size !== keys.length) throw conflict("idempotency key already used");
  if (chainId !== lease.chainId) throw fenced();
  const nodes = new Map<string, TreeNode>();
  for (const n of request.treeNodes ?? []) nodes.set(`${n.level}/${n.index}`, n);
  const list = [...nodes.values()];
  const withNodes = list.length > 0;
  // One statement, so one round trip and one implicit transaction. The lease row is locked
  // `for share` and re-read at its newest version (a takeover that committed meanwhile is seen);
  // a takeover's update waits for this lock, and every commit of an earlier holder was done
  // before its lease could be taken, so the head read in this statement's snapshot is the
  // chain's. Nothing is written unless the token is current, the head is the expected one and
  // no key is used; `primary key (chain_id, seq)` and the key's unique index remain the last line.
  const r = await withClient(
    pool,
    (c) =>
      c.query<{ ok: boolean | null; head: string | null; used: boolean }>(
        `with l as (
           select (token = $2 and holder = $3 and expires_at > clock_timestamp()) as ok,
             pg_advisory_xact_lock($4, hashtext($1)) is not null as locked
           from keywarden_audit.sequencer_leases where chain_id = $1 for share),
         h as (
           select (select seq from keywarden_audit.entries where chain_id = $1 order by seq desc limit 1) as head,
             exists (select 1 from keywarden_audit.entries where chain_id = $1 and idempotency_key = any($5::text[])) as used),
         go as (
           select coalesce((select ok and locked from l), false)
             and coalesce((select head from h) + 1, 0) = $6 and not (select used from h) as go),
         ins as (
           insert into keywarden_audit.entries (chain_id, seq, hash, body, payload, idempotency_key)
           select $1, u.* from unnest($7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[]) u
           where (select go from go)),
         ${
           withNodes
             ? `nodes as (insert into keywarden_audit.tree_nodes (chain_id, level, idx, hash)
           select $1, n.* from unnest($13::int[], $14::bigint[], $15::bytea[]) n where (select go from go)
           on conflict (chain_id, level, idx) do update set hash = excluded.hash),`
             : ""
         }
         del as (delete from keywarden_audit.sequencer_queue
           where chain_id = $1 and idempotency_key = any($12::text[]) and (select go from go))
         select (select ok from l) as ok, (select head from h) as head, (select used from h) as used`,
        [
          chainId,
          lease.token,
          lease.holder,
          AUDIT_LOCK_CLASS,
          keys,
          request.expectedSize,
          entries.map((e) => e.seq),
          entries.map((e) => e.hash),
          entries.map((e) => e.body),
          entries.map((e) => e.payload),
          entries.map((e) => e.idempotencyKey ?? null),
          [...keys, ...alsoDequeue],
          ...(withNodes
            ? [
                list.map((n) => n.level),
                list.map((n) => n.index),
                list.map((n) => Buffer.from(n.hash)),
              ]
            : []),
        ],
      ),
    false,
  );
  const row = r.rows[0];
  /* Precondition: a sequencer commits only while its fencing token is the chain's current, unexpired one. */
  if (row?.ok !== true) throw fenced();
  const size = row.head == null ? 0 : Number(row.head) + 1;
  if (request.expectedSize !== size) throw conflict("chain size changed");
  if (row.used === true) throw conflict("idempotency key already used");
  const committed = { size: size + entries.length, headHash: last.hash, first: size };
  // After the commit, in a transaction of its own: PostgreSQL serializes notifying commits on
  // one database-wide lock, which a notifying batch would hold through its WAL flush, stalling
  // every enqueue behind it. A lost notification only delays waiters to their next poll.
  // Not awaited: the holder's next batch need not wait for it.
  void withClient(
    pool,
    (c) =>
      c.query("select set_config('synchronous_commit', 'off', true), pg_notify($1, $2)", [
        SEQUENCER_CHANNEL,
        notifyPayload(chainId, committed.first, lease.holder, entries),
      ]),
    false,
  ).catch(() => {});
  return { size: committed.size, headHash: committed.headHash };
}

/** The committed range a sequencer announces (no entries: a notification is never evidence). */
function notifyPayload(
  chainId: string,
  first: number,
  holder: string,
  entries: AppendRequest["entries"],
): string {
  return JSON.stringify({ c: chainId, f: first, t: first + entries.length, h: holder });
}

type QueueRow = {
  /** Null for a key of the holder's own direct entries (the same statement checks them). */
  id: string | null;
  idempotency_key: string;
  action: string;
  payload: string;
  actor: string;
  present: boolean;
  /**
   * For a direct key only: the queue's row for the same key, `"pending"` or its failure code
   * (another process enqueued it, or an earlier attempt was refused and is not yet purged).
   */
  queued: string | null;
};
/**
 * One entry this process waits for, by key: what it would enqueue, and where it is. `enqueuing`:
 * its enqueue has not committed; `queued`: its enqueue committed (the row should be in the queue or
 * its entry on the chain); `direct`: this process holds the lease and has it in its next batch
 * without a queue row; `batch`: in the batch being committed.
 */
type Item = {
  readonly key: string;
  readonly action: string;
  readonly payload: string;
  readonly actor: string;
  state: "enqueuing" | "queued" | "direct" | "batch";
};
type Waiter = {
  readonly deadline: number;
  readonly resolve: (e: SequencedEntry) => void;
  readonly reject: (e: unknown) => void;
};
type Held = SequencerLease & { renewedAt: number };

/** This process's view of one chain. */
interface Chain {
  readonly id: string;
  /** Callers waiting for their key, by key (two callers may wait for one key). */
  readonly waiters: Map<string, Waiter[]>;
  /** The entry behind each waited-for key (the first caller's). */
  readonly items: Map<string, Item>;
  /** The lease holder's own entries for its next batch (they skip the queue). */
  direct: Item[];
  pump: Promise<void> | undefined;
  lease: Held | undefined;
  /** Ends the pump's nap (a notification or a new caller). */
  wake: (() => void) | undefined;
  /** Something was enqueued since the last round (a notification, or this process). */
  queued: boolean;
  /** Another process committed (or refused) entries since the last look-up. */
  sequenced: boolean;
  /** The holder released the lease: try to take it now. */
  released: boolean;
  /** When a sequencer was last seen committing on this chain. */
  activeAt: number;
  /** When this process last tried to take the lease. */
  triedAt: number;
}

type Enqueued = {
  readonly chainId: string;
  readonly key: string;
  readonly action: string;
  readonly payload: string;
  readonly actor: string;
  readonly done: (found: SequencedEntry | undefined) => void;
  readonly fail: (e: unknown) => void;
};

interface Notification {
  channel: string;
  payload?: string;
}
interface ListeningClient extends PgClientLike {
  on(event: "notification", fn: (n: Notification) => void): unknown;
}

/**
 * Appends to PostgreSQL audit chains through the sequencer queue, so any number of processes can
 * write one chain without losing races. Each instance may also act as the chain's sequencer: while
 * it has writers waiting it takes the lapsed lease, and while it holds it, it drains the queue in
 * batches (everyone's entries, not only its own), stays on for a short idle time woken by
 * enqueue notifications, and then releases the lease.
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
  readonly #listen: boolean;
  readonly #durableEnqueue: boolean;
  /** The one-time row-level security check (see refuseRowSecurity). */
  #rlsChecked: Promise<void> | undefined;
  /** How long a holder with nothing to do keeps its lease, waiting for enqueues. */
  readonly #idleMs: number;
  /** The slow safety poll while LISTEN is live (a notification can only be missed on reconnect). */
  readonly #safetyMs: number;
  /** This instance's holder id: host, pid and a random part (a restarted process is a new holder). */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  readonly #chains = new Map<string, Chain>();
  /**
   * When another process was last seen committing on a chain, kept while this process has no
   * waiters there: a burst of appends after an idle moment then leaves a live holder alone instead
   * of trying for its lease (a round trip that locks the lease row its commits read). Dropped when
   * the holder announces its release; pruned of stale entries as it grows.
   */
  readonly #activity = new Map<string, number>();
  readonly #log: AuditLog;
  /**
   * Keys of the current round known absent from the chain (read with the queue rows), answered
   * once each without a round trip; a second lookup (after a conflict) reads the database. The
   * commit's own idempotency check under the chain lock stays authoritative.
   */
  readonly #absent = new Set<string>();
  /** Keys of the current round already on the chain, per chain: their queue rows go with the commit. */
  readonly #dequeue = new Map<string, string[]>();
  #buffer: Enqueued[] = [];
  #flushing = false;
  #listener: ListeningClient | undefined;
  #listening: Promise<void> | undefined;
  #closing = false;
  /** Set while {@link PostgresSequencedAppender.serve} waits: an enqueue notification ends the wait. */
  #serving: (() => void) | undefined;
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
    this.#batch = int(options.batch, 512, 1, 5000, "batch");
    this.#pollMs = int(options.pollMs, 10, 1, 1000, "pollMs");
    this.#timeoutMs = int(options.timeoutMs, 30_000, 100, 3_600_000, "timeoutMs");
    this.#listen = options.listen ?? true;
    this.#durableEnqueue = options.durableEnqueue ?? false;
    this.#idleMs = Math.min(100, Math.floor(this.#leaseMs / 4));
    this.#safetyMs = Math.min(250, Math.floor(this.#leaseMs / 4));
    const base = createPostgresAuditStore({ pool });
    const store: AuditStore = {
      ...base,
      findByIdempotencyKey: (chainId, key) => {
        // Read under this round's lease, which nobody else can commit under: valid for the round.
        if (this.#absent.has(`${chainId}\n${key}`)) return Promise.resolve(undefined);
        return base.findByIdempotencyKey?.(chainId, key) ?? Promise.resolve(undefined);
      },
      append: (request) => {
        const lease = this.#chains.get(request.chainId)?.lease;
        if (!lease) return Promise.reject(fenced());
        const extra = this.#dequeue.get(request.chainId) ?? [];
        this.#dequeue.delete(request.chainId);
        return fencedAppend(pool, lease, request, extra).catch((err: unknown) => {
          // A key found used after all: the core's retry must ask the database, not this round.
          if (isKeywardenError(err, "ERR_AUDIT_APPEND_CONFLICT"))
            for (const e of request.entries)
              this.#absent.delete(`${request.chainId}\n${e.idempotencyKey}`);
          throw err;
        });
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
      for (const chain of this.#chains.values())
        for (const list of chain.waiters.values()) n += list.length;
      return n;
    });
  }

  /**
   * Enqueues one entry (committed before this waits) and resolves with it once a sequencer has
   * committed it to the chain. Without `idempotencyKey` a random one is used; with one, a retry
   * returns the original entry and never writes twice. The entry's timestamp is the sequencing time.
   *
   * @throws {KeywardenError} `ERR_NOT_SUPPORTED` (`details.reason: "row_level_security"`) when the audit tables are under row-level security; `ERR_AUDIT_UNKNOWN_ACTION` / `ERR_AUDIT_INVALID_ENTRY` /
   * `ERR_GUARD_UNAUTHENTICATED` before enqueueing; the sequencer's error code when it refused the
   * entry (`ERR_AUDIT_INVALID_ENTRY` for a queue row it could not read); `ERR_AUDIT_STORE_UNAVAILABLE`
   * with `details.retryable` on database faults or after `timeoutMs` (`details.enqueued: true`:
   * the entry is durable in the queue and will still be sequenced; retry with the same key to
   * learn its position).
   */
  async append(chainId: string, input: AppendEntryInput): Promise<SequencedEntry> {
    const identity = input?.actor ?? requireIdentity();
    assertIdentity(identity);
    const kind = chainId === "operator" ? "operator" : "user";
    this.#actions.validate(kind, input.action, input.payload);
    if (this.#closing)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "this sequenced appender is closed");
    const key = input.idempotencyKey ?? randomUUID();
    this.#rlsChecked ??= refuseRowSecurity(this.#pool).catch((err: unknown) => {
      if (!isKeywardenError(err, "ERR_NOT_SUPPORTED")) this.#rlsChecked = undefined; // ask again
      throw err;
    });
    await this.#rlsChecked;
    if (this.#listen) await this.#ensureListener();
    const chain = this.#chain(chainId);
    // Waiting before the enqueue commits: a sequencer may commit the entry before we look.
    const settled = new Promise<SequencedEntry>((resolve, reject) => {
      const list = chain.waiters.get(key);
      const w = { deadline: now() + this.#timeoutMs, resolve, reject };
      if (list) list.push(w);
      else chain.waiters.set(key, [w]);
    });
    settled.catch(() => {}); // handled by our caller; a deadline may pass before it awaits
    if (chain.items.has(key)) return settled; // this process already carries that key
    const item: Item = {
      key,
      action: input.action,
      payload: JSON.stringify(input.payload),
      actor: JSON.stringify({ kind: identity.kind, userId: identity.userId, id: identity.id }),
      state: "enqueuing",
    };
    chain.items.set(key, item);
    if (chain.lease) {
      // The holder's own entry skips the queue: its one durable commit is the (fenced) batch.
      item.state = "direct";
      chain.direct.push(item);
      chain.queued = true;
      this.#startPump(chain);
      return settled;
    }
    this.#enqueue(chain, item);
    return settled;
  }

  /** Hands `item` to the group enqueue; settles its key when already on the chain. */
  #enqueue(chain: Chain, item: Item): void {
    item.state = "enqueuing";
    this.#buffer.push({
      chainId: chain.id,
      key: item.key,
      action: item.action,
      payload: item.payload,
      actor: item.actor,
      done: (found) => {
        // Answered meanwhile (a sequencer committed the row before this enqueue returned) or
        // given up: nothing to wait for, and this chain may no longer be the one in #chains.
        if (chain.items.get(item.key) !== item) return;
        if (found) this.#settleKey(chain, item.key, found);
        else {
          item.state = "queued";
          chain.queued = true;
          this.#startPump(chain);
        }
      },
      fail: (err) => {
        if (chain.items.get(item.key) === item) this.#settleKey(chain, item.key, undefined, err);
      },
    });
    if (!this.#flushing) void this.#flush();
  }

  /** Sends the lease holder's own entries that missed their batch through the queue instead. */
  #rerouteDirect(chain: Chain): void {
    const items = chain.direct.splice(0);
    for (const item of items) if (chain.items.get(item.key) === item) this.#enqueue(chain, item);
  }

  /** Group enqueue: every append waiting at that moment goes into one committed insert. */
  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#buffer.length > 0) {
        const rows = this.#buffer.splice(0, 1000);
        try {
          const r = await withClient(
            this.#pool,
            (c) =>
              c.query<{
                chain_id: string | null;
                idempotency_key: string;
                seq: string;
                hash: string;
                body: string;
              }>(
                `with v (chain_id, idempotency_key, action, payload, actor) as (
                   select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])),
                 ins as (insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor)
                   select * from v where not exists (select 1 from keywarden_audit.entries e
                     where e.chain_id = v.chain_id and e.idempotency_key = v.idempotency_key)
                   on conflict (chain_id, idempotency_key) do nothing)
                 select null::text as chain_id, null::text as idempotency_key, null::bigint as seq,
                   null::text as hash, pg_notify($6, d.chain_id)::text as body
                 from (select distinct chain_id from v) d
                 ${
                   // Local to this statement's transaction: the pooled connection keeps the server's setting.
                   this.#durableEnqueue
                     ? ""
                     : "cross join (select set_config('synchronous_commit', 'off', true)) async"
                 }
                 union all
                 select e.chain_id, e.idempotency_key, e.seq, e.hash, e.body from keywarden_audit.entries e
                   join v on e.chain_id = v.chain_id and e.idempotency_key = v.idempotency_key`,
                [
                  rows.map((x) => x.chainId),
                  rows.map((x) => x.key),
                  rows.map((x) => x.action),
                  rows.map((x) => x.payload),
                  rows.map((x) => x.actor),
                  ENQUEUE_CHANNEL,
                ],
              ),
            false,
          );
          const there = new Map<string, SequencedEntry>();
          for (const e of r.rows)
            if (e.chain_id !== null)
              there.set(`${e.chain_id}\n${e.idempotency_key}`, {
                seq: Number(e.seq),
                hash: e.hash,
                body: e.body,
                idempotencyKey: e.idempotency_key,
              });
          for (const x of rows) x.done(there.get(`${x.chainId}\n${x.key}`));
        } catch (err) {
          for (const x of rows) x.fail(err);
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
        waiters: new Map(),
        items: new Map(),
        direct: [],
        pump: undefined,
        lease: undefined,
        wake: undefined,
        queued: false,
        sequenced: false,
        released: false,
        activeAt: this.#activity.get(chainId) ?? Number.NEGATIVE_INFINITY,
        triedAt: Number.NEGATIVE_INFINITY,
      };
      this.#chains.set(chainId, chain);
    }
    return chain;
  }

  #startPump(chain: Chain): void {
    if (chain.pump) {
      chain.wake?.();
      return;
    }
    chain.pump = this.#pump(chain).finally(() => {
      chain.pump = undefined;
      if (chain.waiters.size > 0 && !this.#closing) this.#startPump(chain);
      // Only the chain registered for its id: a late enqueue answer may have started a pump on a
      // chain dropped earlier, and deleting by id would cut the live one off from notifications.
      else if (chain.waiters.size === 0 && !chain.lease && this.#chains.get(chain.id) === chain)
        this.#chains.delete(chain.id);
    });
  }

  /** Resolves (or rejects) every caller waiting for `key` on `chain`. */
  #settleKey(chain: Chain, key: string, entry?: SequencedEntry, err?: unknown): void {
    const list = chain.waiters.get(key);
    chain.items.delete(key);
    if (!list) return;
    chain.waiters.delete(key);
    for (const w of list) {
      if (entry) w.resolve({ ...entry, idempotencyKey: key });
      else w.reject(err);
    }
  }

  /** The LISTEN connection: started once, re-established after a fault (polling meanwhile). */
  #ensureListener(): Promise<void> {
    if (this.#listener || this.#closing) return Promise.resolve();
    this.#listening ??= (async () => {
      let client: PgClientLike | undefined;
      try {
        client = await this.#pool.connect();
        const lc = client as ListeningClient;
        if (typeof lc.on !== "function") {
          client.release();
          return;
        }
        const held = client;
        const unwatch = watchConnection(held, () => {
          if (this.#listener !== lc) return;
          this.#listener = undefined;
          unwatch();
          held.release(new Error("LISTEN connection lost"));
          // Everything may have been missed: look again, and poll until a new LISTEN is live.
          for (const chain of this.#chains.values()) {
            chain.sequenced = true;
            chain.queued = true;
            chain.wake?.();
          }
        });
        lc.on("notification", (n) => this.#onNotification(n));
        await held.query(`listen ${SEQUENCER_CHANNEL}`);
        await held.query(`listen ${ENQUEUE_CHANNEL}`);
        this.#listener = lc;
        if (this.#closing) await this.#dropListener();
      } catch {
        // No LISTEN now: callers poll; the next append tries again.
        client?.release(true);
      } finally {
        this.#listening = undefined;
      }
    })();
    return this.#listening;
  }

  async #dropListener(): Promise<void> {
    const l = this.#listener;
    this.#listener = undefined;
    if (!l) return;
    try {
      await l.query("unlisten *");
      l.release();
    } catch {
      l.release(true);
    }
  }

  #onNotification(n: Notification): void {
    if (n.channel === ENQUEUE_CHANNEL) {
      this.#serving?.();
      const chain = this.#chains.get(n.payload ?? "");
      if (chain?.lease) {
        chain.queued = true;
        chain.wake?.();
      }
      return;
    }
    if (n.channel !== SEQUENCER_CHANNEL) return;
    let p: { c?: unknown; h?: unknown; r?: unknown };
    try {
      p = JSON.parse(n.payload ?? "") as typeof p;
    } catch {
      return;
    }
    if (typeof p.c !== "string") return;
    if (p.h !== this.holder) this.#noteActivity(p.c, p.r === 1);
    const chain = this.#chains.get(p.c);
    if (!chain) return;
    if (p.r === 1) chain.released = true;
    else {
      chain.activeAt = now();
      /* Precondition: a notification only wakes waiters; an acknowledged entry is always read back from the chain, never taken from a notification. */
      // Any role that can connect may NOTIFY on this channel, and a forged entry can be made
      // self-consistent (its body hashing to its hash), so nothing in a payload is trusted.
      if (p.h !== this.holder) chain.sequenced = true;
    }
    if (chain.waiters.size > 0) chain.wake?.();
  }

  /** Records that another sequencer committed on `chainId` (or, with `released`, let its lease go). */
  #noteActivity(chainId: string, released: boolean): void {
    this.#activity.delete(chainId); // re-inserted last: the map stays in order of activity
    if (released) return;
    const t = now();
    this.#activity.set(chainId, t);
    if (this.#activity.size <= 4096) return;
    for (const [id, at] of this.#activity) {
      if (t - at <= this.#safetyMs && this.#activity.size <= 4096) break;
      this.#activity.delete(id);
    }
  }

  /**
   * Runs as the chain's sequencer until its queue is empty (e.g. from a dedicated
   * `keywarden audit sequencer` process, or after writers died with entries queued).
   *
   * @example
   * ```ts
   * await appender.drain("user:alice");
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database faults.
   */
  async drain(chainId: string): Promise<void> {
    const chain = this.#chain(chainId);
    for (;;) {
      if (!chain.lease) {
        const got = await acquireSequencerLease(this.#pool, chainId, this.holder, this.#leaseMs);
        if (!got) {
          await sleep(this.#pollMs * 10);
          continue;
        }
        chain.lease = { ...got, renewedAt: now() };
      }
      if (!(await this.#renewIfDue(chain))) continue;
      const lease = chain.lease as Held;
      if ((await this.#sequenceRound(chain, lease)) === 0) {
        if (chain.pump) return; // the pump holds the lease on and releases it
        chain.lease = undefined;
        await releaseLease(this.#pool, lease);
        return;
      }
    }
  }

  /**
   * Sequences every chain that has queued entries, one after the other, and returns their ids (a
   * dedicated sequencer process, `keywarden audit sequencer`, calls this in a loop). Rows marked
   * failed are left alone.
   *
   * @example
   * ```ts
   * const chains = await appender.drainQueued();
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database faults.
   */
  async drainQueued(): Promise<string[]> {
    const r = await withClient(
      this.#pool,
      (c) =>
        c.query<{ chain_id: string }>(
          "select distinct chain_id from keywarden_audit.sequencer_queue where failed_code is null order by chain_id",
        ),
      false,
    );
    const chains = r.rows.map((x) => x.chain_id);
    for (const chainId of chains) await this.drain(chainId);
    return chains;
  }

  /**
   * Deletes queue rows the sequencer marked failed (their payload is already cleared), by
   * default those failed ten minutes ago or earlier (by the database clock, `failed_at`), so a
   * waiting writer still learns the refusal. Pending rows are never touched. A later append with a
   * purged row's key is enqueued afresh. Needs migration `1002_sequencer_failed_at`
   * (`migratePostgresAuditStore(pool, { sequencer: true })`).
   *
   * @example
   * ```ts
   * const { purged } = await appender.purgeFailed({ olderThanMs: 24 * 3600_000 });
   * ```
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on bad options; `ERR_AUDIT_STORE_UNAVAILABLE`
   * on database faults.
   */
  async purgeFailed(options: PurgeFailedOptions = {}): Promise<{ purged: number }> {
    const older = options.olderThanMs ?? 600_000;
    if (!Number.isSafeInteger(older) || older < 0)
      throw new KeywardenError(
        "ERR_INVALID_ARGUMENT",
        `olderThanMs must be 0..${Number.MAX_SAFE_INTEGER}`,
      );
    if (options.chainId !== undefined && typeof options.chainId !== "string")
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "chainId must be a string");
    const r = await withClient(
      this.#pool,
      (c) =>
        c.query(
          `delete from keywarden_audit.sequencer_queue
             where failed_code is not null
               and extract(epoch from clock_timestamp() - failed_at) * 1000 >= $1::bigint
               and ($2::text is null or chain_id = $2)`,
          [older, options.chainId ?? null],
        ),
      false,
    ).catch((err: unknown) => {
      if (!isUndefinedColumn(err)) throw err;
      throw new KeywardenError(
        "ERR_AUDIT_STORE_UNAVAILABLE",
        "the sequencer queue has no failed_at column: run migratePostgresAuditStore(pool, { sequencer: true })",
        { details: { retryable: false, sqlState: "42703", migration: "1002_sequencer_failed_at" } },
      );
    });
    return { purged: r.rowCount ?? 0 };
  }

  /**
   * Runs as a dedicated sequencer (what `keywarden audit sequencer` does): sequences every chain
   * with queued entries ({@link PostgresSequencedAppender.drainQueued}), then waits until an
   * enqueue notification arrives (LISTEN on `keywarden_audit_enqueued`) or `pollMs` passes, and
   * again, until `signal` aborts. Without a live LISTEN connection (`listen: false`, or while it
   * reconnects) it is the `pollMs` poll alone.
   *
   * @example
   * ```ts
   * const stop = new AbortController();
   * process.once("SIGTERM", () => stop.abort());
   * await appender.serve({ signal: stop.signal, onPass: (chains) => log.info({ chains }) });
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_STORE_UNAVAILABLE` on database faults;
   * `ERR_INVALID_ARGUMENT` for a `pollMs` outside 10..60000.
   */
  async serve(options: {
    readonly signal: AbortSignal;
    /** The polling fallback's interval, in ms (default 200; 10..60000). */
    readonly pollMs?: number | undefined;
    /** Called after each pass that sequenced something, with the chains it sequenced. */
    readonly onPass?: ((chains: string[]) => void) | undefined;
  }): Promise<void> {
    const pollMs = options.pollMs ?? 200;
    if (!Number.isSafeInteger(pollMs) || pollMs < 10 || pollMs > 60_000)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "pollMs must be 10..60000");
    const { signal } = options;
    while (!signal.aborted && !this.#closing) {
      if (this.#listen) await this.#ensureListener();
      // Armed before the pass: an enqueue during it means another pass at once.
      let woken = false;
      let wake: () => void = () => {};
      this.#serving = () => {
        woken = true;
        wake();
      };
      const chains = await this.drainQueued();
      if (chains.length > 0) options.onPass?.(chains);
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        signal.addEventListener("abort", done);
        wake = done;
      });
    }
    this.#serving = undefined;
  }

  /** Renews the held lease when a third of it has passed; false (and dropped) when it was lost. */
  async #renewIfDue(chain: Chain): Promise<boolean> {
    const held = chain.lease;
    if (!held) return false;
    if (now() - held.renewedAt < this.#leaseMs / 3) return true;
    const at = now();
    if (await renewLease(this.#pool, held, this.#leaseMs)) {
      held.renewedAt = at;
      return true;
    }
    if (chain.lease === held) chain.lease = undefined;
    return false;
  }

  /** Marks queue rows failed under the current lease and tells their waiters. */
  async #markFailed(
    chain: Chain,
    lease: SequencerLease,
    ids: readonly string[],
    code: KeywardenErrorCode,
  ): Promise<void> {
    const mark = (setFailedAt: boolean) =>
      withClient(
        this.#pool,
        (c) =>
          c.query(
            `with u as (update keywarden_audit.sequencer_queue set failed_code = $3,${setFailedAt ? " failed_at = clock_timestamp()," : ""} payload = 'null'
               where chain_id = $1 and id = any($2::bigint[]) and exists (select 1 from keywarden_audit.sequencer_leases
                 where chain_id = $1 and token = $4 and holder = $5 and expires_at > clock_timestamp())
               returning 1)
             select pg_notify($6, $7) from (select count(*) as n from u) x where n > 0`,
            [
              chain.id,
              ids,
              code,
              lease.token,
              lease.holder,
              SEQUENCER_CHANNEL,
              JSON.stringify({ c: chain.id, f: 0, t: 0, h: "" }),
            ],
          ),
        false,
      );
    try {
      await mark(true);
    } catch (err) {
      // A queue not yet migrated to 1002_sequencer_failed_at: mark the row without its failure
      // time rather than wedge the chain behind it (purgeFailed() then refuses until migrated).
      if (!isUndefinedColumn(err)) throw err;
      await mark(false);
    }
    chain.sequenced = true;
  }

  /**
   * Sequences up to `batch` queued entries and the holder's own direct entries in one commit;
   * returns how many it read.
   */
  async #sequenceRound(chain: Chain, lease: Held): Promise<number> {
    const chainId = chain.id;
    const direct = chain.direct.splice(0, this.#batch);
    for (const d of direct) d.state = "batch";
    let rows: QueueRow[];
    try {
      rows = (
        await withClient(
          this.#pool,
          (c) =>
            c.query<QueueRow>(
              `(select q.id, q.idempotency_key, q.action, q.payload, q.actor,
                 exists (select 1 from keywarden_audit.entries e
                   where e.chain_id = q.chain_id and e.idempotency_key = q.idempotency_key) as present,
                 null::text as queued
               from keywarden_audit.sequencer_queue q
               where q.chain_id = $1 and q.failed_code is null order by q.id limit ${this.#batch})
               union all
               select null, k, null, null, null, exists (select 1 from keywarden_audit.entries e
                 where e.chain_id = $1 and e.idempotency_key = k),
                 (select coalesce(q.failed_code, 'pending') from keywarden_audit.sequencer_queue q
                   where q.chain_id = $1 and q.idempotency_key = k)
               from unnest($2::text[]) k`,
              [chainId, direct.map((d) => d.key)],
            ),
          false,
        )
      ).rows;
    } catch (err) {
      this.#putBack(chain, direct);
      throw err;
    }
    if (rows.length === 0) return 0;
    const present = rows.filter((r) => r.present && r.id !== null).map((r) => r.idempotency_key);
    const fresh: Array<{ row: QueueRow; input: AppendEntryInput; item?: Item }> = [];
    const unreadable: string[] = [];
    const own = new Map(direct.map((d) => [d.key, d]));
    for (const row of rows) {
      const item = row.id === null ? own.get(row.idempotency_key) : undefined;
      if (row.present) {
        if (item) item.state = "queued"; // on the chain already: read back like a queued one
        continue;
      }
      if (item && row.queued !== null) {
        /* Precondition: the holder answers its own append of a key the queue holds as the queue does: refused while a refused row is kept, else the queued row is the one sequenced. */
        if (row.queued === "pending") {
          item.state = "queued"; // sequenced from its queue row, then read back
          chain.sequenced = true;
        } else
          this.#settleKey(
            chain,
            item.key,
            undefined,
            new KeywardenError(
              row.queued as KeywardenErrorCode,
              "the sequencer refused this entry",
            ),
          );
        continue;
      }
      try {
        const a = JSON.parse(item ? item.actor : row.actor) as {
          kind: "host";
          userId: string;
          id: string;
        };
        fresh.push({
          row,
          input: {
            action: item ? item.action : row.action,
            payload: JSON.parse(item ? item.payload : row.payload) as unknown,
            actor: mintIdentity({ kind: a.kind, userId: a.userId, id: a.id }),
            idempotencyKey: row.idempotency_key,
          },
          ...(item ? { item } : {}),
        });
      } catch {
        if (row.id !== null) unreadable.push(row.id);
      }
    }
    /* Precondition: a queue row the sequencer cannot read is marked failed for its waiter, and the rows behind it are still sequenced. */
    if (unreadable.length > 0)
      await this.#markFailed(chain, lease, unreadable, "ERR_AUDIT_INVALID_ENTRY");
    // Keys already on the chain: their callers (if here) read them back.
    if (present.length > 0 || rows.some((r) => r.present)) chain.sequenced = true;
    if (fresh.length === 0) {
      if (present.length > 0) await this.#dequeuePresent(chain, lease, present);
      return rows.length;
    }
    for (const f of fresh) this.#absent.add(`${chainId}\n${f.row.idempotency_key}`);
    this.#dequeue.set(chainId, present);
    try {
      // One batch, one commit; a refusal of one row fails the batch, so then row by row.
      const done = await this.#log
        .appendEntries(
          chainId,
          fresh.map((f) => f.input),
        )
        .catch(async (err: unknown) => {
          if (this.#transient(chain, err)) throw err;
          return Promise.all(
            fresh.map((f) =>
              this.#log.appendEntry(chainId, f.input).catch(async (e: unknown) => {
                if (this.#transient(chain, e)) throw e;
                const code = isKeywardenError(e) ? e.code : "ERR_AUDIT_INVALID_ENTRY";
                if (f.item) {
                  // A direct entry has no queue row: its caller is told at once.
                  this.#settleKey(chain, f.item.key, undefined, e);
                  return undefined;
                }
                /* Precondition: only an entry the sequencer refuses for itself (not for a fault) is marked failed, and only under the current lease. */
                await this.#markFailed(chain, lease, [f.row.id as string], code);
                return undefined;
              }),
            ),
          );
        });
      fresh.forEach((f, i) => {
        const e = done[i];
        if (e)
          this.#settleKey(chain, f.row.idempotency_key, {
            seq: e.seq,
            hash: e.hash,
            body: e.body,
            idempotencyKey: f.row.idempotency_key,
          });
      });
    } catch (err) {
      // Not written, or unknown: the direct entries go round again (their keys are checked).
      this.#putBack(chain, direct);
      if (!this.#transient(chain, err)) throw err;
      // Rows stay queued for the next round (this holder's, or the next one's).
      if (isKeywardenError(err) && err.details?.retryable === true) throw err;
    } finally {
      for (const f of fresh) this.#absent.delete(`${chainId}\n${f.row.idempotency_key}`);
      this.#dequeue.delete(chainId);
    }
    return rows.length;
  }

  /**
   * Direct entries whose batch did not commit (or whose outcome is unknown): back into the next
   * batch while this process holds the lease, else through the queue. Either way their keys are
   * checked against the chain first, so an entry that did commit is not written twice.
   */
  #putBack(chain: Chain, items: readonly Item[]): void {
    const live = items.filter((d) => d.state === "batch" && chain.items.get(d.key) === d);
    for (const d of live) d.state = "direct";
    chain.direct = [...live, ...chain.direct];
    chain.queued = true;
    if (!chain.lease) this.#rerouteDirect(chain);
  }

  /** Deletes queue rows whose keys are already on the chain (a retried enqueue that raced). */
  async #dequeuePresent(chain: Chain, lease: SequencerLease, keys: readonly string[]) {
    await withClient(
      this.#pool,
      (c) =>
        c.query(
          `delete from keywarden_audit.sequencer_queue q where chain_id = $1 and idempotency_key = any($2::text[])
           and exists (select 1 from keywarden_audit.entries e where e.chain_id = q.chain_id and e.idempotency_key = q.idempotency_key)
           and exists (select 1 from keywarden_audit.sequencer_leases where chain_id = $1 and token = $3 and holder = $4)`,
          [chain.id, keys, lease.token, lease.holder],
        ),
      false,
    );
  }

  /** True for a fault that says nothing about the entries (drops a fenced-out lease). */
  #transient(chain: Chain, err: unknown): boolean {
    if (isKeywardenError(err) && err.details?.fenced === true) chain.lease = undefined;
    return isTransient(err);
  }

  /**
   * Reads this process's waiting keys back from the chain, failure marks from the queue, and which
   * are still queued. One statement, one snapshot: a sequencer's commit inserts an entry and
   * deletes its queue row atomically, so a key whose enqueue committed is in one of the two,
   * unless the database lost the row (an asynchronous enqueue commit in a crash): it is enqueued
   * again (its caller has not been answered, so nothing acknowledged was lost).
   */
  async #settle(chain: Chain): Promise<void> {
    const keys = [...chain.waiters.keys()];
    if (keys.length === 0) return;
    // Enqueues committed before this statement's snapshot: the only ones it can call lost.
    const committed = keys.flatMap((k) => {
      const item = chain.items.get(k);
      return item?.state === "queued" ? [item] : [];
    });
    const r = await withClient(
      this.#pool,
      (c) =>
        c.query<{
          idempotency_key: string;
          seq: string | null;
          hash: string;
          body: string;
          failed_code: KeywardenErrorCode | null;
        }>(
          `select idempotency_key, seq, hash, body, null::text as failed_code from keywarden_audit.entries
             where chain_id = $1 and idempotency_key = any($2::text[])
           union all
           select idempotency_key, null, null, null, failed_code from keywarden_audit.sequencer_queue
             where chain_id = $1 and idempotency_key = any($2::text[])`,
          [chain.id, keys],
        ),
      false,
    );
    const seen = new Set<string>();
    for (const e of r.rows) {
      seen.add(e.idempotency_key);
      if (e.seq !== null)
        this.#settleKey(chain, e.idempotency_key, {
          seq: Number(e.seq),
          hash: e.hash,
          body: e.body,
          idempotencyKey: e.idempotency_key,
        });
      else if (e.failed_code)
        this.#settleKey(
          chain,
          e.idempotency_key,
          undefined,
          new KeywardenError(e.failed_code, "the sequencer refused this entry"),
        );
    }
    for (const item of committed) {
      /* Precondition: a waiting entry whose committed enqueue is neither queued nor on the chain is enqueued again. */
      if (item.state === "queued" && !seen.has(item.key) && chain.items.get(item.key) === item)
        this.#enqueue(chain, item);
    }
  }

  /** Rejects callers past their deadline (with `err`, or the timeout error). */
  #expire(chain: Chain, err?: unknown): void {
    const t = now();
    for (const [key, list] of chain.waiters) {
      const item = chain.items.get(key);
      const rest = list.filter((w) => {
        if (t <= w.deadline) return true;
        w.reject(err ?? this.#timeout(item));
        return false;
      });
      if (rest.length > 0) {
        chain.waiters.set(key, rest);
        continue;
      }
      chain.waiters.delete(key);
      chain.items.delete(key);
      // Nobody waits for it any more: a direct entry not yet in a batch is never written.
      if (item?.state === "direct") chain.direct = chain.direct.filter((d) => d !== item);
    }
  }

  /** Whether to try for the lease now: nobody seen sequencing lately, or the holder let go. */
  #shouldTry(chain: Chain): boolean {
    if (chain.lease || chain.waiters.size === 0) return false;
    if (chain.released) return true;
    const t = now();
    const quiet = this.#listener ? this.#safetyMs : this.#pollMs * 5;
    return t - chain.activeAt > quiet && t - chain.triedAt > quiet;
  }

  /** Sleeps until woken (notification or new caller) or `ms` passes; true when it timed out. */
  #nap(chain: Chain, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        chain.wake = undefined;
        resolve(true);
      }, ms);
      chain.wake = () => {
        clearTimeout(timer);
        chain.wake = undefined;
        resolve(false);
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
          if (this.#shouldTry(chain)) {
            chain.triedAt = now();
            chain.released = false;
            const got = await acquireSequencerLease(
              this.#pool,
              chain.id,
              this.holder,
              this.#leaseMs,
            );
            if (got) {
              chain.lease = { ...got, renewedAt: chain.triedAt };
              chain.queued = true;
              chain.sequenced = true; // entries of ours an earlier holder committed
              idleSince = now();
            }
          }
          if (chain.lease && (await this.#renewIfDue(chain)) && chain.queued) {
            chain.queued = false;
            const n = await this.#sequenceRound(chain, chain.lease);
            if (n > 0) {
              worked = true;
              chain.queued = true; // there may be more: look again until a round finds none
              idleSince = now();
            }
          }
          if (chain.sequenced && chain.waiters.size > 0) {
            chain.sequenced = false;
            await this.#settle(chain);
          }
        } catch (err) {
          // A database fault: the queue is durable, so keep trying until each waiter's deadline.
          if (!isKeywardenError(err) || err.details?.retryable !== true) throw err;
          this.#expire(chain, err);
          chain.queued = true;
          chain.sequenced = true;
          if (chain.waiters.size === 0 && !chain.lease) return;
          await sleep(this.#pollMs * 5);
          continue;
        }
        this.#expire(chain);
        if (worked) continue;
        if (chain.lease) {
          // Not while an enqueue is announced that no round has read yet: let go only of an empty queue.
          if (
            chain.waiters.size === 0 &&
            (this.#closing ||
              ((now() - idleSince > this.#idleMs || !this.#listener) && !chain.queued))
          )
            return; // the finally releases it
        } else if (chain.waiters.size === 0) return;
        if (chain.queued && chain.lease) continue;
        if (chain.released) continue;
        // A commit announced while this process was reading back: look again before napping,
        // or its waiters sleep until the next notification or the safety poll.
        if (chain.sequenced && chain.waiters.size > 0) continue;
        const live = this.#listener !== undefined;
        let ms = live ? this.#safetyMs : this.#pollMs;
        if (chain.lease) ms = Math.min(ms, this.#leaseMs / 3, this.#idleMs);
        if (await this.#nap(chain, Math.max(1, ms))) {
          // Nothing woke us: look anyway (the polling fallback, and the slow safety poll).
          chain.sequenced = true;
          if (chain.lease) chain.queued = true;
          if (this.#listen && !live) void this.#ensureListener();
        }
      }
    } catch (err) {
      for (const [key] of chain.waiters) this.#settleKey(chain, key, undefined, err);
    } finally {
      // Hand the lease on at once: nobody should wait for it to lapse while this process idles.
      const lease = chain.lease;
      chain.lease = undefined;
      this.#rerouteDirect(chain);
      if (lease) await releaseLease(this.#pool, lease).catch(() => {});
    }
  }

  #timeout(item: Item | undefined): KeywardenError {
    /* Precondition: a timed-out append says its entry will still be sequenced only when its enqueue was committed durably. */
    if (item?.state === "queued" && this.#durableEnqueue)
      return new KeywardenError(
        "ERR_AUDIT_STORE_UNAVAILABLE",
        "the entry is enqueued but was not sequenced in time; it will still be sequenced, retry with the same idempotency key",
        { details: { retryable: true, enqueued: true } },
      );
    return new KeywardenError(
      "ERR_AUDIT_STORE_UNAVAILABLE",
      "the entry was not sequenced in time and its outcome is unknown; retry with the same idempotency key to learn it",
      { details: { retryable: true, outcome: "unknown" } },
    );
  }

  /**
   * Waits for this instance's pending appends to settle, releases any lease it holds and its
   * LISTEN connection. Appends after `close()` are refused.
   */
  async close(): Promise<void> {
    this.#unobserve();
    this.#closing = true;
    for (const chain of this.#chains.values()) chain.wake?.();
    while ([...this.#chains.values()].some((c) => c.pump))
      await Promise.all([...this.#chains.values()].map((c) => c.pump));
    for (const chain of this.#chains.values()) {
      const lease = chain.lease;
      chain.lease = undefined;
      if (lease) await releaseLease(this.#pool, lease).catch(() => {});
    }
    await this.#listening;
    await this.#dropListener();
  }
}
