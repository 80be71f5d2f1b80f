/**
 * Checking a heads receipt with the answer as data: which step failed, in a closed set of reasons a
 * page or a CLI can put into words. The verdict `ok: true` is always the one of
 * {@link verifyHeadsReceipt}; the steps before it only name the first failure.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { bytesEqual } from "../../primitives/portable.js";
import { parseReceipt, verifyReceipt } from "../receipt.js";
import {
  type CheckpointPolicy,
  type VerifiedCheckpoint,
  verifyCosignedCheckpoint,
} from "../witness.js";
import { chainTag, decodeHeadLeaf, type HeadLeaf } from "./leaf.js";
import { type VerifiedHeadsReceipt, verifyHeadsReceipt } from "./verify.js";

/**
 * Closed set of reasons a heads receipt is refused:
 * - `malformed`: not a receipt, or its `extra` is not a heads leaf;
 * - `heads-signature`: the heads checkpoint is not signed by a trusted heads key (or another
 *   signature on it by a trusted key fails, or its origin is not the pinned one);
 * - `witness-quorum`: signed by the heads log, but fewer than `quorum` trusted witnesses cosigned;
 * - `inclusion`: the inclusion proof does not lead to the heads checkpoint's root;
 * - `not-this-chain`: the proven leaf is not for this chain key at this chain size;
 * - `fork`: the leaf is this chain at this size, with a different root (equivocation);
 * - `time-mismatch`: this chain, size and root, but another checkpoint time.
 */
export type HeadsReceiptFailure =
  | "malformed"
  | "heads-signature"
  | "witness-quorum"
  | "inclusion"
  | "not-this-chain"
  | "fork"
  | "time-mismatch";

/** Result of {@link checkHeadsReceipt}. */
export type HeadsReceiptCheck =
  | { readonly ok: true; readonly receipt: VerifiedHeadsReceipt }
  | {
      readonly ok: false;
      readonly reason: HeadsReceiptFailure;
      /** The heads checkpoint, when its heads-log signature verified (quorum not applied). */
      readonly heads?: VerifiedCheckpoint;
      /** The proven leaf, for `not-this-chain`, `fork` and `time-mismatch`. */
      readonly leaf?: HeadLeaf;
    };

/** Options of {@link checkHeadsReceipt} (as for {@link verifyHeadsReceipt}). */
export interface HeadsReceiptCheckOptions {
  readonly chainKey: Uint8Array;
  readonly chain: {
    readonly size: number;
    readonly rootHash: Uint8Array;
    readonly time?: number | undefined;
  };
  readonly policy: CheckpointPolicy;
}

/**
 * Checks a heads receipt and names the first failing step.
 *
 * @example
 * ```ts
 * const r = checkHeadsReceipt(text, { chainKey, chain: { size, rootHash, time }, policy });
 * if (!r.ok && r.reason === "fork") alarm("the heads log shows another root for my chain");
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a chain key that is not 32 bytes or a bad chain
 * size (an unusable policy is reported as `heads-signature`).
 */
export function checkHeadsReceipt(
  text: string,
  options: HeadsReceiptCheckOptions,
): HeadsReceiptCheck {
  let note: string;
  try {
    const parsed = parseReceipt(text);
    if (parsed.extra === undefined) return { ok: false, reason: "malformed" };
    note = parsed.checkpointNote;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  let heads: VerifiedCheckpoint;
  try {
    heads = verifyCosignedCheckpoint(note, { ...options.policy, quorum: 0 });
  } catch {
    return { ok: false, reason: "heads-signature" };
  }
  try {
    verifyCosignedCheckpoint(note, options.policy);
  } catch {
    return { ok: false, reason: "witness-quorum", heads };
  }
  let body: string | undefined;
  try {
    body = verifyReceipt(text, options.policy).body;
  } catch {
    return { ok: false, reason: "inclusion", heads };
  }
  let leaf: HeadLeaf;
  try {
    leaf = decodeHeadLeaf(body ?? "");
  } catch {
    return { ok: false, reason: "malformed", heads };
  }
  const { chain } = options;
  if (!bytesEqual(leaf.tag, chainTag(options.chainKey, chain.size)))
    return { ok: false, reason: "not-this-chain", heads, leaf };
  if (!bytesEqual(leaf.rootHash, chain.rootHash)) return { ok: false, reason: "fork", heads, leaf };
  if (chain.time !== undefined && leaf.time !== chain.time)
    return { ok: false, reason: "time-mismatch", heads, leaf };
  return { ok: true, receipt: verifyHeadsReceipt(text, options) };
}
