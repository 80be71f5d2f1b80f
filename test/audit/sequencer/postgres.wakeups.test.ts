import pg from "pg";
import { expect, it } from "vitest";
import { PostgresSequencedAppender } from "../../../src/audit/sequencer/index.js";
import { migratePostgresAuditStore } from "../../../src/audit/storage/postgres/store.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import type { PgClientLike, PgPoolLike } from "../../../src/guard/pg-like.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshUrl(): Promise<string> {
  const url = await createDatabase(pgUrl as string);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await migratePostgresAuditStore(pool, { sequencer: true });
  await pool.end();
  return url;
}
const input = (key: string, i = 0) => ({
  action: "parameter.changed",
  payload: { name: "p", to: i },
  actor: hostIdentity("wake"),
  idempotencyKey: key,
});

/**
 * A pool whose enqueue answers (the group insert into the queue) are held back, per key, until
 * `hold(key)` resolves: the row is committed at once, only this process learns it late.
 */
function holdingPool(real: pg.Pool, hold: (keys: string[]) => Promise<void>): PgPoolLike {
  return {
    async connect() {
      const client = await real.connect();
      const query = client.query.bind(client) as PgClientLike["query"];
      const wrapped = Object.create(client) as pg.PoolClient;
      wrapped.query = (async (text: string, values?: unknown[]) => {
        const r = await query(text, values);
        if (
          typeof text === "string" &&
          text.includes("insert into keywarden_audit.sequencer_queue")
        )
          await hold((values?.[1] as string[]) ?? []);
        return r;
      }) as never;
      return wrapped as unknown as PgClientLike;
    },
  } as PgPoolLike;
}

describeWithPostgres("PostgreSQL sequencer: wakeups", () => {
  it("an enqueue answered after its entry was read back does not cut the process's next appends off from the lease and notifications", async () => {
    const url = await freshUrl();
    const poolA = new pg.Pool({ connectionString: url, max: 4 });
    const poolB = new pg.Pool({ connectionString: url, max: 4 });
    let releaseK2: () => void = () => {};
    const k2Held = new Promise<void>((r) => {
      releaseK2 = r;
    });
    let k2Answered: () => void = () => {};
    const k2Delivered = new Promise<void>((r) => {
      k2Answered = r;
    });
    const b = new PostgresSequencedAppender({
      pool: holdingPool(poolB, async (keys) => {
        if (keys.includes("k2")) {
          await k2Held;
          k2Answered();
        }
        if (keys.includes("k3")) {
          await k2Delivered;
          await sleep(50);
        }
      }),
      timeoutMs: 6000,
    });
    const a = new PostgresSequencedAppender({ pool: poolA });
    try {
      // A holds the chain's lease while it keeps appending.
      let stop = false;
      const busy = (async () => {
        for (let i = 0; !stop; i++) await a.append("user:wake", input(`a${i}`, i));
      })();
      await sleep(100);
      // B's k2 is sequenced by A and read back by B before B hears its own enqueue answer.
      const [k1, k2] = await Promise.all([
        b.append("user:wake", input("k1")),
        b.append("user:wake", input("k2")),
      ]);
      expect(k2.seq).toBeGreaterThan(0);
      stop = true;
      await busy;
      await a.close(); // A lets the lease go: B must take it for k3
      await sleep(50);
      const k3 = b.append("user:wake", input("k3"));
      await sleep(20);
      releaseK2(); // the late answer for k2 arrives while k3 waits
      const e3 = await k3;
      expect(e3.seq).toBeGreaterThan(Math.max(k1.seq, k2.seq));
    } finally {
      releaseK2();
      await b.close();
      await a.close();
      await poolA.end();
      await poolB.end();
    }
  });
});
