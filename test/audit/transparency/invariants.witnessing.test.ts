/**
 * The tlog-witness protocol's invariants: the server's add-checkpoint decision
 * (`handleAddCheckpoint`, C2SP tlog-witness: 409 with the witness's size, fork refusal, an
 * atomic record update before cosigning) and the submitting client's retry rule
 * (`collectCosignatures`). Real signed checkpoints from a TransparencyLog; the witness state and
 * cosigner are real too, wrapped to record what they were asked.
 */
import { describe, expect, it } from "vitest";
import { TransparencyLog } from "../../../src/audit/transparency/log.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  type Cosigner,
  cosignatureVerifier,
  createCosigner,
  MemoryWitnessState,
} from "../../../src/audit/transparency/witness.js";
import {
  collectCosignatures,
  formatAddCheckpoint,
  handleAddCheckpoint,
  TLOG_SIZE_CONTENT_TYPE,
} from "../../../src/audit/transparency/witnessing/index.js";
import { appendEntries, createTestStore } from "./support.js";

const CHAIN = "user:1";

async function world() {
  const store = createTestStore();
  const { signer } = LocalEd25519Signer.generate("audit.example.com");
  const log = new TransparencyLog({
    store,
    signer,
    logName: "audit.example.com",
    now: () => 1_000,
  });
  const logs = { [log.origin(CHAIN)]: [parseVerifierKey(signer.verifierKey)] };
  const inner = createCosigner(LocalEd25519Signer.generate("witness.example").signer);
  const cosigned: string[] = [];
  const cosigner: Cosigner = {
    name: inner.name,
    keyId: inner.keyId,
    verifierKey: inner.verifierKey,
    cosign: (text, ts) => {
      cosigned.push(text);
      return inner.cosign(text, ts);
    },
  };
  const state = new MemoryWitnessState();
  const add = (oldSize: number, note: string, proof: readonly Uint8Array[] = []) =>
    handleAddCheckpoint(formatAddCheckpoint({ oldSize, proof, note }), {
      logs,
      state,
      cosigner,
      now: () => 2_000,
    });
  return { store, signer, log, logs, state, cosigner, cosigned, add, inner };
}

describe("tlog-witness server invariants", () => {
  it("an old size other than the witness's latest cosigned size gets 409 with that size", async () => {
    const w = await world();
    await appendEntries(w.store, w.log, CHAIN, 5);
    const cp5 = await w.log.signCheckpoint(CHAIN);
    // A fresh witness has cosigned nothing: any old size but 0 is answered with 0.
    expect(await w.add(3, cp5.note, await w.log.consistencyProof(CHAIN, 3, 5))).toEqual({
      status: 409,
      contentType: TLOG_SIZE_CONTENT_TYPE,
      body: "0\n",
    });
    expect((await w.add(0, cp5.note)).status).toBe(200);
    await appendEntries(w.store, w.log, CHAIN, 4, "b");
    const cp9 = await w.log.signCheckpoint(CHAIN);
    // It cosigned 5: old sizes 0, 3 and 9 are each answered with 5, and nothing is cosigned.
    const before = w.cosigned.length;
    for (const [old, proof] of [
      [0, []],
      [3, await w.log.consistencyProof(CHAIN, 3, 9)],
      [9, []],
    ] as const) {
      expect(await w.add(old, cp9.note, proof)).toEqual({
        status: 409,
        contentType: TLOG_SIZE_CONTENT_TYPE,
        body: "5\n",
      });
    }
    expect(w.cosigned.length).toBe(before);
    expect((await w.state.get(w.log.origin(CHAIN)))?.size).toBe(5);
    // The right old size, with its proof, is cosigned.
    expect((await w.add(5, cp9.note, await w.log.consistencyProof(CHAIN, 5, 9))).status).toBe(200);
  });

  it("the same size with a different root is a fork and is never cosigned", async () => {
    const w = await world();
    await appendEntries(w.store, w.log, CHAIN, 5);
    const cp5 = await w.log.signCheckpoint(CHAIN);
    expect((await w.add(0, cp5.note)).status).toBe(200);
    // The same size and root again is fine (an idempotent resubmission).
    expect((await w.add(5, cp5.note)).status).toBe(200);
    const cosignedBefore = w.cosigned.length;
    // The log's own key signs a different history of the same size: a fork.
    const store2 = createTestStore();
    const log2 = new TransparencyLog({
      store: store2,
      signer: w.signer,
      logName: "audit.example.com",
    });
    await appendEntries(store2, log2, CHAIN, 5, "fork");
    const fork = await log2.signCheckpoint(CHAIN);
    expect(fork.note).not.toBe(cp5.note);
    const res = await w.add(5, fork.note);
    expect(res.status).toBe(409);
    expect(res.body).toBe("5\n");
    expect(w.cosigned.length).toBe(cosignedBefore);
    const rec = await w.state.get(w.log.origin(CHAIN));
    const root5 = cp5.note.split("\n")[2];
    expect(Buffer.from(rec?.rootHash ?? []).toString("base64")).toBe(root5);
  });

  it("the record is updated atomically with the old-size check, before cosigning", async () => {
    const w = await world();
    await appendEntries(w.store, w.log, CHAIN, 3);
    const cp3 = await w.log.signCheckpoint(CHAIN);
    const events: string[] = [];
    const origin = w.log.origin(CHAIN);
    const real = w.state.compareAndSet.bind(w.state);
    const seen: unknown[] = [];
    w.state.compareAndSet = async (o, expected, next) => {
      events.push(`cas:${expected?.size ?? "none"}->${next.size}`);
      seen.push(expected);
      return real(o, expected, next);
    };
    const cosign = w.cosigner.cosign;
    w.cosigner.cosign = (text, ts) => {
      events.push("cosign");
      return cosign(text, ts);
    };
    expect((await w.add(0, cp3.note)).status).toBe(200);
    // The record is compared against what the old-size check read (none), then cosigned.
    expect(events).toEqual(["cas:none->3", "cosign"]);
    // A racing request changes the record between the check and the update: nothing is
    // cosigned, and the answer is 409 with the record's size now.
    await appendEntries(w.store, w.log, CHAIN, 3, "b");
    const cp6 = await w.log.signCheckpoint(CHAIN);
    const proof = await w.log.consistencyProof(CHAIN, 3, 6);
    events.length = 0;
    w.state.compareAndSet = async (o, expected, next) => {
      events.push(`cas:${expected?.size ?? "none"}->${next.size}`);
      await real(o, expected, { size: 6, rootHash: new Uint8Array(32) }); // the other request wins
      return real(o, expected, next);
    };
    const raced = await w.add(3, cp6.note, proof);
    expect(raced).toEqual({ status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, body: "6\n" });
    expect(events).toEqual(["cas:3->6"]);
    expect((await w.state.get(origin))?.rootHash).toEqual(new Uint8Array(32));
  });
});

describe("tlog-witness client invariants", () => {
  it("a witness claiming a size larger than ours, or the same size again, is not retried", async () => {
    const w = await world();
    await appendEntries(w.store, w.log, CHAIN, 9);
    const cp9 = await w.log.signCheckpoint(CHAIN);
    const verifier = cosignatureVerifier(w.inner.verifierKey);
    /** A witness that answers every submission 409 with the sizes given, in turn. */
    const witness = (sizes: number[]) => {
      const bodies: string[] = [];
      const fetch = (async (_url: string, init: { body: string }) => {
        bodies.push(init.body.split("\n")[0] as string);
        const size = sizes[Math.min(bodies.length - 1, sizes.length - 1)];
        return new Response(`${size}\n`, {
          status: 409,
          headers: { "content-type": TLOG_SIZE_CONTENT_TYPE },
        });
      }) as unknown as typeof globalThis.fetch;
      return { bodies, fetch };
    };
    const run = async (sizes: number[]) => {
      const x = witness(sizes);
      const r = await collectCosignatures({
        witnesses: [{ url: "https://witness.example/", verifier }],
        note: cp9.note,
        proofFrom: (old) => w.log.consistencyProof(CHAIN, old, 9),
        attempts: 5,
        fetch: x.fetch,
        backoffMs: () => 0,
      });
      return { outcomes: r.outcomes, sent: x.bodies };
    };
    // Larger than our checkpoint: submitted once, never again.
    expect(await run([12])).toEqual({
      outcomes: [{ url: "https://witness.example/", ok: false, status: 409 }],
      sent: ["old 0"],
    });
    // A smaller size is learned and resubmitted once; the same size again stops the retries.
    expect(await run([4, 4, 4])).toEqual({
      outcomes: [{ url: "https://witness.example/", ok: false, status: 409 }],
      sent: ["old 0", "old 4"],
    });
  });
});
