/**
 * The storage adapter contract of the audit log: the one interface an integrator implements to
 * keep audit chains in their own database. It is designed once for the core (chains, erasure),
 * transparency (Merkle tree state, checkpoints) and scale-out stores (idempotent retries, batches),
 * so an adapter written today does not break when those features are used.
 *
 * The store is *not trusted*: {@link AuditLog} checks every value an adapter returns against the
 * chain invariants (contiguous `seq`, `prevHash` links, hashes recomputed from `body`, sizes and
 * heads consistent with what was written) and fails with `ERR_AUDIT_STORE_INVARIANT` when an
 * adapter lies. An adapter only has to be atomic and durable; the cryptography is the core's job.
 *
 * Run `keywarden/audit/testing` (the conformance suite) against any adapter you write.
 *
 * @packageDocumentation
 */

/** Lowercase hex SHA-256, 64 characters. */
export type HexHash = string;

/**
 * One entry as stored. Everything the chain's integrity depends on is in `body`; `hash` is a cache
 * of `SHA-256(0x00 || utf8(body))` that the core recomputes and compares on every read.
 */
export interface StoredEntry {
  /** 0-based position in the chain; equals the `seq` inside `body`. */
  readonly seq: number;
  /** Lowercase hex entry hash (the RFC 6962 leaf hash) of `body`. */
  readonly hash: HexHash;
  /** The exact canonical JSON text (RFC 8785) of the entry that was hashed. Stored verbatim. */
  readonly body: string;
  /**
   * The payload opening: the canonical JSON text `{"salt":"<64 hex>","value":<payload>}` whose
   * commitment the entry carries, or `null` once the payload was erased. Not covered by `hash`.
   */
  readonly payload: string | null;
  /**
   * Optional caller-chosen key that makes a retried append idempotent (issue: connection faults).
   * Stored beside the entry, never inside `body`. Only meaningful with `capabilities.idempotency`.
   */
  readonly idempotencyKey?: string | undefined;
}

/** The current end of a chain. */
export interface ChainHead {
  /** Number of entries (the next entry's `seq`). 0 for an empty or unknown chain. */
  readonly size: number;
  /** Hash of entry `size - 1`, or `null` when `size` is 0. */
  readonly headHash: HexHash | null;
}

/** Address of one node of a chain's RFC 9162 Merkle tree: `level` 0 are the leaves. */
export interface TreeNodeKey {
  readonly level: number;
  readonly index: number;
}

/** A Merkle tree node to persist together with an append (see `capabilities.treeNodes`). */
export interface TreeNode extends TreeNodeKey {
  /** The 32-byte node hash. */
  readonly hash: Uint8Array;
}

/** A signed checkpoint as stored: its tree size and the full signed-note text. */
export interface StoredCheckpoint {
  readonly size: number;
  /** The signed note (C2SP tlog-checkpoint inside a C2SP signed-note), verbatim. */
  readonly note: string;
}

/** One atomic append. */
export interface AppendRequest {
  /** Chain to append to. */
  readonly chainId: string;
  /**
   * The chain size the caller built the batch against: `entries[0].seq` must equal it. When the
   * chain's size differs at commit time the store writes nothing and throws
   * `ERR_AUDIT_APPEND_CONFLICT`.
   */
  readonly expectedSize: number;
  /** One or more entries with contiguous `seq`, committed all together or not at all. */
  readonly entries: readonly StoredEntry[];
  /**
   * Merkle tree nodes completed by this batch, written in the same atomic unit as the entries.
   * Passed only to stores that declare `capabilities.treeNodes`; an already stored node with the
   * same key is overwritten (nodes are a pure function of the entries, so rewrites are identical).
   */
  readonly treeNodes?: readonly TreeNode[] | undefined;
}

/** Returned by a successful {@link AuditStore.append}. */
export interface AppendResult {
  /** The chain size after the append (`expectedSize + entries.length`). */
  readonly size: number;
  /** The hash of the last appended entry. */
  readonly headHash: HexHash;
}

/** Optional features a store declares; the core never calls an undeclared capability. */
export interface AuditStoreCapabilities {
  /** Persists `idempotencyKey` atomically with the entry, enforces its uniqueness per chain, and implements {@link AuditStore.findByIdempotencyKey}. */
  readonly idempotency: boolean;
  /** Persists `AppendRequest.treeNodes` atomically with the append and implements {@link AuditStore.getTreeNodes}. */
  readonly treeNodes: boolean;
  /** Implements {@link AuditStore.putCheckpoint} and {@link AuditStore.latestCheckpoint}. */
  readonly checkpoints: boolean;
}

/**
 * A storage adapter for audit chains. All methods are async and may be called concurrently; the
 * adapter is responsible for atomicity and durability, the core for everything else.
 *
 * @example
 * ```ts
 * import { AuditLog, createMemoryAuditStore } from "keywarden/audit";
 * const log = new AuditLog({ store: createMemoryAuditStore() });
 * ```
 */
export interface AuditStore {
  /** Which optional methods and request fields this store supports. */
  readonly capabilities: AuditStoreCapabilities;

  /**
   * Returns the current size of `chainId` and the hash of its last entry, as committed (never a
   * pending write). An unknown chain is an empty chain: `{ size: 0, headHash: null }`.
   */
  head(chainId: string): Promise<ChainHead>;

  /**
   * Atomically appends `request.entries` to the chain if and only if its size is still
   * `request.expectedSize` and no entry's `idempotencyKey` was used on the chain before. When either
   * check fails nothing is written and it throws `KeywardenError("ERR_AUDIT_APPEND_CONFLICT")` — a
   * lost race, which the core retries; any other failure must be a different error (use
   * `ERR_AUDIT_STORE_UNAVAILABLE` for transient I/O faults). The entries must be durable when the
   * promise resolves. The store need not validate hashes or links (the core does), but it must keep
   * `body` and `payload` byte-exact and must never reorder, merge or renumber entries.
   */
  append(request: AppendRequest): Promise<AppendResult>;

  /**
   * Yields the entries of `chainId` with `from <= seq < to` in increasing `seq` order (`to`
   * defaults to the size at call time), each exactly as written, with `payload` reflecting any
   * erasure. Entries appended after the call began may or may not be included; entries must never be
   * skipped or repeated. Reading past the end simply stops.
   */
  read(chainId: string, from: number, to?: number): AsyncIterable<StoredEntry>;

  /**
   * Erases the payload opening of entry `seq` so that later reads return `payload: null`, removing
   * the personal data from storage (not merely hiding it). `body` and `hash` stay untouched, so the
   * chain still verifies and the entry shows as redacted. Idempotent; throws
   * `ERR_INVALID_ARGUMENT` when `seq` does not exist.
   */
  erasePayload(chainId: string, seq: number): Promise<void>;

  /**
   * With `capabilities.idempotency`: returns the entry that was appended with `idempotencyKey` on
   * `chainId`, or `undefined` when the key was never used. The core calls it before appending and
   * after a conflict, so a retried append returns the original entry instead of writing twice.
   */
  findByIdempotencyKey?(chainId: string, idempotencyKey: string): Promise<StoredEntry | undefined>;

  /**
   * With `capabilities.treeNodes`: returns the stored hash of each requested tree node, in the
   * order of `keys`, with `undefined` for nodes never written. Used to build inclusion and
   * consistency proofs with O(log n) reads.
   */
  getTreeNodes?(
    chainId: string,
    keys: readonly TreeNodeKey[],
  ): Promise<Array<Uint8Array | undefined>>;

  /**
   * With `capabilities.checkpoints`: durably records a signed checkpoint of `chainId`. The store
   * keeps at least the checkpoint with the greatest `size` (ties: the newest); it does not verify
   * signatures or consistency — the transparency layer does before calling it.
   */
  putCheckpoint?(chainId: string, checkpoint: StoredCheckpoint): Promise<void>;

  /**
   * With `capabilities.checkpoints`: the stored checkpoint of `chainId` with the greatest size, or
   * `undefined` when none was stored.
   */
  latestCheckpoint?(chainId: string): Promise<StoredCheckpoint | undefined>;

  /**
   * Releases resources (file handles, locks, pools). Further calls may fail. Optional for stores
   * that hold none.
   */
  close?(): Promise<void>;
}
