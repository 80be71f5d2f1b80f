import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/index.js";
import { fakeEntries } from "./support/battery.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tmp() {
  const d = await mkdtemp(join(tmpdir(), "kw-sqlite-ro-"));
  dirs.push(d);
  return d;
}

describe("openSqliteAuditStore({ readOnly: true })", () => {
  it("a read-only open never creates or upgrades the schema", async () => {
    const dir = await tmp();
    const missing = join(dir, "missing.db");
    await expect(openSqliteAuditStore({ database: missing, readOnly: true })).rejects.toMatchObject(
      {
        code: "ERR_AUDIT_STORE_UNAVAILABLE",
      },
    );
    expect(existsSync(missing)).toBe(false);
    const empty = join(dir, "empty.db");
    new Database(empty).close();
    await expect(openSqliteAuditStore({ database: empty, readOnly: true })).rejects.toMatchObject({
      code: "ERR_AUDIT_STORE_CORRUPT",
    });
    const db = new Database(empty, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.close();
  });

  it("reads what a writer stored, and SQLite itself refuses its writes", async () => {
    const path = join(await tmp(), "audit.db");
    const writer = await openSqliteAuditStore({ database: path });
    const entries = fakeEntries("user:ro", 0, 3);
    await writer.append({ chainId: "user:ro", expectedSize: 0, entries });
    const reader = await openSqliteAuditStore({ database: path, readOnly: true });
    try {
      expect(await reader.head("user:ro")).toMatchObject({ size: 3 });
      await expect(
        reader.append({
          chainId: "user:ro",
          expectedSize: 3,
          entries: fakeEntries("user:ro", 3, 1),
        }),
      ).rejects.toMatchObject({ code: "ERR_AUDIT_STORE_UNAVAILABLE" });
      expect(await writer.head("user:ro")).toMatchObject({ size: 3 });
    } finally {
      await reader.close?.();
      await writer.close?.();
    }
  });
});
