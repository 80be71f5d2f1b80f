/**
 * The C2SP tlog-witness protocol over HTTP on 127.0.0.1: one heads log and two witness servers with
 * durable file state; every status code of the spec's add-checkpoint rules.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toBase64 } from "../../../src/audit/primitives/index.js";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { HeadsLog, verifyHeadsReceipt } from "../../../src/audit/transparency/heads/index.js";
import { parseVerifierKey, signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { cosignatureVerifier, createCosigner } from "../../../src/audit/transparency/witness.js";
import {
  collectCosignatures,
  FileWitnessState,
  formatAddCheckpoint,
  parseAddCheckpoint,
  startWitnessServer,
} from "../../../src/audit/transparency/witnessing/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import { Secret } from "../../../src/secret.js";

const ORIGIN = "audit.example.com/keywarden-heads";
const root = (n: number) => Uint8Array.from({ length: 32 }, () => n);
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "kw-witness-"));
  cleanup.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

const { signer: logSigner } = LocalEd25519Signer.generate(ORIGIN);
const logKey = parseVerifierKey(logSigner.verifierKey);

async function witness(name: string, statePath: string) {
  const cosigner = createCosigner(LocalEd25519Signer.generate(name).signer);
  let state = await FileWitnessState.open(statePath);
  let server = await startWitnessServer({
    logs: { [ORIGIN]: [logKey] },
    state,
    cosigner,
    maxBodyBytes: 16 * 1024,
  });
  const w = {
    cosigner,
    get url() {
      return server.url;
    },
    verifier: cosignatureVerifier(cosigner.verifierKey),
    async restart() {
      await server.close();
      await state.close();
      state = await FileWitnessState.open(statePath);
      server = await startWitnessServer({
        logs: { [ORIGIN]: [logKey] },
        state,
        cosigner,
        port: Number(new URL(server.url).port),
        maxBodyBytes: 16 * 1024,
      });
    },
    async stop() {
      await server.close();
      await state.close();
    },
  };
  cleanup.push(() => w.stop().catch(() => undefined));
  return w;
}

async function post(
  server: { url: string },
  body: string,
): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${server.url}/add-checkpoint`, { method: "POST", body });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: await res.text(),
  };
}

describe("tlog-witness request format", () => {
  it("round-trips the spec's example shape and rejects malformed bodies", () => {
    const note =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    const body = formatAddCheckpoint({ oldSize: 20852014, proof: [root(1), root(2)], note });
    expect(
      body.startsWith(`old 20852014\n${toBase64(root(1))}\n${toBase64(root(2))}\n\nexample.com/`),
    ).toBe(true);
    const parsed = parseAddCheckpoint(body);
    expect(parsed.oldSize).toBe(20852014);
    expect(parsed.note).toBe(note);
    for (const bad of [
      "old 01\n\nx\n",
      "old 1\nnot-base64\n\nx\n",
      "old 1\n",
      `old 1\n${"AAAA\n".repeat(64)}\nx\n`,
    ]) {
      expect(() => parseAddCheckpoint(bad), bad).toThrow();
    }
  });
});

describe("one heads log, two witness servers on 127.0.0.1", async () => {
  const dir = await tmp();
  const w1 = await witness("witness1.example", join(await tmp(), "w1.json"));
  const w2 = await witness("witness2.example", join(await tmp(), "w2.json"));
  const knownSizes = new Map<string, number>();
  const heads = await HeadsLog.open({
    dir,
    origin: ORIGIN,
    signer: logSigner,
    headsSecret: Secret.copyOf(new Uint8Array(32).fill(7)),
    cosign: async (note, proofFrom) =>
      (
        await collectCosignatures({
          witnesses: [w1, w2],
          note,
          proofFrom,
          knownSizes,
          backoffMs: () => 1,
        })
      ).note,
  });
  const policy = {
    logKeys: [logKey],
    witnesses: [w1.verifier, w2.verifier],
    quorum: 2,
    origin: ORIGIN,
  };

  it("binds to 127.0.0.1", () => {
    expect(new URL(w1.url).hostname).toBe("127.0.0.1");
  });

  it("batches are cosigned by both witnesses and receipts verify 2-of-2", async () => {
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < 20; i++)
        heads.enqueue({
          origin: `a.example/keywarden/u${i}`,
          size: b + 1,
          rootHash: root(b),
          timestamp: 100 + b,
        });
      const batch = await heads.integrate();
      expect((batch?.note.match(/^— witness/gm) ?? []).length).toBe(2);
    }
    const receipt = await heads.receipt(45);
    const v = verifyHeadsReceipt(receipt, {
      chainKey: heads.chainKey("a.example/keywarden/u5"),
      chain: { size: 3, rootHash: root(2), time: 102 },
      policy,
    });
    expect(v.heads.cosignatures.map((c) => c.name).sort()).toEqual([
      "witness1.example",
      "witness2.example",
    ]);
  });

  it("a client that does not know a witness's size learns it from 409 and resubmits with a proof", async () => {
    knownSizes.clear();
    for (let i = 0; i < 5; i++)
      heads.enqueue({
        origin: `a.example/keywarden/v${i}`,
        size: 1,
        rootHash: root(9),
        timestamp: 200,
      });
    const batch = await heads.integrate();
    expect((batch?.note.match(/^— witness/gm) ?? []).length).toBe(2);
    expect(knownSizes.get(w1.url)).toBe(65);
  });

  it("witness state survives a restart: no rollback, no fork, proofs checked", async () => {
    await w1.restart();
    const cp = (size: number, r: Uint8Array) =>
      signNote(
        formatCheckpoint({ origin: ORIGIN, size, rootHash: r, timestamp: 1, extensions: [] }),
        [logSigner],
      );
    // Rollback to an older size (from old size 0): 409 with the witness's size.
    const rollback = await post(
      w1,
      formatAddCheckpoint({ oldSize: 0, proof: [], note: await cp(10, root(1)) }),
    );
    expect(rollback).toEqual({ status: 409, type: "text/x.tlog.size", body: "65\n" });
    // A different root at the witness's size: 409 (fork), never cosigned.
    const fork = await post(
      w1,
      formatAddCheckpoint({ oldSize: 65, proof: [], note: await cp(65, root(1)) }),
    );
    expect(fork.status).toBe(409);
    // A bigger tree with a bogus proof: 422.
    const bogus = await post(
      w1,
      formatAddCheckpoint({ oldSize: 65, proof: [root(3)], note: await cp(70, root(4)) }),
    );
    expect(bogus.status).toBe(422);
    // Old size above the checkpoint size: 400. Malformed: 400.
    expect(
      (await post(w1, formatAddCheckpoint({ oldSize: 80, proof: [], note: await cp(70, root(4)) })))
        .status,
    ).toBe(400);
    expect((await post(w1, "garbage")).status).toBe(400);
    // Unknown origin: 404. Signed by someone else: 403.
    const stranger = LocalEd25519Signer.generate("other.example/log").signer;
    const unknown = await signNote(
      formatCheckpoint({
        origin: "other.example/log",
        size: 1,
        rootHash: root(1),
        timestamp: 1,
        extensions: [],
      }),
      [stranger],
    );
    expect(
      (await post(w1, formatAddCheckpoint({ oldSize: 0, proof: [], note: unknown }))).status,
    ).toBe(404);
    const impostor = LocalEd25519Signer.generate(ORIGIN).signer;
    const forged = await signNote(
      formatCheckpoint({
        origin: ORIGIN,
        size: 99,
        rootHash: root(1),
        timestamp: 1,
        extensions: [],
      }),
      [impostor],
    );
    expect(
      (await post(w1, formatAddCheckpoint({ oldSize: 65, proof: [], note: forged }))).status,
    ).toBe(403);
    // Oversized body: 413, not buffered.
    expect((await post(w1, `old 0\n\n${"x".repeat(17 * 1024)}\n`)).status).toBe(413);
    // Wrong path and method.
    expect((await fetch(`${w1.url}/add-checkpoint`)).status).toBe(405);
    expect((await fetch(`${w1.url}/other`, { method: "POST" })).status).toBe(404);
    // And the log still gets cosigned after the restart.
    heads.enqueue({ origin: "a.example/keywarden/z", size: 1, rootHash: root(5), timestamp: 300 });
    const batch = await heads.integrate();
    expect((batch?.note.match(/^— witness/gm) ?? []).length).toBe(2);
  });

  it("a second process cannot open the same witness state", async () => {
    const path = join(await tmp(), "w.json");
    const a = await FileWitnessState.open(path);
    await expect(FileWitnessState.open(path)).rejects.toSatisfy(
      (e: unknown) => isKeywardenError(e) && e.code === "ERR_AUDIT_STORE_LOCKED",
    );
    await a.close();
  });

  it("an unreachable witness is retried, then reported; the reachable one still cosigns", async () => {
    const gone = { url: "http://127.0.0.1:9", verifier: w2.verifier };
    let outcomes: unknown;
    const h2 = await HeadsLog.open({
      dir,
      origin: ORIGIN,
      signer: logSigner,
      headsSecret: Secret.copyOf(new Uint8Array(32).fill(7)),
      cosign: async (note, proofFrom) => {
        const r = await collectCosignatures({
          witnesses: [w1, gone],
          note,
          proofFrom,
          knownSizes,
          attempts: 2,
          backoffMs: () => 1,
        });
        outcomes = r.outcomes;
        return r.note;
      },
    });
    h2.enqueue({ origin: "a.example/keywarden/y", size: 1, rootHash: root(6), timestamp: 400 });
    await h2.integrate();
    expect(outcomes).toEqual([
      { url: w1.url, ok: true, size: 67 },
      { url: gone.url, ok: false, status: "network" },
    ]);
  });
});
