import { describe, expect, it } from "vitest";
import { sha256, sha256Portable } from "../../../src/audit/primitives/portable.js";
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  MemoryMerkleNodes,
  MerkleFrontier,
  merkleRoot,
  rootAtSize,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/audit/transparency/merkle.js";
import { isKeywardenError } from "../../../src/errors.js";
import * as ref from "./reference-merkle.js";

const MAX = 64;

async function buildTree(leaves: Uint8Array[]) {
  const nodes = new MemoryMerkleNodes();
  const frontier = new MerkleFrontier();
  const roots: Uint8Array[] = [EMPTY_ROOT];
  for (const leaf of leaves) {
    nodes.writeNodes(frontier.append(leaf));
    roots.push(frontier.root());
  }
  return { nodes, frontier, roots };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const flip = (b: Uint8Array, bit = 0) => {
  const c = new Uint8Array(b);
  c[bit >> 3] = (c[bit >> 3] as number) ^ (1 << (bit & 7));
  return c;
};

describe("RFC 9162 Merkle tree: published vectors", () => {
  const h = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
  const LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
  ];
  const ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  ];
  const leafHashes = LEAVES.map((l) => ref.leafHash(h(l)));

  it("computes the published roots for sizes 0..8", async () => {
    expect(hex(EMPTY_ROOT)).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    const { roots } = await buildTree(leafHashes);
    expect(roots.slice(1).map(hex)).toEqual(ROOTS);
    for (let n = 1; n <= 8; n++) expect(hex(merkleRoot(leafHashes.slice(0, n)))).toBe(ROOTS[n - 1]);
  });

  it("generates and verifies the published inclusion and consistency proofs", async () => {
    const { nodes } = await buildTree(leafHashes);
    const incl = await inclusionProof(nodes, 5, 8);
    expect(incl.map(hex)).toEqual([
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]);
    expect(verifyInclusion(leafHashes[5] as Uint8Array, 5, 8, incl, h(ROOTS[7] as string))).toBe(
      true,
    );
    expect(verifyInclusion(leafHashes[5] as Uint8Array, 4, 8, incl, h(ROOTS[7] as string))).toBe(
      false,
    );
    const cons = await consistencyProof(nodes, 6, 8);
    expect(cons.map(hex)).toEqual([
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]);
    expect(verifyConsistency(6, 8, cons, h(ROOTS[5] as string), h(ROOTS[7] as string))).toBe(true);
    expect(verifyConsistency(6, 8, cons, h(ROOTS[4] as string), h(ROOTS[7] as string))).toBe(false);
    const cons25 = await consistencyProof(nodes, 2, 5);
    expect(cons25.map(hex)).toEqual([
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]);
  });
});

describe("RFC 9162 Merkle tree: exhaustive against the naive reference (sizes 0..64)", () => {
  it("every root, every inclusion proof, every consistency proof matches and verifies", async () => {
    const leaves = ref.leaves(MAX);
    const { nodes, roots } = await buildTree(leaves);
    let checks = 0;
    for (let n = 0; n <= MAX; n++) {
      const d = leaves.slice(0, n);
      const root = ref.mth(d);
      expect(hex(roots[n] as Uint8Array)).toBe(hex(root));
      expect(hex(await rootAtSize(nodes, n))).toBe(hex(root));
      for (let m = 0; m < n; m++) {
        const proof = await inclusionProof(nodes, m, n);
        expect(proof.map(hex)).toEqual(ref.path(m, d).map(hex));
        const leaf = leaves[m] as Uint8Array;
        expect(verifyInclusion(leaf, m, n, proof, root)).toBe(true);
        // tampered leaf, wrong index, wrong size, wrong root, truncated/extended proof
        expect(verifyInclusion(flip(leaf), m, n, proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion(leaf, (m + 1) % n, n, proof, root)).toBe(false);
        // a wrong size, checked against the real root of that size (a proof alone does not bind the size)
        if (n < MAX)
          expect(verifyInclusion(leaf, m, n + 1, proof, roots[n + 1] as Uint8Array)).toBe(false);
        if (m < n - 1)
          expect(verifyInclusion(leaf, m, n - 1, proof, roots[n - 1] as Uint8Array)).toBe(false);
        expect(verifyInclusion(leaf, m, n, proof, flip(root, 77))).toBe(false);
        if (proof.length > 0) {
          expect(verifyInclusion(leaf, m, n, proof.slice(0, -1), root)).toBe(false);
          expect(
            verifyInclusion(leaf, m, n, [flip(proof[0] as Uint8Array), ...proof.slice(1)], root),
          ).toBe(false);
        }
        expect(verifyInclusion(leaf, m, n, [...proof, root], root)).toBe(false);
        checks++;
      }
      for (let m = 0; m <= n; m++) {
        const oldRoot = roots[m] as Uint8Array;
        const proof = await consistencyProof(nodes, m, n);
        if (m > 0 && m < n) expect(proof.map(hex)).toEqual(ref.proof(m, d).map(hex));
        else expect(proof).toEqual([]);
        expect(verifyConsistency(m, n, proof, oldRoot, root)).toBe(true);
        // forked old root, forked new root, wrong sizes
        expect(verifyConsistency(m, n, proof, flip(oldRoot), root)).toBe(false);
        // (the empty tree is a prefix of every tree, so m = 0 constrains only the old root)
        if (m > 0) expect(verifyConsistency(m, n, proof, oldRoot, flip(root))).toBe(false);
        if (m > 0 && m < n) {
          if (n < MAX)
            expect(verifyConsistency(m, n + 1, proof, oldRoot, roots[n + 1] as Uint8Array)).toBe(
              false,
            );
          if (m > 1)
            expect(verifyConsistency(m - 1, n, proof, roots[m - 1] as Uint8Array, root)).toBe(
              false,
            );
          expect(verifyConsistency(n, m, proof, root, oldRoot)).toBe(false);
        }
        if (proof.length > 0) {
          expect(verifyConsistency(m, n, proof.slice(1), oldRoot, root)).toBe(false);
          expect(verifyConsistency(m, n, [...proof, root], oldRoot, root)).toBe(false);
        }
        checks++;
      }
    }
    expect(checks).toBe((MAX * (MAX + 1)) / 2 + ((MAX + 1) * (MAX + 2)) / 2);
  });

  it("a forked history (one leaf changed) is never consistent with the original", async () => {
    const leaves = ref.leaves(40);
    const forked = [...leaves];
    forked[17] = ref.leafHash(new TextEncoder().encode("evil"));
    const a = await buildTree(leaves);
    const b = await buildTree(forked);
    for (let m = 18; m <= 40; m++) {
      for (let n = m; n <= 40; n++) {
        const proof = await consistencyProof(b.nodes, m, n);
        expect(
          verifyConsistency(m, n, proof, a.roots[m] as Uint8Array, b.roots[n] as Uint8Array),
        ).toBe(false);
      }
    }
  });
});

describe("RFC 9162 Merkle tree: edge cases", () => {
  it("size 0: no inclusion proof exists; only the empty root is consistent with any tree", async () => {
    const { nodes, roots } = await buildTree(ref.leaves(3));
    await expect(inclusionProof(nodes, 0, 0)).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_INVALID_ARGUMENT"),
    );
    expect(verifyInclusion(ref.leaves(1)[0] as Uint8Array, 0, 0, [], EMPTY_ROOT)).toBe(false);
    expect(await consistencyProof(nodes, 0, 3)).toEqual([]);
    expect(verifyConsistency(0, 3, [], EMPTY_ROOT, roots[3] as Uint8Array)).toBe(true);
    expect(verifyConsistency(0, 3, [], roots[1] as Uint8Array, roots[3] as Uint8Array)).toBe(false);
    expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
    expect(
      verifyConsistency(0, 3, [roots[1] as Uint8Array], EMPTY_ROOT, roots[3] as Uint8Array),
    ).toBe(false);
  });

  it("size 1: the root is the leaf hash and the inclusion proof is empty", async () => {
    const [leaf] = ref.leaves(1) as [Uint8Array];
    const { nodes, roots } = await buildTree([leaf]);
    expect(hex(roots[1] as Uint8Array)).toBe(hex(leaf));
    expect(await inclusionProof(nodes, 0, 1)).toEqual([]);
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion(leaf, 1, 1, [], leaf)).toBe(false);
    expect(verifyConsistency(1, 1, [], leaf, leaf)).toBe(true);
    expect(verifyConsistency(1, 1, [leaf], leaf, leaf)).toBe(false);
  });

  it("malformed inputs return false instead of throwing", () => {
    const [leaf] = ref.leaves(1) as [Uint8Array];
    expect(verifyInclusion(leaf.subarray(0, 31), 0, 1, [], leaf)).toBe(false);
    expect(verifyInclusion(leaf, -1, 1, [], leaf)).toBe(false);
    expect(verifyInclusion(leaf, 0.5, 1, [], leaf)).toBe(false);
    expect(verifyConsistency(1, 2, [new Uint8Array(31)], leaf, leaf)).toBe(false);
    expect(verifyConsistency(Number.NaN, 2, [leaf], leaf, leaf)).toBe(false);
  });

  it("Precondition: a node reader that returns the wrong number of nodes or a non-32-byte node is caught, not trusted.", async () => {
    const short = { readNodes: async () => [new Uint8Array(32)] };
    await expect(inclusionProof(short, 0, 8)).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_AUDIT_STORE_INVARIANT"),
    );
    const badLen = {
      readNodes: async (keys: readonly unknown[]) => keys.map(() => new Uint8Array(31)),
    };
    await expect(rootAtSize(badLen, 5)).rejects.toSatisfy((e) =>
      isKeywardenError(e, "ERR_AUDIT_STORE_INVARIANT"),
    );
  });

  it("a frontier reloaded from the store continues the same tree", async () => {
    const leaves = ref.leaves(37);
    const { nodes } = await buildTree(leaves.slice(0, 23));
    const reloaded = await MerkleFrontier.load(nodes, 23);
    for (const leaf of leaves.slice(23)) nodes.writeNodes(reloaded.append(leaf));
    expect(hex(reloaded.root())).toBe(hex(ref.mth(leaves)));
  });

  it("proof reads are logarithmic: an inclusion proof at 2^20 leaves reads at most 2·log2(n) nodes", async () => {
    let reads = 0;
    const counting = {
      readNodes: async (keys: readonly unknown[]) => {
        reads += keys.length;
        return keys.map(() => new Uint8Array(32));
      },
    };
    const n = 2 ** 20 + 12345;
    await inclusionProof(counting, 777_777, n);
    expect(reads).toBeLessThanOrEqual(2 * 21);
    reads = 0;
    await consistencyProof(counting, 2 ** 19 + 3, n);
    expect(reads).toBeLessThanOrEqual(3 * 21);
  });

  it("the node:crypto SHA-256 fast path equals @noble/hashes", () => {
    for (const len of [0, 1, 55, 56, 64, 65, 1000]) {
      const data = new Uint8Array(len).map((_, i) => (i * 31 + len) & 0xff);
      expect(hex(sha256(data))).toBe(hex(sha256Portable(data)));
    }
  });
});
