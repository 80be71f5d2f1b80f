import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { hostIdentity } from "../../../src/guard/identity.js";
import { FileCredentialStore } from "../../../src/vault/stores/file.js";
import { MemoryCredentialStore } from "../../../src/vault/stores/memory.js";
import { PostgresCredentialStore } from "../../../src/vault/stores/postgres/store.js";
import { SqliteCredentialStore } from "../../../src/vault/stores/sqlite.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { storeConformance } from "./store-conformance.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "kw-store-"));
  dirs.push(d);
  return d;
};
const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const p of pools) await p.end();
});

describe("MemoryCredentialStore", () => storeConformance(async () => new MemoryCredentialStore()));

describe("FileCredentialStore", () => {
  storeConformance(async () => FileCredentialStore.open(join(tmp(), "vault")));

  it("writes 0600 files in a 0700 directory and leaves no temp files", async () => {
    const dir = join(tmp(), "vault");
    const store = await FileCredentialStore.open(dir);
    const a = store.forUser("alice");
    await a.commit({
      expectedSeq: null,
      userKey: {
        userId: "alice",
        kms: "local",
        keyId: "k",
        wrappedDataKey: new Uint8Array(3),
        manifest: new Uint8Array(3),
        seq: 1,
        createdAt: 1,
        updatedAt: 1,
      },
    });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^u-[0-9a-f]{64}\.json$/);
    expect(statSync(join(dir, files[0] as string)).mode & 0o777).toBe(0o600);
    await a.shred();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("listUserIds lists a file only under the user whose hash names it, and skips malformed files", async () => {
    const { copyFileSync, writeFileSync } = await import("node:fs");
    const { createHash } = await import("node:crypto");
    const dir = join(tmp(), "vault");
    const store = await FileCredentialStore.open(dir);
    await store.forUser("alice").lock({
      userId: "alice",
      lockId: "l1",
      lockedAt: 1,
      reason: "r",
      lockedBy: "ops",
    });
    const hash = (u: string) => createHash("sha256").update(u).digest("hex");
    // A copy of alice's file planted under mallory's name does not list alice twice or mallory.
    copyFileSync(join(dir, `u-${hash("alice")}.json`), join(dir, `u-${hash("mallory")}.json`));
    writeFileSync(join(dir, `u-${hash("bob")}.json`), "not json", { mode: 0o600 });
    expect(await store.listUserIds()).toEqual(["alice"]);
    await expect(store.forUser("mallory").getLock()).rejects.toMatchObject({
      code: "ERR_VAULT_FORMAT",
    });
  });

  it("Precondition: a store directory accessible by group or others is refused.", async () => {
    const dir = tmp();
    const { chmodSync } = await import("node:fs");
    chmodSync(dir, 0o755);
    await expect(FileCredentialStore.open(dir)).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
  });
});

describe("SqliteCredentialStore", () => {
  storeConformance(async () => new SqliteCredentialStore(new Database(":memory:")));

  it("Precondition: the store runs only with SQLite's secure_delete on.", () => {
    const db = new Database(":memory:");
    new SqliteCredentialStore(db);
    expect(db.pragma("secure_delete", { simple: true })).toBe(1);
    const refusing = Object.assign(Object.create(db), {
      pragma: (s: string, o?: { simple?: boolean }) =>
        s === "secure_delete" ? 0 : db.pragma(s, o),
    });
    expect(() => new SqliteCredentialStore(refusing)).toThrow(
      expect.objectContaining({ code: "ERR_NOT_SUPPORTED" }),
    );
  });
});

describeWithPostgres("PostgresCredentialStore (real PostgreSQL)", () => {
  storeConformance(async () => {
    const pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 4 });
    pools.push(pool);
    const store = new PostgresCredentialStore(pool);
    await store.migrate();
    return store;
  });

  it("vacuum rewrites the tables after a shred", async () => {
    const pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 2 });
    pools.push(pool);
    const store = new PostgresCredentialStore(pool);
    await store.migrate();
    await store.forUser("alice").shred();
    await expect(store.vacuum()).resolves.toBeUndefined();
  });
});

describe("the conformance suite itself", () => {
  it("fails a store that ignores the compare-and-swap or the owner predicate", async () => {
    const { runCredentialStoreConformance } = await import("../../../src/vault/testing/index.js");
    const run = async (
      create: () => Promise<import("../../../src/vault/stores/store.js").CredentialStore>,
    ) => {
      const tests: { name: string; fn: () => Promise<void> }[] = [];
      runCredentialStoreConformance(
        "broken",
        { create },
        {
          describe: (_n, fn) => fn(),
          it: (name, fn) => void tests.push({ name, fn }),
        },
      );
      const failed: string[] = [];
      for (const t of tests) await t.fn().catch(() => failed.push(t.name));
      return failed;
    };
    const noCas = async () => {
      const inner = new MemoryCredentialStore();
      return {
        forUser: (u: string) => {
          const s = inner.forUser(u);
          return {
            ...s,
            commit: async (c: Parameters<typeof s.commit>[0]) =>
              (await s.getUserKey()) === undefined ||
              s.commit({ ...c, expectedSeq: (await s.getUserKey())?.seq ?? null }),
          };
        },
      };
    };
    expect(await run(noCas)).toContain("commit is a compare-and-swap on the user's seq");
    const leaky = async () => {
      const inner = new MemoryCredentialStore();
      return { forUser: (u: string) => ({ ...inner.forUser("everyone"), userId: u }) };
    };
    expect(await run(leaky)).toContain("round-trips rows exactly, scoped to their owner");
    expect(await run(async () => new MemoryCredentialStore())).toEqual([]);
  });
});

describe("persistent stores survive a restart", () => {
  it.each([
    ["file", async (dir: string) => FileCredentialStore.open(join(dir, "vault"))],
    [
      "SQLite",
      async (dir: string) => new SqliteCredentialStore(new Database(join(dir, "vault.db"))),
    ],
  ] as const)(
    "%s: a new process (new store, new vault, same master key) opens what the old one stored",
    async (_n, make) => {
      const { randomBytes } = await import("node:crypto");
      const { Secret } = await import("../../../src/secret.js");
      const { LocalKms } = await import("../../../src/vault/kms/local.js");
      const { createVault } = await import("../../../src/vault/core/vault.js");
      const { makeIdp } = await import("../helpers.js");
      const dir = tmp();
      const master = new Uint8Array(randomBytes(32));
      const idp = await makeIdp();
      const alice = await idp.session("alice");
      const v1 = createVault({ kms: new LocalKms(Secret.copyOf(master)), store: await make(dir) });
      const { credentialId } = await v1.store(alice, {
        exchange: "okx",
        credentials: { secret: "persisted" },
      });
      const { grant } = await v1.createGrant(alice, {
        exchanges: ["okx"],
        actions: ["cancel"],
        ttlMs: 60_000,
      });
      const v2 = createVault({ kms: new LocalKms(Secret.copyOf(master)), store: await make(dir) });
      expect(
        await v2.withCredentials(alice, credentialId, (c) => c.secret?.useText((t) => t)),
      ).toBe("persisted");
      const resumed = await v2.resumeGrant(hostIdentity("alice"), "alice", grant.id);
      expect(
        await v2.withCredentials(resumed, credentialId, (c) => c.secret?.useText((t) => t), {
          action: "cancel",
        }),
      ).toBe("persisted");
    },
  );
});
