import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { fileWitnessState } from "../../../src/audit/transparency/state-file.js";
import {
  cosignatureMessage,
  cosignatureVerifier,
  createCosigner,
  MemoryWitnessState,
  verifyCosignedCheckpoint,
  witnessCheckpoint,
} from "../../../src/audit/transparency/witness.js";
import { isKeywardenError } from "../../../src/errors.js";
import { appendEntries, createTestStore } from "./support.js";

const CHAIN = "user:1";

function setup() {
  const store = createTestStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const log = new TransparencyLog({
    store,
    signer,
    logName: "audit.example.com",
    now: () => 1_000,
  });
  const logKey = parseVerifierKey(signer.verifierKey);
  const logs = { [log.origin(CHAIN)]: [logKey] };
  const witnesses = [1, 2, 3].map((i) =>
    createCosigner(LocalEd25519Signer.generate(`witness${i}.example`).signer),
  );
  return { store, signer, log, logKey, logs, witnesses };
}

describe("tlog-cosignature v1", () => {
  it("cosigns the exact spec message: 'cosignature/v1\\ntime <ts>\\n' + note text", () => {
    expect(new TextDecoder().decode(cosignatureMessage("o\n1\nAA==\n", 1679315147))).toBe(
      "cosignature/v1\ntime 1679315147\no\n1\nAA==\n",
    );
  });

  it("k-of-n: accepts with a quorum of distinct witnesses, rejects below it, ignores future-dated cosignatures", async () => {
    const { store, log, logKey, witnesses } = setup();
    await appendEntries(store, log, CHAIN, 4);
    const cp = await log.signCheckpoint(CHAIN);
    const text = cp.note.slice(0, cp.note.indexOf("\n\n") + 1);
    const c1 = await (witnesses[0]?.cosign(text, 1_000) as Promise<string>);
    const c2 = await (witnesses[1]?.cosign(text, 1_001) as Promise<string>);
    const future = await (witnesses[2]?.cosign(text, 999_999) as Promise<string>);
    const verifiers = witnesses.map((w) => cosignatureVerifier(w.verifierKey));
    const note = cp.note + c1 + c2 + c1 + future; // a repeated cosignature counts once
    const policy = { logKeys: [logKey], witnesses: verifiers, now: 1_100 };
    expect(
      verifyCosignedCheckpoint(note, { ...policy, quorum: 2 }).cosignatures.map((c) => c.timestamp),
    ).toEqual([1_000, 1_001]);
    expect(() => verifyCosignedCheckpoint(note, { ...policy, quorum: 3 })).toThrow(
      expect.toSatisfy((e) => isKeywardenError(e, "ERR_AUDIT_CHECKPOINT_INVALID")),
    );
    expect(
      verifyCosignedCheckpoint(note, { ...policy, quorum: 3, now: 999_999 }).cosignatures,
    ).toHaveLength(3);
  });

  it("Precondition: fewer than `quorum` distinct witness cosignatures reject the checkpoint.", async () => {
    const { store, log, logKey, witnesses } = setup();
    await appendEntries(store, log, CHAIN, 1);
    const cp = await log.signCheckpoint(CHAIN);
    const verifiers = witnesses.map((w) => cosignatureVerifier(w.verifierKey));
    expect(() =>
      verifyCosignedCheckpoint(cp.note, { logKeys: [logKey], witnesses: verifiers, quorum: 1 }),
    ).toThrow();
    expect(
      verifyCosignedCheckpoint(cp.note, { logKeys: [logKey], witnesses: verifiers, quorum: 0 })
        .cosignatures,
    ).toEqual([]);
  });

  it("Precondition: a checkpoint is accepted only with a valid signature by the log's own key.", async () => {
    const { store, log, witnesses } = setup();
    await appendEntries(store, log, CHAIN, 1);
    const cp = await log.signCheckpoint(CHAIN);
    const text = cp.note.slice(0, cp.note.indexOf("\n\n") + 1);
    const onlyWitness = `${text}\n${await (witnesses[0]?.cosign(text, 1) as Promise<string>)}`;
    const w = cosignatureVerifier(witnesses[0]?.verifierKey as string);
    const stranger = parseVerifierKey(
      LocalEd25519Signer.generate("audit.example.com").signer.verifierKey,
    );
    expect(() =>
      verifyCosignedCheckpoint(onlyWitness, {
        logKeys: [stranger],
        witnesses: [w],
        quorum: 1,
        now: 10,
      }),
    ).toThrow();
  });

  it("a tampered cosignature by a configured witness rejects the note", async () => {
    const { store, log, logKey, witnesses } = setup();
    await appendEntries(store, log, CHAIN, 2);
    const cp = await log.signCheckpoint(CHAIN);
    const text = cp.note.slice(0, cp.note.indexOf("\n\n") + 1);
    const c = await (witnesses[0]?.cosign(text, 5) as Promise<string>);
    const bad = c.replace(/.{4}==\n$/, "AAAA==\n");
    const w = cosignatureVerifier(witnesses[0]?.verifierKey as string);
    expect(() =>
      verifyCosignedCheckpoint(cp.note + bad, { logKeys: [logKey], witnesses: [w], now: 10 }),
    ).toThrow();
  });
});

describe("minimal witness", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-witness-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ["memory", "file"] as const) {
    it(`(${kind} state) cosigns growth with a valid proof; refuses rollback, fork, bad proof, unknown log, bad signature`, async () => {
      const { store, log, logs, witnesses, signer } = setup();
      const state =
        kind === "memory" ? new MemoryWitnessState() : fileWitnessState(join(dir, "w.json"));
      const cosigner = witnesses[0] as NonNullable<(typeof witnesses)[0]>;
      const w = cosignatureVerifier(cosigner.verifierKey);
      await appendEntries(store, log, CHAIN, 5);
      const cp5 = await log.signCheckpoint(CHAIN);
      const r1 = await witnessCheckpoint({
        note: cp5.note,
        proof: [],
        logs,
        state,
        cosigner,
        now: 2_000,
      });
      expect(r1.ok).toBe(true);
      if (r1.ok)
        expect(
          verifyCosignedCheckpoint(r1.note, {
            logKeys: logs[log.origin(CHAIN)] ?? [],
            witnesses: [w],
            quorum: 1,
            now: 2_000,
          }).cosignatures,
        ).toEqual([{ name: cosigner.name, timestamp: 2_000 }]);
      await appendEntries(store, log, CHAIN, 4, "b");
      const cp9 = await log.signCheckpoint(CHAIN);
      expect(
        await witnessCheckpoint({ note: cp9.note, proof: [], logs, state, cosigner }),
      ).toMatchObject({ ok: false, reason: "proof-invalid", knownSize: 5 });
      const proof = await log.consistencyProof(CHAIN, 5, 9);
      expect((await witnessCheckpoint({ note: cp9.note, proof, logs, state, cosigner })).ok).toBe(
        true,
      );
      // rollback to the old size 5
      expect(
        await witnessCheckpoint({ note: cp5.note, proof: [], logs, state, cosigner }),
      ).toMatchObject({ ok: false, reason: "rollback", knownSize: 9 });
      // fork at size 9: same key, different history
      const store2 = createTestStore();
      const log2 = new TransparencyLog({ store: store2, signer, logName: "audit.example.com" });
      await appendEntries(store2, log2, CHAIN, 9, "fork");
      const fork = await log2.signCheckpoint(CHAIN);
      expect(
        await witnessCheckpoint({ note: fork.note, proof: [], logs, state, cosigner }),
      ).toMatchObject({ ok: false, reason: "fork" });
      expect(
        await witnessCheckpoint({ note: cp9.note, proof: [], logs: {}, state, cosigner }),
      ).toMatchObject({ ok: false, reason: "unknown-log" });
      expect(
        await witnessCheckpoint({
          note: cp9.note.replace("\n9\n", "\n10\n"),
          proof,
          logs,
          state,
          cosigner,
        }),
      ).toMatchObject({ ok: false, reason: "bad-signature" });
    });
  }

  it("Precondition: the witness records a checkpoint before cosigning it, so it never cosigns two inconsistent views.", async () => {
    const { store, log, logs, witnesses } = setup();
    const cosigner = witnesses[0] as NonNullable<(typeof witnesses)[0]>;
    await appendEntries(store, log, CHAIN, 3);
    const cp = await log.signCheckpoint(CHAIN);
    const racing = new MemoryWitnessState();
    const original = racing.compareAndSet.bind(racing);
    // another request recorded a different view first: the CAS fails and nothing is cosigned
    racing.compareAndSet = async (origin, _expected, next) => {
      await original(origin, undefined, { size: 3, rootHash: new Uint8Array(32) });
      return original(origin, undefined, next);
    };
    expect(
      await witnessCheckpoint({ note: cp.note, proof: [], logs, state: racing, cosigner }),
    ).toEqual({ ok: false, reason: "conflict" });
  });
});

describe("key name per origin (tlog-checkpoint: the key name SHOULD equal the origin)", () => {
  it("signs each chain's checkpoints under its origin; per-chain verifier keys verify, and a witness follows them", async () => {
    const store = createTestStore();
    const { signer } = LocalEd25519Signer.generate("audit.example.com");
    const log = new TransparencyLog({
      store,
      signer,
      logName: "audit.example.com",
      keyNamePerOrigin: true,
    });
    await appendEntries(store, log, CHAIN, 3);
    const cp = await log.signCheckpoint(CHAIN);
    const vkey = log.verifierKeyFor(CHAIN);
    expect(vkey.startsWith("audit.example.com/keywarden/user:1+")).toBe(true);
    expect(cp.note).toContain("\u2014 audit.example.com/keywarden/user:1 ");
    expect(
      verifyCosignedCheckpoint(cp.note, { logKeys: [parseVerifierKey(vkey)] }).checkpoint.size,
    ).toBe(3);
    // another chain's key name does not verify this chain
    expect(() =>
      verifyCosignedCheckpoint(cp.note, {
        logKeys: [parseVerifierKey(log.verifierKeyFor("user:2"))],
      }),
    ).toThrow();
    const cosigner = createCosigner(LocalEd25519Signer.generate("w.example").signer);
    const r = await witnessCheckpoint({
      note: cp.note,
      proof: [],
      logs: { [log.origin(CHAIN)]: [parseVerifierKey(vkey)] },
      state: new MemoryWitnessState(),
      cosigner,
    });
    expect(r.ok).toBe(true);
    // the stored checkpoint still counts as "the last signed" for the consistency check
    await appendEntries(store, log, CHAIN, 2, "more");
    expect((await log.signCheckpoint(CHAIN)).checkpoint.size).toBe(5);
  });
});
