import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { runAs } from "../../src/guard/context.js";
import { listHandlers } from "../../src/guard/registry.js";
import {
  assertIsolation,
  type EffectRecorder,
  type IsolationSurface,
} from "../../src/guard/testing/index.js";
import { type VaultHandlers, vaultHandlers } from "../../src/vault/handlers.js";
import { MemoryCredentialStore } from "../../src/vault/memory-store.js";
import { PostgresCredentialStore } from "../../src/vault/postgres-store.js";
import { TABLES } from "../../src/vault/sql-rows.js";
import type { CredentialStore } from "../../src/vault/store.js";
import { createVault, type Vault } from "../../src/vault/vault.js";
import type { VaultAuditSink } from "../../src/vault/vault-support.js";
import { createDatabase } from "../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../support/services.js";
import { countingKms, localKms, makeIdp } from "../vault/helpers.js";

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
