import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { fromHex } from "../../../../src/audit/primitives/hex.js";
import type { AuditStore, StoredEntry } from "../../../../src/audit/storage/store.js";
import { storeNodeReader } from "../../../../src/audit/transparency/log.js";
import { merkleRoot, rootAtSize } from "../../../../src/audit/transparency/merkle.js";
import { collect } from "./battery.js";
import { verifyStored } from "./chain.js";

const WRITER = fileURLToPath(new URL("./writer.ts", import.meta.url));

/** What one writer process acknowledged. */
export interface WriterRun {
  readonly child: ChildProcess;
  readonly acks: Array<{ seq: number; key: string; hash: string }>;
  /** The error code of every retried append (`RETRY <key> <code>` lines). */
  readonly retries: string[];
  /** With `sequencer`: the appender's lease holder id (reported on start). */
  readonly holder?: string | undefined;
  readonly done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    finished: boolean;
  }>;
}

/** Starts a writer process (see writer.ts). */
export function startWriter(config: {
  noTree?: boolean;
  kind: "postgres" | "sqlite" | "file" | "dynamodb";
  target: string;
  table?: string;
  userId: string;
  writer: string;
  count: number;
  lanes?: number;
  sequencer?: boolean;
  leaseMs?: number;
  app?: string;
}): WriterRun {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", WRITER, JSON.stringify({ lanes: 4, ...config })],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const acks: WriterRun["acks"] = [];
  const retries: string[] = [];
  let buf = "";
  let stderr = "";
  let finished = false;
  let holder: string | undefined;
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const [tag, seq, key, hash] = line.split(" ");
      if (tag === "ACK") acks.push({ seq: Number(seq), key: key as string, hash: hash as string });
      if (tag === "DONE") finished = true;
      if (tag === "RETRY") retries.push(key as string);
      if (tag === "HOLDER") holder = seq;
      nl = buf.indexOf("\n");
    }
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    finished: boolean;
  }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr, finished })));
  return {
    child,
    acks,
    retries,
    done,
    get holder() {
      return holder;
    },
  };
}

/**
 * The chain verifies (no fork, no gap, every hash and link), every acknowledged append is present
 * at its seq with its hash, and no idempotency key appears twice.
 */
export async function expectChainHoldsAcks(
  store: AuditStore,
  chainId: string,
  runs: readonly WriterRun[],
  opts: { treeNodes?: boolean } = {},
): Promise<StoredEntry[]> {
  const result = await verifyStored(store, chainId);
  expect(result).toMatchObject({ ok: true });
  const rows = await collect(store.read(chainId, 0));
  expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i));
  const acks = runs.flatMap((r) => r.acks);
  for (const a of acks) {
    const row = rows[a.seq];
    expect(row?.hash, `ack ${a.key} at seq ${a.seq}`).toBe(a.hash);
    expect(row?.idempotencyKey).toBe(a.key);
  }
  const keys = rows.map((r) => r.idempotencyKey).filter((k) => k !== undefined);
  expect(new Set(keys).size).toBe(keys.length);
  if (opts.treeNodes) {
    // The Merkle nodes written by competing processes form the one tree of the chain's leaves.
    const reader = storeNodeReader(store, chainId);
    const leaves = rows.map((r) => fromHex(r.hash) as Uint8Array);
    expect(Buffer.from(await rootAtSize(reader, rows.length)).toString("hex")).toBe(
      Buffer.from(merkleRoot(leaves)).toString("hex"),
    );
    const half = Math.floor(rows.length / 2);
    expect(Buffer.from(await rootAtSize(reader, half)).toString("hex")).toBe(
      Buffer.from(merkleRoot(leaves.slice(0, half))).toString("hex"),
    );
  }
  return rows;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Keeps `processes` writers running (spawning replacements) and SIGKILLs one every 150–500 ms
 * until `kills` kills have ended a process; `pickVictim` chooses among the live ones (it may wait).
 * Then waits for every run and checks what every such test needs: each writer that was not killed
 * exited 0 after finishing, exactly `kills` were killed, and no append was ever retried for
 * contention. Returns the exits, in the order of `runs`.
 */
export async function killWritersWhileRunning(opts: {
  readonly processes: number;
  readonly kills: number;
  readonly runs: WriterRun[];
  readonly spawn: () => WriterRun;
  readonly pickVictim: (live: WriterRun[], killed: number) => Promise<WriterRun | undefined>;
  /** Called after a kill that ended `victim`. */
  readonly onKilled?: (victim: WriterRun) => void;
}): Promise<Array<Awaited<WriterRun["done"]>>> {
  let live = Array.from({ length: opts.processes }, opts.spawn);
  let kills = 0;
  while (kills < opts.kills) {
    await pause(150 + Math.random() * 350);
    live = live.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
    while (live.length < opts.processes) live.push(opts.spawn());
    const victim = await opts.pickVictim(live, kills);
    if (!victim) continue;
    live = live.filter((r) => r !== victim);
    // Only a kill that ended the process counts (a victim may finish on its own first).
    if (victim.child.kill("SIGKILL") && (await victim.done).signal === "SIGKILL") {
      opts.onKilled?.(victim);
      kills++;
    }
  }
  const exits = await Promise.all(opts.runs.map((r) => r.done));
  for (const e of exits)
    if (e.signal !== "SIGKILL") expect(e, e.stderr).toMatchObject({ code: 0, finished: true });
  expect(exits.filter((e) => e.signal === "SIGKILL").length).toBe(opts.kills);
  // No append was ever refused for contention, nor retried for it.
  const retried = opts.runs.flatMap((r) => r.retries);
  expect(retried.filter((c) => c === "ERR_AUDIT_APPEND_CONTENDED")).toEqual([]);
  return exits;
}
