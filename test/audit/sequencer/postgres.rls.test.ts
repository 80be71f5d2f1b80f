/**
 * The PostgreSQL sequencer on a database whose audit tables are under row-level security: refused
 * with a typed error before anything is written (the sequencer writes every user's chain from one
 * role, which the per-user policies exist to prevent).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { expect, it } from "vitest";
import { PostgresSequencedAppender } from "../../../src/audit/sequencer/index.js";
import { migratePostgresAuditStore } from "../../../src/audit/storage/postgres/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";

describeWithPostgres("PostgreSQL sequencer and row-level security", () => {
  it("the PostgreSQL sequencer refuses audit tables under row-level security before it writes anything", async () => {
    const suffix = randomBytes(4).toString("hex");
    const appRole = `kw_seq_app_${suffix}`;
    const ownerRole = `kw_seq_owner_${suffix}`;
    const password = randomBytes(12).toString("hex");
    const db = await createDatabase(pgUrl as string);
    const admin = new pg.Pool({ connectionString: db, max: 2 });
    const plainDb = await createDatabase(pgUrl as string);
    const plain = new pg.Pool({ connectionString: plainDb, max: 4 });
    let app: pg.Pool | undefined;
    try {
      await migratePostgresAuditStore(admin, { rls: { appRole, ownerRole }, sequencer: true });
      await admin.query(`alter role ${appRole} login password '${password}'`);
      await admin.query(
        `grant select, insert, update, delete on all tables in schema keywarden_audit to ${appRole}`,
      );
      const u = new URL(db);
      u.username = appRole;
      u.password = password;
      app = new pg.Pool({ connectionString: u.toString(), max: 4 });
      const input = {
        action: "parameter.changed",
        payload: { name: "p", to: 1 },
        actor: hostIdentity("alice"),
        idempotencyKey: "k1",
      };
      for (const pool of [app, admin]) {
        const seq = new PostgresSequencedAppender({ pool, listen: false, timeoutMs: 2000 });
        const err = await seq.append("user:alice", input).catch((e: unknown) => e);
        expect(isKeywardenError(err) && err.code).toBe("ERR_NOT_SUPPORTED");
        expect(isKeywardenError(err) && err.details).toEqual({ reason: "row_level_security" });
        await seq.close();
      }
      const queued = await admin.query(
        "select count(*)::int as n from keywarden_audit.sequencer_queue",
      );
      expect(queued.rows[0].n).toBe(0);
      // The same appender on a database without row-level security appends (the check can pass).
      await migratePostgresAuditStore(plain, { sequencer: true });
      const ok = new PostgresSequencedAppender({ pool: plain, listen: false });
      expect((await ok.append("user:alice", input)).seq).toBe(0);
      await ok.close();
    } finally {
      await app?.end();
      await admin.end();
      await plain.end();
    }
  }, 60_000);
});
