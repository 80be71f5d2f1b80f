import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import {
  checkCheckpointUpdate,
  LeafAccumulator,
  type MonitorRecord,
} from "../../../src/audit/transparency/monitor.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { leafHashOfBody } from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  readMonitorRecord,
  writeMonitorRecord,
} from "../../../src/audit/transparency/state-file.js";
import { isKeywardenError } from "../../../src/errors.js";
import { appendEntries, createTestStore } from "./support.js";

const CHAIN = "user:7";

function operator(now = () => 1_000) {
  const store = createTestStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const log = new TransparencyLog({ store, signer, logName: "audit.example.com", now });
  const policy = { logKeys: [parseVerifierKey(signer.verifierKey)] };
  return { store, signer, log, policy };
}

function ok(r: ReturnType<typeof checkCheckpointUpdate>): MonitorRecord {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}`);
  return r.record;
}

describe("user verifier: truncation and rollback detection", () => {
  it("first run trusts on first use; an unchanged checkpoint passes; growth passes with a consistency proof", async () => {
    const { store, log, policy } = operator();
    await appendEntries(store, log, CHAIN, 5);
    const first = await log.signCheckpoint(CHAIN);
    const r1 = checkCheckpointUpdate({ note: first.note, policy });
    expect(r1).toMatchObject({ ok: true, status: "first-run" });
    const rec = ok(r1);
    expect(checkCheckpointUpdate({ note: first.note, policy, previous: rec })).toMatchObject({
      ok: true,
      status: "unchanged",
    });
    await appendEntries(store, log, CHAIN, 6, "more");
    const second = await log.signCheckpoint(CHAIN);
    const proof = await log.consistencyProof(CHAIN, 5, 11);
    const r2 = checkCheckpointUpdate({
      note: second.note,
      policy,
      previous: rec,
      consistencyProof: proof,
    });
    expect(r2).toMatchObject({ ok: true, status: "grew" });
  });

  it("first run at size 0, then growth from the empty tree", async () => {
    const { store, log, policy } = operator();
    const empty = await log.signCheckpoint(CHAIN);
    const rec = ok(checkCheckpointUpdate({ note: empty.note, policy }));
    expect(rec.size).toBe(0);
    await appendEntries(store, log, CHAIN, 3);
    const next = await log.signCheckpoint(CHAIN);
    expect(
      checkCheckpointUpdate({ note: next.note, policy, previous: rec, consistencyProof: [] }),
    ).toMatchObject({ ok: true, status: "grew" });
  });

  it("growth passes with the entries in between instead of a proof (remembered tree edge)", async () => {
    const { store, log, policy } = operator();
    const bodies = await appendEntries(store, log, CHAIN, 7);
    const first = await log.signCheckpoint(CHAIN);
    const rec = ok(
      checkCheckpointUpdate({
        note: first.note,
        policy,
        allLeafHashes: bodies.map(leafHashOfBody),
      }),
    );
    expect(rec.frontier?.length).toBe(3);
    const more = await appendEntries(store, log, CHAIN, 10, "more");
    const second = await log.signCheckpoint(CHAIN);
    const r = checkCheckpointUpdate({
      note: second.note,
      policy,
      previous: rec,
      newLeafHashes: more.map(leafHashOfBody),
    });
    expect(r).toMatchObject({ ok: true, status: "grew" });
    const wrong = [...more];
    wrong[3] = "tampered";
    expect(
      checkCheckpointUpdate({
        note: second.note,
        policy,
        previous: rec,
        newLeafHashes: wrong.map(leafHashOfBody),
      }),
    ).toMatchObject({
      ok: false,
      reason: "rewritten",
    });
  });

  it("with a full export's entry hashes: proves growth from the remembered root; an export cut short is truncated", async () => {
    const { store, log, policy } = operator();
    const bodies = await appendEntries(store, log, CHAIN, 6);
    const rec = ok(checkCheckpointUpdate({ note: (await log.signCheckpoint(CHAIN)).note, policy }));
    bodies.push(...(await appendEntries(store, log, CHAIN, 5, "n")));
    const cp = await log.signCheckpoint(CHAIN);
    const leaves = bodies.map(leafHashOfBody);
    expect(
      checkCheckpointUpdate({ note: cp.note, policy, previous: rec, allLeafHashes: leaves }),
    ).toMatchObject({ ok: true, status: "grew" });
    expect(
      checkCheckpointUpdate({
        note: cp.note,
        policy,
        previous: rec,
        allLeafHashes: leaves.slice(0, 9),
      }),
    ).toMatchObject({
      ok: false,
      reason: "truncated",
    });
    const rechained = [...leaves];
    rechained[0] = leafHashOfBody("forged genesis");
    expect(
      checkCheckpointUpdate({ note: cp.note, policy, previous: rec, allLeafHashes: rechained }),
    ).toMatchObject({ ok: false, reason: "rewritten" });
  });

  it("Precondition: leaves accumulated for another checkpoint size or previous size are not used.", async () => {
    const { store, log, policy } = operator();
    const bodies = await appendEntries(store, log, CHAIN, 4);
    const cp = await log.signCheckpoint(CHAIN);
    const acc = new LeafAccumulator(3);
    for (const b of bodies) acc.push(leafHashOfBody(b));
    expect(checkCheckpointUpdate({ note: cp.note, policy, leaves: acc })).toMatchObject({
      ok: false,
      reason: "bad-checkpoint",
    });
    const right = new LeafAccumulator(4);
    for (const b of bodies) right.push(leafHashOfBody(b));
    expect(checkCheckpointUpdate({ note: cp.note, policy, leaves: right })).toMatchObject({
      ok: true,
      status: "first-run",
    });
  });

  it("Precondition: a checkpoint smaller than the last verified one is reported as truncation.", async () => {
    const { store, log, policy, signer } = operator();
    await appendEntries(store, log, CHAIN, 9);
    const big = await log.signCheckpoint(CHAIN);
    const rec = ok(checkCheckpointUpdate({ note: big.note, policy }));
    // The operator truncates the tail and signs with a fresh process/log that forgot the big checkpoint.
    const chain = store.chains.get(CHAIN);
    chain?.entries.splice(6);
    if (chain) chain.checkpoints.length = 0;
    const forgetful = new TransparencyLog({
      store,
      signer,
      logName: "audit.example.com",
      now: () => 1_000,
    });
    const small = await forgetful.signCheckpoint(CHAIN);
    expect(small.checkpoint.size).toBe(6);
    expect(checkCheckpointUpdate({ note: small.note, policy, previous: rec })).toEqual({
      ok: false,
      reason: "truncated",
      previousSize: 9,
      size: 6,
    });
  });

  it("Precondition: a different root at the same size is reported as a rewrite.", async () => {
    const a = operator();
    await appendEntries(a.store, a.log, CHAIN, 4);
    const rec = ok(
      checkCheckpointUpdate({ note: (await a.log.signCheckpoint(CHAIN)).note, policy: a.policy }),
    );
    // same key, a re-chained history of the same length
    const b = { store: createTestStore() };
    const log2 = new TransparencyLog({
      store: b.store,
      signer: a.signer,
      logName: "audit.example.com",
      now: () => 1_000,
    });
    await appendEntries(b.store, log2, CHAIN, 4, "forged");
    const forged = await log2.signCheckpoint(CHAIN);
    expect(
      checkCheckpointUpdate({ note: forged.note, policy: a.policy, previous: rec }),
    ).toMatchObject({ ok: false, reason: "rewritten" });
  });

  it("a re-chain from genesis to a larger size is reported as a rewrite (no consistency proof can exist)", async () => {
    const a = operator();
    await appendEntries(a.store, a.log, CHAIN, 5);
    const rec = ok(
      checkCheckpointUpdate({ note: (await a.log.signCheckpoint(CHAIN)).note, policy: a.policy }),
    );
    const store2 = createTestStore();
    const log2 = new TransparencyLog({
      store: store2,
      signer: a.signer,
      logName: "audit.example.com",
      now: () => 1_000,
    });
    await appendEntries(store2, log2, CHAIN, 12, "rechained");
    const forged = await log2.signCheckpoint(CHAIN);
    const bestProof = await log2.consistencyProof(CHAIN, 5, 12);
    expect(
      checkCheckpointUpdate({
        note: forged.note,
        policy: a.policy,
        previous: rec,
        consistencyProof: bestProof,
      }),
    ).toMatchObject({
      ok: false,
      reason: "rewritten",
      previousSize: 5,
      size: 12,
    });
  });

  it("Precondition: growth without a consistency proof or the entries in between is not accepted.", async () => {
    const { store, log, policy } = operator();
    await appendEntries(store, log, CHAIN, 2);
    const rec = ok(checkCheckpointUpdate({ note: (await log.signCheckpoint(CHAIN)).note, policy }));
    await appendEntries(store, log, CHAIN, 2, "x");
    const next = await log.signCheckpoint(CHAIN);
    expect(checkCheckpointUpdate({ note: next.note, policy, previous: rec })).toMatchObject({
      ok: false,
      reason: "proof-missing",
    });
  });

  it("reports a frozen log (stale time), time going backwards, a foreign origin and a bad signature distinctly", async () => {
    let t = 5_000;
    const { store, log, policy } = operator(() => t);
    await appendEntries(store, log, CHAIN, 2);
    const cp = await log.signCheckpoint(CHAIN);
    expect(
      checkCheckpointUpdate({ note: cp.note, policy, maxAgeSeconds: 3600, now: 5_000 + 3_601 }),
    ).toMatchObject({ ok: false, reason: "stale" });
    expect(
      checkCheckpointUpdate({ note: cp.note, policy, maxAgeSeconds: 3600, now: 5_000 + 60 }).ok,
    ).toBe(true);
    const rec = ok(checkCheckpointUpdate({ note: cp.note, policy }));
    expect(
      checkCheckpointUpdate({ note: cp.note, policy, previous: { ...rec, timestamp: 6_000 } }),
    ).toMatchObject({
      ok: false,
      reason: "time-went-backwards",
    });
    const other = await log.signCheckpoint("user:8");
    expect(checkCheckpointUpdate({ note: other.note, policy, previous: rec })).toMatchObject({
      ok: false,
      reason: "origin-mismatch",
    });
    expect(
      checkCheckpointUpdate({ note: cp.note.replace("\n2\n", "\n3\n"), policy, previous: rec }),
    ).toMatchObject({
      ok: false,
      reason: "bad-checkpoint",
    });
    t = 0;
  });
});

describe("verifier state file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-monitor-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stores the last verified checkpoint per origin atomically with mode 0600", async () => {
    const { store, log, policy } = operator();
    await appendEntries(store, log, CHAIN, 3);
    const rec = ok(checkCheckpointUpdate({ note: (await log.signCheckpoint(CHAIN)).note, policy }));
    const path = join(dir, "state.json");
    expect(await readMonitorRecord(path, rec.origin)).toBeUndefined();
    await writeMonitorRecord(path, rec);
    expect(await readMonitorRecord(path, rec.origin)).toEqual(JSON.parse(JSON.stringify(rec)));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8")).version).toBe(1);
  });

  it("Precondition: a corrupted state file is refused, never treated as a first run.", async () => {
    const path = join(dir, "state.json");
    await writeFile(path, '{"version":1,"monitor":{"x":{"size":"nine"}}}');
    await chmod(path, 0o600);
    await expect(readMonitorRecord(path, "x")).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_AUDIT_MALFORMED_INPUT"),
    );
    await writeFile(path, "not json");
    await expect(readMonitorRecord(path, "x")).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_AUDIT_MALFORMED_INPUT"),
    );
  });
});
