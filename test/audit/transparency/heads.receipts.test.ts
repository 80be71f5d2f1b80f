import { createHmac } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toBase64, toHex } from "../../../src/audit/primitives/index.js";
import {
  chainTag,
  decodeHeadLeaf,
  deriveChainKey,
  encodeHeadLeaf,
  HeadsLog,
  observeHead,
  parseChainKey,
  verifyHeadsReceipt,
} from "../../../src/audit/transparency/heads/index.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { leafHashOfBody, parseReceipt } from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  cosignatureVerifier,
  createCosigner,
  MemoryWitnessState,
  witnessCheckpoint,
} from "../../../src/audit/transparency/witness.js";
import { isKeywardenError } from "../../../src/errors.js";
import { Secret } from "../../../src/secret.js";

const ORIGIN = "audit.example.com/keywarden-heads";
const SECRET_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const root = (n: number) => Uint8Array.from({ length: 32 }, () => n);
const code = (c: string) => (e: unknown) => isKeywardenError(e) && e.code === c;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("heads leaf encoding (docs/audit-format.md vectors)", () => {
  const secret = Secret.copyOf(SECRET_BYTES);
  const chainOrigin = "audit.example.com/keywarden/user:42";
  it("derives chain keys and tags with HMAC-SHA256 exactly as specified (checked with node:crypto)", () => {
    const key = deriveChainKey(secret, chainOrigin);
    const expectedKey = createHmac("sha256", Buffer.from(SECRET_BYTES))
      .update(`keywarden-head/v1 chain-key\n${chainOrigin}`)
      .digest();
    expect(toHex(key)).toBe(expectedKey.toString("hex"));
    const tag = chainTag(key, 3);
    const expectedTag = createHmac("sha256", Buffer.from(key))
      .update("keywarden-head/v1 tag\n3\n")
      .digest();
    expect(toHex(tag)).toBe(expectedTag.toString("hex"));
    expect(toBase64(key)).toBe("R2PxF5DkL/LQ+8jK947qKCCe/e3Tr8YRXJ6gjaSgIxk=");
    const leaf = new TextDecoder().decode(
      encodeHeadLeaf(key, { size: 3, rootHash: root(0xab), time: 1764400000 }),
    );
    expect(leaf).toBe(`keywarden-head/v1\n${toBase64(tag)}\n${toBase64(root(0xab))}\n1764400000\n`);
    expect(leaf).toBe(
      "keywarden-head/v1\n1FuLh2RJgsHK5x3RjZhcj2Gd3YWkpR1LMqN0YlxEaa0=\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n1764400000\n",
    );
    expect(toHex(leafHashOfBody(leaf))).toBe(
      "326285fe9da6bc6577409cb0e2e0d78d1968f0b3bfca19e74962403e13e98b9e",
    );
  });
  it("the vector in docs/audit-format.md §17.1 is what the code produces", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../../docs/audit-format.md", import.meta.url), "utf8");
    const block = /<!-- heads-vector -->\n```text\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
    const key = deriveChainKey(secret, chainOrigin);
    const leaf = new TextDecoder().decode(
      encodeHeadLeaf(key, { size: 3, rootHash: root(0xab), time: 1764400000 }),
    );
    expect(block).toBe(
      `chain key (base64)  ${toBase64(key)}\nleaf                ${leaf.replaceAll("\n", "\\n")}\nleaf hash (hex)     ${toHex(leafHashOfBody(leaf))}\n`,
    );
  });
  it("the operator's node:crypto HMAC and the portable one give the same chain keys", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kw-heads-mac-"));
    dirs.push(dir);
    const heads = await HeadsLog.open({
      dir,
      origin: ORIGIN,
      signer: LocalEd25519Signer.generate(ORIGIN).signer,
      headsSecret: secret,
    });
    expect(toHex(heads.chainKey(chainOrigin))).toBe(toHex(deriveChainKey(secret, chainOrigin)));
  });
  it("tags of one chain differ per size and repeat for the same size; other chains differ", () => {
    const key = deriveChainKey(secret, chainOrigin);
    const other = deriveChainKey(secret, "audit.example.com/keywarden/user:43");
    expect(toHex(chainTag(key, 1))).not.toBe(toHex(chainTag(key, 2)));
    expect(toHex(chainTag(key, 7))).toBe(toHex(chainTag(key, 7)));
    expect(toHex(chainTag(other, 7))).not.toBe(toHex(chainTag(key, 7)));
  });
  it("decodes strictly", () => {
    const key = deriveChainKey(secret, chainOrigin);
    const good = encodeHeadLeaf(key, { size: 3, rootHash: root(1), time: 5 });
    expect(decodeHeadLeaf(good).time).toBe(5);
    const text = new TextDecoder().decode(good);
    for (const bad of [
      text.replace("\n5\n", "\n05\n"),
      `${text}x`,
      text.replace("v1", "v2"),
      text.slice(0, -1),
    ]) {
      expect(() => decodeHeadLeaf(bad)).toThrow();
    }
    expect(() => parseChainKey("short")).toThrow();
    expect(toHex(parseChainKey(toBase64(key)))).toBe(toHex(key));
  });
});

async function setup(witnessCount: number) {
  const dir = await mkdtemp(join(tmpdir(), "kw-heads-"));
  dirs.push(dir);
  const { signer } = LocalEd25519Signer.generate(ORIGIN);
  const logKey = parseVerifierKey(signer.verifierKey);
  const witnesses = Array.from({ length: witnessCount }, (_, i) => ({
    cosigner: createCosigner(LocalEd25519Signer.generate(`witness${i}.example`).signer),
    state: new MemoryWitnessState(),
  }));
  let cosignCalls = 0;
  const heads = await HeadsLog.open({
    dir,
    origin: ORIGIN,
    signer,
    headsSecret: Secret.copyOf(SECRET_BYTES),
    now: () => 1764400000,
    cosign: async (note, proofFrom, oldSize) => {
      const proof = await proofFrom(oldSize);
      cosignCalls++;
      let out = note;
      for (const w of witnesses) {
        const r = await witnessCheckpoint({
          note,
          proof,
          logs: { [ORIGIN]: [logKey] },
          state: w.state,
          cosigner: w.cosigner,
          now: 1764400000,
        });
        if (!r.ok) throw new Error(`witness refused: ${r.reason}`);
        out += r.cosignature;
      }
      return out;
    },
  });
  const verifiers = witnesses.map((w) => cosignatureVerifier(w.cosigner.verifierKey));
  return { dir, heads, logKey, verifiers, calls: () => cosignCalls };
}

describe("heads log: batched integration and receipts", () => {
  it("integrates many chain checkpoints into one heads checkpoint, signed and cosigned once", async () => {
    const { dir, heads, logKey, verifiers, calls } = await setup(3);
    const chains = Array.from({ length: 40 }, (_, i) => `audit.example.com/keywarden/user:${i}`);
    const positions = chains.map((origin, i) =>
      heads.enqueue({ origin, size: i + 1, rootHash: root(i), timestamp: 1764399000 + i }),
    );
    const batch = await heads.integrate();
    expect(batch).toMatchObject({ size: 40, firstIndex: 0, count: 40 });
    expect(calls()).toBe(1);
    expect((batch?.note.match(/^— /gm) ?? []).length).toBe(4); // log + 3 witnesses
    expect(await heads.integrate()).toBeUndefined();
    expect(await readdir(dir)).toContain("checkpoint");

    const policy = {
      logKeys: [logKey],
      witnesses: verifiers,
      quorum: 2,
      origin: ORIGIN,
      now: 1764400000,
    };
    for (const i of [0, 17, 39]) {
      const receipt = await heads.receipt((positions[i] as number) + (batch?.firstIndex ?? 0));
      const chainKey = heads.chainKey(chains[i] as string);
      const v = verifyHeadsReceipt(receipt, {
        chainKey,
        chain: { size: i + 1, rootHash: root(i), time: 1764399000 + i },
        policy,
      });
      expect(v.headsIndex).toBe(i);
      expect(v.heads.cosignatures.length).toBe(3);
      // Another chain's key, or another size or root, does not verify.
      const wrongKey = heads.chainKey(chains[(i + 1) % 40] as string);
      expect(() =>
        verifyHeadsReceipt(receipt, {
          chainKey: wrongKey,
          chain: { size: i + 1, rootHash: root(i) },
          policy,
        }),
      ).toThrow();
      expect(() =>
        verifyHeadsReceipt(receipt, {
          chainKey,
          chain: { size: i + 2, rootHash: root(i) },
          policy,
        }),
      ).toThrow();
      expect(() =>
        verifyHeadsReceipt(receipt, {
          chainKey,
          chain: { size: i + 1, rootHash: root(99) },
          policy,
        }),
      ).toThrow();
    }
  });

  it("a k-of-n policy the heads checkpoint does not meet is refused", async () => {
    const { heads, logKey, verifiers } = await setup(1);
    const origin = "audit.example.com/keywarden/user:1";
    heads.enqueue({ origin, size: 1, rootHash: root(1), timestamp: 1 });
    await heads.integrate();
    const receipt = await heads.receipt(0);
    const extra = cosignatureVerifier(
      createCosigner(LocalEd25519Signer.generate("w2.example").signer).verifierKey,
    );
    const policy = {
      logKeys: [logKey],
      witnesses: [...verifiers, extra],
      quorum: 2,
      origin: ORIGIN,
      now: 1764400000,
    };
    expect(() =>
      verifyHeadsReceipt(receipt, {
        chainKey: heads.chainKey(origin),
        chain: { size: 1, rootHash: root(1) },
        policy,
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_AUDIT_CHECKPOINT_INVALID" }));
    // A tampered proof fails as a proof.
    const parsed = parseReceipt(receipt);
    expect(parsed.proof.length).toBe(0);
  });

  it("the witnesses follow the heads log across batches (consistency proofs from the last size)", async () => {
    const { heads, calls } = await setup(2);
    for (let b = 0; b < 5; b++) {
      for (let i = 0; i < 30 + b; i++)
        heads.enqueue({
          origin: `a.example/keywarden/c${i}`,
          size: b + 1,
          rootHash: root(b),
          timestamp: b,
        });
      await heads.integrate();
    }
    expect(calls()).toBe(5);
    expect(heads.size).toBe(30 * 5 + 10);
    const reopened = await HeadsLog.open({
      dir: (await setup(0)).dir,
      origin: ORIGIN,
      signer: LocalEd25519Signer.generate(ORIGIN).signer,
      headsSecret: Secret.copyOf(SECRET_BYTES),
    });
    expect(reopened.size).toBe(0);
  });
});

describe("heads state: per-chain fork detection across heads checkpoints", () => {
  it("two different roots for one chain size are a fork", async () => {
    const { heads, logKey } = await setup(0);
    const origin = "audit.example.com/keywarden/user:7";
    const chainKey = heads.chainKey(origin);
    const policy = { logKeys: [logKey], origin: ORIGIN };
    heads.enqueue({ origin, size: 5, rootHash: root(1), timestamp: 10 });
    await heads.integrate();
    const r1 = verifyHeadsReceipt(await heads.receipt(0), {
      chainKey,
      chain: { size: 5, rootHash: root(1) },
      policy,
    });
    heads.enqueue({
      origin: "audit.example.com/keywarden/user:8",
      size: 1,
      rootHash: root(3),
      timestamp: 11,
    });
    heads.enqueue({ origin, size: 5, rootHash: root(2), timestamp: 12 });
    await heads.integrate();
    const r2 = verifyHeadsReceipt(await heads.receipt(2), {
      chainKey,
      chain: { size: 5, rootHash: root(2) },
      policy,
    });
    // Same tag for the same size: equivocation is visible in the public log too.
    expect(toHex(r1.leaf.tag)).toBe(toHex(r2.leaf.tag));
    const s1 = observeHead(undefined, { headsIndex: r1.headsIndex, size: 5, rootHash: root(1) });
    expect(s1.ok).toBe(true);
    const s2 = observeHead(s1.state, { headsIndex: r2.headsIndex, size: 5, rootHash: root(2) });
    expect(s2).toMatchObject({ ok: false, finding: "fork" });
  });

  it("a chain that is smaller later in the heads log (or larger earlier) is a shrink", () => {
    let state = observeHead(undefined, { headsIndex: 3, size: 10, rootHash: root(1) }).state;
    const grow = observeHead(state, { headsIndex: 9, size: 12, rootHash: root(2) });
    expect(grow.ok).toBe(true);
    state = grow.state;
    expect(state).toMatchObject({ headsIndex: 9, size: 12 });
    expect(observeHead(state, { headsIndex: 11, size: 11, rootHash: root(3) })).toMatchObject({
      ok: false,
      finding: "shrink",
    });
    expect(observeHead(state, { headsIndex: 5, size: 13, rootHash: root(4) })).toMatchObject({
      ok: false,
      finding: "shrink",
    });
    // An older receipt consistent with the state is fine and does not move the state back.
    const old = observeHead(state, { headsIndex: 3, size: 10, rootHash: root(1) });
    expect(old).toMatchObject({ ok: true, state: { headsIndex: 9, size: 12 } });
    // The state is plain JSON.
    expect(JSON.parse(JSON.stringify(old.state))).toEqual(old.state);
  });
});

describe("heads log errors", () => {
  it("refuses a receipt for an unpublished leaf", async () => {
    const { heads } = await setup(0);
    await expect(heads.receipt(0)).rejects.toSatisfy(code("ERR_INVALID_ARGUMENT"));
  });
});
