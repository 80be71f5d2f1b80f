import pg from "pg";
import { expect, it } from "vitest";
import {
  acquireSequencerLease,
  PostgresSequencedAppender,
} from "../../../src/audit/sequencer/index.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { collect } from "../storage/support/battery.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshPool(max = 4): Promise<pg.Pool> {
  const url = await createDatabase(pgUrl as string);
  const pool = new pg.Pool({ connectionString: url, max });
  await migratePostgresAuditStore(pool, { sequencer: true });
  // Every row ever inserted into the queue, kept after the sequencer deletes it.
  await pool.query(`create table queue_log (key text not null);
    create function log_queue() returns trigger language plpgsql as
      $$ begin insert into queue_log values (new.idempotency_key); return new; end $$;
    create trigger log_queue after insert on keywarden_audit.sequencer_queue
      for each row execute function log_queue();`);
  return pool;
}
const queued = async (pool: pg.Pool) =>
  (await pool.query<{ key: string }>("select key from queue_log")).rows.map((r) => r.key);
const input = (chainId: string, key: string, i = 0) => ({
  action: "parameter.changed",
  payload: { name: "p", to: i },
  actor: hostIdentity(chainId.slice("user:".length)),
  idempotencyKey: key,
});
const expireLease = (pool: pg.Pool, chainId: string) =>
  pool.query(
    "update keywarden_audit.sequencer_leases set expires_at = clock_timestamp() where chain_id = $1",
    [chainId],
  );

describeWithPostgres(
  "PostgreSQL sequencer: the holder's fast path and asynchronous enqueues",
  () => {
    it("the lease holder's own appends skip the queue and are committed in its batches", async () => {
      const pool = await freshPool();
      const s = new PostgresSequencedAppender({ pool });
      try {
        const got = [];
        for (let i = 0; i < 20; i++)
          got.push(await s.append("user:fast", input("user:fast", `k${i}`, i)));
        expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        // The first went through the queue (nobody held the lease); while this appender held it
        // (it keeps it for 100 ms of idleness), the others went straight into its batches.
        const through = await queued(pool);
        expect(through).toContain("k0");
        expect(through.length).toBeLessThan(10);
        const rows = await collect(createPostgresAuditStore({ pool }).read("user:fast", 0));
        expect(rows.map((r) => r.idempotencyKey)).toEqual(got.map((e) => e.idempotencyKey));
        expect(rows.map((r) => r.hash)).toEqual(got.map((e) => e.hash));
      } finally {
        await s.close();
        await pool.end();
      }
    });

    it("a holder's own entry whose batch is fenced out goes through the queue and is sequenced once", async () => {
      const pool = await freshPool();
      const s = new PostgresSequencedAppender({ pool });
      try {
        await s.append("user:fenced", input("user:fenced", "first"));
        // Another holder takes over under it (token + 1) for 300 ms, then lets it lapse.
        await pool.query(
          `update keywarden_audit.sequencer_leases set token = token + 1, holder = 'thief',
           expires_at = clock_timestamp() + interval '300 milliseconds' where chain_id = 'user:fenced'`,
        );
        const e = await s.append("user:fenced", input("user:fenced", "second", 1));
        expect(e.seq).toBe(1);
        expect(await queued(pool)).toEqual(["first", "second"]);
        const rows = await collect(createPostgresAuditStore({ pool }).read("user:fenced", 0));
        expect(rows.map((r) => r.idempotencyKey)).toEqual(["first", "second"]);
      } finally {
        await s.close();
        await pool.end();
      }
    });

    it("Precondition: a waiting entry whose committed enqueue is neither queued nor on the chain is enqueued again", async () => {
      const pool = await freshPool();
      const s = new PostgresSequencedAppender({ pool });
      try {
        // Somebody else holds the lease, so the entry stays queued.
        await acquireSequencerLease(pool, "user:lost", "Z", 60_000);
        const pending = s.append("user:lost", input("user:lost", "lost"));
        for (let i = 0; i < 100 && (await queued(pool)).length === 0; i++) await sleep(20);
        // What a crash does to an asynchronous commit that was not flushed yet: the row is gone.
        await pool.query("delete from keywarden_audit.sequencer_queue");
        for (let i = 0; i < 100 && (await queued(pool)).length < 2; i++) await sleep(20);
        expect(await queued(pool)).toEqual(["lost", "lost"]);
        await expireLease(pool, "user:lost");
        const e = await pending;
        expect(e.seq).toBe(0);
        const rows = await collect(createPostgresAuditStore({ pool }).read("user:lost", 0));
        expect(rows.map((r) => [r.idempotencyKey, r.hash])).toEqual([["lost", e.hash]]);
      } finally {
        await s.close();
        await pool.end();
      }
    });

    it("Precondition: a timed-out append says its entry will still be sequenced only when its enqueue was committed durably", async () => {
      const pool = await freshPool();
      const fast = new PostgresSequencedAppender({ pool, timeoutMs: 300 });
      const durable = new PostgresSequencedAppender({ pool, timeoutMs: 300, durableEnqueue: true });
      try {
        await acquireSequencerLease(pool, "user:slow", "Z", 60_000);
        const [a, b] = await Promise.all([
          fast.append("user:slow", input("user:slow", "a")).catch((e: unknown) => e),
          durable.append("user:slow", input("user:slow", "b")).catch((e: unknown) => e),
        ]);
        expect(isKeywardenError(a, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
        expect(isKeywardenError(b, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
        expect((a as { details?: unknown }).details).toEqual({
          retryable: true,
          outcome: "unknown",
        });
        expect((b as { details?: unknown }).details).toEqual({ retryable: true, enqueued: true });
        expect((b as Error).message).toMatch(/will still be sequenced/);
        expect((a as Error).message).not.toMatch(/will still be sequenced/);
      } finally {
        await expireLease(pool, "user:slow");
        await fast.close();
        await durable.close();
        await pool.end();
      }
    });

    it("an asynchronous enqueue leaves the pooled connections at the server's synchronous_commit", async () => {
      const pool = await freshPool(2);
      const s = new PostgresSequencedAppender({ pool, listen: false });
      try {
        await acquireSequencerLease(pool, "user:sync", "Z", 60_000);
        const pending = s.append("user:sync", input("user:sync", "x")).catch((e: unknown) => e);
        for (let i = 0; i < 100 && (await queued(pool)).length === 0; i++) await sleep(20);
        // Both connections of the pool, held at once.
        const [c1, c2] = await Promise.all([pool.connect(), pool.connect()]);
        try {
          for (const c of [c1, c2])
            expect((await c.query("show synchronous_commit")).rows[0].synchronous_commit).toBe(
              "on",
            );
        } finally {
          c1.release();
          c2.release();
        }
        await expireLease(pool, "user:sync");
        expect((await pending) as { seq: number }).toMatchObject({ seq: 0 });
      } finally {
        await s.close();
        await pool.end();
      }
    });
  },
);
