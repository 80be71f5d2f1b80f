/**
 * Truncation and rollback detection for the user: compare a new signed checkpoint with the last
 * one the user verified, and require proof that the log only grew — a consistency proof, or the
 * entry hashes in between (checked against the remembered right edge of the tree). The result
 * names what happened: a first run, no change, growth, or a distinct failure reason (a shrunken
 * tree is `truncated`; a different tree at the same or a larger size is `rewritten`, which is what
 * a re-chain from genesis looks like).
 *
 * Pure (no I/O): the state lives wherever the caller keeps it; `transparency-state-file.ts` keeps
 * it in a small JSON file. No node-only import.
 *
 * @packageDocumentation
 */

import { bytesEqual, fromBase64, toBase64 } from "../primitives/portable.js";
import { MerkleFrontier, verifyConsistency } from "./merkle.js";
import {
  type CheckpointPolicy,
  type VerifiedCheckpoint,
  verifyCosignedCheckpoint,
} from "./witness.js";

/** What the verifier remembers about one origin (JSON-serializable). */
export interface MonitorRecord {
  readonly origin: string;
  readonly size: number;
  /** Base64 root hash. */
  readonly rootHash: string;
  /** The log's claimed signing time, if the checkpoint carried one. */
  readonly timestamp?: number | undefined;
  /** The verified note, verbatim (evidence to show someone else). */
  readonly note: string;
  /** Base64 right-edge hashes of the tree at `size`, when known (lets entries replace a proof). */
  readonly frontier?: readonly string[] | undefined;
}

/** Closed set of failure reasons. */
export type MonitorFailure =
  /** The checkpoint's signatures, cosignature quorum or format failed. */
  | "bad-checkpoint"
  /** The checkpoint is for a different log than the remembered one. */
  | "origin-mismatch"
  /**
   * The log now claims fewer entries than it once signed (tail truncation or rollback), or the
   * entries supplied (an export) are fewer than the checkpoint covers.
   */
  | "truncated"
  /** Same size, different root; or larger but not an extension: history rewritten (e.g. re-chained from genesis). */
  | "rewritten"
  /** Grew, but neither a consistency proof nor the entries in between were supplied. */
  | "proof-missing"
  /** The log's signing time went backwards. */
  | "time-went-backwards"
  /** The checkpoint is older than `maxAgeSeconds`: the log may be frozen. */
  | "stale";

/** Result of {@link checkCheckpointUpdate}. */
export type MonitorResult =
  | {
      readonly ok: true;
      readonly status: "first-run" | "unchanged" | "grew";
      readonly checkpoint: VerifiedCheckpoint;
      /** The record to save for the next run. */
      readonly record: MonitorRecord;
    }
  | {
      readonly ok: false;
      readonly reason: MonitorFailure;
      readonly previousSize?: number;
      readonly size?: number;
    };

/** Inputs of {@link checkCheckpointUpdate}. */
export interface MonitorInput {
  /** The new signed checkpoint note. */
  readonly note: string;
  /** Trust policy (log keys, witnesses, quorum, origin). */
  readonly policy: CheckpointPolicy;
  /** What was remembered from the last run, if anything. */
  readonly previous?: MonitorRecord | undefined;
  /** Consistency proof from `previous.size` to the new size. */
  readonly consistencyProof?: readonly Uint8Array[] | undefined;
  /** Or: the entry hashes of entries `[previous.size, size)` (needs `previous.frontier`). */
  readonly newLeafHashes?: readonly Uint8Array[] | undefined;
  /**
   * The entry hashes from seq 0 on (e.g. streamed from a full export), at least `size` of them;
   * consumed in one pass (only the first `size` are used). Proves the checkpoint's root and, with
   * `previous`, that the remembered tree is a prefix; also records the tree edge for next time.
   */
  readonly allLeafHashes?: Iterable<Uint8Array> | undefined;
  /** Or: the same entry hashes, pushed while streaming (see {@link LeafAccumulator}). */
  readonly leaves?: LeafAccumulator | undefined;
  /** Reject checkpoints whose `keywarden-time` is older than this many seconds. */
  readonly maxAgeSeconds?: number | undefined;
  /** Current POSIX seconds (default now). */
  readonly now?: number | undefined;
}

/**
 * Collects a chain's entry hashes (from seq 0, e.g. while an export is streamed and verified)
 * into the tree of the first `stopAt` of them, remembering the root at `previousSize`, in O(log n)
 * memory. Pass it to {@link checkCheckpointUpdate} as `leaves`.
 *
 * @example
 * ```ts
 * const acc = new LeafAccumulator(checkpoint.size, previous?.size);
 * for await (const entry of exportEntries) acc.push(entryHashBytes(entry));
 * checkCheckpointUpdate({ note, policy, previous, leaves: acc });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` from `push` for a leaf that is not 32 bytes.
 */
export class LeafAccumulator {
  readonly frontier = new MerkleFrontier();
  previousRoot: Uint8Array | undefined;

  constructor(
    readonly stopAt: number,
    readonly previousSize?: number | undefined,
  ) {
    if (previousSize === 0) this.previousRoot = this.frontier.root();
  }

  /** Adds the next entry hash; returns false once `stopAt` hashes were taken (the rest are ignored). */
  push(leaf: Uint8Array): boolean {
    if (this.frontier.size >= this.stopAt) return false;
    this.frontier.append(leaf);
    if (this.frontier.size === this.previousSize) this.previousRoot = this.frontier.root();
    return this.frontier.size < this.stopAt;
  }
}

function edge(f: MerkleFrontier | undefined): string[] | undefined {
  return f ? f.edge().map(toBase64) : undefined;
}

/**
 * Checks a new checkpoint against the remembered one.
 *
 * @example
 * ```ts
 * const r = checkCheckpointUpdate({ note, policy, previous, consistencyProof });
 * if (!r.ok) alert(`audit log ${r.reason}`); else save(r.record);
 * ```
 * @throws never for bad input; every failure is a result.
 */
export function checkCheckpointUpdate(input: MonitorInput): MonitorResult {
  let verified: VerifiedCheckpoint;
  try {
    verified = verifyCosignedCheckpoint(input.note, input.policy);
  } catch {
    return { ok: false, reason: "bad-checkpoint" };
  }
  const cp = verified.checkpoint;
  const now = input.now ?? Math.floor(Date.now() / 1000);
  if (
    input.maxAgeSeconds !== undefined &&
    (cp.timestamp === undefined || now - cp.timestamp > input.maxAgeSeconds)
  ) {
    return { ok: false, reason: "stale", size: cp.size };
  }
  let frontier: MerkleFrontier | undefined;
  let prefixRoot: Uint8Array | undefined;
  const prev = input.previous;
  let acc = input.leaves;
  if (!acc && input.allLeafHashes) {
    acc = new LeafAccumulator(cp.size, prev?.size);
    for (const leaf of input.allLeafHashes) if (!acc.push(leaf)) break;
  }
  if (acc) {
    /* Precondition: leaves accumulated for another checkpoint size or previous size are not used. */
    if (acc.stopAt !== cp.size || acc.previousSize !== prev?.size)
      return { ok: false, reason: "bad-checkpoint", size: cp.size };
    // Fewer entries than the log signed: the copy at hand was cut short.
    if (acc.frontier.size !== cp.size) return { ok: false, reason: "truncated", size: cp.size };
    frontier = acc.frontier;
    prefixRoot = acc.previousRoot;
    if (!bytesEqual(frontier.root(), cp.rootHash))
      return { ok: false, reason: "rewritten", size: cp.size };
  }
  const record = (f: MerkleFrontier | undefined, keep?: readonly string[]): MonitorRecord => ({
    origin: cp.origin,
    size: cp.size,
    rootHash: toBase64(cp.rootHash),
    timestamp: cp.timestamp,
    note: input.note,
    frontier: edge(f) ?? keep,
  });
  if (!prev)
    return { ok: true, status: "first-run", checkpoint: verified, record: record(frontier) };
  const prevRoot = fromBase64(prev.rootHash);
  if (cp.origin !== prev.origin) return { ok: false, reason: "origin-mismatch" };
  const sizes = { previousSize: prev.size, size: cp.size };
  if (prevRoot?.length !== 32) return { ok: false, reason: "bad-checkpoint", ...sizes };
  /* Precondition: a checkpoint smaller than the last verified one is reported as truncation. */
  if (cp.size < prev.size) return { ok: false, reason: "truncated", ...sizes };
  if (prev.timestamp !== undefined && cp.timestamp !== undefined && cp.timestamp < prev.timestamp) {
    return { ok: false, reason: "time-went-backwards", ...sizes };
  }
  if (cp.size === prev.size) {
    /* Precondition: a different root at the same size is reported as a rewrite. */
    if (!bytesEqual(cp.rootHash, prevRoot)) return { ok: false, reason: "rewritten", ...sizes };
    return {
      ok: true,
      status: "unchanged",
      checkpoint: verified,
      record: record(frontier, prev.frontier),
    };
  }
  if (input.consistencyProof) {
    if (!verifyConsistency(prev.size, cp.size, input.consistencyProof, prevRoot, cp.rootHash)) {
      return { ok: false, reason: "rewritten", ...sizes };
    }
    return { ok: true, status: "grew", checkpoint: verified, record: record(frontier) };
  }
  if (input.newLeafHashes && prev.frontier) {
    const hashes = prev.frontier.map((h) => fromBase64(h));
    if (hashes.some((h) => h?.length !== 32))
      return { ok: false, reason: "bad-checkpoint", ...sizes };
    let f: MerkleFrontier;
    try {
      f = new MerkleFrontier(prev.size, hashes as Uint8Array[]);
    } catch {
      return { ok: false, reason: "bad-checkpoint", ...sizes };
    }
    if (!bytesEqual(f.root(), prevRoot)) return { ok: false, reason: "bad-checkpoint", ...sizes };
    if (input.newLeafHashes.length !== cp.size - prev.size)
      return { ok: false, reason: "rewritten", ...sizes };
    for (const leaf of input.newLeafHashes) f.append(leaf);
    if (!bytesEqual(f.root(), cp.rootHash)) return { ok: false, reason: "rewritten", ...sizes };
    return { ok: true, status: "grew", checkpoint: verified, record: record(frontier ?? f) };
  }
  if (frontier) {
    // The leaves matched the new root; the remembered root must be the root of their prefix.
    if (!prefixRoot || !bytesEqual(prefixRoot, prevRoot))
      return { ok: false, reason: "rewritten", ...sizes };
    return { ok: true, status: "grew", checkpoint: verified, record: record(frontier) };
  }
  /* Precondition: growth without a consistency proof or the entries in between is not accepted. */
  return { ok: false, reason: "proof-missing", ...sizes };
}
