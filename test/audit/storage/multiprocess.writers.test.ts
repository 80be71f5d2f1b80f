import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openFileAuditStore } from "../../../src/audit/storage/file/store.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { expectChainHoldsAcks, startWriter } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "kw-mp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROCESSES = 4;
const EACH = 60;

async function runWriters(kind: "postgres" | "sqlite" | "file", target: string, userId: string) {
  const runs = Array.from({ length: PROCESSES }, (_, w) =>
    startWriter({ kind, target, userId, writer: `p${w}`, count: EACH }),
  );
  const exits = await Promise.all(runs.map((r) => r.done));
  for (const e of exits) expect(e, e.stderr).toMatchObject({ code: 0, finished: true });
  expect(runs.reduce((n, r) => n + r.acks.length, 0)).toBe(PROCESSES * EACH);
  return runs;
}

describe("N OS processes append to one chain: zero forks, zero gaps, every acknowledged entry present", () => {
  it("through SQLite (BEGIN IMMEDIATE across processes)", async () => {
    const path = join(dir, "mp.db");
    const runs = await runWriters("sqlite", path, "mp-sqlite");
    const store = await openSqliteAuditStore({ database: path });
    try {
      expect(
        await expectChainHoldsAcks(store, "user:mp-sqlite", runs, { treeNodes: true }),
      ).toHaveLength(PROCESSES * EACH);
    } finally {
      await store.close?.();
    }
  }, 120_000);

  it("through the JSONL file store (one writer at a time via its lock)", async () => {
    const path = join(dir, "mp.jsonl");
    const runs = await runWriters("file", path, "mp-file");
    const store = await openFileAuditStore(path);
    try {
      expect(await expectChainHoldsAcks(store, "user:mp-file", runs)).toHaveLength(
        PROCESSES * EACH,
      );
    } finally {
      await store.close();
    }
  }, 120_000);

  describeWithPostgres("postgres", () => {
    it("through PostgreSQL (advisory lock + group commit per process)", async () => {
      const url = await createDatabase(pgUrl as string);
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        await migratePostgresAuditStore(pool);
        const runs = await runWriters("postgres", url, "mp-pg");
        expect(
          await expectChainHoldsAcks(createPostgresAuditStore({ pool }), "user:mp-pg", runs, {
            treeNodes: true,
          }),
        ).toHaveLength(PROCESSES * EACH);
      } finally {
        await pool.end();
      }
    }, 120_000);
  });
});
