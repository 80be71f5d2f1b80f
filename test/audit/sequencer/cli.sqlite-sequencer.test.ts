import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import { audit } from "../../../src/cli/audit.js";
import type { CliIo } from "../../../src/cli/io.js";
import { runCli } from "../../../src/cli/run.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { collect } from "../storage/support/battery.js";
import { verifyStored } from "../storage/support/chain.js";

const dir = mkdtempSync(join(tmpdir(), "kw-seq-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]) {
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
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: dir };
  const code = await runCli(["audit", ...argv], io, { audit: async () => audit });
  return { code, out, err };
}

describe("keywarden audit sequencer --store sqlite:PATH", () => {
  it("--once sequences the entries queued on every chain of the file, and --purge-failed removes refused rows", async () => {
    await (
      await openSqliteAuditStore({ database: join(dir, "audit.db"), sequencer: true })
    ).close?.();
    const db = new Database(join(dir, "audit.db"));
    const put = db.prepare(
      "insert into audit_sequencer_queue (chain_id, idempotency_key, action, payload, actor, enqueued_at, failed_code, failed_at) values (?, ?, 'parameter.changed', ?, ?, 0, ?, ?)",
    );
    // Rows as writers that died after enqueueing left them, and one the sequencer refused long ago.
    for (const user of ["alice", "bob"])
      for (let i = 0; i < 3; i++) {
        const who = hostIdentity(user);
        put.run(
          `user:${user}`,
          `${user}-${i}`,
          JSON.stringify({ name: "p", to: i }),
          JSON.stringify({ kind: who.kind, userId: who.userId, id: who.id }),
          null,
          null,
        );
      }
    put.run("user:carol", "refused", "null", "{}", "ERR_GUARD_UNAUTHENTICATED", 1);
    db.close();
    // A relative path is taken from the working directory.
    const r = await cli(["sequencer", "--store", "sqlite:audit.db", "--once", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ ok: true, chains: ["user:alice", "user:bob"] });
    const store = await openSqliteAuditStore({ database: join(dir, "audit.db") });
    try {
      for (const user of ["alice", "bob"]) {
        const rows = await collect(store.read(`user:${user}`, 0));
        expect(rows.map((x) => x.idempotencyKey)).toEqual([`${user}-0`, `${user}-1`, `${user}-2`]);
        expect(await verifyStored(store, `user:${user}`)).toMatchObject({ ok: true, size: 3 });
      }
    } finally {
      await store.close?.();
    }
    const p = await cli(["sequencer", "--store", "sqlite:audit.db", "--purge-failed", "--json"]);
    expect(p).toMatchObject({ code: 0, err: "" });
    expect(JSON.parse(p.out)).toEqual({ ok: true, purged: 1 });
    const left = new Database(join(dir, "audit.db"), { readonly: true });
    expect(left.prepare("select count(*) as n from audit_sequencer_queue").get()).toEqual({ n: 0 });
    left.close();
  });
});
