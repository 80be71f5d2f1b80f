import pg from "pg";
import { expect, it } from "vitest";
import { PostgresSequencedAppender } from "../../../src/audit/sequencer/index.js";
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
const entry = (user: string, key: string, i = 0) => ({
  action: "parameter.changed",
  payload: { name: "p", to: i },
  actor: hostIdentity(user),
  idempotencyKey: key,
});

describeWithPostgres("PostgreSQL sequencer: a refused idempotency key", () => {
  it("Precondition: the holder answers its own append of a key the queue holds as the queue does: refused while a refused row is kept, else the queued row is the one sequenced", async () => {
    const url = await createDatabase(pgUrl as string);
    // Two appenders with pools of their own: two processes as far as the database can tell.
    const poolA = new pg.Pool({ connectionString: url, max: 4, application_name: "host-a" });
    const poolB = new pg.Pool({ connectionString: url, max: 4, application_name: "host-b" });
    await migratePostgresAuditStore(poolA, { sequencer: true });
    const a = new PostgresSequencedAppender({ pool: poolA });
    const b = new PostgresSequencedAppender({ pool: poolB });
    let stop = false;
    let busy: Promise<void> = Promise.resolve();
    try {
      // Alice's host identity may not write Bob's chain: the first attempt of "order-1" is refused.
      const first = await a.append("user:bob", entry("alice", "order-1")).catch((e: unknown) => e);
      expect(isKeywardenError(first, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
      // A keeps appending, so it holds the chain's lease from here on.
      busy = (async () => {
        for (let i = 0; !stop; i++) await a.append("user:bob", entry("bob", `a${i}`, i));
      })();
      await sleep(150);
      const lease = await poolA.query<{ holder: string }>(
        "select holder from keywarden_audit.sequencer_leases where chain_id = 'user:bob' and expires_at > clock_timestamp()",
      );
      expect(lease.rows[0]?.holder).toBe(a.holder);

      // The retry, now with an actor that may write the chain, gets the same answer everywhere.
      const atOther = await b.append("user:bob", entry("bob", "order-1")).catch((e: unknown) => e);
      const atHolder = await a.append("user:bob", entry("bob", "order-1")).catch((e: unknown) => e);
      expect(isKeywardenError(atOther, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
      expect(isKeywardenError(atHolder, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);

      // A key another process has queued (pending) is sequenced once, from its queue row.
      await poolB.query(
        `insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor)
         values ('user:bob', 'order-2', 'parameter.changed', '{"name":"q","to":2}', $1)`,
        [JSON.stringify({ kind: "host", userId: "bob", id: "host:bob" })],
      );
      const two = await a.append("user:bob", entry("bob", "order-2", 9));

      // Once purged, the key is free: the retry at the holder is sequenced (once).
      expect((await a.purgeFailed({ olderThanMs: 0 })).purged).toBe(1);
      const retried = await a.append("user:bob", entry("bob", "order-1"));
      const again = await b.append("user:bob", entry("bob", "order-1"));
      expect(again).toEqual(retried);

      stop = true;
      await busy;
      const rows = await collect(createPostgresAuditStore({ pool: poolA }).read("user:bob", 0));
      const keys = rows.map((r) => r.idempotencyKey);
      expect(keys.filter((k) => k === "order-1")).toEqual(["order-1"]);
      expect(keys.filter((k) => k === "order-2")).toEqual(["order-2"]);
      // The queued row's payload, not the holder's own copy, is the one on the chain.
      expect(rows.find((r) => r.idempotencyKey === "order-2")?.payload).toContain('"q"');
      expect(rows.find((r) => r.idempotencyKey === "order-2")?.seq).toBe(two.seq);
      const left = await poolA.query("select idempotency_key from keywarden_audit.sequencer_queue");
      expect(left.rows).toEqual([]);
    } finally {
      stop = true;
      await busy.catch(() => {});
      await a.close();
      await b.close();
      await poolA.end();
      await poolB.end();
    }
  });
});
