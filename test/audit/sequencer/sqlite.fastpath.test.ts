import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteSequencedAppender } from "../../../src/audit/sequencer/index.js";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { collect } from "../storage/support/battery.js";

const dir = mkdtempSync(join(tmpdir(), "kw-seq-sqlite-fast-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh file with the sequencer tables and a log of every row ever inserted into the queue. */
async function fresh(): Promise<{ path: string; db: Database.Database }> {
  const path = join(dir, `fast-${files++}.db`);
  const store = await openSqliteAuditStore({ database: path, sequencer: true });
  await store.close?.();
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  db.exec(`create table queue_log (key text not null);
    create trigger log_queue after insert on audit_sequencer_queue
      begin insert into queue_log values (new.idempotency_key); end;`);
  return { path, db };
}
const queued = (db: Database.Database) =>
  (db.prepare("select key from queue_log").all() as Array<{ key: string }>).map((r) => r.key);
const entry = (who: string, key: string, to = 0) => ({
  action: "parameter.changed",
  payload: { name: "p", to },
  actor: hostIdentity(who),
  idempotencyKey: key,
});

describe("SQLite sequencer: the holder's fast path", () => {
  it("the lease holder's own appends skip the queue and are committed in its batches", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({ database: path });
    try {
      const got = [];
      for (let i = 0; i < 20; i++) got.push(await s.append("user:fast", entry("fast", `k${i}`, i)));
      expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      // The first went through the queue (nobody held the lease); while this appender held it
      // (it keeps it for 100 ms of idleness), the others went straight into its batches.
      const through = queued(db);
      expect(through).toContain("k0");
      expect(through.length).toBeLessThan(10);
      const store = await openSqliteAuditStore({ database: path });
      const rows = await collect(store.read("user:fast", 0));
      await store.close?.();
      expect(rows.map((r) => r.idempotencyKey)).toEqual(got.map((e) => e.idempotencyKey));
      expect(rows.map((r) => r.hash)).toEqual(got.map((e) => e.hash));
    } finally {
      await s.close();
      db.close();
    }
  });

  it("Precondition: the SQLite holder answers its own append of a key the queue holds as the queue does: refused while a refused row is kept, else the queued row is the one sequenced", async () => {
    const { path, db } = await fresh();
    // Two appenders with connections of their own: two processes as far as the file can tell.
    const a = await SqliteSequencedAppender.open({ database: path });
    const b = await SqliteSequencedAppender.open({ database: path });
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
      await sleep(100);
      const lease = db
        .prepare("select holder from audit_sequencer_leases where chain_id = 'user:bob'")
        .get() as { holder: string } | undefined;
      expect(lease?.holder).toBe(a.holder);

      // The retry, now with an actor that may write the chain, gets the same answer everywhere.
      const atOther = await b.append("user:bob", entry("bob", "order-1")).catch((e: unknown) => e);
      const atHolder = await a.append("user:bob", entry("bob", "order-1")).catch((e: unknown) => e);
      expect(isKeywardenError(atOther, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
      expect(isKeywardenError(atHolder, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);

      // A key another process has queued (pending) is sequenced once, from its queue row.
      db.prepare(
        "insert into audit_sequencer_queue (chain_id, idempotency_key, action, payload, actor, enqueued_at) values ('user:bob', 'order-2', 'parameter.changed', ?, ?, 0)",
      ).run(
        JSON.stringify({ name: "q", to: 2 }),
        JSON.stringify({ kind: "host", userId: "bob", id: "host:bob" }),
      );
      const two = await a.append("user:bob", entry("bob", "order-2", 9));

      // Once purged, the key is free: the retry at the holder is sequenced (once).
      expect((await a.purgeFailed({ olderThanMs: 0 })).purged).toBe(1);
      const retried = await a.append("user:bob", entry("bob", "order-1"));
      const again = await b.append("user:bob", entry("bob", "order-1"));
      expect(again).toEqual(retried);

      stop = true;
      await busy;
      const store = await openSqliteAuditStore({ database: path });
      const rows = await collect(store.read("user:bob", 0));
      await store.close?.();
      const keys = rows.map((r) => r.idempotencyKey);
      expect(keys.filter((k) => k === "order-1")).toEqual(["order-1"]);
      expect(keys.filter((k) => k === "order-2")).toEqual(["order-2"]);
      // The queued row's payload, not the holder's own copy, is the one on the chain.
      const o2 = rows.find((r) => r.idempotencyKey === "order-2");
      expect(o2?.payload).toContain('"q"');
      expect(o2?.seq).toBe(two.seq);
    } finally {
      stop = true;
      await busy.catch(() => {});
      await a.close();
      await b.close();
      db.close();
    }
  });
});
