import pg from "pg";
import { expect, it } from "vitest";
import { readSequencerQueueDepth } from "../../../src/audit/sequencer/depth.js";
import { PostgresSequencedAppender } from "../../../src/audit/sequencer/index.js";
import {
  POSTGRES_MIGRATIONS,
  POSTGRES_SEQUENCER_MIGRATIONS,
} from "../../../src/audit/storage/postgres/migrations.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";

async function freshPool(): Promise<pg.Pool> {
  const url = await createDatabase(pgUrl as string);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await migratePostgresAuditStore(pool, { sequencer: true });
  return pool;
}

/** A queue row; `failedAgo` (seconds, by the database clock) marks it failed that long ago. */
async function put(
  pool: pg.Pool,
  chainId: string,
  key: string,
  failedAgo: number | null,
): Promise<void> {
  await pool.query(
    `insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor, failed_code, failed_at)
     values ($1, $2, 'parameter.changed', $3, '{}', $4, clock_timestamp() - make_interval(secs => $5))`,
    [
      chainId,
      key,
      failedAgo === null ? '{"name":"p","to":1}' : "null",
      failedAgo === null ? null : "ERR_AUDIT_INVALID_ENTRY",
      failedAgo ?? 0,
    ],
  );
}

const keys = async (pool: pg.Pool) =>
  (
    await pool.query<{ k: string }>(
      "select idempotency_key as k from keywarden_audit.sequencer_queue order by idempotency_key",
    )
  ).rows.map((r) => r.k);

describeWithPostgres("PostgreSQL sequencer: purgeFailed", () => {
  it("purgeFailed deletes only failed rows, only those failed long enough ago, and only of the chain asked", async () => {
    const pool = await freshPool();
    // listen: false and no appends: this appender never sequences, so the pending rows stay queued.
    const s = new PostgresSequencedAppender({ pool, listen: false });
    try {
      await put(pool, "user:a", "old-a", 3600);
      await put(pool, "user:a", "new-a", 5);
      await put(pool, "user:b", "old-b", 3600);
      await put(pool, "user:a", "pending-a", null);
      await put(pool, "user:b", "pending-b", null);
      expect(await readSequencerQueueDepth(pool)).toMatchObject({ pending: 2, failed: 3 });
      expect(await s.purgeFailed({ chainId: "user:b" })).toEqual({ purged: 1 });
      expect(await keys(pool)).toEqual(["new-a", "old-a", "pending-a", "pending-b"]);
      expect(await s.purgeFailed()).toEqual({ purged: 1 }); // old-a; new-a is too recent
      expect(await keys(pool)).toEqual(["new-a", "pending-a", "pending-b"]);
      expect(await readSequencerQueueDepth(pool)).toMatchObject({ pending: 2, failed: 1 });
      expect(await s.purgeFailed({ olderThanMs: 60_000 })).toEqual({ purged: 0 });
      expect(await s.purgeFailed({ olderThanMs: 1000 })).toEqual({ purged: 1 });
      // Pending rows are never purged, whatever their age.
      expect(await s.purgeFailed({ olderThanMs: 0 })).toEqual({ purged: 0 });
      expect(await keys(pool)).toEqual(["pending-a", "pending-b"]);
      expect(await readSequencerQueueDepth(pool)).toMatchObject({ pending: 2, failed: 0 });
      // The largest allowed age is a valid query, not a timestamp overflow.
      expect(await s.purgeFailed({ olderThanMs: Number.MAX_SAFE_INTEGER })).toEqual({ purged: 0 });
      for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])
        await expect(s.purgeFailed({ olderThanMs: bad })).rejects.toMatchObject({
          code: "ERR_INVALID_ARGUMENT",
        });
      await expect(s.purgeFailed({ chainId: 7 as unknown as string })).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
      });
    } finally {
      await s.close();
      await pool.end();
    }
  });

  it("a refused entry is marked with its failure time, kept while recent (default ten minutes) and purged when older than asked", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool });
    const input = { action: "parameter.changed", payload: { name: "x", to: 1 } };
    try {
      // Alice's host identity may not write Bob's chain: the sequencer refuses and marks the row.
      const err = await s
        .append("user:bob", { ...input, actor: hostIdentity("alice"), idempotencyKey: "k" })
        .catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
      const q = await pool.query<{ fresh: boolean }>(
        "select failed_at between clock_timestamp() - interval '1 minute' and clock_timestamp() as fresh from keywarden_audit.sequencer_queue where idempotency_key = 'k'",
      );
      expect(q.rows).toEqual([{ fresh: true }]);
      expect(await readSequencerQueueDepth(pool)).toMatchObject({ pending: 0, failed: 1 });
      // Default: kept for ten minutes, so a waiting writer still learns the refusal.
      expect(await s.purgeFailed()).toEqual({ purged: 0 });
      expect(await s.purgeFailed({ olderThanMs: 0 })).toEqual({ purged: 1 });
      expect(await readSequencerQueueDepth(pool)).toMatchObject({ pending: 0, failed: 0 });
      // The purge took only the refused row: the chain is empty and takes the key from its owner.
      const ok = await s.append("user:bob", {
        ...input,
        actor: hostIdentity("bob"),
        idempotencyKey: "k",
      });
      expect(ok.seq).toBe(0);
      expect(await keys(pool)).toEqual([]);
      expect((await createPostgresAuditStore({ pool }).head("user:bob")).size).toBe(1);
    } finally {
      await s.close();
      await pool.end();
    }
  });

  it("on a 1001 queue failed rows are still marked; migration 1002 adds failed_at and counts rows already failed as failed at migration time", async () => {
    const url = await createDatabase(pgUrl as string);
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      // A database migrated by a keywarden that knew only 1001_sequencer.
      await pool.query("create schema keywarden_audit");
      await pool.query(
        "create table keywarden_audit.schema_migrations (version int primary key, name text not null, applied_at timestamptz not null default now())",
      );
      for (const m of [...POSTGRES_MIGRATIONS, POSTGRES_SEQUENCER_MIGRATIONS[0]]) {
        if (!m) throw new Error("no migration");
        await pool.query(m.sql);
        await pool.query(
          "insert into keywarden_audit.schema_migrations (version, name) values ($1, $2)",
          [m.version, m.name],
        );
      }
      // This version's appender on that schema: a refused entry is still marked failed (without a
      // time) and does not wedge the entry behind it; purgeFailed() names the missing migration.
      const early = new PostgresSequencedAppender({ pool });
      try {
        const input = { action: "parameter.changed", payload: { name: "x", to: 1 } };
        const [refused, ok] = await Promise.all([
          early
            .append("user:bob", { ...input, actor: hostIdentity("alice"), idempotencyKey: "old" })
            .catch((e: unknown) => e),
          early.append("user:bob", { ...input, actor: hostIdentity("bob"), idempotencyKey: "ok" }),
        ]);
        expect(isKeywardenError(refused, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
        expect(ok.seq).toBe(0);
        const err = await early.purgeFailed({ olderThanMs: 0 }).catch((e: unknown) => e);
        expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
        expect((err as { details?: unknown }).details).toMatchObject({
          retryable: false,
          migration: "1002_sequencer_failed_at",
        });
      } finally {
        await early.close();
      }
      await pool.query(
        "insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor, failed_code) values ('user:a', 'pending', 'parameter.changed', '{}', '{}', null)",
      );
      // A plain migrate (as `keywarden audit migrate` runs it) brings an opted-in queue up to date.
      expect((await migratePostgresAuditStore(pool)).applied).toEqual(["1002_sequencer_failed_at"]);
      const rows = await pool.query<{ k: string; has: boolean }>(
        "select idempotency_key as k, failed_at is not null as has from keywarden_audit.sequencer_queue order by k",
      );
      expect(rows.rows).toEqual([
        { k: "old", has: true },
        { k: "pending", has: false },
      ]);
      const s = new PostgresSequencedAppender({ pool, listen: false });
      try {
        expect(await s.purgeFailed()).toEqual({ purged: 0 }); // failed "now", by the migration
        expect(await s.purgeFailed({ olderThanMs: 0 })).toEqual({ purged: 1 });
        expect(await keys(pool)).toEqual(["pending"]);
      } finally {
        await s.close();
      }
    } finally {
      await pool.end();
    }
  });
});
