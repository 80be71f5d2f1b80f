import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/audit/core/log.js";
import {
  acquireSqliteSequencerLease,
  fencedSqliteAppend,
  SqliteSequencedAppender,
} from "../../../src/audit/sequencer/index.js";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { collect } from "../storage/support/battery.js";

const dir = mkdtempSync(join(tmpdir(), "kw-seq-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh file with the core and sequencer tables, and a raw connection to poke at it. */
async function fresh(): Promise<{ path: string; db: Database.Database }> {
  const path = join(dir, `seq-${files++}.db`);
  const store = await openSqliteAuditStore({ database: path, sequencer: true });
  await store.close?.();
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  return { path, db };
}

const bogus = (seq: number) => ({
  chainId: "user:fence",
  expectedSize: seq,
  entries: [{ seq, hash: "a".repeat(64), body: "{}", payload: null, idempotencyKey: `k${seq}` }],
});
const count = (db: Database.Database, sql: string) => (db.prepare(sql).get() as { n: number }).n;
const input = (who: string, key: string, to = 1) => ({
  action: "parameter.changed",
  payload: { name: "x", to },
  actor: hostIdentity(who),
  idempotencyKey: key,
});
const insertRow = (
  db: Database.Database,
  chain: string,
  key: string,
  payload: string,
  actor: string,
) =>
  db
    .prepare(
      "insert into audit_sequencer_queue (chain_id, idempotency_key, action, payload, actor, enqueued_at) values (?, ?, 'parameter.changed', ?, ?, 0)",
    )
    .run(chain, key, payload, actor);

describe("SQLite sequencer", () => {
  it("the queue and lease tables exist only when opened with sequencer: true", async () => {
    const path = join(dir, `plain-${files++}.db`);
    const tables = () => {
      const db = new Database(path, { readonly: true });
      const t = (
        db
          .prepare(
            "select name from sqlite_master where type = 'table' and name like 'audit_sequencer%' order by 1",
          )
          .all() as Array<{ name: string }>
      ).map((r) => r.name);
      db.close();
      return t;
    };
    await (await openSqliteAuditStore({ database: path })).close?.();
    expect(tables()).toEqual([]);
    await (await openSqliteAuditStore({ database: path, sequencer: true })).close?.();
    expect(tables()).toEqual(["audit_sequencer_leases", "audit_sequencer_queue"]);
    // Idempotent, and a plain open of the file still works.
    await (await openSqliteAuditStore({ database: path, sequencer: true })).close?.();
    await (await openSqliteAuditStore({ database: path })).close?.();
  });

  it("Precondition: a SQLite sequencer commits only while its fencing token is the chain's current, unexpired one, checked inside the commit's write transaction", async () => {
    const { db } = await fresh();
    try {
      const a = acquireSqliteSequencerLease(db, "user:fence", "A", 200);
      expect(a?.token).toBe(1);
      expect(acquireSqliteSequencerLease(db, "user:fence", "B", 200)).toBeUndefined();
      await sleep(300);
      const b = acquireSqliteSequencerLease(db, "user:fence", "B", 5000);
      expect(b?.token).toBe(2);
      insertRow(db, "user:fence", "k0", "{}", "{}");
      let err: unknown;
      try {
        fencedSqliteAppend(db, a as NonNullable<typeof a>, bogus(0));
      } catch (e) {
        err = e;
      }
      expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
      expect((err as { details?: { fenced?: boolean } }).details?.fenced).toBe(true);
      // Nothing written, and the queue row (a fault, not a refusal) stays queued, unmarked.
      expect(count(db, "select count(*) as n from audit_entries")).toBe(0);
      expect(
        db.prepare("select idempotency_key, failed_code from audit_sequencer_queue").all(),
      ).toEqual([{ idempotency_key: "k0", failed_code: null }]);
      fencedSqliteAppend(db, b as NonNullable<typeof b>, bogus(0));
      expect(count(db, "select count(*) as n from audit_entries")).toBe(1);
      // The commit deleted the queue row of its key in the same transaction.
      expect(count(db, "select count(*) as n from audit_sequencer_queue")).toBe(0);
    } finally {
      db.close();
    }
  });

  it("a lease that expired mid-batch fences its holder even when nobody took over", async () => {
    const { db } = await fresh();
    try {
      const a = acquireSqliteSequencerLease(db, "user:fence", "A", 200);
      await sleep(300);
      expect(() => fencedSqliteAppend(db, a as NonNullable<typeof a>, bogus(0))).toThrow(
        /no longer current/,
      );
      expect(count(db, "select count(*) as n from audit_entries")).toBe(0);
    } finally {
      db.close();
    }
  });

  it("a retried enqueue with the same idempotency key returns the original entry", async () => {
    const { path, db } = await fresh();
    const one = await SqliteSequencedAppender.open({ database: path });
    const two = await SqliteSequencedAppender.open({ database: path });
    try {
      const [e1, e2] = await Promise.all([
        one.append("user:idem", input("idem", "order-1")),
        two.append("user:idem", input("idem", "order-1")),
      ]);
      const e3 = await two.append("user:idem", input("idem", "order-1", 2));
      expect(e2).toEqual(e1);
      expect(e3).toEqual(e1);
      const other = await one.append("user:idem", input("idem", "order-2"));
      expect(other.seq).toBe(e1.seq + 1);
      const store = await openSqliteAuditStore({ database: path });
      const rows = await collect(store.read("user:idem", 0));
      expect(rows.map((r) => r.idempotencyKey)).toEqual(["order-1", "order-2"]);
      expect(rows[0]?.hash).toBe(e1.hash);
      await store.close?.();
      expect(count(db, "select count(*) as n from audit_sequencer_queue")).toBe(0);
    } finally {
      await one.close();
      await two.close();
      db.close();
    }
  });

  it("refuses an unknown action before enqueueing it", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({ database: path });
    try {
      const err = await s
        .append("user:bad", { action: "no.such", payload: {}, actor: hostIdentity("bad") })
        .catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_AUDIT_UNKNOWN_ACTION")).toBe(true);
      expect(count(db, "select count(*) as n from audit_sequencer_queue")).toBe(0);
    } finally {
      await s.close();
      db.close();
    }
  });

  it("Precondition: a SQLite queue row the sequencer cannot read is marked failed for its waiter, and the rows behind it are still sequenced", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({ database: path });
    try {
      insertRow(db, "user:garbled", "torn", "{not json", "nor this");
      const [torn, after] = await Promise.all([
        s.append("user:garbled", input("garbled", "torn")).catch((e: unknown) => e),
        s.append("user:garbled", input("garbled", "behind")),
      ]);
      expect(isKeywardenError(torn, "ERR_AUDIT_INVALID_ENTRY")).toBe(true);
      expect(after.seq).toBe(0);
      expect(
        db.prepare("select idempotency_key, failed_code, payload from audit_sequencer_queue").all(),
      ).toEqual([
        { idempotency_key: "torn", failed_code: "ERR_AUDIT_INVALID_ENTRY", payload: "null" },
      ]);
      expect(s.queueDepth()).toMatchObject({ pending: 0, failed: 1 });
    } finally {
      await s.close();
      db.close();
    }
  });

  it("an entry the sequencer refuses is reported to its waiter with the refusal's code, its payload cleared", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({ database: path });
    try {
      // Alice's host identity may not write Bob's chain: the sequencer's AuditLog refuses it.
      const err = await s
        .append("user:bob", input("alice", "wrong-chain"))
        .catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
      expect(db.prepare("select failed_code, payload from audit_sequencer_queue").all()).toEqual([
        { failed_code: "ERR_GUARD_UNAUTHENTICATED", payload: "null" },
      ]);
      expect(count(db, "select count(*) as n from audit_entries")).toBe(0);
    } finally {
      await s.close();
      db.close();
    }
  });

  it("purgeFailed deletes only failed rows, only those failed long enough ago, and only of the chain asked", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({ database: path });
    try {
      insertRow(db, "user:a", "pending", "{}", "{}");
      const fail = db.prepare(
        "insert into audit_sequencer_queue (chain_id, idempotency_key, action, payload, actor, enqueued_at, failed_code, failed_at) values (?, ?, 'parameter.changed', 'null', '{}', 0, 'ERR_AUDIT_INVALID_ENTRY', ?)",
      );
      const old = Date.now() - 3_600_000;
      fail.run("user:a", "old-a", old);
      fail.run("user:b", "old-b", old);
      fail.run("user:a", "new-a", Date.now());
      expect(await s.purgeFailed({ chainId: "user:b" })).toEqual({ purged: 1 });
      expect(await s.purgeFailed()).toEqual({ purged: 1 }); // old-a; new-a is too recent
      const keys = () =>
        (
          db
            .prepare("select idempotency_key as k from audit_sequencer_queue order by k")
            .all() as Array<{ k: string }>
        ).map((r) => r.k);
      expect(keys()).toEqual(["new-a", "pending"]);
      expect(await s.purgeFailed({ olderThanMs: 0 })).toEqual({ purged: 1 });
      expect(keys()).toEqual(["pending"]);
      await expect(s.purgeFailed({ olderThanMs: -1 })).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
      });
    } finally {
      await s.close();
      db.close();
    }
  });

  it("a caller whose entry is queued behind another holder's live lease times out saying it is enqueued, and the entry is still sequenced", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({ database: path, timeoutMs: 300 });
    try {
      const z = acquireSqliteSequencerLease(db, "user:held", "Z", 60_000);
      const err = await s.append("user:held", input("held", "k1")).catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
      expect((err as { details?: unknown }).details).toEqual({ retryable: true, enqueued: true });
      expect(count(db, "select count(*) as n from audit_sequencer_queue")).toBe(1);
      // The holder dies without releasing; once its lease is released (or lapses), a retry with
      // the same key learns the entry's position.
      db.prepare("update audit_sequencer_leases set expires_at = 0 where token = ?").run(z?.token);
      const e = await s.append("user:held", input("held", "k1"));
      expect(e.seq).toBe(0);
      expect(count(db, "select count(*) as n from audit_sequencer_queue")).toBe(0);
    } finally {
      await s.close();
      db.close();
    }
  });

  it("Precondition: a SQLite enqueue that finds the file locked never fails its caller for contention: it is retried until the caller's deadline, then reported as not enqueued", async () => {
    const { path, db } = await fresh();
    const s = await SqliteSequencedAppender.open({
      database: path,
      timeoutMs: 400,
      busyTimeoutMs: 20,
    });
    try {
      // Another connection holds the write lock past the caller's deadline: nothing is written.
      db.exec("begin immediate");
      const err = await s.append("user:locked", input("locked", "k1")).catch((e: unknown) => e);
      db.exec("commit");
      expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
      expect((err as { details?: unknown }).details).toEqual({ retryable: true, enqueued: false });
      expect(count(db, "select count(*) as n from audit_sequencer_queue")).toBe(0);
      // Held for a while but released before the deadline: the append goes through.
      db.exec("begin immediate");
      const pending = s.append("user:locked", input("locked", "k2"));
      await sleep(150);
      db.exec("commit");
      expect((await pending).seq).toBe(0);
    } finally {
      await s.close();
      db.close();
    }
  });

  it("two appenders on one file share one chain: every append lands once, the chain verifies", async () => {
    const { path, db } = await fresh();
    const a = await SqliteSequencedAppender.open({ database: path });
    const b = await SqliteSequencedAppender.open({ database: path });
    try {
      const got = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).append("user:two", input("two", `k${i}`, i)),
        ),
      );
      expect(got.map((e) => e.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 40 }, (_, i) => i),
      );
      const store = await openSqliteAuditStore({ database: path });
      const log = new AuditLog({ store });
      const head = got.find((e) => e.seq === 39);
      expect((await log.verifyChain("user:two", { size: 40, headHash: head?.hash ?? "" })).ok).toBe(
        true,
      );
      await store.close?.();
    } finally {
      await a.close();
      await b.close();
      db.close();
    }
  });
});
