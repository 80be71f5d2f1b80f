import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { appendN, logFor, verifyStored } from "./support/chain.js";

const dir = mkdtempSync(join(tmpdir(), "kw-sqlite-ops-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));
const onDisk = (path: string, needle: string) =>
  [path, `${path}-wal`, `${path}-shm`].some(
    (f) => existsSync(f) && readFileSync(f).includes(Buffer.from(needle)),
  );

describe("sqlite audit store: operations", () => {
  // secure_delete zeroes the freed cell and overflow pages; the TRUNCATE checkpoint drops the old WAL frames.
  it("erasure removes the payload bytes from the database and WAL files, and the chain verifies as redacted", async () => {
    const path = join(dir, "erase.db");
    const store = await openSqliteAuditStore({ database: path });
    const { log } = logFor(store);
    const canary = `CANARY-${randomBytes(8).toString("hex")}`;
    await appendN(log, "eve", 3);
    const e = await log.appendEntry("user:eve", {
      action: "parameter.changed",
      payload: { name: "label", to: [canary, "x".repeat(3000), canary] },
      actor: hostIdentity("eve"),
    });
    await appendN(log, "eve", 3, "after");
    expect(onDisk(path, canary)).toBe(true);
    await store.erasePayload("user:eve", e.seq);
    expect(onDisk(path, canary)).toBe(false);
    expect(await verifyStored(store, "user:eve")).toMatchObject({ ok: true, size: 7, redacted: 1 });
    await store.close?.();
    expect(onDisk(path, canary)).toBe(false);
  });

  it("an UPDATE of a payload or a body and a DELETE of a row by a database user are reported at the exact seq", async () => {
    for (const [n, seq, sql, reason] of [
      [
        1,
        5,
        "update audit_entries set payload = replace(payload, '\"to\":5', '\"to\":6') where chain_id = ? and seq = ?",
        "payload-mismatch",
      ],
      [
        2,
        9,
        'update audit_entries set body = replace(body, \'"ts":"2\', \'"ts":"1\') where chain_id = ? and seq = ?',
        "hash-mismatch",
      ],
      [3, 2, "delete from audit_entries where chain_id = ? and seq = ?", "gap"],
    ] as const) {
      const path = join(dir, `tamper-${n}.db`);
      const store = await openSqliteAuditStore({ database: path });
      const { log } = logFor(store);
      for (let i = 0; i < 12; i++)
        await log.appendEntry("user:t", {
          action: "parameter.changed",
          payload: { name: "p", to: i },
          actor: hostIdentity("t"),
        });
      expect((await verifyStored(store, "user:t")).ok).toBe(true);
      const db = new Database(path);
      expect(db.prepare(sql).run("user:t", seq).changes).toBe(1);
      db.close();
      expect(await verifyStored(store, "user:t")).toMatchObject({ ok: false, seq, reason });
      await store.close?.();
    }
  });

  it("accepts an injected better-sqlite3 Database, applies synchronous=FULL and WAL, and refuses a newer schema", async () => {
    const db = new Database(join(dir, "injected.db"));
    const store = await openSqliteAuditStore({ database: db });
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("secure_delete", { simple: true })).toBe(1);
    await appendN(logFor(store).log, "inj", 2);
    db.pragma("user_version = 99");
    await store.close?.();
    expect(
      code(await openSqliteAuditStore({ database: join(dir, "injected.db") }).catch((e) => e)),
    ).toBe("ERR_AUDIT_STORE_CORRUPT");
    expect(
      code(
        await openSqliteAuditStore({
          database: join(dir, "x.db"),
          synchronous: "OFF" as never,
        }).catch((e) => e),
      ),
    ).toBe("ERR_INVALID_ARGUMENT");
  });
});
