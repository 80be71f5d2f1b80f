import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type Identity,
  owned,
  type PgPoolLike,
  rlsSetupSql,
  withUserTransaction,
} from "../../src/guard/index.js";
import {
  type EffectRecorder,
  type IsolationSurface,
  recordCalls,
  runIsolationSuite,
  snapshotPgTables,
} from "../../src/guard/testing/index.js";
import { createDatabase } from "../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../support/services.js";
import { FakeExchange } from "./kit.surface.js";

interface Row {
  id: string;
  user_id: string;
  note: string;
  status: string;
}

interface PgWorld {
  pool: PgPoolLike;
  exchange: FakeExchange;
}

describeWithPostgres("isolation kit over PostgreSQL row-level security", () => {
  const suffix = randomBytes(4).toString("hex");
  let admin: pg.Pool;
  let app: pg.Pool;

  beforeAll(async () => {
    const url = await createDatabase(pgUrl as string);
    admin = new pg.Pool({ connectionString: url, max: 2 });
    await admin.query(
      "create table orders (id text primary key, user_id text not null, note text not null, status text not null)",
    );
    const appRole = `kw_kitapp_${suffix}`;
    const sql = rlsSetupSql({
      tables: [{ table: "orders" }],
      ownerRole: `kw_kitown_${suffix}`,
      appRole,
    });
    for (const s of sql) await admin.query(s);
    const password = randomBytes(12).toString("hex");
    await admin.query(`alter role ${appRole} login password '${password}'`);
    const u = new URL(url);
    u.username = appRole;
    u.password = password;
    app = new pg.Pool({ connectionString: u.toString(), max: 6 });
  });
  afterAll(async () => {
    await app?.end();
    await admin?.end();
  });

  /** Handlers that rely on RLS alone for scoping: no `where user_id` anywhere. */
  function surface(tag: string, pool: () => PgPoolLike): IsolationSurface<PgWorld> {
    const resource = `pg-order-${tag}`;
    const load = (w: PgWorld) => async (id: string, who: Identity) =>
      (
        await withUserTransaction(w.pool, who, (db) =>
          db.query<Row>("select * from orders where id = $1", [id]),
        )
      ).rows[0];
    return {
      name: `pg-orders(${tag})`,
      async world(recorder: EffectRecorder) {
        await admin.query("truncate orders");
        return { pool: pool(), exchange: recordCalls(recorder, "exchange", new FakeExchange()) };
      },
      async seed(w, { a, b }) {
        for (const [who, id, note] of [
          [a, "a1", "CANARY-PA-1"],
          [a, "a2", "CANARY-PA-2"],
          [b, "b1", "CANARY-PB-1"],
          [b, "b2", "CANARY-PB-2"],
        ] as const) {
          await withUserTransaction(w.pool, who, (db) =>
            db.query("insert into orders values ($1, $2, $3, 'open')", [id, who.userId, note]),
          );
        }
        return {
          a: { ids: { [resource]: ["a1", "a2"] }, canaries: ["CANARY-PA-1", "CANARY-PA-2"] },
          b: { ids: { [resource]: ["b1", "b2"] }, canaries: ["CANARY-PB-1", "CANARY-PB-2"] },
        };
      },
      snapshot: async (w) => ({
        ...(await snapshotPgTables(admin, ["orders"])),
        exchange: [...w.exchange.cancelled],
      }),
      handlers: (w) => ({
        getOrder: owned(
          {
            name: `${tag}.getOrder`,
            resource,
            id: (id: string) => id,
            load: load(w),
            owner: (r: Row) => r.user_id,
          },
          async ({ row }) => row,
        ),
        cancelOrder: owned(
          {
            name: `${tag}.cancelOrder`,
            resource,
            id: (id: string) => id,
            load: load(w),
            owner: (r: Row) => r.user_id,
          },
          async ({ row, identity }) => {
            await w.exchange.cancelOrder(row.id, "BTC/USDT");
            await withUserTransaction(w.pool, identity, (db) =>
              db.query("update orders set status = 'cancelled' where id = $1", [row.id]),
            );
            return row.id;
          },
        ),
      }),
      probes: {
        getOrder: { ids: [resource], args: (id: string) => [id] },
        cancelOrder: { ids: [resource], args: (id: string) => [id] },
      },
      async tamper(_w, t) {
        await admin.query("update orders set user_id = $1, note = $2 where id = $3", [
          t.victim.userId,
          t.canary,
          t.id,
        ]);
      },
    };
  }

  it("holds with the guard on and with RLS alone (application role)", async () => {
    const report = await runIsolationSuite(surface("rls", () => app));
    expect(report.findings).toEqual([]);
  });

  it("catches a pool connected as a role that bypasses RLS (superuser) in the storage-only run", async () => {
    const report = await runIsolationSuite(surface("bypass", () => admin));
    const lines = report.findings.map(
      (f) => `${f.handler} › ${f.variant} [${f.run}]: ${f.problem}`,
    );
    expect(lines).toContain(
      `getOrder › B's id [storage-only]: read leak: result contains B's canary "CANARY-PB-1"`,
    );
    expect(lines).toContain(
      `cancelOrder › B's id [storage-only]: side effect: exchange.cancelOrder [ 'b1', 'BTC/USDT' ]`,
    );
    expect(report.findings.every((f) => f.run === "storage-only")).toBe(true);
  });
});
