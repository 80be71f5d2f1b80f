/**
 * The SQLite sequencer under real processes: writer processes on one file, SIGKILLed at random
 * points (also the current lease holder), then the chain is checked against every acknowledgement.
 * Two "hosts": half of the processes open the file through another path (a symlinked directory),
 * each process on a connection of its own.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteSequencedAppender } from "../../../src/audit/sequencer/index.js";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import {
  expectChainHoldsAcks,
  killWritersWhileRunning,
  startWriter,
  type WriterRun,
} from "../storage/support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "kw-seq-sqlite-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PROCESSES = Number(process.env.KW_SEQ_PROCESSES ?? 8);
const LANES = Number(process.env.KW_SEQ_LANES ?? 4);
const KILLS = Number(process.env.KW_SEQ_KILLS ?? 20);
const EACH = 30;

describe("SQLite sequencer, real processes", () => {
  it(`${PROCESSES} processes × ${LANES} lanes on one SQLite chain, two "hosts", ${KILLS} SIGKILLs of writers and of the lease holder: no fork, no gap, every ack at its seq, no CONTENDED`, async () => {
    mkdirSync(join(dir, "host-a"));
    symlinkSync(join(dir, "host-a"), join(dir, "host-b"));
    const file = join(dir, "host-a", "audit.db");
    await (await openSqliteAuditStore({ database: file, sequencer: true })).close?.();
    const userId = "seq-kill";
    const chainId = `user:${userId}`;
    const runs: WriterRun[] = [];
    const hostOf = new Map<WriterRun, "a" | "b">();
    let started = 0;
    const spawn = () => {
      const n = started++;
      const host = n % 2 === 0 ? "a" : "b";
      const run = startWriter({
        kind: "sqlite",
        target: join(dir, `host-${host}`, "audit.db"),
        userId,
        writer: `w${n}`,
        count: EACH,
        lanes: LANES,
        sequencer: true,
        leaseMs: 600, // a killed holder's lease lapses soon: more takeovers per run
      });
      runs.push(run);
      hostOf.set(run, host);
      return run;
    };
    const watch = new Database(file, { readonly: true });
    const holderNow = watch.prepare(
      "select holder from audit_sequencer_leases where chain_id = ? and expires_at > cast(unixepoch('subsec') * 1000 as integer)",
    );
    const holderHosts = new Set<string>();
    try {
      let holderKills = 0;
      let holder: WriterRun | undefined;
      const exits = await killWritersWhileRunning({
        processes: PROCESSES,
        kills: KILLS,
        runs,
        spawn,
        // Every other kill aims at the lease holder: look for one for a little while (a holder
        // lets the lease go when it has nothing to do).
        async pickVictim(live, kills) {
          holder = undefined;
          for (let look = 0; look < (kills % 2 === 0 ? 150 : 1) && !holder; look++) {
            if (look > 0) await sleep(5);
            const lease = holderNow.get(chainId) as { holder: string } | undefined;
            holder = live.find((r) => r.holder !== undefined && r.holder === lease?.holder);
          }
          if (holder) holderHosts.add(hostOf.get(holder) as string);
          return kills % 2 === 0 && holder ? holder : live[Math.floor(Math.random() * live.length)];
        },
        onKilled(victim) {
          if (victim === holder) holderKills++;
        },
      });
      expect(holderKills).toBeGreaterThanOrEqual(KILLS / 4);
      // Both "hosts" held the lease at some point.
      expect([...holderHosts].sort()).toEqual(["a", "b"]);
      expect(runs.map((r) => r.acks.length).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      // Entries enqueued by killed writers are still sequenced (they were durable).
      const finisher = await SqliteSequencedAppender.open({ database: file });
      await finisher.drain(chainId);
      expect(finisher.queueDepth()).toMatchObject({ pending: 0, failed: 0 });
      await finisher.close();
      const store = await openSqliteAuditStore({ database: file });
      try {
        const rows = await expectChainHoldsAcks(store, chainId, runs, { treeNodes: true });
        const finished = exits.filter((e) => e.signal !== "SIGKILL").length;
        expect(rows.length).toBeGreaterThanOrEqual(finished * EACH);
      } finally {
        await store.close?.();
      }
    } finally {
      watch.close();
      for (const r of runs) r.child.kill("SIGKILL");
    }
  }, 180_000);
});
