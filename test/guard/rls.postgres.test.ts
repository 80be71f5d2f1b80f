import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  hostIdentity,
  type PgPoolLike,
  rlsSetupSql,
  withUserTransaction,
} from "../../src/guard/index.js";
import { createDatabase } from "../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../support/services.js";

describeWithPostgres("PostgreSQL row-level security (real server)", () => {
  const suffix = randomBytes(4).toString("hex");
  const ownerRole = `kw_owner_${suffix}`;
  const appRole = `kw_app_${suffix}`;
  const password = randomBytes(12).toString("hex");
  const a = hostIdentity("user-a");
  const b = hostIdentity("user-b");
  let admin: pg.Pool;
  let app: pg.Pool;
  let single: pg.Pool;

  beforeAll(async () => {
    const dbUrl = await createDatabase(pgUrl as string);
    admin = new pg.Pool({ connectionString: dbUrl, max: 2 });
    await admin.query("create schema kw");
    await admin.query(
      "create table kw.orders (id text primary key, user_id text not null, note text not null)",
    );
    for (const sql of rlsSetupSql({ tables: [{ table: "kw.orders" }], ownerRole, appRole })) {
      await admin.query(sql);
    }
    // Run twice: the setup is idempotent.
    for (const sql of rlsSetupSql({ tables: [{ table: "kw.orders" }], ownerRole, appRole })) {
      await admin.query(sql);
    }
    await admin.query(`alter role ${appRole} login password '${password}'`);
    const u = new URL(dbUrl);
    u.username = appRole;
    u.password = password;
    app = new pg.Pool({ connectionString: u.toString(), max: 4 });
    single = new pg.Pool({ connectionString: u.toString(), max: 1 });
    await withUserTransaction(app, a, (db) =>
      db.query("insert into kw.orders values ('a1','user-a','A-secret'),('a2','user-a','A-2')"),
    );
    await withUserTransaction(app, b, (db) =>
      db.query("insert into kw.orders values ('b1','user-b','B-secret')"),
    );
  });

  afterAll(async () => {
    await Promise.all([app?.end(), single?.end()]);
    await admin?.end();
  });

  it("A's transaction sees only A's rows", async () => {
    const { rows } = await withUserTransaction(app, a, (db) =>
      db.query<{ id: string }>("select id from kw.orders order by id"),
    );
    expect(rows.map((r) => r.id)).toEqual(["a1", "a2"]);
    const byId = await withUserTransaction(app, a, (db) =>
      db.query("select * from kw.orders where id = 'b1'"),
    );
    expect(byId.rows).toEqual([]);
  });

  it("A's transaction cannot update or delete B's rows, nor write rows for B", async () => {
    const upd = await withUserTransaction(app, a, (db) =>
      db.query("update kw.orders set note = 'pwned' where id = 'b1'"),
    );
    const del = await withUserTransaction(app, a, (db) =>
      db.query("delete from kw.orders where id = 'b1'"),
    );
    expect([upd.rowCount, del.rowCount]).toEqual([0, 0]);
    await expect(
      withUserTransaction(app, a, (db) =>
        db.query("insert into kw.orders values ('x1','user-b','planted')"),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      withUserTransaction(app, a, (db) =>
        db.query("update kw.orders set user_id = 'user-b' where id = 'a1'"),
      ),
    ).rejects.toThrow(/row-level security/);
    const { rows } = await admin.query("select id, user_id, note from kw.orders order by id");
    expect(rows).toEqual([
      { id: "a1", user_id: "user-a", note: "A-secret" },
      { id: "a2", user_id: "user-a", note: "A-2" },
      { id: "b1", user_id: "user-b", note: "B-secret" },
    ]);
  });

  it("without the setting the application role sees no rows", async () => {
    const { rows } = await app.query("select * from kw.orders");
    expect(rows).toEqual([]);
    const empty = await app.query("select set_config('app.user_id', '', false)");
    expect(empty.rowCount).toBe(1);
    expect((await app.query("select * from kw.orders")).rows).toEqual([]);
  });

  it("Precondition: the user id is set inside the transaction, never at session level.", async () => {
    // One connection: after A's transaction, the same pooled connection carries no user id.
    await withUserTransaction(single, a, (db) => db.query("select 1"));
    const after = await single.query<{ v: string | null }>(
      "select current_setting('app.user_id', true) as v",
    );
    expect(after.rows[0]?.v ?? "").toBe("");
    expect((await single.query("select * from kw.orders")).rows).toEqual([]);
    // And B's next transaction on that connection sees only B's rows.
    const { rows } = await withUserTransaction(single, b, (db) =>
      db.query<{ id: string }>("select id from kw.orders"),
    );
    expect(rows.map((r) => r.id)).toEqual(["b1"]);
  });

  it("concurrent transactions of A and B on a shared pool stay separate", async () => {
    const runs = Array.from({ length: 16 }, (_, i) => {
      const who = i % 2 ? a : b;
      return withUserTransaction(app, who, async (db) => {
        await db.query("select pg_sleep(0.005)");
        const r = await db.query<{ user_id: string }>("select distinct user_id from kw.orders");
        return [who.userId, r.rows.map((x) => x.user_id)] as const;
      });
    });
    for (const [user, owners] of await Promise.all(runs)) expect(owners).toEqual([user]);
  });

  it("rolls back when fn throws", async () => {
    await expect(
      withUserTransaction(app, a, async (db) => {
        await db.query("insert into kw.orders values ('a9','user-a','tmp')");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const { rows } = await admin.query("select id from kw.orders where id = 'a9'");
    expect(rows).toEqual([]);
  });

  it("the table owner is filtered too (FORCE), and the app role is neither owner nor bypassing", async () => {
    const client = await admin.connect();
    try {
      await client.query(`set role ${ownerRole}`);
      expect((await client.query("select * from kw.orders")).rows).toEqual([]);
      await client.query("reset role");
    } finally {
      client.release();
    }
    const roles = await admin.query(
      "select rolname, rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = any($1) order by rolname",
      [[appRole, ownerRole]],
    );
    expect(roles.rows).toEqual([
      { rolname: appRole, rolsuper: false, rolbypassrls: false, rolcanlogin: true },
      { rolname: ownerRole, rolsuper: false, rolbypassrls: false, rolcanlogin: false },
    ]);
    const t = await admin.query(
      "select pg_get_userbyid(relowner) as owner, relrowsecurity, relforcerowsecurity from pg_class where oid = 'kw.orders'::regclass",
    );
    expect(t.rows[0]).toEqual({
      owner: ownerRole,
      relrowsecurity: true,
      relforcerowsecurity: true,
    });
    // The app role cannot switch RLS off.
    await expect(app.query("alter table kw.orders disable row level security")).rejects.toThrow(
      /owner/,
    );
  });

  it("Precondition: a user transaction is only opened for a live, keywarden-minted identity.", async () => {
    let connects = 0;
    const pool: PgPoolLike = {
      connect: async () => {
        connects++;
        throw new Error("unreachable");
      },
    };
    await expect(withUserTransaction(pool, { ...a }, async () => 1)).rejects.toMatchObject({
      code: "ERR_GUARD_UNAUTHENTICATED",
    });
    expect(connects).toBe(0);
  });
});
