/**
 * Verifying a heads receipt: a `c2sp.org/tlog-proof@v1` receipt whose `extra` is the heads-log
 * leaf for the user's chain checkpoint. The heads checkpoint must pass a k-of-n witness policy, the
 * leaf must be included under it, and the leaf must name the user's chain (by its key) at the
 * checkpoint's size, root and time.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";
import { fromBase64 } from "../../primitives/portable.js";
import { verifyReceipt } from "../receipt.js";
import type { CheckpointPolicy, VerifiedCheckpoint } from "../witness.js";
import { decodeHeadLeaf, type HeadLeaf, headLeafMatches } from "./leaf.js";

/** A heads receipt that verified. */
export interface VerifiedHeadsReceipt {
  /** Index of the chain's leaf in the heads log. */
  readonly headsIndex: number;
  readonly leaf: HeadLeaf;
  /** The heads-log checkpoint that passed the policy. */
  readonly heads: VerifiedCheckpoint;
}

/**
 * Decodes a chain key as delivered to users (base64 of 32 bytes).
 *
 * @example
 * ```ts
 * const chainKey = parseChainKey("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=");
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when not base64 of 32 bytes.
 */
export function parseChainKey(text: string): Uint8Array {
  const key = fromBase64(text.trim());
  if (key?.length !== 32)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "chain key must be base64 of 32 bytes");
  return key;
}

/**
 * Verifies a heads receipt for a chain checkpoint the caller has already verified (its own
 * signature and consistency with the user's state).
 *
 * @example
 * ```ts
 * const v = verifyHeadsReceipt(text, {
 *   chainKey, chain: { size: cp.size, rootHash: cp.rootHash, time: cp.timestamp },
 *   policy: { logKeys: [headsKey], witnesses, quorum: 2, origin: "audit.example.com/heads" },
 * });
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` when the heads checkpoint fails the policy;
 * `ERR_AUDIT_PROOF_INVALID` when the proof fails or the leaf does not name this chain checkpoint.
 */
export function verifyHeadsReceipt(
  text: string,
  options: {
    readonly chainKey: Uint8Array;
    readonly chain: {
      readonly size: number;
      readonly rootHash: Uint8Array;
      readonly time?: number | undefined;
    };
    readonly policy: CheckpointPolicy;
  },
): VerifiedHeadsReceipt {
  const r = verifyReceipt(text, options.policy);
  const fail = () =>
    new KeywardenError("ERR_AUDIT_PROOF_INVALID", "heads receipt verification failed");
  if (r.body === undefined) throw fail();
  const leaf = decodeHeadLeaf(r.body);
  /* Precondition: a heads leaf that does not name this chain at this size, root and time is rejected. */
  if (
    !headLeafMatches(
      leaf,
      options.chainKey,
      options.chain.size,
      options.chain.rootHash,
      options.chain.time,
    )
  ) {
    throw fail();
  }
  return { headsIndex: r.index, leaf, heads: r.checkpoint };
}
