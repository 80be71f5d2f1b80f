import { PassThrough } from "node:stream";
import pg from "pg";
import { expect, it } from "vitest";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { audit } from "../../../src/cli/audit.js";
import type { CliIo } from "../../../src/cli/io.js";
import { runCli } from "../../../src/cli/run.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { collect } from "../storage/support/battery.js";
import { verifyStored } from "../storage/support/chain.js";

async function cli(argv: string[], env: Record<string, string>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: { ...env }, cwd: "/" };
  const code = await runCli(["audit", ...argv], io, { audit: async () => audit });
  return { code, out, err };
}

describeWithPostgres("keywarden audit sequencer", () => {
  it("--once sequences the entries queued on every chain (writers that died) and exits", async () => {
    const url = await createDatabase(pgUrl as string);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await migratePostgresAuditStore(pool, { sequencer: true });
      // Rows as writers that died after enqueueing left them.
      for (const user of ["alice", "bob"])
        for (let i = 0; i < 3; i++) {
          const who = hostIdentity(user);
          await pool.query(
            "insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor) values ($1, $2, 'parameter.changed', $3, $4)",
            [
              `user:${user}`,
              `${user}-${i}`,
              JSON.stringify({ name: "p", to: i }),
              JSON.stringify({ kind: who.kind, userId: who.userId, id: who.id }),
            ],
          );
        }
      const r = await cli(["sequencer", "--store-env", "KW_DB", "--once", "--json"], {
        KW_DB: url,
      });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ ok: true, chains: ["user:alice", "user:bob"] });
      const store = createPostgresAuditStore({ pool });
      for (const user of ["alice", "bob"]) {
        const rows = await collect(store.read(`user:${user}`, 0));
        expect(rows.map((x) => x.idempotencyKey)).toEqual([`${user}-0`, `${user}-1`, `${user}-2`]);
        expect(await verifyStored(store, `user:${user}`)).toMatchObject({ ok: true, size: 3 });
      }
      const q = await pool.query("select count(*)::int as n from keywarden_audit.sequencer_queue");
      expect(q.rows[0].n).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("--purge-failed removes the failed rows older than --older-than-ms and leaves pending ones", async () => {
    const url = await createDatabase(pgUrl as string);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await migratePostgresAuditStore(pool, { sequencer: true });
      const put = (key: string, failedAgo: number | null) =>
        pool.query(
          `insert into keywarden_audit.sequencer_queue (chain_id, idempotency_key, action, payload, actor, failed_code, failed_at)
           values ('user:carol', $1, 'parameter.changed', 'null', '{}', $2, clock_timestamp() - make_interval(secs => $3))`,
          [key, failedAgo === null ? null : "ERR_GUARD_UNAUTHENTICATED", failedAgo ?? 0],
        );
      await put("refused-long-ago", 3600);
      await put("refused-just-now", 1);
      await put("pending", null);
      const keys = async () =>
        (
          await pool.query<{ k: string }>(
            "select idempotency_key as k from keywarden_audit.sequencer_queue order by 1",
          )
        ).rows.map((r) => r.k);
      const p = await cli(["sequencer", "--store-env", "KW_DB", "--purge-failed", "--json"], {
        KW_DB: url,
      });
      expect(p).toMatchObject({ code: 0, err: "" });
      expect(JSON.parse(p.out)).toEqual({ ok: true, purged: 1 });
      expect(await keys()).toEqual(["pending", "refused-just-now"]);
      const all = await cli(
        ["sequencer", "--store-env", "KW_DB", "--purge-failed", "--older-than-ms", "0"],
        { KW_DB: url },
      );
      expect(all).toMatchObject({ code: 0, err: "", out: "purged 1 failed queue row\n" });
      expect(await keys()).toEqual(["pending"]);
      const bad = await cli(
        ["sequencer", "--store-env", "KW_DB", "--purge-failed", "--older-than-ms", "-5"],
        { KW_DB: url },
      );
      expect(bad.code).toBe(2);
      expect(await keys()).toEqual(["pending"]);
    } finally {
      await pool.end();
    }
  });

  it("refuses a store that is neither PostgreSQL nor SQLite (usage error)", async () => {
    const r = await cli(["sequencer", "--store", "file:/tmp/x.kwlog", "--once"], {});
    expect(r.code).toBe(2);
    expect(r.err).toContain("only for PostgreSQL and SQLite");
  });
});
