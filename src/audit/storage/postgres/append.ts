/**
 * The body of one group-commit transaction of the PostgreSQL audit store: runs under the chain's
 * advisory lock, checks each request against the head read under that lock, and writes each
 * request's entries and tree nodes in a SAVEPOINT so a conflicting request fails alone.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import type { PgClientLike } from "../../../guard/pg-like.js";
import type { AppendRequest, AppendResult, StoredEntry, TreeNode } from "../index.js";
import { mapPgError } from "./errors.js";

/** One queued append request. */
export interface PendingAppend {
  readonly request: AppendRequest;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** What happened to one request of the batch (pending the transaction's COMMIT). */
export type AppendOutcome = { ok: AppendResult } | { err: unknown };

const conflict = (message: string) => new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", message);

async function writeRequest(c: PgClientLike, chainId: string, r: AppendRequest): Promise<void> {
  const es = r.entries;
  await c.query(
    "insert into keywarden_audit.entries (chain_id, seq, hash, body, payload, idempotency_key) select $1, * from unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])",
    [
      chainId,
      es.map((e) => e.seq),
      es.map((e) => e.hash),
      es.map((e) => e.body),
      es.map((e) => e.payload),
      es.map((e) => e.idempotencyKey ?? null),
    ],
  );
  if (r.treeNodes && r.treeNodes.length > 0) {
    const nodes = new Map<string, TreeNode>();
    for (const n of r.treeNodes) nodes.set(`${n.level}/${n.index}`, n); // one row per key in one statement
    const list = [...nodes.values()];
    await c.query(
      "insert into keywarden_audit.tree_nodes (chain_id, level, idx, hash) select $1, * from unnest($2::int[], $3::bigint[], $4::bytea[]) on conflict (chain_id, level, idx) do update set hash = excluded.hash",
      [
        chainId,
        list.map((n) => n.level),
        list.map((n) => n.index),
        list.map((n) => Buffer.from(n.hash)),
      ],
    );
  }
}

/**
 * Applies `batch` in the current transaction (the caller holds the chain's advisory lock and
 * commits). Throws only when the whole transaction is lost (connection fault).
 */
export async function appendBatch(
  c: PgClientLike,
  chainId: string,
  batch: readonly PendingAppend[],
): Promise<AppendOutcome[]> {
  const h = await c.query<{ seq: string }>(
    "select seq from keywarden_audit.entries where chain_id = $1 order by seq desc limit 1",
    [chainId],
  );
  let size = h.rows[0] ? Number(h.rows[0].seq) + 1 : 0;
  const savepoints = batch.length > 1;
  const out: AppendOutcome[] = [];
  for (const { request: r } of batch) {
    /* Precondition: an append commits only when the chain's size, read under the chain lock, is still expectedSize. */
    if (r.expectedSize !== size) {
      out.push({ err: conflict("chain size changed") });
      continue;
    }
    const keys = r.entries.map((e) => e.idempotencyKey).filter((k): k is string => k !== undefined);
    if (keys.length > 0) {
      /* Precondition: an idempotency key is used at most once per chain. */
      const used =
        new Set(keys).size !== keys.length ||
        (
          await c.query(
            "select 1 from keywarden_audit.entries where chain_id = $1 and idempotency_key = any($2::text[]) limit 1",
            [chainId, keys],
          )
        ).rows.length > 0;
      if (used) {
        out.push({ err: conflict("idempotency key already used") });
        continue;
      }
    }
    if (savepoints) await c.query("savepoint keywarden_append");
    try {
      await writeRequest(c, chainId, r);
      if (savepoints) await c.query("release savepoint keywarden_append");
    } catch (err) {
      const mapped = mapPgError(err);
      if (!savepoints || mapped.details?.retryable === true) throw mapped;
      await c.query("rollback to savepoint keywarden_append");
      out.push({ err: mapped });
      continue;
    }
    size += r.entries.length;
    out.push({ ok: { size, headHash: (r.entries[r.entries.length - 1] as StoredEntry).hash } });
  }
  return out;
}
