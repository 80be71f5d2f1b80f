/**
 * The log side of audit transparency over an {@link AuditStore} that declares the `treeNodes`
 * capability: it maintains each chain's RFC 9162 tree as entries are appended (plug
 * {@link TransparencyLog.treeNodes} into `AuditLog`), signs checkpoints — refusing to sign one
 * that is inconsistent with the last it signed — and produces inclusion proofs, consistency proofs
 * and receipts with O(log n) node reads.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { bytesEqual, fromHex, utf8 } from "../primitives/portable.js";
import type { AuditStore, TreeNode } from "../storage/index.js";
import { type Checkpoint, chainOrigin, formatCheckpoint, parseCheckpoint } from "./checkpoint.js";
import {
  consistencyProof,
  inclusionProof,
  MerkleFrontier,
  type MerkleNodeReader,
  rootAtSize,
  verifyConsistency,
} from "./merkle.js";
import {
  computeKeyId,
  formatVerifierKey,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  parseVerifierKey,
  SIG_TYPE_ED25519,
  signNote,
} from "./note.js";
import { formatReceipt, leafHashOfBody } from "./receipt.js";
import type { Signer } from "./signer.js";

/** A checkpoint this log signed: the note and its parsed body. */
export interface SignedCheckpoint {
  readonly chainId: string;
  readonly note: string;
  readonly checkpoint: Checkpoint;
}

/** Options of {@link TransparencyLog}. */
export interface TransparencyLogOptions {
  /** The audit store; must declare `capabilities.treeNodes` (and ideally `checkpoints`). */
  readonly store: AuditStore;
  /** The checkpoint signing key. */
  readonly signer: Signer;
  /** Deployment name, a schema-less URL such as `audit.example.com`; origins are `<logName>/keywarden/<chainId>`. */
  readonly logName: string;
  /** Keys of earlier signers whose checkpoints are still accepted as "the last signed" (key rotation). */
  readonly previousLogKeys?: readonly NoteVerifier[];
  /** Clock in POSIX seconds (default: system clock). */
  readonly now?: () => number;
  /**
   * Where proofs and roots read tree nodes (default: the store's `getTreeNodes`). One-shot tools
   * pass a tree rebuilt from entries (`entryTreeReader`) for chains written without tree nodes.
   */
  readonly nodes?: (chainId: string) => MerkleNodeReader;
  /**
   * Name checkpoint signatures after each chain's origin (`<logName>/keywarden/<chainId>`) instead
   * of `signer.keyName`, as tlog-checkpoint recommends (key name SHOULD equal the origin). The key
   * is the same; users then verify with {@link TransparencyLog.verifierKeyFor} of their chain.
   * Default false: one verifier key (named after the signer) for every chain.
   */
  readonly keyNamePerOrigin?: boolean;
}

const MAX_CACHED_CHAINS = 4096;
/** Tree nodes at or above this level (covering >= 256 entries) are cached once read. */
const CACHE_MIN_LEVEL = 8;
/** Bound on cached nodes across all chains (~100 bytes each). */
const MAX_CACHED_NODES = 65_536;

/**
 * Reads a chain's tree nodes from the store, failing closed on a missing node.
 *
 * @example
 * ```ts
 * const proof = await inclusionProof(storeNodeReader(store, "user:42"), 7, 100);
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` when the store keeps no tree nodes;
 * `ERR_AUDIT_STORE_INVARIANT` from reads when a node is missing.
 */
export function storeNodeReader(store: AuditStore, chainId: string): MerkleNodeReader {
  const get = store.getTreeNodes?.bind(store);
  if (!store.capabilities.treeNodes || !get) {
    throw new KeywardenError("ERR_NOT_SUPPORTED", "audit store does not keep Merkle tree nodes");
  }
  return {
    async readNodes(keys) {
      const out = await get(chainId, keys);
      if (!Array.isArray(out) || out.length !== keys.length || out.some((h) => h === undefined)) {
        throw new KeywardenError(
          "ERR_AUDIT_STORE_INVARIANT",
          "Merkle node missing from the audit store",
        );
      }
      return out as Uint8Array[];
    },
  };
}

/**
 * Log-side transparency for one deployment (many chains, one signer).
 *
 * @example
 * ```ts
 * const transparency = new TransparencyLog({ store, signer, logName: "audit.example.com" });
 * const log = new AuditLog({ store, treeNodes: transparency.treeNodes });
 * await log.append("user:42", { action: "order.placed", payload });
 * const { note } = await transparency.signCheckpoint("user:42");
 * ```
 * @throws {KeywardenError} `ERR_NOT_SUPPORTED` from its methods when the store keeps no tree nodes.
 */
export class TransparencyLog {
  readonly #opts: TransparencyLogOptions;
  readonly #frontiers = new Map<string, MerkleFrontier>();
  readonly #lastSigned = new Map<string, Checkpoint>();
  readonly #signing = new Map<string, Promise<unknown>>();
  readonly #logKeys: NoteVerifier[];
  readonly #nodeCache = new Map<string, Uint8Array>();

  constructor(options: TransparencyLogOptions) {
    this.#opts = options;
    chainOrigin(options.logName, "operator");
    this.#logKeys = [
      parseVerifierKey(options.signer.verifierKey),
      ...(options.previousLogKeys ?? []),
    ];
  }

  /** The origin (and checkpoint key name) of a chain's log. */
  origin(chainId: string): string {
    return chainOrigin(this.#opts.logName, chainId);
  }

  /** The verifier key users and witnesses need (per chain when `keyNamePerOrigin`). */
  get verifierKey(): string {
    return this.#opts.signer.verifierKey;
  }

  /** The verifier key for `chainId`'s checkpoints. */
  verifierKeyFor(chainId: string): string {
    return this.#opts.keyNamePerOrigin
      ? formatVerifierKey(this.origin(chainId), SIG_TYPE_ED25519, this.#opts.signer.publicKey)
      : this.#opts.signer.verifierKey;
  }

  #noteSigner(chainId: string): NoteSigner {
    const base = this.#opts.signer;
    if (!this.#opts.keyNamePerOrigin) return base;
    const keyName = this.origin(chainId);
    return {
      keyName,
      keyId: computeKeyId(keyName, SIG_TYPE_ED25519, base.publicKey),
      sign: (message) => base.sign(message),
    };
  }

  /**
   * The `TreeNodeBuilder` to pass to `AuditLog` as `treeNodes`: computes the nodes an append
   * completes from a cached right edge of the tree (1 node read to validate the cache — none when
   * the caller passes the chain's head hash as the 5th argument — and O(log n) reads to reload
   * it), never a rebuild.
   */
  readonly treeNodes = {
    nodesForAppend: (
      store: AuditStore,
      chainId: string,
      firstSeq: number,
      leaves: readonly Uint8Array[],
      headHash?: Uint8Array | string | null,
    ): readonly TreeNode[] | Promise<readonly TreeNode[]> => {
      // Each call advances its own copy of the edge and caches it: concurrent calls never share a
      // mutable edge. If this append then loses a race or fails, the next call finds no edge of
      // its size, or one whose last leaf is not the committed head, and reloads from the store.
      const head = typeof headHash === "string" ? fromHex(headHash) : (headHash ?? undefined);
      const current = this.#currentFrontier(chainId, firstSeq, head);
      return current
        ? this.#advance(chainId, current, leaves)
        : this.#frontierAt(store, chainId, firstSeq, head).then((f) =>
            this.#advance(chainId, f, leaves),
          );
    },
  };

  #advance(chainId: string, from: MerkleFrontier, leaves: readonly Uint8Array[]): TreeNode[] {
    const frontier = from.clone();
    const nodes: TreeNode[] = [];
    for (const leaf of leaves) for (const n of frontier.append(leaf)) nodes.push(n);
    this.#remember(chainId, frontier);
    return nodes;
  }

  /**
   * The cached edge of `chainId`'s tree when it is known, without a read, to be the committed one
   * at `size`: the tree is empty, or the caller's head hash is the edge's last leaf. (The last leaf
   * commits to the whole chain: each entry hash covers prevHash.)
   */
  #currentFrontier(
    chainId: string,
    size: number,
    headHash: Uint8Array | undefined,
  ): MerkleFrontier | undefined {
    const cached = this.#frontiers.get(chainId);
    if (!cached || cached.size !== size) return undefined;
    if (size === 0) return cached;
    const mine = cached.lastLeaf();
    return headHash && mine && bytesEqual(headHash, mine) ? cached : undefined;
  }

  async #frontierAt(
    store: AuditStore,
    chainId: string,
    size: number,
    headHash: Uint8Array | undefined,
  ): Promise<MerkleFrontier> {
    const cached = this.#frontiers.get(chainId);
    if (cached && cached.size === size && size > 0 && !headHash) {
      // Without the caller's head hash, one node read confirms the cached edge.
      const [last] = await storeNodeReader(store, chainId).readNodes([
        { level: 0, index: size - 1 },
      ]);
      const mine = cached.lastLeaf();
      if (last && mine && bytesEqual(last, mine)) return cached;
    }
    return MerkleFrontier.load(storeNodeReader(store, chainId), size);
  }

  #remember(chainId: string, frontier: MerkleFrontier): void {
    this.#frontiers.delete(chainId);
    this.#frontiers.set(chainId, frontier);
    if (this.#frontiers.size > MAX_CACHED_CHAINS) {
      const oldest = this.#frontiers.keys().next().value;
      if (oldest !== undefined) this.#frontiers.delete(oldest);
    }
  }

  /**
   * Node reader for proofs over `chainId`. Complete nodes never change, so those high in the tree
   * (covering at least 2^8 entries; few, and on every proof's path) are kept in a bounded cache
   * after they are read from the store: a proof in a large chain then reads about as many nodes
   * from the store as one in a small chain. Only nodes read back from the store (committed) are
   * cached, never nodes computed for an append that may not commit.
   */
  nodes(chainId: string): MerkleNodeReader {
    const base = this.#opts.nodes?.(chainId) ?? storeNodeReader(this.#opts.store, chainId);
    const cache = this.#nodeCache;
    const keyOf = (k: { level: number; index: number }) => `${chainId}\u0000${k.level}/${k.index}`;
    return {
      async readNodes(keys) {
        const out = keys.map((k) => (k.level >= CACHE_MIN_LEVEL ? cache.get(keyOf(k)) : undefined));
        const missing = keys.filter((_, i) => out[i] === undefined);
        if (missing.length > 0) {
          const got = await base.readNodes(missing);
          let j = 0;
          for (let i = 0; i < keys.length; i++) {
            if (out[i] !== undefined) continue;
            const h = got[j++];
            out[i] = h;
            const k = keys[i] as { level: number; index: number };
            if (h instanceof Uint8Array && h.length === 32 && k.level >= CACHE_MIN_LEVEL) {
              if (cache.size >= MAX_CACHED_NODES) {
                let drop = MAX_CACHED_NODES / 8;
                for (const old of cache.keys()) {
                  cache.delete(old);
                  if (--drop <= 0) break;
                }
              }
              cache.set(keyOf(k), h);
            }
          }
        }
        return out as Uint8Array[];
      },
    };
  }

  /**
   * The last checkpoint this log signed for `chainId` (from the store, verified with the log's
   * keys), or undefined.
   *
   * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` when the stored checkpoint does not verify.
   */
  async latestCheckpoint(chainId: string): Promise<SignedCheckpoint | undefined> {
    const store = this.#opts.store;
    const stored = store.capabilities.checkpoints
      ? await store.latestCheckpoint?.(chainId)
      : undefined;
    if (!stored) return undefined;
    const keys = this.#opts.keyNamePerOrigin
      ? [parseVerifierKey(this.verifierKeyFor(chainId)), ...this.#logKeys]
      : this.#logKeys;
    const { text } = openNote(stored.note, keys);
    const checkpoint = parseCheckpoint(text);
    if (checkpoint.origin !== this.origin(chainId) || checkpoint.size !== stored.size) {
      throw new KeywardenError(
        "ERR_AUDIT_CHECKPOINT_INVALID",
        "stored checkpoint does not match its chain",
      );
    }
    return { chainId, note: stored.note, checkpoint };
  }

  /**
   * Signs a checkpoint of the chain's current size. Before signing, it proves the new tree
   * consistent with the last checkpoint it signed (from the store and from memory) and refuses
   * otherwise. Calls for one chain are serialized.
   *
   * @throws {KeywardenError} `ERR_AUDIT_INCONSISTENT_CHECKPOINT` when the tree is not an extension
   * of the last signed checkpoint (the store lost or rewrote entries); `ERR_AUDIT_STORE_INVARIANT`
   * when the store's nodes disagree with its entries.
   */
  signCheckpoint(chainId: string): Promise<SignedCheckpoint> {
    const prev = this.#signing.get(chainId) ?? Promise.resolve();
    const run = prev.then(
      () => this.#sign(chainId),
      () => this.#sign(chainId),
    );
    this.#signing.set(chainId, run);
    return run;
  }

  async #sign(chainId: string): Promise<SignedCheckpoint> {
    const store = this.#opts.store;
    const reader = this.nodes(chainId);
    const head = await store.head(chainId);
    const root = await rootAtSize(reader, head.size);
    if (head.size > 0) {
      const [last] = await reader.readNodes([{ level: 0, index: head.size - 1 }]);
      const headHash = head.headHash === null ? undefined : fromHex(head.headHash);
      /* Precondition: the tree's last leaf must be the chain's head entry hash before a checkpoint is signed. */
      if (!last || !headHash || !bytesEqual(last, headHash)) {
        throw new KeywardenError(
          "ERR_AUDIT_STORE_INVARIANT",
          "Merkle tree does not match the chain head",
        );
      }
    }
    const stored = (await this.latestCheckpoint(chainId))?.checkpoint;
    const remembered = this.#lastSigned.get(chainId);
    for (const last of [stored, remembered]) {
      if (!last) continue;
      const proof =
        last.size <= head.size ? await consistencyProof(reader, last.size, head.size) : [];
      /* Precondition: the log refuses to sign a checkpoint inconsistent with the last one it signed. */
      if (!verifyConsistency(last.size, head.size, proof, last.rootHash, root)) {
        throw new KeywardenError(
          "ERR_AUDIT_INCONSISTENT_CHECKPOINT",
          "refusing to sign a checkpoint inconsistent with the last signed checkpoint",
          { details: { chainId, lastSize: last.size, size: head.size } },
        );
      }
    }
    const now = this.#opts.now?.() ?? Math.floor(Date.now() / 1000);
    const previousTime = Math.max(stored?.timestamp ?? 0, remembered?.timestamp ?? 0);
    const checkpoint: Checkpoint = {
      origin: this.origin(chainId),
      size: head.size,
      rootHash: root,
      timestamp: Math.max(now, previousTime),
      extensions: [],
    };
    const note = await signNote(formatCheckpoint(checkpoint), [this.#noteSigner(chainId)]);
    if (store.capabilities.checkpoints)
      await store.putCheckpoint?.(chainId, { size: head.size, note });
    this.#lastSigned.set(chainId, checkpoint);
    return { chainId, note, checkpoint };
  }

  /** Inclusion proof of entry `seq` in the tree of `size` entries. */
  inclusionProof(chainId: string, seq: number, size: number): Promise<Uint8Array[]> {
    return inclusionProof(this.nodes(chainId), seq, size);
  }

  /** Consistency proof from `size1` to `size2`. */
  consistencyProof(chainId: string, size1: number, size2: number): Promise<Uint8Array[]> {
    return consistencyProof(this.nodes(chainId), size1, size2);
  }

  /**
   * A tlog-proof receipt for entry `seq`, against `checkpoint` (default: the latest signed one, or
   * a freshly signed one when the latest does not cover `seq`). The entry body goes in `extra`.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `seq` is not in the chain.
   */
  async receipt(chainId: string, seq: number, checkpoint?: SignedCheckpoint): Promise<string> {
    let cp = checkpoint ?? (await this.latestCheckpoint(chainId));
    if (!cp || cp.checkpoint.size <= seq) cp = await this.signCheckpoint(chainId);
    if (seq >= cp.checkpoint.size)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "entry is not in the chain");
    let body: string | undefined;
    for await (const e of this.#opts.store.read(chainId, seq, seq + 1)) body = e.body;
    const proof = await this.inclusionProof(chainId, seq, cp.checkpoint.size);
    const [leaf] = await this.nodes(chainId).readNodes([{ level: 0, index: seq }]);
    /* Precondition: a receipt is issued only for a body whose hash is the stored leaf. */
    if (body === undefined || !leaf || !bytesEqual(leafHashOfBody(body), leaf)) {
      throw new KeywardenError(
        "ERR_AUDIT_STORE_INVARIANT",
        "stored entry does not match its Merkle leaf",
      );
    }
    return formatReceipt({ extra: utf8(body), index: seq, proof, checkpointNote: cp.note });
  }
}
