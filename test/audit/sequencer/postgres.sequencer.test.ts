import pg from "pg";
import { expect, it } from "vitest";
import { AuditLog } from "../../../src/audit/core/log.js";
import {
  acquireSequencerLease,
  fencedAppend,
  PostgresSequencedAppender,
  SEQUENCER_CHANNEL,
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
import { expectChainHoldsAcks, startWriter, type WriterRun } from "../storage/support/processes.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshPool(): Promise<pg.Pool> {
  const url = await createDatabase(pgUrl as string);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await migratePostgresAuditStore(pool, { sequencer: true });
  return pool;
}

const bogus = (seq: number) => ({
  chainId: "user:fence",
  expectedSize: seq,
  entries: [{ seq, hash: "a".repeat(64), body: "{}", payload: null, idempotencyKey: `k${seq}` }],
});

describeWithPostgres("PostgreSQL sequencer", () => {
  it("the queue and lease tables exist only when migrated with sequencer: true", async () => {
    const url = await createDatabase(pgUrl as string);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const tables = async () =>
      (
        await pool.query<{ t: string }>(
          "select table_name as t from information_schema.tables where table_schema = 'keywarden_audit' and table_name like 'sequencer%' order by 1",
        )
      ).rows.map((r) => r.t);
    try {
      expect((await migratePostgresAuditStore(pool)).applied).toEqual(["001_init"]);
      expect(await tables()).toEqual([]);
      expect((await migratePostgresAuditStore(pool, { sequencer: true })).applied).toEqual([
        "1001_sequencer",
        "1002_sequencer_failed_at",
      ]);
      expect(await tables()).toEqual(["sequencer_leases", "sequencer_queue"]);
      // A later plain migrate accepts the opt-in version instead of calling it "newer".
      expect((await migratePostgresAuditStore(pool)).applied).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it("Precondition: a sequencer commits only while its fencing token is the chain's current, unexpired one", async () => {
    const pool = await freshPool();
    try {
      const a = await acquireSequencerLease(pool, "user:fence", "A", 200);
      expect(a?.token).toBe(1);
      // While A's lease is live nobody else can take it.
      expect(await acquireSequencerLease(pool, "user:fence", "B", 200)).toBeUndefined();
      await sleep(300);
      const b = await acquireSequencerLease(pool, "user:fence", "B", 5000);
      expect(b?.token).toBe(2);
      const err = await fencedAppend(pool, a as NonNullable<typeof a>, bogus(0)).catch(
        (e: unknown) => e,
      );
      expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
      expect((err as { details?: { fenced?: boolean } }).details?.fenced).toBe(true);
      const store = createPostgresAuditStore({ pool });
      expect((await store.head("user:fence")).size).toBe(0);
      await fencedAppend(pool, b as NonNullable<typeof b>, bogus(0));
      expect((await store.head("user:fence")).size).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it("a lease that expired mid-batch fences its holder even when nobody took over", async () => {
    const pool = await freshPool();
    try {
      const a = await acquireSequencerLease(pool, "user:fence", "A", 200);
      await sleep(300);
      const err = await fencedAppend(pool, a as NonNullable<typeof a>, bogus(0)).catch(
        (e: unknown) => e,
      );
      expect((err as { details?: { fenced?: boolean } }).details?.fenced).toBe(true);
      expect((await createPostgresAuditStore({ pool }).head("user:fence")).size).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("a retried enqueue with the same idempotency key returns the original entry", async () => {
    const pool = await freshPool();
    const actor = hostIdentity("idem");
    const one = new PostgresSequencedAppender({ pool });
    const two = new PostgresSequencedAppender({ pool });
    try {
      const input = {
        action: "parameter.changed",
        payload: { name: "x", to: 1 },
        actor,
        idempotencyKey: "order-1",
      };
      // Concurrent enqueues of one key from two appenders, then a later retry.
      const [e1, e2] = await Promise.all([
        one.append("user:idem", input),
        two.append("user:idem", input),
      ]);
      const e3 = await two.append("user:idem", { ...input, payload: { name: "x", to: 2 } });
      expect(e2).toEqual(e1);
      expect(e3).toEqual(e1);
      const other = await one.append("user:idem", { ...input, idempotencyKey: "order-2" });
      expect(other.seq).toBe(e1.seq + 1);
      const rows = await collect(createPostgresAuditStore({ pool }).read("user:idem", 0));
      expect(rows.map((r) => r.idempotencyKey)).toEqual(["order-1", "order-2"]);
      const q = await pool.query("select count(*)::int as n from keywarden_audit.sequencer_queue");
      expect(q.rows[0].n).toBe(0);
    } finally {
      await one.close();
      await two.close();
      await pool.end();
    }
  });

  it("Precondition: a notification only wakes waiters; an acknowledged entry is always read back from the chain, never taken from a notification", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool });
    try {
      // Somebody else holds the lease, so this appender cannot sequence its own entry.
      await acquireSequencerLease(pool, "user:forge", "Z", 60_000);
      let settled = false;
      const pending = s
        .append("user:forge", {
          action: "parameter.changed",
          payload: { name: "x", to: 1 },
          actor: hostIdentity("forge"),
          idempotencyKey: "k",
        })
        .finally(() => {
          settled = true;
        });
      await sleep(200);
      const other = '{"v":1,"chainId":"user:other","seq":0}';
      const body = '{"v":1,"chainId":"user:forge","seq":0}';
      const { createHash } = await import("node:crypto");
      const h = (b: string) => createHash("sha256").update(`\u0000${b}`).digest("hex");
      for (const e of [
        ["k", 0, h(body), body], // self-consistent: this chain, this seq, the body's own hash
        ["k", 0, "f".repeat(64), body], // wrong hash
        ["k", 0, h(other), other], // another chain's entry
        ["k", 1, h(body), body], // not at the announced seq
      ])
        await pool.query("select pg_notify($1, $2)", [
          SEQUENCER_CHANNEL,
          JSON.stringify({ c: "user:forge", f: 0, t: 1, h: "Z", e: [e] }),
        ]);
      await sleep(300);
      expect(settled).toBe(false);
      // The holder lets go; the appender takes over and acknowledges the real entry.
      await pool.query(
        "update keywarden_audit.sequencer_leases set expires_at = clock_timestamp() where chain_id = 'user:forge'",
      );
      await pool.query("select pg_notify($1, $2)", [
        SEQUENCER_CHANNEL,
        JSON.stringify({ c: "user:forge", r: 1 }),
      ]);
      const e = await pending;
      const [row] = await collect(createPostgresAuditStore({ pool }).read("user:forge", 0));
      expect(e).toMatchObject({ seq: 0, hash: row?.hash, body: row?.body });
    } finally {
      await s.close();
      await pool.end();
    }
  });

  it("refuses an unknown action before enqueueing it", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool });
    try {
      const err = await s
        .append("user:bad", { action: "no.such", payload: {}, actor: hostIdentity("bad") })
        .catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_AUDIT_UNKNOWN_ACTION")).toBe(true);
      const q = await pool.query("select count(*)::int as n from keywarden_audit.sequencer_queue");
      expect(q.rows[0].n).toBe(0);
    } finally {
      await s.close();
      await pool.end();
    }
  });

  it("Precondition: a queue row the sequencer cannot read is marked failed for its waiter, and the rows behind it are still sequenced", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool });
    const actor = hostIdentity("garbled");
    try {
      // A row no appender wrote: its actor and payload are not JSON.
      await pool.query(
        "insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor) values ('user:garbled', 'torn', 'parameter.changed', '{not json', 'nor this')",
      );
      const input = { action: "parameter.changed", payload: { name: "x", to: 1 }, actor };
      const [torn, after] = await Promise.all([
        s.append("user:garbled", { ...input, idempotencyKey: "torn" }).catch((e: unknown) => e),
        s.append("user:garbled", { ...input, idempotencyKey: "behind" }),
      ]);
      expect(isKeywardenError(torn, "ERR_AUDIT_INVALID_ENTRY")).toBe(true);
      expect(after.seq).toBe(0);
      const q = await pool.query(
        "select idempotency_key, failed_code from keywarden_audit.sequencer_queue order by id",
      );
      expect(q.rows).toEqual([{ idempotency_key: "torn", failed_code: "ERR_AUDIT_INVALID_ENTRY" }]);
      const rows = await collect(createPostgresAuditStore({ pool }).read("user:garbled", 0));
      expect(rows.map((r) => r.idempotencyKey)).toEqual(["behind"]);
    } finally {
      await s.close();
      await pool.end();
    }
  });

  it("without LISTEN (listen: false) waiters poll and two appenders still share one chain", async () => {
    const pool = await freshPool();
    const a = new PostgresSequencedAppender({ pool, listen: false });
    const b = new PostgresSequencedAppender({ pool, listen: false });
    const actor = hostIdentity("poll");
    try {
      const input = (i: number) => ({
        action: "parameter.changed",
        payload: { name: "p", to: i },
        actor,
      });
      const got = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append("user:poll", input(i))),
      );
      expect(got.map((e) => e.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
      const log = new AuditLog({ store: createPostgresAuditStore({ pool }) });
      expect(
        (
          await log.verifyChain("user:poll", {
            size: 20,
            headHash: got.find((e) => e.seq === 19)?.hash ?? "",
          })
        ).ok,
      ).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await pool.end();
    }
  });

  it("Precondition: only an entry the sequencer refuses for itself (not for a fault) is marked failed, and only under the current lease", async () => {
    const pool = await freshPool();
    try {
      // A fault (a fenced-out commit) leaves the row queued and unmarked.
      await pool.query(
        "insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor) values ('user:fence', 'k0', 'parameter.changed', '{}', '{}')",
      );
      const a = await acquireSequencerLease(pool, "user:fence", "A", 200);
      await sleep(300);
      await acquireSequencerLease(pool, "user:fence", "B", 5000);
      await fencedAppend(pool, a as NonNullable<typeof a>, bogus(0)).catch(() => {});
      const q = await pool.query(
        "select idempotency_key, failed_code from keywarden_audit.sequencer_queue",
      );
      expect(q.rows).toEqual([{ idempotency_key: "k0", failed_code: null }]);
    } finally {
      await pool.end();
    }
  });

  it("an entry the sequencer refuses is reported to its waiter with the refusal's code, its payload cleared", async () => {
    const pool = await freshPool();
    const s = new PostgresSequencedAppender({ pool });
    try {
      // Alice's host identity may not write Bob's chain: the sequencer's AuditLog refuses it.
      const err = await s
        .append("user:bob", {
          action: "parameter.changed",
          payload: { name: "x", to: 1 },
          actor: hostIdentity("alice"),
          idempotencyKey: "wrong-chain",
        })
        .catch((e: unknown) => e);
      expect(isKeywardenError(err, "ERR_GUARD_UNAUTHENTICATED")).toBe(true);
      const q = await pool.query(
        "select failed_code, payload from keywarden_audit.sequencer_queue where idempotency_key = 'wrong-chain'",
      );
      expect(q.rows).toEqual([{ failed_code: "ERR_GUARD_UNAUTHENTICATED", payload: "null" }]);
      expect((await createPostgresAuditStore({ pool }).head("user:bob")).size).toBe(0);
    } finally {
      await s.close();
      await pool.end();
    }
  });

  const PROCESSES = Number(process.env.KW_SEQ_PROCESSES ?? 8);
  const LANES = Number(process.env.KW_SEQ_LANES ?? 4);
  const KILLS = Number(process.env.KW_SEQ_KILLS ?? 20);
  const EACH = 30;

  it(`${PROCESSES} processes × ${LANES} lanes on one chain, two "hosts", ${KILLS} SIGKILLs of writers and of the sequencer: no fork, no gap, every ack at its seq`, async () => {
    const url = await createDatabase(pgUrl as string);
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    await migratePostgresAuditStore(pool, { sequencer: true });
    const userId = "seq-kill";
    const runs: WriterRun[] = [];
    let started = 0;
    const spawn = () => {
      const n = started++;
      const run = startWriter({
        kind: "postgres",
        target: url,
        userId,
        writer: `w${n}`,
        count: EACH,
        lanes: LANES,
        sequencer: true,
        app: n % 2 === 0 ? "keywarden-host-a" : "keywarden-host-b",
      });
      runs.push(run);
      return run;
    };
    try {
      let live = Array.from({ length: PROCESSES }, spawn);
      let kills = 0;
      let holderKills = 0;
      while (kills < KILLS) {
        await sleep(150 + Math.random() * 350);
        live = live.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
        while (live.length < PROCESSES) live.push(spawn());
        const lease = await pool.query<{ holder: string }>(
          "select holder from keywarden_audit.sequencer_leases where chain_id = $1 and expires_at > clock_timestamp()",
          [`user:${userId}`],
        );
        const holder = live.find((r) => r.holder === lease.rows[0]?.holder);
        const victim =
          kills % 2 === 0 && holder ? holder : live[Math.floor(Math.random() * live.length)];
        if (victim) {
          live = live.filter((r) => r !== victim);
          // A victim may finish on its own between the lease query and the kill: only a kill
          // that ended the process counts (on a quiet machine writers finish fast).
          if (victim.child.kill("SIGKILL") && (await victim.done).signal === "SIGKILL") {
            if (victim === holder) holderKills++;
            kills++;
          }
        }
      }
      const exits = await Promise.all(runs.map((r) => r.done));
      const killed = exits.filter((e) => e.signal === "SIGKILL").length;
      for (const e of exits)
        if (e.signal !== "SIGKILL") expect(e, e.stderr).toMatchObject({ code: 0, finished: true });
      expect(killed).toBe(KILLS);
      expect(holderKills).toBeGreaterThan(0);
      // Entries enqueued by killed writers are still sequenced (they were durable).
      const finisher = new PostgresSequencedAppender({ pool });
      await finisher.drain(`user:${userId}`);
      await finisher.close();
      const q = await pool.query("select count(*)::int as n from keywarden_audit.sequencer_queue");
      expect(q.rows[0].n).toBe(0);
      const rows = await expectChainHoldsAcks(
        createPostgresAuditStore({ pool }),
        `user:${userId}`,
        runs,
        { treeNodes: true },
      );
      const finishedRuns = exits.filter((e) => e.signal !== "SIGKILL").length;
      expect(rows.length).toBeGreaterThanOrEqual(finishedRuns * EACH);
      expect(runs.reduce((n, r) => n + r.acks.length, 0)).toBeGreaterThan(0);
    } finally {
      for (const r of runs) r.child.kill("SIGKILL");
      await pool.end();
    }
  }, 300_000);
});
