import pg from "pg";
import { expect, it } from "vitest";
import { ENQUEUE_CHANNEL, PostgresSequencedAppender } from "../../../src/audit/sequencer/index.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshPool(): Promise<pg.Pool> {
  const url = await createDatabase(pgUrl as string);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await migratePostgresAuditStore(pool, { sequencer: true });
  return pool;
}
/** A row as a writer's enqueue leaves it (that writer may have died since). */
async function enqueue(pool: pg.Pool, user: string, key: string, notify: boolean) {
  const who = hostIdentity(user);
  await pool.query(
    "insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor) values ($1, $2, 'parameter.changed', $3, $4)",
    [
      `user:${user}`,
      key,
      JSON.stringify({ name: "p", to: 1 }),
      JSON.stringify({ kind: who.kind, userId: who.userId, id: who.id }),
    ],
  );
  if (notify) await pool.query("select pg_notify($1, $2)", [ENQUEUE_CHANNEL, `user:${user}`]);
}
async function sizeWithin(pool: pg.Pool, chainId: string, ms: number): Promise<number> {
  const store = createPostgresAuditStore({ pool });
  const until = performance.now() + ms;
  for (;;) {
    const { size } = await store.head(chainId);
    if (size > 0 || performance.now() > until) return size;
    await sleep(20);
  }
}

describeWithPostgres("PostgreSQL sequencer: serve() (the dedicated sequencer process)", () => {
  it("wakes on an enqueue notification, long before its poll", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool });
    const stop = new AbortController();
    const passes: string[][] = [];
    const serving = s.serve({ signal: stop.signal, pollMs: 60_000, onPass: (c) => passes.push(c) });
    try {
      // Wait until it LISTENs on the enqueue channel (a fixed sleep raced with it under load); its
      // first pass found nothing, and it now waits for up to a minute.
      const until = performance.now() + 20_000;
      while (
        (
          await pool.query(
            "select count(*)::int as n from pg_stat_activity where datname = current_database() and query = $1",
            [`listen ${ENQUEUE_CHANNEL}`],
          )
        ).rows[0].n === 0
      ) {
        if (performance.now() > until) throw new Error("serve() never listened");
        await sleep(20);
      }
      await sleep(100);
      await enqueue(pool, "woken", "w1", true);
      expect(await sizeWithin(pool, "user:woken", 10_000)).toBe(1);
      expect(passes).toEqual([["user:woken"]]);
    } finally {
      stop.abort();
      await serving;
      await s.close();
      await pool.end();
    }
  });

  it("without LISTEN it polls every pollMs", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool, listen: false });
    const stop = new AbortController();
    const serving = s.serve({ signal: stop.signal, pollMs: 50 });
    try {
      await sleep(100);
      await enqueue(pool, "polled", "p1", false);
      expect(await sizeWithin(pool, "user:polled", 10_000)).toBe(1);
    } finally {
      stop.abort();
      await serving;
      await s.close();
      await pool.end();
    }
  });
});
