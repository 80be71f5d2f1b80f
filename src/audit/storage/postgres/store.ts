/**
 * The PostgreSQL {@link AuditStore} (`keywarden/audit/postgres`), on an injected `pg` Pool.
 *
 * - Per-chain serialization: every append transaction takes
 *   `pg_advisory_xact_lock(AUDIT_LOCK_CLASS, hashtext(chain_id))` and then reads the head, so the
 *   expected-size check is authoritative; `primary key (chain_id, seq)` is only the safety net.
 * - Group commit: append requests for one chain that arrive while its previous transaction is in
 *   flight are committed together in the next transaction (one WAL flush), each in a SAVEPOINT.
 *   Batches are per chain, so with `rls: true` each transaction sets `app.user_id` to that
 *   chain's owner (`select set_config('app.user_id', $1, true)`, transaction-local).
 * - Faults: a dropped connection, a restarting server or a failed COMMIT becomes
 *   `ERR_AUDIT_STORE_UNAVAILABLE` with `details.retryable = true`. The outcome of such an append is
 *   unknown; retry it with the same idempotency key and it is written at most once.
 *
 * The schema is created by {@link migratePostgresAuditStore} (or `keywarden audit migrate`).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import type { PgClientLike, PgPoolLike } from "../../../guard/pg-like.js";
import { RLS_USER_SETTING } from "../../../guard/rls.js";
import type { AppendResult, AuditStore, StoredEntry, TreeNodeKey } from "../index.js";
import { appendBatch, type PendingAppend } from "./append.js";
import { mapPgError, watchConnection } from "./errors.js";
import { AUDIT_LOCK_CLASS, OPERATOR_OWNER } from "./migrations.js";

export type { PgClientLike, PgPoolLike, PgQueryResultLike } from "../../../guard/pg-like.js";
export {
  AUDIT_LOCK_CLASS,
  migratePostgresAuditStore,
  POSTGRES_MIGRATIONS,
  type PostgresMigrateOptions,
  type PostgresMigrateResult,
  type PostgresMigration,
} from "./migrations.js";

/** Options of {@link createPostgresAuditStore}. */
export interface PostgresAuditStoreOptions {
  /** A `pg.Pool` (or anything with the same `connect()`); the store never ends it. */
  readonly pool: PgPoolLike;
  /** Run every statement with `app.user_id` set to the chain's owner (tables migrated with `rls`). */
  readonly rls?: boolean | undefined;
  /** Commit concurrent appends to one chain together (default true). */
  readonly groupCommit?: boolean | undefined;
  /** Most append requests committed in one transaction (default 256). */
  readonly maxGroup?: number | undefined;
}

/** The PostgreSQL store: the contract plus retention. */
export interface PostgresAuditStore extends AuditStore {
  /**
   * Deletes entries `seq < beforeSeq` of a chain after they were archived (retention). Tree
   * nodes and checkpoints stay, so proofs and checkpoints remain valid; the archived segment plus
   * the live rows verify as one chain. `archivedHeadHash` must be the hash of entry
   * `beforeSeq - 1` in the archive: it is compared with the stored one, so only what was
   * archived is deleted. The newest entry is never pruned (the head must stay known).
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the range or hash does not match.
   */
  pruneArchived(
    chainId: string,
    beforeSeq: number,
    archivedHeadHash: string,
  ): Promise<{ deleted: number }>;
}

const PAGE = 1000;
const MAX_GROUP_ENTRIES = 5000;

/**
 * The `app.user_id` value of a chain's owner under RLS: the user id of `user:<id>`, and
 * `!operator` (which no user id can equal) for the operator chain.
 *
 * @example
 * ```ts
 * chainOwnerSetting("user:alice"); // "alice"
 * ```
 * @throws never.
 */
export function chainOwnerSetting(chainId: string): string {
  return chainId === "operator"
    ? OPERATOR_OWNER
    : chainId.startsWith("user:")
      ? chainId.slice(5)
      : "";
}

type Row = {
  seq: string | number;
  hash: string;
  body: string;
  payload: string | null;
  idempotency_key: string | null;
};
const toEntry = (r: Row): StoredEntry => ({
  seq: Number(r.seq),
  hash: r.hash,
  body: r.body,
  payload: r.payload,
  ...(r.idempotency_key === null ? {} : { idempotencyKey: r.idempotency_key }),
});
const COLUMNS = "seq, hash, body, payload, idempotency_key";

/**
 * Creates a PostgreSQL audit store over an injected pool. Declares every capability.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { AuditLog } from "keywarden/audit";
 * import { createPostgresAuditStore, migratePostgresAuditStore } from "keywarden/audit/postgres";
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresAuditStore(pool);
 * const log = new AuditLog({ store: createPostgresAuditStore({ pool }) });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on bad options. Methods throw
 * `ERR_AUDIT_APPEND_CONFLICT` (lost race) or `ERR_AUDIT_STORE_UNAVAILABLE` (`details.retryable`).
 */
export function createPostgresAuditStore(options: PostgresAuditStoreOptions): PostgresAuditStore {
  const pool = options?.pool;
  if (!pool || typeof pool.connect !== "function")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "createPostgresAuditStore needs a pg Pool");
  const maxGroup = options.maxGroup ?? 256;
  if (!Number.isSafeInteger(maxGroup) || maxGroup < 1 || maxGroup > 10_000)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "maxGroup must be 1..10000");
  const rls = options.rls === true;
  const group = options.groupCommit ?? true;

  /**
   * One transaction on one connection, with the chain owner's RLS setting when enabled. A read
   * without RLS runs as a single autocommit statement (no BEGIN/COMMIT round trips).
   */
  async function tx<T>(
    chainId: string,
    fn: (c: PgClientLike) => Promise<T>,
    write = true,
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
    if (!write && !rls) {
      try {
        return await fn(client);
      } catch (err) {
        const mapped = mapPgError(err);
        if (mapped.details?.retryable === true) broken ??= new Error("connection fault");
        throw mapped;
      } finally {
        unwatch();
        client.release(broken);
      }
    }
    try {
      await client.query("begin");
      /* Precondition: with RLS on, every audit transaction runs as the chain's owner, set transaction-locally. */
      if (rls)
        await client.query("select set_config($1, $2, true)", [
          RLS_USER_SETTING,
          chainOwnerSetting(chainId),
        ]);
      const out = await fn(client);
      await client.query("commit");
      return out;
    } catch (err) {
      await client.query("rollback").catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error("rollback failed");
      });
      const mapped = mapPgError(err);
      if (mapped.details?.retryable === true && !broken) broken = new Error("connection fault");
      throw mapped;
    } finally {
      unwatch();
      client.release(broken);
    }
  }

  const queues = new Map<string, PendingAppend[]>();
  async function drain(chainId: string, queue: PendingAppend[]): Promise<void> {
    while (queue.length > 0) {
      // Up to maxGroup requests, and no more than MAX_GROUP_ENTRIES entries unless one request is larger.
      let take = 0;
      let entries = 0;
      while (take < queue.length && take < (group ? maxGroup : 1)) {
        const n = (queue[take] as PendingAppend).request.entries.length;
        if (take > 0 && entries + n > MAX_GROUP_ENTRIES) break;
        entries += n;
        take++;
      }
      const batch = queue.splice(0, take);
      let outcomes: Array<{ ok: AppendResult } | { err: unknown }>;
      try {
        outcomes = await tx(chainId, async (c) => {
          await c.query("select pg_advisory_xact_lock($1, hashtext($2))", [
            AUDIT_LOCK_CLASS,
            chainId,
          ]);
          return appendBatch(c, chainId, batch);
        });
      } catch (err) {
        // The transaction (or its COMMIT) failed: nothing in it is acknowledged.
        for (const p of batch) p.reject(err);
        continue;
      }
      outcomes.forEach((o, i) => {
        if ("ok" in o) batch[i]?.resolve(o.ok);
        else batch[i]?.reject(o.err);
      });
    }
    queues.delete(chainId);
  }

  const head = (chainId: string) =>
    tx(
      chainId,
      async (c) => {
        const r = await c.query<{ seq: string; hash: string }>(
          "select seq, hash from keywarden_audit.entries where chain_id = $1 order by seq desc limit 1",
          [chainId],
        );
        const row = r.rows[0];
        return row
          ? { size: Number(row.seq) + 1, headHash: row.hash }
          : { size: 0, headHash: null };
      },
      false,
    );

  return {
    capabilities: { idempotency: true, treeNodes: true, checkpoints: true },

    head,

    append(request) {
      if (
        !request ||
        typeof request.chainId !== "string" ||
        !Array.isArray(request.entries) ||
        request.entries.length === 0 ||
        request.entries.some((e, i) => e?.seq !== request.expectedSize + i)
      )
        return Promise.reject(
          new KeywardenError(
            "ERR_INVALID_ARGUMENT",
            "append needs contiguous entries starting at expectedSize",
          ),
        );
      return new Promise<AppendResult>((resolve, reject) => {
        let queue = queues.get(request.chainId);
        const start = !queue;
        if (!queue) {
          queue = [];
          queues.set(request.chainId, queue);
        }
        queue.push({ request, resolve, reject });
        if (start) void drain(request.chainId, queue);
      });
    },

    async *read(chainId, from, to) {
      let next = Math.max(0, from);
      const end = to ?? (await head(chainId)).size;
      while (next < end) {
        const rows = await tx(
          chainId,
          (c) =>
            c.query<Row>(
              `select ${COLUMNS} from keywarden_audit.entries where chain_id = $1 and seq >= $2 and seq < $3 order by seq limit ${PAGE}`,
              [chainId, next, end],
            ),
          false,
        );
        for (const r of rows.rows) yield toEntry(r);
        if (rows.rows.length < PAGE) return;
        next = Number((rows.rows[rows.rows.length - 1] as Row).seq) + 1;
      }
    },

    erasePayload: (chainId, seq) =>
      tx(chainId, async (c) => {
        const r = await c.query(
          "update keywarden_audit.entries set payload = null where chain_id = $1 and seq = $2",
          [chainId, seq],
        );
        if (r.rowCount !== 1)
          throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
      }),

    findByIdempotencyKey: (chainId, key) =>
      tx(
        chainId,
        async (c) => {
          const r = await c.query<Row>(
            `select ${COLUMNS} from keywarden_audit.entries where chain_id = $1 and idempotency_key = $2`,
            [chainId, key],
          );
          return r.rows[0] ? toEntry(r.rows[0]) : undefined;
        },
        false,
      ),

    getTreeNodes: (chainId, keys: readonly TreeNodeKey[]) =>
      tx(
        chainId,
        async (c) => {
          const r = await c.query<{ level: number; idx: string; hash: Buffer }>(
            "select level, idx, hash from keywarden_audit.tree_nodes where chain_id = $1 and (level, idx) in (select * from unnest($2::int[], $3::bigint[]))",
            [chainId, keys.map((k) => k.level), keys.map((k) => k.index)],
          );
          const found = new Map(
            r.rows.map((row) => [`${row.level}/${row.idx}`, new Uint8Array(row.hash)]),
          );
          return keys.map((k) => found.get(`${k.level}/${k.index}`));
        },
        false,
      ),

    putCheckpoint: (chainId, cp) =>
      tx(chainId, async (c) => {
        await c.query(
          "insert into keywarden_audit.checkpoints (chain_id, size, note) values ($1, $2, $3)",
          [chainId, cp.size, cp.note],
        );
      }),

    latestCheckpoint: (chainId) =>
      tx(
        chainId,
        async (c) => {
          const r = await c.query<{ size: string; note: string }>(
            "select size, note from keywarden_audit.checkpoints where chain_id = $1 order by size desc, id desc limit 1",
            [chainId],
          );
          return r.rows[0] ? { size: Number(r.rows[0].size), note: r.rows[0].note } : undefined;
        },
        false,
      ),

    pruneArchived: (chainId, beforeSeq, archivedHeadHash) =>
      tx(chainId, async (c) => {
        if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1)
          throw new KeywardenError("ERR_INVALID_ARGUMENT", "beforeSeq must be a positive integer");
        await c.query("select pg_advisory_xact_lock($1, hashtext($2))", [
          AUDIT_LOCK_CLASS,
          chainId,
        ]);
        const last = await c.query<{ seq: string }>(
          "select seq from keywarden_audit.entries where chain_id = $1 order by seq desc limit 1",
          [chainId],
        );
        /* Precondition: pruning keeps the newest entry, so the chain's head is never lost. */
        if (!last.rows[0] || Number(last.rows[0].seq) < beforeSeq)
          throw new KeywardenError("ERR_INVALID_ARGUMENT", "pruning must keep the newest entry");
        const at = await c.query<{ hash: string }>(
          "select hash from keywarden_audit.entries where chain_id = $1 and seq = $2",
          [chainId, beforeSeq - 1],
        );
        /* Precondition: only a range whose archived head hash matches the stored one is pruned. */
        if (at.rows[0]?.hash !== archivedHeadHash)
          throw new KeywardenError(
            "ERR_INVALID_ARGUMENT",
            "archived head hash does not match the stored entry",
          );
        await c.query("select set_config('keywarden.audit_prune', 'on', true)");
        const r = await c.query(
          "delete from keywarden_audit.entries where chain_id = $1 and seq < $2",
          [chainId, beforeSeq],
        );
        return { deleted: r.rowCount ?? 0 };
      }),

    async close() {
      // The pool belongs to the caller; wait for queued appends to settle.
      await Promise.all(
        [...queues.keys()].map(
          (id) =>
            new Promise<void>((r) => {
              const tick = () => (queues.has(id) ? setTimeout(tick, 5) : r());
              tick();
            }),
        ),
      );
    },
  };
}
