import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operatorIdentity } from "../../../src/guard/identity.js";
import { createVault } from "../../../src/vault/core/vault.js";
import { vaultRlsSetupSql } from "../../../src/vault/stores/postgres/rls.js";
import {
  type PgPoolLike,
  PostgresCredentialStore,
} from "../../../src/vault/stores/postgres/store.js";
import { TABLES } from "../../../src/vault/stores/sql-rows.js";
import type { UserKeyRow } from "../../../src/vault/stores/store.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { localKms, makeIdp } from "../helpers.js";
import { forgetOwnerPredicates, type RlsRoleUrls, rlsRoles } from "./postgres-rls.support.js";
import { storeConformance } from "./store-conformance.js";

const ALL = Object.values(TABLES).join(", ");
const row = (userId: string, seq = 1): UserKeyRow => ({
  userId,
  kms: "local",
  keyId: "k1",
  wrappedDataKey: new Uint8Array(randomBytes(70)),
  manifest: new Uint8Array(randomBytes(40)),
  seq,
  createdAt: 1,
  updatedAt: 2,
});
const cred = (userId: string, credentialId: string) => ({
  userId,
  credentialId,
  exchange: "binance",
  label: `CANARY-${userId}`,
  revision: 1,
  disabled: false,
  sealed: new Uint8Array(randomBytes(30)),
  createdAt: 1,
  updatedAt: 2,
});

describe("vaultRlsSetupSql", () => {
  it("covers all four vault tables with FORCE RLS and the app.user_id policy", () => {
    const sql = vaultRlsSetupSql({ appRole: "kw_app", operatorRole: "kw_op" }).join(";\n");
    for (const t of Object.values(TABLES)) {
      expect(sql).toContain(`alter table "${t}" force row level security`);
      expect(sql).toContain(`grant select (user_id) on "${t}" to "kw_op"`);
    }
    expect(sql).toContain("current_setting('app.user_id', true)");
    expect(sql).not.toMatch(/\bset\s+app\.user_id/i);
  });

  it("rejects role names that are not identifiers or that collide", () => {
    expect(() => vaultRlsSetupSql({ operatorRole: "x; drop table y" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => vaultRlsSetupSql({ operatorRole: "keywarden_app" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

describe("PostgresCredentialStore options", () => {
  const pool: PgPoolLike = {
    query: async () => ({ rows: [], rowCount: 0 }),
    connect: async () => {
      throw new Error("unreachable");
    },
  };
  const other: PgPoolLike = { ...pool };

  it("Precondition: in RLS mode the operator's user listing needs a separate operatorPool.", async () => {
    await expect(
      new PostgresCredentialStore(pool, { rls: true }).listUserIds(),
    ).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
    expect(() => new PostgresCredentialStore(pool, { rls: true, operatorPool: pool })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => new PostgresCredentialStore(pool, { operatorPool: other })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });

  it("RLS mode refuses migrate() and vacuum() through the application role", async () => {
    const s = new PostgresCredentialStore(pool, { rls: true, operatorPool: other });
    await expect(s.migrate()).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
    await expect(s.vacuum()).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
  });
});

describeWithPostgres("PostgresCredentialStore in RLS mode (real PostgreSQL)", () => {
  let admin: pg.Pool;
  let app: pg.Pool;
  let operator: pg.Pool;
  let single: pg.Pool;
  let roles: RlsRoleUrls;
  const pools: pg.Pool[] = [];
  const store = () => new PostgresCredentialStore(app, { rls: true, operatorPool: operator });

  beforeAll(async () => {
    const url = await createDatabase(pgUrl as string);
    admin = new pg.Pool({ connectionString: url, max: 2 });
    roles = await rlsRoles(admin, url);
    app = new pg.Pool({ connectionString: roles.appUrl, max: 4 });
    operator = new pg.Pool({ connectionString: roles.operatorUrl, max: 2 });
    single = new pg.Pool({ connectionString: roles.appUrl, max: 1 });
    pools.push(app, operator, single);
  });
  afterAll(async () => {
    for (const p of pools) await p.end();
    await admin?.end();
  });

  describe("conformance as the non-owner application role", () => {
    storeConformance(async () => {
      await admin.query(`TRUNCATE ${ALL}`);
      return store();
    });
  });

  const seedAB = async () => {
    await admin.query(`TRUNCATE ${ALL}`);
    const s = store();
    for (const u of ["user-a", "user-b"]) {
      await s.forUser(u).commit({
        expectedSeq: null,
        userKey: row(u),
        credentials: [cred(u, `${u}-c1`)],
        grants: [
          {
            userId: u,
            grantId: `${u}-g1`,
            exchanges: ["binance"],
            actions: ["trade"],
            createdAt: 1,
            expiresAt: 2,
            revokedAt: null,
            wrappedDataKey: new Uint8Array(randomBytes(70)),
            keyId: "k1",
          },
        ],
      });
      await s.forUser(u).lock({ userId: u, lockId: "l1", lockedAt: 1, reason: "r", lockedBy: "o" });
    }
  };

  it("a raw query through the application role without the setting sees no rows", async () => {
    await seedAB();
    for (const t of Object.values(TABLES)) {
      expect((await app.query(`SELECT * FROM ${t}`)).rows, t).toEqual([]);
      expect((await admin.query(`SELECT * FROM ${t}`)).rows.length, t).toBeGreaterThan(0);
    }
    expect((await app.query(`DELETE FROM ${TABLES.credentials}`)).rowCount).toBe(0);
  });

  it("with user A's setting the application role cannot see, update, delete or plant B's rows", async () => {
    await seedAB();
    const asA = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
      const c = await app.connect();
      try {
        await c.query("BEGIN");
        await c.query("SELECT set_config('app.user_id', 'user-a', true)");
        const out = await fn(c);
        await c.query("COMMIT");
        return out;
      } catch (err) {
        await c.query("ROLLBACK");
        throw err;
      } finally {
        c.release();
      }
    };
    for (const t of Object.values(TABLES)) {
      const seen = await asA((c) => c.query(`SELECT DISTINCT user_id FROM ${t}`));
      expect(seen.rows, t).toEqual([{ user_id: "user-a" }]);
      const upd = await asA((c) =>
        c.query(`UPDATE ${t} SET user_id = user_id WHERE user_id = 'user-b'`),
      );
      const del = await asA((c) => c.query(`DELETE FROM ${t} WHERE user_id = 'user-b'`));
      expect([upd.rowCount, del.rowCount], t).toEqual([0, 0]);
    }
    await expect(
      asA((c) => c.query(`INSERT INTO ${TABLES.locks} VALUES ('user-b2', 'l', 1, 'planted', 'a')`)),
    ).rejects.toThrow(/row-level security/);
    await expect(
      asA((c) => c.query(`UPDATE ${TABLES.credentials} SET user_id = 'user-b'`)),
    ).rejects.toThrow(/row-level security/);
    const b = await admin.query(
      `SELECT credential_id, label FROM ${TABLES.credentials} WHERE user_id = 'user-b'`,
    );
    expect(b.rows).toEqual([{ credential_id: "user-b-c1", label: "CANARY-user-b" }]);
    expect(await store().listUserIds()).toEqual(["user-a", "user-b"]);
  });

  it("Precondition: in RLS mode the owner id is set inside each transaction, never at session level.", async () => {
    await seedAB();
    const s = new PostgresCredentialStore(single, { rls: true, operatorPool: operator });
    expect((await s.forUser("user-a").listCredentials()).map((c) => c.userId)).toEqual(["user-a"]);
    // The same (only) connection carries no user id afterwards, and sees nothing on its own.
    const after = await single.query("SELECT current_setting('app.user_id', true) AS v");
    expect(after.rows[0]?.v ?? "").toBe("");
    expect((await single.query(`SELECT * FROM ${TABLES.credentials}`)).rows).toEqual([]);
    expect((await s.forUser("user-b").getUserKey())?.userId).toBe("user-b");
  });

  it("RLS, not the WHERE clause, confines a scoped query that forgot its owner predicate", async () => {
    await seedAB();
    const leakyRls = new PostgresCredentialStore(forgetOwnerPredicates(app), {
      rls: true,
      operatorPool: operator,
    });
    expect(await leakyRls.forUser("user-a").getCredential("user-b-c1")).toBeUndefined();
    expect((await leakyRls.forUser("user-a").listCredentials()).map((c) => c.userId)).toEqual([
      "user-a",
    ]);
    expect(await leakyRls.forUser("user-a").clearLock("l1")).toBe(true);
    expect((await leakyRls.forUser("user-b").getLock())?.lockId).toBe("l1");
    // The same broken queries through a role that bypasses RLS (superuser) do leak: the control.
    const leakyBypass = new PostgresCredentialStore(forgetOwnerPredicates(admin), {
      rls: true,
      operatorPool: operator,
    });
    expect((await leakyBypass.forUser("user-a").getCredential("user-b-c1"))?.label).toBe(
      "CANARY-user-b",
    );
  });

  it("the operator role lists owners but cannot read secrets or write; a role subject to RLS fails closed", async () => {
    await seedAB();
    await expect(operator.query(`SELECT wrapped_data_key FROM ${TABLES.users}`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(operator.query(`DELETE FROM ${TABLES.locks}`)).rejects.toThrow(
      /permission denied/,
    );
    const secondApp = new pg.Pool({ connectionString: roles.appUrl, max: 1 });
    pools.push(secondApp);
    const wrongOperator = new PostgresCredentialStore(app, { rls: true, operatorPool: secondApp });
    await expect(wrongOperator.listUserIds()).rejects.toThrow(/row-level security/);
  });

  it("the vault runs end to end on the RLS-mode store, including the operator's emergency lock of every user", async () => {
    await admin.query(`TRUNCATE ${ALL}`);
    const idp = await makeIdp();
    const vault = createVault({ kms: localKms(), store: store() });
    const alice = await idp.session("alice");
    const bob = await idp.session("bob");
    const secret = `CANARY-${randomBytes(6).toString("hex")}`;
    const { credentialId } = await vault.store(alice, {
      exchange: "binance",
      credentials: { secret },
    });
    await vault.store(bob, { exchange: "okx", credentials: { secret: "b" } });
    const open = () =>
      vault.withCredentials(alice, credentialId, (c) => c.secret?.useText((t) => t));
    expect(await open()).toBe(secret);
    await expect(
      vault.withCredentials(bob, credentialId, (c) => c.secret?.useText((t) => t)),
    ).rejects.toMatchObject({ code: "ERR_VAULT_CREDENTIAL_NOT_FOUND" });
    const ops = operatorIdentity("ops-1");
    const users = await vault.listUserIds(ops);
    expect(users).toEqual(["alice", "bob"]);
    for (const u of users) await vault.lockUser(ops, u, "key store exposed");
    await expect(open()).rejects.toMatchObject({ code: "ERR_VAULT_USER_LOCKED" });
    const locks = await admin.query(`SELECT user_id FROM ${TABLES.locks} ORDER BY user_id`);
    expect(locks.rows).toEqual([{ user_id: "alice" }, { user_id: "bob" }]);
    // Without an operatorPool, the emergency listing fails closed instead of listing nobody.
    const noOperator = createVault({
      kms: localKms(),
      store: new PostgresCredentialStore(app, { rls: true }),
    });
    await expect(noOperator.listUserIds(ops)).rejects.toMatchObject({ code: "ERR_NOT_SUPPORTED" });
  });

  it("Precondition: an RLS-mode pool is verified to be neither bypassing nor owning the tables.", async () => {
    await expect(store().verifyRowLevelSecurity()).resolves.toBeUndefined();
    // A superuser pool (bypasses RLS) is refused.
    const asSuperuser = new PostgresCredentialStore(admin, { rls: true, operatorPool: operator });
    await expect(asSuperuser.verifyRowLevelSecurity()).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      details: { superuser: true },
    });
    // The operator role bypasses RLS: refused as an application pool.
    const asOperator = new PostgresCredentialStore(operator, { rls: true, operatorPool: app });
    await expect(asOperator.verifyRowLevelSecurity()).rejects.toMatchObject({
      details: { bypassRls: true },
    });
    // A table whose RLS is switched off is caught.
    await admin.query(`ALTER TABLE ${TABLES.locks} NO FORCE ROW LEVEL SECURITY`);
    try {
      await expect(store().verifyRowLevelSecurity()).rejects.toMatchObject({
        details: { superuser: false, bypassRls: false, protectedTables: 3 },
      });
    } finally {
      await admin.query(`ALTER TABLE ${TABLES.locks} FORCE ROW LEVEL SECURITY`);
    }
  });
});
