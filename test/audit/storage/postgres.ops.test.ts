import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex } from "../../../src/audit/primitives/hex.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
  POSTGRES_MIGRATIONS,
} from "../../../src/audit/storage/postgres/store.js";
import type { StoredEntry } from "../../../src/audit/storage/store.js";
import { storeNodeReader } from "../../../src/audit/transparency/log.js";
import {
  inclusionProof,
  rootAtSize,
  verifyInclusion,
} from "../../../src/audit/transparency/merkle.js";
import { migrateCommand } from "../../../src/cli/audit-migrate.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity, operatorIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { collect } from "./support/battery.js";
import { appendN, logFor, verifyStored, verifyStream } from "./support/chain.js";

const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));

function captureIo(env: Record<string, string> = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (d) => (stdout += d));
  err.on("data", (d) => (stderr += d));
  return {
    io: { stdout: out, stderr: err, stdin: new PassThrough(), env: { ...env }, cwd: process.cwd() },
    text: () => ({ stdout, stderr }),
  };
}

describeWithPostgres("postgres audit store: operations", () => {
  let url: string;
  let admin: pg.Pool;
  beforeAll(async () => {
    url = await createDatabase(pgUrl as string);
    admin = new pg.Pool({ connectionString: url, max: 6 });
  });
  afterAll(async () => {
    await admin?.end();
  });

  describe("migrations", () => {
    it("the CLI applies the migrations once, without printing the password, and concurrent migrators are safe", async () => {
      const db = await createDatabase(pgUrl as string);
      const a = captureIo({ KW_DB: db });
      expect(await migrateCommand.run(["--store-env", "KW_DB", "--json"], a.io)).toBe(0);
      expect(JSON.parse(a.text().stdout)).toEqual({
        ok: true,
        applied: POSTGRES_MIGRATIONS.map((m) => m.name),
        version: POSTGRES_MIGRATIONS.length,
        rls: false,
      });
      expect(a.io.env.KW_DB).toBeUndefined();
      // A password on the command line is refused (other users can read argv), never echoed;
      // the same URL without it, with PGPASSWORD, works.
      const password = decodeURIComponent(new URL(db).password);
      const typed = captureIo();
      expect(await migrateCommand.run(["--store", db], typed.io)).toBe(2);
      expect(typed.text().stderr).toContain("password");
      expect(`${typed.text().stdout}${typed.text().stderr}`).not.toContain(password);
      const bare = new URL(db);
      bare.password = "";
      const b = captureIo({ PGPASSWORD: password });
      expect(await migrateCommand.run(["--store", bare.toString()], b.io)).toBe(0);
      expect(b.text().stdout).toContain("up to date");
      expect(b.text().stdout).not.toContain(password);
      const pool = new pg.Pool({ connectionString: db, max: 4 });
      try {
        const results = await Promise.all([1, 2, 3].map(() => migratePostgresAuditStore(pool)));
        expect(results.every((r) => r.applied.length === 0)).toBe(true);
      } finally {
        await pool.end();
      }
    });

    it("the CLI enables row-level security with --rls and rejects bad usage", async () => {
      const db = await createDatabase(pgUrl as string);
      const suffix = randomBytes(4).toString("hex");
      const a = captureIo({ KW_DB: db });
      const argv = [
        "--store-env",
        "KW_DB",
        "--rls",
        "--app-role",
        `kw_cli_app_${suffix}`,
        "--owner-role",
        `kw_cli_owner_${suffix}`,
        "--json",
      ];
      expect(await migrateCommand.run(argv, a.io)).toBe(0);
      expect(JSON.parse(a.text().stdout)).toMatchObject({ ok: true, rls: true });
      const pool = new pg.Pool({ connectionString: db, max: 1 });
      try {
        const r = await pool.query(
          "select relname from pg_class where relnamespace = 'keywarden_audit'::regnamespace and relkind = 'r' and relforcerowsecurity order by relname",
        );
        expect(r.rows.map((x) => x.relname)).toEqual(["checkpoints", "entries", "tree_nodes"]);
      } finally {
        await pool.end();
      }
      const none = captureIo();
      expect(await migrateCommand.run([], none.io)).toBe(2);
      const both = captureIo({ X: db });
      expect(await migrateCommand.run(["--store", db, "--store-env", "X"], both.io)).toBe(2);
      const wrong = captureIo();
      expect(await migrateCommand.run(["--store", "mysql://h/db"], wrong.io)).toBe(2);
    });

    it("refuses a database migrated by a newer keywarden", async () => {
      const db = await createDatabase(pgUrl as string);
      const pool = new pg.Pool({ connectionString: db, max: 1 });
      try {
        await migratePostgresAuditStore(pool);
        await pool.query(
          "insert into keywarden_audit.schema_migrations (version, name) values (999, '999_future')",
        );
        expect(code(await migratePostgresAuditStore(pool).catch((e) => e))).toBe(
          "ERR_AUDIT_STORE_CORRUPT",
        );
      } finally {
        await pool.end();
      }
    });
  });

  describe("row-level security per user", () => {
    const suffix = randomBytes(4).toString("hex");
    const appRole = `kw_audit_app_${suffix}`;
    const ownerRole = `kw_audit_owner_${suffix}`;
    const password = randomBytes(12).toString("hex");
    let appPool: pg.Pool;
    beforeAll(async () => {
      const db = await createDatabase(pgUrl as string);
      const dbAdmin = new pg.Pool({ connectionString: db, max: 1 });
      await migratePostgresAuditStore(dbAdmin, { rls: { appRole, ownerRole } });
      await dbAdmin.query(`alter role ${appRole} login password '${password}'`);
      await dbAdmin.end();
      const u = new URL(db);
      u.username = appRole;
      u.password = password;
      appPool = new pg.Pool({ connectionString: u.toString(), max: 4 });
    });
    afterAll(async () => {
      await appPool?.end();
    });

    it("the app role appends and reads every chain through the store, but a transaction sees only its user's rows", async () => {
      const store = createPostgresAuditStore({ pool: appPool, rls: true });
      const { log } = logFor(store);
      await appendN(log, "alice", 5);
      await appendN(log, "bob", 3);
      expect((await verifyStored(store, "user:alice")).ok).toBe(true);
      expect((await store.head("user:bob")).size).toBe(3);
      const c = await appPool.connect();
      try {
        expect(
          (await c.query("select count(*)::int as n from keywarden_audit.entries")).rows[0].n,
        ).toBe(0);
        await c.query("begin");
        await c.query("select set_config('app.user_id', 'bob', true)");
        const rows = await c.query("select distinct chain_id from keywarden_audit.entries");
        expect(rows.rows).toEqual([{ chain_id: "user:bob" }]);
        await c.query("commit");
        // The operator chain belongs to no user: a session for a user named "operator" cannot see it.
        await log.recordOperatorAction(
          "migration.applied",
          { name: "audit", version: "1" },
          { actor: operatorIdentity("ops-1") },
        );
        expect((await verifyStored(store, "operator")).ok).toBe(true);
        await c.query("begin");
        await c.query("select set_config('app.user_id', 'operator', true)");
        expect(
          (await c.query("select count(*)::int as n from keywarden_audit.entries")).rows[0].n,
        ).toBe(0);
        await c.query("commit");
      } finally {
        c.release();
      }
    });

    it("the app role can neither delete entries nor rewrite a body", async () => {
      const store = createPostgresAuditStore({ pool: appPool, rls: true });
      await appendN(logFor(store).log, "carol", 2);
      for (const sql of [
        "delete from keywarden_audit.entries where seq = 0",
        "update keywarden_audit.entries set body = 'x' where seq = 0",
      ]) {
        const c = await appPool.connect();
        try {
          await c.query("begin");
          await c.query("select set_config('app.user_id', 'carol', true)");
          await expect(c.query(sql)).rejects.toThrow(/permission denied/);
        } finally {
          await c.query("rollback");
          c.release();
        }
      }
      await store.erasePayload("user:carol", 1);
      expect((await collect(store.read("user:carol", 1)))[0]?.payload).toBeNull();
    });
  });

  describe("tamper by a database user", () => {
    /** Tampers as the superuser with triggers disabled (what a DBA could do). */
    async function tamper(sql: string, params: unknown[]) {
      const c = await admin.connect();
      try {
        await c.query("begin");
        await c.query("set local session_replication_role = replica");
        await c.query(sql, params);
        await c.query("commit");
      } finally {
        c.release();
      }
    }

    it("an UPDATE of a payload, an UPDATE of a body and a DELETE of a row are each reported at the exact seq", async () => {
      await migratePostgresAuditStore(admin);
      const store = createPostgresAuditStore({ pool: admin });
      const { log } = logFor(store);
      for (const [user, seq, sql, reason] of [
        [
          "t1",
          7,
          "update keywarden_audit.entries set payload = replace(payload, '\"to\":7', '\"to\":8') where chain_id = $1 and seq = $2",
          "payload-mismatch",
        ],
        [
          "t2",
          11,
          'update keywarden_audit.entries set body = replace(body, \'"ts":"2\', \'"ts":"1\') where chain_id = $1 and seq = $2',
          "hash-mismatch",
        ],
        ["t3", 4, "delete from keywarden_audit.entries where chain_id = $1 and seq = $2", "gap"],
      ] as const) {
        for (let i = 0; i < 20; i++)
          await log.appendEntry(`user:${user}`, {
            action: "parameter.changed",
            payload: { name: `t-${i}`, to: i },
            actor: hostIdentity(user),
          });
        expect((await verifyStored(store, `user:${user}`)).ok).toBe(true);
        await tamper(sql, [`user:${user}`, seq]);
        const result = await verifyStored(store, `user:${user}`);
        expect(result).toMatchObject({ ok: false, seq, reason });
      }
    });

    it("the append-only trigger stops an ordinary UPDATE or DELETE", async () => {
      const store = createPostgresAuditStore({ pool: admin });
      await appendN(logFor(store).log, "t4", 2);
      await expect(
        admin.query("update keywarden_audit.entries set body = 'x' where chain_id = 'user:t4'"),
      ).rejects.toThrow(/append-only/);
      await expect(
        admin.query("delete from keywarden_audit.entries where chain_id = 'user:t4'"),
      ).rejects.toThrow(/append-only/);
    });
  });

  describe("retention", () => {
    it("an archived range plus the live rows verify as one chain; proofs and checkpoints stay valid", async () => {
      await migratePostgresAuditStore(admin);
      const store = createPostgresAuditStore({ pool: admin });
      const { log, tlog } = logFor(store);
      const chain = "user:ret";
      await appendN(log, "ret", 40);
      await store.putCheckpoint?.(chain, { size: 40, note: "cp-40" });
      const rootBefore = await rootAtSize(storeNodeReader(store, chain), 40);
      // 1. Export the old range to cold storage (here: an array; in production a JSONL export).
      const archive: StoredEntry[] = await collect(store.read(chain, 0, 30));
      // 2. Prune exactly what was archived.
      expect(code(await store.pruneArchived(chain, 30, "0".repeat(64)).catch((e) => e))).toBe(
        "ERR_INVALID_ARGUMENT",
      );
      expect(
        code(
          await store
            .pruneArchived(chain, 40, (await store.head(chain)).headHash as string)
            .catch((e) => e),
        ),
      ).toBe("ERR_INVALID_ARGUMENT");
      expect(await store.pruneArchived(chain, 30, archive[29]?.hash as string)).toEqual({
        deleted: 30,
      });
      // 3. The chain keeps growing; head and checkpoint are intact.
      await appendN(log, "ret", 5, "late");
      expect((await store.head(chain)).size).toBe(45);
      expect(await store.latestCheckpoint?.(chain)).toEqual({ size: 40, note: "cp-40" });
      // 4. Archive + live verify from genesis; the live store alone does not.
      async function* joined() {
        yield* archive;
        yield* store.read(chain, 30);
      }
      expect(await verifyStream(joined(), chain)).toMatchObject({ ok: true, size: 45 });
      expect((await verifyStored(store, chain)).ok).toBe(false);
      // 5. Inclusion proofs for archived entries still come from the live tree nodes.
      const reader = storeNodeReader(store, chain);
      expect(await rootAtSize(reader, 40)).toEqual(rootBefore);
      const proof = await inclusionProof(reader, 3, 45);
      expect(
        verifyInclusion(
          fromHex(archive[3]?.hash as string) as Uint8Array,
          3,
          45,
          proof,
          await rootAtSize(reader, 45),
        ),
      ).toBe(true);
      expect(tlog).toBeDefined();
    });
  });
});
