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
import type { AuditStore } from "../../../src/audit/storage/store.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { expectChainHoldsAcks, startWriter, type WriterRun } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "kw-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROUNDS = 2;
const WRITERS = 3;

/** Waits until a writer has acknowledged something, then lets it run a random while longer. */
async function killAtRandom(run: WriterRun): Promise<void> {
  while (run.acks.length === 0) {
    if (run.child.exitCode !== null) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50 + Math.random() * 600));
  run.child.kill("SIGKILL");
}

async function crashRounds(
  kind: "postgres" | "sqlite" | "file",
  target: string,
  userId: string,
  open: () => Promise<{ store: AuditStore; close(): Promise<void> }>,
) {
  const runs: WriterRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const batch = Array.from({ length: WRITERS }, (_, w) =>
      startWriter({ kind, target, userId, writer: `r${round}w${w}`, count: 100_000 }),
    );
    runs.push(...batch);
    await Promise.all(batch.map(killAtRandom));
    const exits = await Promise.all(batch.map((r) => r.done));
    for (const e of exits) expect(e.signal, e.stderr).toBe("SIGKILL");
  }
  // Restart: a new writer finishes normally on the recovered store.
  const after = startWriter({ kind, target, userId, writer: "after", count: 10 });
  runs.push(after);
  expect((await after.done).code).toBe(0);
  const { store, close } = await open();
  try {
    const rows = await expectChainHoldsAcks(store, `user:${userId}`, runs, {
      treeNodes: kind !== "file",
    });
    expect(rows.length).toBeGreaterThanOrEqual(runs.reduce((n, r) => n + r.acks.length, 0));
    expect(runs.slice(0, -1).every((r) => r.acks.length > 0)).toBe(true);
  } finally {
    await close();
  }
}

describe("writer processes SIGKILLed at random points during appends: the chain verifies and every acknowledged append is present", () => {
  it("SQLite", async () => {
    const path = join(dir, "crash.db");
    await crashRounds("sqlite", path, "crash-sqlite", async () => {
      const store = await openSqliteAuditStore({ database: path });
      return { store, close: async () => store.close?.() };
    });
  }, 180_000);

  it("JSONL file store (torn tail recovered on open)", async () => {
    const path = join(dir, "crash.jsonl");
    await crashRounds("file", path, "crash-file", async () => {
      const store = await openFileAuditStore(path);
      return { store, close: () => store.close() };
    });
  }, 180_000);

  describeWithPostgres("postgres", () => {
    it("PostgreSQL", async () => {
      const url = await createDatabase(pgUrl as string);
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        await migratePostgresAuditStore(pool);
        await crashRounds("postgres", url, "crash-pg", async () => ({
          store: createPostgresAuditStore({ pool }),
          close: async () => {},
        }));
      } finally {
        await pool.end();
      }
    }, 180_000);
  });
});
