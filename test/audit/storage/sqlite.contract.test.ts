import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import { storeBattery } from "./support/battery.js";

const dir = mkdtempSync(join(tmpdir(), "kw-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeBattery("sqlite (group commit)", () => ({
  open: (name) => openSqliteAuditStore({ database: join(dir, `${name}.db`) }),
}));
storeBattery("sqlite (no group commit)", () => ({
  open: (name) =>
    openSqliteAuditStore({ database: join(dir, `plain-${name}.db`), groupCommit: false }),
}));
