/**
 * The DynamoDB sequenced appender under real processes against dynalite: writer processes on one
 * chain, each with its own `DynamoDBClient`, SIGKILLed at random points, then the chain is checked
 * against every acknowledgement. Two "hosts": half of the processes reach dynalite directly, half
 * through a TCP relay on another port (another network path and connection pool) with another
 * user agent. dynalite is not DynamoDB: this tests the protocol, not DynamoDB's own behaviour.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDynamoDbAuditTable,
  openDynamoDbAuditStore,
} from "../../../src/audit/storage/dynamodb/store.js";
import { startDynalite } from "../storage/support/dynalite.js";
import {
  expectChainHoldsAcks,
  killWritersWhileRunning,
  startWriter,
  type WriterRun,
} from "../storage/support/processes.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROCESSES = Number(process.env.KW_SEQ_PROCESSES ?? 8);
const LANES = Number(process.env.KW_SEQ_LANES ?? 4);
const KILLS = Number(process.env.KW_SEQ_KILLS ?? 20);
const EACH = 30;
const TABLE = "audit-kill";

let server: Awaited<ReturnType<typeof startDynalite>>;
let relay: Server;
let relayUrl: string;
const sockets = new Set<Socket>();
beforeAll(async () => {
  server = await startDynalite();
  await createDynamoDbAuditTable(server.client, TABLE);
  const target = new URL(server.endpoint);
  relay = createServer((inbound) => {
    const outbound = new Socket();
    sockets.add(inbound).add(outbound);
    outbound.connect(Number(target.port), target.hostname);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", end).on("close", end);
    outbound.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  const port = (relay.address() as { port: number }).port;
  relayUrl = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => relay?.close(r));
  await server?.stop();
});

describe("DynamoDB sequenced appender, real processes (dynalite)", () => {
  it(`${PROCESSES} processes × ${LANES} lanes on one DynamoDB chain, two "hosts", ${KILLS} SIGKILLs of writers: no fork, no gap, every ack at its seq, no CONTENDED`, async () => {
    const userId = "seq-dyn-kill";
    const chainId = `user:${userId}`;
    const runs: WriterRun[] = [];
    const hostOf = new Map<WriterRun, "a" | "b">();
    let started = 0;
    const spawn = () => {
      const n = started++;
      const host = n % 2 === 0 ? "a" : "b";
      const run = startWriter({
        kind: "dynamodb",
        target: host === "a" ? server.endpoint : relayUrl,
        table: TABLE,
        app: `keywarden-host-${host}`,
        userId,
        writer: `w${n}`,
        count: EACH,
        lanes: LANES,
        sequencer: true,
      });
      runs.push(run);
      hostOf.set(run, host);
      return run;
    };
    try {
      const exits = await killWritersWhileRunning({
        processes: PROCESSES,
        kills: KILLS,
        runs,
        spawn,
        // Aim at a writer that is appending (acknowledged some, not done): a kill mid-append.
        // Wait for one for a while (fresh processes take a second or two to start).
        async pickVictim(live) {
          let busy: WriterRun[] = [];
          for (let look = 0; look < 60 && busy.length === 0; look++) {
            if (look > 0) await sleep(50);
            busy = live.filter((r) => r.acks.length > 0 && r.child.exitCode === null);
          }
          const pool = busy.length > 0 ? busy : live;
          return pool[Math.floor(Math.random() * pool.length)];
        },
      });
      // Both "hosts" acknowledged appends, and some writers were killed after acknowledging.
      for (const host of ["a", "b"])
        expect(
          runs.filter((r) => hostOf.get(r) === host && r.acks.length > 0).length,
        ).toBeGreaterThan(0);
      const killedAfterAcks = runs.filter(
        (r, i) => exits[i]?.signal === "SIGKILL" && r.acks.length > 0,
      ).length;
      expect(killedAfterAcks).toBeGreaterThanOrEqual(KILLS / 2);
      const retried = runs.flatMap((r) => r.retries);
      const store = await openDynamoDbAuditStore({ client: server.client, tableName: TABLE });
      const rows = await expectChainHoldsAcks(store, chainId, runs, { treeNodes: true });
      const finished = exits.filter((e) => e.signal !== "SIGKILL").length;
      expect(rows.length).toBeGreaterThanOrEqual(finished * EACH);
      // The run's figures for the docs, when asked for (the library and tests never print).
      if (process.env.KW_SEQ_REPORT_FILE)
        writeFileSync(
          process.env.KW_SEQ_REPORT_FILE,
          JSON.stringify({
            entries: rows.length,
            acks: runs.reduce((n, r) => n + r.acks.length, 0),
            retries: retried,
            processes: runs.length,
            killedAfterAcks,
          }),
        );
    } finally {
      for (const r of runs) r.child.kill("SIGKILL");
    }
  }, 180_000);
});
