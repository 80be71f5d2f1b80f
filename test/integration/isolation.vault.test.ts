import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAs } from "../../src/guard/context.js";
import type { Identity } from "../../src/guard/identity.js";
import { owned } from "../../src/guard/owned.js";
import { listHandlers } from "../../src/guard/registry.js";
import {
  assertIsolation,
  type EffectRecorder,
  type IsolationSurface,
  runIsolationSuite,
  snapshotPgTables,
} from "../../src/guard/testing/index.js";
import { type VaultHandlers, vaultHandlers } from "../../src/vault/core/handlers.js";
import type { VaultAuditSink } from "../../src/vault/core/support.js";
import { createVault, type Vault } from "../../src/vault/core/vault.js";
import { MemoryCredentialStore } from "../../src/vault/stores/memory.js";
import { type PgPoolLike, PostgresCredentialStore } from "../../src/vault/stores/postgres/store.js";
import { TABLES } from "../../src/vault/stores/sql-rows.js";
import type { CredentialRow, CredentialStore, GrantRow } from "../../src/vault/stores/store.js";
import { createDatabase } from "../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../support/services.js";
import { countingKms, localKms, makeIdp } from "../vault/helpers.js";
import { forgetOwnerPredicates, rlsRoles } from "../vault/stores/postgres-rls.support.js";

/**
 * The isolation kit over the vault's guarded handlers (`vaultHandlers`): every owned handler is
 * attacked as user A with user B's credential, grant and account ids, missing ids, no identity and
 * concurrent calls, and again with the guard layer switched off — then only the vault's own
 * owner-scoped store stands between A and B. Side effects: every KMS call and every audit append.
 */
interface World {
  vault: Vault;
  handlers: VaultHandlers;
  store: CredentialStore;
}

const idp = await makeIdp();
const users = { a: await idp.session("iso-a"), b: await idp.session("iso-b") };
const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString("hex"));

function recordingSink(recorder: EffectRecorder): VaultAuditSink {
  return {
    async append(chain, action, payload) {
      recorder.record("audit.append", { chain, action, payload });
    },
  };
}

const makeSurface = (
  name: string,
  createStore: () => CredentialStore | Promise<CredentialStore>,
): IsolationSurface<World> => ({
  name,
  users: () => users,
  async world(recorder) {
    const store = await createStore();
    const kms = countingKms(localKms(), (op, ctx) =>
      recorder.record(`kms.${op}`, { userId: ctx.userId, purpose: ctx.purpose }),
    );
    const vault = createVault({ kms, store, audit: recordingSink(recorder) });
    return { vault, store, handlers: vaultHandlers(vault) };
  },
  async seed(w, { a, b }) {
    const seeded: Record<string, { credential: string[]; grant: string[] }> = {};
    for (const [who, identity] of [
      ["A", a],
      ["B", b],
    ] as const) {
      const credential: string[] = [];
      for (const i of [1, 2]) {
        const m = await w.vault.store(identity, {
          exchange: "binance",
          label: `CANARY-${who}-label-${i}`,
          credentials: { apiKey: `CANARY-${who}-key-${i}`, secret: `CANARY-${who}-secret-${i}` },
        });
        credential.push(m.credentialId);
      }
      const { summary } = await w.vault.createGrant(identity, {
        exchanges: ["binance"],
        actions: ["trade"],
        ttlMs: 3_600_000,
      });
      seeded[who] = { credential, grant: [summary.grantId] };
    }
    const A = seeded.A as { credential: string[]; grant: string[] };
    const B = seeded.B as { credential: string[]; grant: string[] };
    return {
      a: { ids: { ...A, account: [a.userId] }, canaries: ["CANARY-A-"] },
      b: { ids: { ...B, account: [b.userId] }, canaries: ["CANARY-B-"] },
    };
  },
  async snapshot(w) {
    const rows: Record<string, unknown> = {};
    for (const u of [users.a.userId, users.b.userId]) {
      const s = w.store.forUser(u);
      const key = await s.getUserKey();
      rows[u] = {
        key: key && {
          ...key,
          wrappedDataKey: hex(key.wrappedDataKey),
          manifest: hex(key.manifest),
        },
        credentials: (await s.listCredentials()).map((c) => ({ ...c, sealed: hex(c.sealed) })),
        grants: (await s.listGrants()).map((g) => ({
          ...g,
          wrappedDataKey: hex(g.wrappedDataKey),
        })),
        lock: (await s.getLock()) ?? null,
      };
    }
    return {
      rows,
      users: await w.store.listUserIds?.(),
      listed: [
        await w.vault.list(users.a),
        await w.vault.list(users.b),
        await w.vault.listGrants(users.a),
        await w.vault.listGrants(users.b),
      ],
    };
  },
  handlers: (w) =>
    Object.fromEntries(Object.entries(w.handlers).map(([k, fn]) => [`vault.${k}`, fn])),
  probes: {
    "vault.openCredential": {
      ids: ["credential"],
      args: (c: string) => [
        c,
        async (creds: { secret?: { useText<T>(fn: (t: string) => T): T } }) =>
          creds.secret?.useText((t) => `opened ${t}`),
      ],
    },
    "vault.rotate": {
      ids: ["credential"],
      args: (c: string) => [c, { apiKey: "rotated-key", secret: "rotated-secret" }],
    },
    "vault.disable": { ids: ["credential"], args: (c: string) => [c] },
    "vault.revokeGrant": { ids: ["grant"], args: (g: string) => [g] },
    "vault.deleteUser": { ids: ["account"], args: (u: string) => [u] },
  },
});
const surface = makeSurface("vault (memory store)", () => new MemoryCredentialStore());

describe("isolation kit over the vault's handlers", () => {
  it("user A cannot read, modify or trigger any side effect on user B's credentials, grants or account (guarded and storage-only)", async () => {
    const report = await assertIsolation(surface);
    expect(report.ok).toBe(true);
    const kinds = Object.fromEntries(report.handlers.map((h) => [h.name, h.kind]));
    expect(kinds).toEqual({
      "vault.openCredential": "owned",
      "vault.rotate": "owned",
      "vault.disable": "owned",
      "vault.revokeGrant": "owned",
      "vault.deleteUser": "owned",
      "vault.list": "public",
      "vault.listGrants": "public",
      "vault.store": "public",
      "vault.createGrant": "public",
      "vault.lockStatus": "public",
      "vault.unlock": "public",
    });
    expect(report.calls).toBeGreaterThan(50);
  }, 240_000);

  it("registers stable, unique names in the guard registry", () => {
    const vaultNames = listHandlers()
      .filter((h) => h.name.startsWith("vault."))
      .map((h) => `${h.name}:${h.kind}:${h.resource ?? "-"}:${h.allowOperators}`);
    expect(vaultNames).toEqual([
      "vault.createGrant:public:-:false",
      "vault.deleteUser:owned:account:true",
      "vault.disable:owned:credential:false",
      "vault.list:public:-:false",
      "vault.listGrants:public:-:false",
      "vault.lockStatus:public:-:false",
      "vault.openCredential:owned:credential:false",
      "vault.revokeGrant:owned:grant:false",
      "vault.rotate:owned:credential:false",
      "vault.store:public:-:false",
      "vault.unlock:public:-:false",
    ]);
  });

  it("the public handlers act only on the caller's own user", async () => {
    const w = await surface.world({ record: () => undefined, effects: [] });
    const seed = await surface.seed(w, users);
    const h = w.handlers;
    const before = await surface.snapshot(w);
    const listed = await runAs(users.a, async () => [await h.list(), await h.listGrants()]);
    expect(JSON.stringify(listed)).toContain("CANARY-A-");
    expect(JSON.stringify(listed)).not.toContain("CANARY-B-");
    expect(JSON.stringify(listed)).not.toContain(seed.b.ids.grant?.[0]);
    // Writes through the public handlers land on A only: B's rows are byte-for-byte unchanged.
    await runAs(users.a, async () => {
      await h.store({ exchange: "okx", credentials: { secret: "a-new" }, label: "a3" });
      await h.createGrant({ exchanges: ["okx"], actions: ["read"], ttlMs: 60_000 });
      expect(await h.lockStatus()).toEqual({ locked: false });
      expect(await h.unlock()).toBe(false);
    });
    const after = (await surface.snapshot(w)) as { rows: Record<string, unknown> };
    expect(after.rows[users.b.userId]).toEqual(
      (before as { rows: Record<string, unknown> }).rows[users.b.userId],
    );
    await expect(h.list()).rejects.toMatchObject({ code: "ERR_GUARD_UNAUTHENTICATED" });
  });
});

describeWithPostgres("isolation kit over the vault's handlers on a real PostgreSQL store", () => {
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    for (const p of pools) await p.end();
  });

  it("holds with the guard on and with only the store's owner predicate (storage-only run)", async () => {
    const pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 4 });
    pools.push(pool);
    const store = new PostgresCredentialStore(pool);
    await store.migrate();
    // The kit builds worlds one after another: each starts from empty tables.
    const report = await assertIsolation(
      makeSurface("vault (PostgreSQL store)", async () => {
        await pool.query(`TRUNCATE ${Object.values(TABLES).join(", ")}`);
        return store;
      }),
    );
    expect(report.ok).toBe(true);
    expect(report.calls).toBeGreaterThan(50);
  }, 240_000);
});

describeWithPostgres(
  "isolation kit over the vault's handlers on PostgreSQL with row-level security",
  () => {
    const pools: pg.Pool[] = [];
    let admin: pg.Pool;
    let app: pg.Pool;
    let operator: pg.Pool;
    beforeAll(async () => {
      const url = await createDatabase(pgUrl as string);
      admin = new pg.Pool({ connectionString: url, max: 2 });
      const roles = await rlsRoles(admin, url);
      app = new pg.Pool({ connectionString: roles.appUrl, max: 4 });
      operator = new pg.Pool({ connectionString: roles.operatorUrl, max: 2 });
      pools.push(app, operator, admin);
    });
    afterAll(async () => {
      for (const p of pools) await p.end();
    });
    /** The kit builds worlds one after another: each starts from empty tables (emptied by the admin). */
    const rlsSurface = (name: string, pool: () => PgPoolLike) =>
      makeSurface(name, async () => {
        await admin.query(`TRUNCATE ${Object.values(TABLES).join(", ")}`);
        return new PostgresCredentialStore(pool(), { rls: true, operatorPool: operator });
      });

    it("holds with the guard on and with the RLS-mode store as the application role alone (storage-only run)", async () => {
      await new PostgresCredentialStore(app, { rls: true }).verifyRowLevelSecurity();
      const report = await assertIsolation(rlsSurface("vault (PostgreSQL RLS store)", () => app));
      expect(report.ok).toBe(true);
      expect(report.calls).toBeGreaterThan(50);
    }, 240_000);

    it("the vault's own row checks hold even over queries that forget their owner predicate, with RLS and with RLS bypassed", async () => {
      // Defense in depth: the vault re-checks the owner of every row a store returns, so broken SQL
      // alone does not reach vaultHandlers' results — the store-level control below shows that RLS
      // is what holds at the storage layer.
      for (const [tag, pool] of [
        ["RLS", () => forgetOwnerPredicates(app)],
        ["superuser", () => forgetOwnerPredicates(admin)],
      ] as const) {
        const report = await runIsolationSuite(rlsSurface(`vault (broken queries, ${tag})`, pool));
        expect(report.findings, tag).toEqual([]);
      }
    }, 480_000);

    /** Owned handlers straight over the RLS-mode store: nothing but the store and RLS scope them. */
    function storeSurface(tag: string, pool: () => PgPoolLike): IsolationSurface<CredentialStore> {
      const rowHandlers = (store: CredentialStore) => ({
        getCredentialRow: owned(
          {
            name: `vaultStore.${tag}.getCredentialRow`,
            resource: `credential-row-${tag}`,
            id: (id: string) => id,
            load: (id: string, who: Identity) => store.forUser(who.userId).getCredential(id),
            owner: (r: CredentialRow) => r.userId,
          },
          async ({ row }) => ({ ...row, sealed: hex(row.sealed) }),
        ),
        revokeGrantRow: owned(
          {
            name: `vaultStore.${tag}.revokeGrantRow`,
            resource: `grant-row-${tag}`,
            id: (id: string) => id,
            load: (id: string, who: Identity) => store.forUser(who.userId).getGrant(id),
            owner: (r: GrantRow) => r.userId,
          },
          async ({ row, identity }) =>
            store.forUser(identity.userId).revokeGrant(row.grantId, 1_234),
        ),
      });
      return {
        name: `vault store (${tag})`,
        async world() {
          await admin.query(`TRUNCATE ${Object.values(TABLES).join(", ")}`);
          return new PostgresCredentialStore(pool(), { rls: true, operatorPool: operator });
        },
        async seed(_w, { a, b }) {
          const good = new PostgresCredentialStore(app, { rls: true, operatorPool: operator });
          const ids: Record<string, Record<string, string[]>> = {};
          for (const [who, id] of [
            ["A", a.userId],
            ["B", b.userId],
          ] as const) {
            const now = Date.now();
            await good.forUser(id).commit({
              expectedSeq: null,
              userKey: {
                userId: id,
                kms: "local",
                keyId: "k",
                wrappedDataKey: new Uint8Array(8),
                manifest: new Uint8Array(8),
                seq: 1,
                createdAt: now,
                updatedAt: now,
              },
              credentials: [1, 2].map((i) => ({
                userId: id,
                credentialId: `${who}-c${i}`,
                exchange: "binance",
                label: `CANARY-${who}-row-${i}`,
                revision: 1,
                disabled: false,
                sealed: new Uint8Array(16),
                createdAt: now,
                updatedAt: now,
              })),
              grants: [
                {
                  userId: id,
                  grantId: `${who}-g1`,
                  exchanges: ["binance"],
                  actions: ["trade"],
                  createdAt: now,
                  expiresAt: now + 60_000,
                  revokedAt: null,
                  wrappedDataKey: new Uint8Array(8),
                  keyId: "k",
                },
              ],
            });
            ids[who] = {
              [`credential-row-${tag}`]: [`${who}-c1`, `${who}-c2`],
              [`grant-row-${tag}`]: [`${who}-g1`],
            };
          }
          return {
            a: { ids: ids.A as Record<string, string[]>, canaries: ["CANARY-A-row-"] },
            b: { ids: ids.B as Record<string, string[]>, canaries: ["CANARY-B-row-"] },
          };
        },
        snapshot: () => snapshotPgTables(admin, Object.values(TABLES)),
        handlers: (w) => rowHandlers(w),
        probes: {
          getCredentialRow: { ids: [`credential-row-${tag}`], args: (id: string) => [id] },
          revokeGrantRow: { ids: [`grant-row-${tag}`], args: (id: string) => [id] },
        },
      };
    }

    it("negative control: store queries that forget their owner predicate are held by RLS as the application role, and leak through a role that bypasses RLS", async () => {
      const held = await runIsolationSuite(storeSurface("rls", () => forgetOwnerPredicates(app)));
      expect(held.findings).toEqual([]);
      const leaked = await runIsolationSuite(
        storeSurface("bypass", () => forgetOwnerPredicates(admin)),
      );
      const lines = leaked.findings.map(
        (f) => `${f.handler} › ${f.variant} [${f.run}]: ${f.problem}`,
      );
      expect(lines).toContain(
        `getCredentialRow › B's id [storage-only]: read leak: result contains B's canary "CANARY-B-row-"`,
      );
      expect(lines.some((l) => l.startsWith("revokeGrantRow › B's id [storage-only]: "))).toBe(
        true,
      );
      expect(leaked.findings.every((f) => f.run === "storage-only")).toBe(true);
    }, 240_000);
  },
);
