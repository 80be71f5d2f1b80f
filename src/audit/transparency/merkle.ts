/**
 * RFC 9162 (RFC 6962) Merkle tree over a chain's entry hashes: root (MTH), inclusion and
 * consistency proofs, generated and verified, plus the incremental state that lets an append
 * compute O(log n) new nodes and a proof read O(log n) stored nodes.
 *
 * The audit core defines `entryHash = SHA-256(0x00 || JCS(entry))`, which IS the RFC 9162 leaf
 * hash; this module never hashes leaves again. Interior nodes are `SHA-256(0x01 || left || right)`.
 *
 * Storage model: node `(level, index)` is the root of the perfect subtree over leaves
 * `[index·2^level, (index+1)·2^level)`; it is stored once that subtree is complete and never
 * changes afterwards. Level 0 nodes are the leaf (entry) hashes. Any subtree hash a proof needs is a
 * fold of at most log2(n) such nodes, so proofs and historical roots never rebuild the tree.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { assertHash, assertIndex, bytesEqual, sha256 } from "../primitives/portable.js";

/** Address of a stored node: the perfect subtree of height `level` at position `index`. */
export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

/** A stored node: its address and its 32-byte hash. */
export interface MerkleNode extends NodeKey {
  readonly hash: Uint8Array;
}

/**
 * Reads stored nodes of one tree. The store capability of the audit core implements this per chain.
 * Every requested node belongs to a complete subtree of a tree the caller knows exists.
 */
export interface MerkleNodeReader {
  /** Returns the hashes of `keys`, in order. Must throw (never return a placeholder) when one is missing. */
  readNodes(keys: readonly NodeKey[]): Promise<readonly Uint8Array[]>;
}

/** The RFC 9162 root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * Interior node hash `SHA-256(0x01 || left || right)`.
 *
 * @example
 * ```ts
 * const root = hashChildren(leafHashA, leafHashB); // tree of size 2
 * ```
 * @throws {KeywardenError} never for 32-byte inputs.
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  // A reused scratch buffer: hashing is synchronous, so no other call can interleave.
  SCRATCH.set(left, 1);
  SCRATCH.set(right, 33);
  return sha256(SCRATCH);
}

const SCRATCH = new Uint8Array(65);
SCRATCH[0] = 0x01;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.floor(Math.log2(n)) === n;
}

/** Largest power of two strictly smaller than `n` (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * @internal
 * Decomposes the leaf range `[start, end)` of an RFC 9162 subtree into the stored perfect subtrees
 * that cover it, largest first. `start` must be aligned so that `[start, end)` is a node of the
 * RFC tree (every range a proof or root needs is).
 */
export function rangeNodeKeys(start: number, end: number): NodeKey[] {
  const keys: NodeKey[] = [];
  pushRangeNodeKeys(keys, start, end);
  return keys;
}

/** Appends the covering nodes of [start, end) (largest first) to `keys`. */
function pushRangeNodeKeys(keys: NodeKey[], start: number, end: number): void {
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= end) {
      size *= 2;
      level++;
    }
    keys.push({ level, index: at / size });
    at += size;
  }
}

/** @internal Folds the perfect-subtree hashes of a range (largest first) into its RFC 9162 subtree hash. */
export function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  return foldSpan(hashes, 0, hashes.length);
}

/** {@link foldRange} over `hashes[from..to)`, without copying the span. */
function foldSpan(hashes: readonly Uint8Array[], from: number, to: number): Uint8Array {
  if (to <= from) return EMPTY_ROOT;
  let acc = hashes[to - 1] as Uint8Array;
  for (let i = to - 2; i >= from; i--) acc = hashChildren(hashes[i] as Uint8Array, acc);
  return acc;
}

/**
 * Root (MTH) of a list of leaf hashes, computed in O(n) time and O(log n) memory. For tests,
 * exports and small trees; the log itself uses the incremental state.
 *
 * @example
 * ```ts
 * const root = merkleRoot(entries.map((e) => e.hash));
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when a leaf is not 32 bytes.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const frontier = new MerkleFrontier();
  for (let i = 0; i < leaves.length; i++) frontier.append(assertHash(leaves[i], "leaf hash"));
  return frontier.root();
}

/**
 * The right edge of a tree: the roots of the perfect subtrees that make up `[0, size)`, largest
 * first. Appending a leaf touches only this edge, so it costs O(1) amortized and O(log n) worst
 * case hashes, and returns the nodes that became complete (to be written with the entry).
 */
export class MerkleFrontier {
  #nodes: MerkleNode[];
  #size: number;
  #lastLeaf: Uint8Array | undefined;

  /** A frontier for `size` leaves from its stored edge nodes (see {@link frontierKeys}). */
  constructor(size = 0, edge: readonly Uint8Array[] = []) {
    if (size === 0 && edge.length === 0) {
      // The empty tree (also the start of every clone): no edge to check.
      this.#size = 0;
      this.#nodes = [];
      return;
    }
    assertIndex(size, "tree size");
    const keys = frontierKeys(size);
    if (keys.length !== edge.length) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "frontier does not match the tree size");
    }
    this.#size = size;
    this.#nodes = keys.map((k, i) => ({ ...k, hash: assertHash(edge[i], "frontier node") }));
  }

  /** Loads the frontier of a tree of `size` leaves: O(log n) node reads. */
  static async load(reader: MerkleNodeReader, size: number): Promise<MerkleFrontier> {
    const keys = frontierKeys(assertIndex(size, "tree size"));
    const hashes = keys.length === 0 ? [] : await readChecked(reader, keys);
    return new MerkleFrontier(size, hashes);
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /** The right-edge hashes, largest subtree first (what {@link MerkleFrontier.load} reads back). */
  edge(): Uint8Array[] {
    return this.#nodes.map((n) => n.hash);
  }

  /** Current root (MTH). */
  root(): Uint8Array {
    return foldRange(this.#nodes.map((n) => n.hash));
  }

  /**
   * Hash of the last leaf appended through this frontier or loaded with it (level 0 of the
   * smallest edge node when the size is odd); undefined for an empty tree or an even-size edge.
   */
  lastLeaf(): Uint8Array | undefined {
    if (this.#lastLeaf) return this.#lastLeaf;
    const smallest = this.#nodes[this.#nodes.length - 1];
    return smallest?.level === 0 ? smallest.hash : undefined;
  }

  /** A copy, so a caller can compute an append and discard it if the write fails. */
  clone(): MerkleFrontier {
    const copy = new MerkleFrontier();
    copy.#nodes = this.#nodes.slice();
    copy.#size = this.#size;
    copy.#lastLeaf = this.#lastLeaf;
    return copy;
  }

  /**
   * Appends a leaf hash; returns the nodes that became complete (the leaf itself, then any parents),
   * which the store must write atomically with the entry.
   */
  append(leaf: Uint8Array): MerkleNode[] {
    assertHash(leaf, "leaf hash");
    const written: MerkleNode[] = [{ level: 0, index: this.#size, hash: leaf }];
    let hash = leaf;
    let level = 0;
    let index = this.#size;
    while (index % 2 === 1) {
      const left = this.#nodes.pop() as MerkleNode;
      hash = hashChildren(left.hash, hash);
      level++;
      index = (index - 1) / 2;
      written.push({ level, index, hash });
    }
    this.#nodes.push({ level, index, hash });
    this.#size++;
    this.#lastLeaf = leaf;
    return written;
  }
}

/** @internal The node keys of the right edge of a tree of `size` leaves, largest subtree first. */
export function frontierKeys(size: number): NodeKey[] {
  return rangeNodeKeys(0, size);
}

async function readChecked(
  reader: MerkleNodeReader,
  keys: readonly NodeKey[],
): Promise<readonly Uint8Array[]> {
  const hashes = await reader.readNodes(keys);
  /* Precondition: a node reader that returns the wrong number of nodes or a non-32-byte node is caught, not trusted. */
  let ok = hashes.length === keys.length;
  for (let i = 0; ok && i < hashes.length; i++) {
    const h = hashes[i];
    ok = h instanceof Uint8Array && h.length === 32;
  }
  if (!ok) {
    throw new KeywardenError(
      "ERR_AUDIT_STORE_INVARIANT",
      "Merkle node store returned malformed nodes",
    );
  }
  return hashes;
}

/** @internal Reads every range's covering nodes in one batch and folds each range into its subtree hash. */
export async function hashRanges(
  reader: MerkleNodeReader,
  ranges: readonly (readonly [number, number])[],
): Promise<Uint8Array[]> {
  const flat: NodeKey[] = [];
  const ends: number[] = new Array(ranges.length);
  for (let r = 0; r < ranges.length; r++) {
    const [a, b] = ranges[r] as readonly [number, number];
    pushRangeNodeKeys(flat, a, b);
    ends[r] = flat.length;
  }
  const hashes = flat.length === 0 ? [] : await readChecked(reader, flat);
  const out: Uint8Array[] = new Array(ranges.length);
  let at = 0;
  for (let r = 0; r < ranges.length; r++) {
    const end = ends[r] as number;
    out[r] = foldSpan(hashes, at, end);
    at = end;
  }
  return out;
}

/** @internal The subtree ranges whose hashes form PATH(index, D[0:size]), leaf-most first (RFC 9162 §2.1.3.1). */
export function inclusionRanges(index: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  let hi = size;
  let m = index;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
      m -= k;
    }
  }
  return out.reverse();
}

/** @internal The subtree ranges whose hashes form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), 0 < size1 < size2. */
export function consistencyRanges(size1: number, size2: number): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  let hi = size2;
  let m = size1;
  let complete = true;
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) out.push([lo, hi]);
  return out.reverse();
}

/**
 * Inclusion proof (audit path) of leaf `index` in the tree of `size` leaves: O(log n) node reads.
 *
 * @example
 * ```ts
 * const proof = await inclusionProof(nodes, 5, 1000);
 * verifyInclusion(leafHash, 5, 1000, proof, root); // true
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `index >= size`; `ERR_AUDIT_STORE_INVARIANT` on a bad read.
 */
export async function inclusionProof(
  reader: MerkleNodeReader,
  index: number,
  size: number,
): Promise<Uint8Array[]> {
  assertIndex(index, "leaf index");
  assertIndex(size, "tree size");
  if (index >= size)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "leaf index is outside the tree");
  return hashRanges(reader, inclusionRanges(index, size));
}

/**
 * Consistency proof that the tree of `size1` leaves is a prefix of the tree of `size2` leaves.
 * Empty when `size1` is 0 or equals `size2`.
 *
 * @example
 * ```ts
 * const proof = await consistencyProof(nodes, 10, 20);
 * verifyConsistency(10, 20, proof, oldRoot, newRoot); // true
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `size1 > size2`; `ERR_AUDIT_STORE_INVARIANT` on a bad read.
 */
export async function consistencyProof(
  reader: MerkleNodeReader,
  size1: number,
  size2: number,
): Promise<Uint8Array[]> {
  assertIndex(size1, "old tree size");
  assertIndex(size2, "new tree size");
  if (size1 > size2)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "old tree is larger than new tree");
  if (size1 === 0 || size1 === size2) return [];
  return hashRanges(reader, consistencyRanges(size1, size2));
}

/**
 * Root of the tree as it was at `size` leaves (any past size): O(log n) node reads.
 *
 * @example
 * ```ts
 * const rootThen = await rootAtSize(nodes, 500);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` on a bad read.
 */
export async function rootAtSize(reader: MerkleNodeReader, size: number): Promise<Uint8Array> {
  assertIndex(size, "tree size");
  if (size === 0) return EMPTY_ROOT;
  const [root] = await hashRanges(reader, [[0, size]]);
  return root as Uint8Array;
}

function validHashes(list: readonly Uint8Array[]): boolean {
  return Array.isArray(list) && list.every((h) => h instanceof Uint8Array && h.length === 32);
}

/**
 * Verifies an inclusion proof exactly per RFC 9162 §2.1.3.2. Returns false (never throws) on any
 * mismatch or malformed input.
 *
 * @example
 * ```ts
 * if (!verifyInclusion(entryHash, seq, checkpoint.size, proof, checkpoint.rootHash)) reject();
 * ```
 * @throws never.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0) return false;
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== 32) return false;
  if (!(root instanceof Uint8Array) || root.length !== 32 || !validHashes(proof)) return false;
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * Verifies a consistency proof exactly per RFC 9162 §2.1.4.2, with the degenerate cases made
 * explicit: equal sizes need an empty proof and equal roots; an old size of 0 needs an empty proof
 * and the empty-tree root. Returns false (never throws) on any mismatch or malformed input.
 *
 * @example
 * ```ts
 * if (!verifyConsistency(saved.size, cp.size, proof, saved.root, cp.rootHash)) reportRewrite();
 * ```
 * @throws never.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0) return false;
  if (!(root1 instanceof Uint8Array) || root1.length !== 32) return false;
  if (!(root2 instanceof Uint8Array) || root2.length !== 32 || !validHashes(proof)) return false;
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (size1 === 0) return proof.length === 0 && bytesEqual(root1, EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Uint8Array;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}

/**
 * In-memory node store (tests, benchmarks, and the memory audit store's capability).
 *
 * @example
 * ```ts
 * const nodes = new MemoryMerkleNodes();
 * const frontier = new MerkleFrontier();
 * nodes.writeNodes(frontier.append(entryHash));
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` from readNodes when a node is missing.
 */
export class MemoryMerkleNodes implements MerkleNodeReader {
  readonly #levels: Uint8Array[][] = [];

  /** Stores nodes (idempotent for identical hashes; a different hash at a written key is refused). */
  writeNodes(nodes: readonly MerkleNode[]): void {
    for (const n of nodes) {
      let level = this.#levels[n.level];
      if (level === undefined) {
        level = [];
        this.#levels[n.level] = level;
      }
      const prev = level[n.index];
      if (prev !== undefined && !bytesEqual(prev, n.hash)) {
        throw new KeywardenError(
          "ERR_AUDIT_STORE_INVARIANT",
          "Merkle node overwritten with a different hash",
        );
      }
      level[n.index] = n.hash;
    }
  }

  async readNodes(keys: readonly NodeKey[]): Promise<Uint8Array[]> {
    return keys.map((k) => {
      const h = this.#levels[k.level]?.[k.index];
      if (h === undefined) {
        throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "Merkle node missing from the store");
      }
      return h;
    });
  }
}
