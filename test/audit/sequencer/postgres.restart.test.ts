import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresSequencedAppender } from "../../../src/audit/sequencer/index.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { findPostgresBin } from "../../support/postgres.js";
import {
  type RestartablePostgres,
  startRestartablePostgres,
} from "../storage/support/pg-server.js";
import { expectChainHoldsAcks, startWriter, type WriterRun } from "../storage/support/processes.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(findPostgresBin() === null)(
  "PostgreSQL crash and restart under the sequencer",
  () => {
    let server: RestartablePostgres;
    beforeAll(async () => {
      server = await startRestartablePostgres();
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it("4 processes × 2 lanes on one chain, the server stopped -m immediate twice mid-run and restarted: no fork, no gap, every ack at its seq, every writer finishes", async () => {
      const pool = new pg.Pool({ connectionString: server.url, max: 4 });
      pool.on("error", () => {}); // idle clients die with the server
      const userId = "seq-restart";
      const EACH = 50;
      const runs: WriterRun[] = [];
      try {
        await migratePostgresAuditStore(pool, { sequencer: true });
        for (let w = 0; w < 4; w++)
          runs.push(
            startWriter({
              kind: "postgres",
              target: server.url,
              userId,
              writer: `r${w}`,
              count: EACH,
              lanes: 2,
              sequencer: true,
              app: w % 2 ? "keywarden-host-a" : "keywarden-host-b",
            }),
          );
        const acked = () => runs.reduce((n, r) => n + r.acks.length, 0);
        const atHalt: number[] = [];
        for (const at of [30, 110]) {
          while (acked() < at) await sleep(20);
          atHalt.push(acked());
          await server.halt(); // like a crash: no checkpoint, open transactions lost
          await sleep(300);
          await server.resume();
        }
        // Both stops fell mid-run (writers were still appending).
        expect(atHalt.every((n) => n < 4 * EACH)).toBe(true);
        const exits = await Promise.all(runs.map((r) => r.done));
        for (const e of exits) expect(e, e.stderr).toMatchObject({ code: 0, finished: true });
        const finisher = new PostgresSequencedAppender({ pool });
        await finisher.drain(`user:${userId}`);
        await finisher.close();
        const q = await pool.query(
          "select count(*)::int as n from keywarden_audit.sequencer_queue",
        );
        expect(q.rows[0].n).toBe(0);
        const rows = await expectChainHoldsAcks(
          createPostgresAuditStore({ pool }),
          `user:${userId}`,
          runs,
          { treeNodes: true },
        );
        // Every writer finished, so every one of its entries was acknowledged exactly once.
        expect(rows).toHaveLength(4 * EACH);
        expect(acked()).toBe(4 * EACH);
      } finally {
        for (const r of runs) r.child.kill("SIGKILL");
        await pool.end();
      }
    }, 240_000);
  },
);
