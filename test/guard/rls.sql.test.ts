import { describe, expect, it } from "vitest";
import {
  hostIdentity,
  type PgClientLike,
  rlsSetupSql,
  withUserTransaction,
} from "../../src/guard/index.js";

describe("rlsSetupSql", () => {
  it("enables and forces RLS with a policy on the transaction-local setting", () => {
    const sql = rlsSetupSql({ tables: [{ table: "orders", ownerColumn: "owner_id" }] }).join(";\n");
    expect(sql).toContain('alter table "orders" enable row level security');
    expect(sql).toContain('alter table "orders" force row level security');
    expect(sql).toContain(
      `using ("owner_id" = (select nullif(current_setting('app.user_id', true), '')))`,
    );
    expect(sql).toContain("with check");
    expect(sql).toContain('create role "keywarden_app" nologin nosuperuser nobypassrls');
    expect(sql).toContain('alter table "orders" owner to "keywarden_owner"');
    expect(sql).not.toMatch(/\bset\s+app\./i);
  });

  it("refuses identifiers that are not plain lower-case names", () => {
    for (const table of ['orders"; drop table x; --', "Orders", "a.b.c", ""]) {
      expect(() => rlsSetupSql({ tables: [{ table }] })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    }
    expect(() => rlsSetupSql({ tables: [{ table: "t" }], appRole: "x", ownerRole: "x" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => rlsSetupSql({ tables: [] })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

describe("withUserTransaction connection handling", () => {
  function fakePool(failOn?: string) {
    const log: string[] = [];
    let released: unknown = "not released";
    const client: PgClientLike = {
      async query(text: string, values?: readonly unknown[]) {
        log.push(values ? `${text} ${JSON.stringify(values)}` : text);
        if (failOn && text.startsWith(failOn)) throw new Error(`${failOn} failed`);
        return { rows: [], rowCount: 0 };
      },
      release(destroy?: Error | boolean) {
        released = destroy;
      },
    };
    return { pool: { connect: async () => client }, log, released: () => released };
  }

  it("sets the user id with a bound parameter inside begin/commit", async () => {
    const f = fakePool();
    await withUserTransaction(f.pool, hostIdentity("user-a"), async (db) => db.query("select 1"));
    expect(f.log).toEqual([
      "begin",
      `select set_config($1, $2, true) ["app.user_id","user-a"]`,
      "select 1",
      "commit",
    ]);
    expect(f.released()).toBeUndefined();
  });

  it("destroys the connection when the rollback fails", async () => {
    const f = fakePool("rollback");
    await expect(
      withUserTransaction(f.pool, hostIdentity("user-a"), async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(f.released()).toBeInstanceOf(Error);
  });

  it("destroys the connection when begin fails", async () => {
    const f = fakePool("begin");
    await expect(
      withUserTransaction(f.pool, hostIdentity("user-a"), async () => 1),
    ).rejects.toThrow("begin failed");
    expect(f.released()).toBeInstanceOf(Error);
  });
});
