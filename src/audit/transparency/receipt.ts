/**
 * Per-entry receipts in the C2SP tlog-proof format (`c2sp.org/tlog-proof@v1`): an offline-verifiable
 * bundle of the entry's index, its RFC 9162 inclusion proof, and the signed (optionally cosigned)
 * checkpoint it is proven against. keywarden puts the entry's canonical JSON body in the `extra`
 * line, so the receipt alone shows what was logged; the body is not trusted because it is in
 * `extra`, but because its hash `SHA-256(0x00 || body)` is proven included under a signed root.
 *
 * ```
 * c2sp.org/tlog-proof@v1
 * extra <base64 of the entry's canonical JSON body>
 * index <seq>
 * <base64 proof hash, leaf's sibling first>
 * …
 *
 * <the signed checkpoint note, verbatim>
 * ```
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import {
  assertHash,
  assertIndex,
  bytesEqual,
  concat,
  decodeUtf8,
  fromBase64,
  sha256,
  toBase64,
  utf8,
} from "../primitives/portable.js";
import { verifyInclusion } from "./merkle.js";
import {
  type CheckpointPolicy,
  type VerifiedCheckpoint,
  verifyCosignedCheckpoint,
} from "./witness.js";

/** First line of every receipt. */
export const RECEIPT_HEADER = "c2sp.org/tlog-proof@v1";

/** A parsed receipt (not yet verified). */
export interface Receipt {
  /** Opaque extra data; keywarden writes the entry body's UTF-8 bytes. */
  readonly extra: Uint8Array | undefined;
  readonly index: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint, verbatim. */
  readonly checkpointNote: string;
}

const MALFORMED = "receipt is malformed";

/**
 * Serializes a receipt.
 *
 * @example
 * ```ts
 * const text = formatReceipt({ extra: utf8(body), index: 7, proof, checkpointNote: note });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on a bad index, proof hash or note.
 */
export function formatReceipt(r: Receipt): string {
  assertIndex(r.index, "receipt index");
  let out = `${RECEIPT_HEADER}\n`;
  if (r.extra !== undefined && r.extra.length > 0) out += `extra ${toBase64(r.extra)}\n`;
  out += `index ${r.index}\n`;
  for (const h of r.proof) out += `${toBase64(assertHash(h, "proof hash"))}\n`;
  if (typeof r.checkpointNote !== "string" || !r.checkpointNote.endsWith("\n")) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "checkpoint note must end in a newline");
  }
  return `${out}\n${r.checkpointNote}`;
}

/**
 * Parses a receipt's structure (no signature or proof checks).
 *
 * @example
 * ```ts
 * const { index, proof } = parseReceipt(text);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_PROOF_INVALID` (fixed message) when malformed.
 */
export function parseReceipt(text: string): Receipt {
  const bad = () => new KeywardenError("ERR_AUDIT_PROOF_INVALID", MALFORMED);
  if (typeof text !== "string" || text.length > 1 << 22) throw bad();
  const split = text.indexOf("\n\n");
  if (split < 0) throw bad();
  const head = text.slice(0, split).split("\n");
  const checkpointNote = text.slice(split + 2);
  let i = 0;
  if (head[i++] !== RECEIPT_HEADER) throw bad();
  let extra: Uint8Array | undefined;
  if (head[i]?.startsWith("extra ")) {
    extra = fromBase64((head[i++] as string).slice(6));
    if (!extra || extra.length === 0) throw bad();
  }
  const m = /^index (0|[1-9][0-9]{0,15})$/.exec(head[i++] ?? "");
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw bad();
  const proof: Uint8Array[] = [];
  for (; i < head.length; i++) {
    const h = fromBase64(head[i] as string);
    if (h?.length !== 32) throw bad();
    proof.push(h);
  }
  if (proof.length > 64 || checkpointNote.length === 0) throw bad();
  return { extra, index: Number(m[1]), proof, checkpointNote };
}

/**
 * The RFC 6962 leaf hash of an entry body, which is the audit entry hash: `SHA-256(0x00 || utf8(body))`.
 *
 * @example
 * ```ts
 * verifyReceipt(text, { ...policy, leafHash: leafHashOfBody(entryBodyFromMyExport) });
 * ```
 * @throws never.
 */
export function leafHashOfBody(body: string | Uint8Array): Uint8Array {
  return sha256(concat(Uint8Array.of(0), typeof body === "string" ? utf8(body) : body));
}

/** A receipt that verified: the checkpoint, the index, and the proven entry body if present. */
export interface VerifiedReceipt {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** The entry's canonical JSON body, when the receipt carried it (proven, not merely claimed). */
  readonly body: string | undefined;
  readonly checkpoint: VerifiedCheckpoint;
}

/**
 * Verifies a receipt offline: the checkpoint against the policy (log key, witnesses, quorum,
 * origin), then the inclusion proof of the leaf under its root. The leaf is `leafHash` when given
 * (e.g. the hash of an entry in the user's export), else the hash of the receipt's `extra` body.
 *
 * @example
 * ```ts
 * const r = verifyReceipt(text, { logKeys: [parseVerifierKey(vkey)], origin });
 * showEntry(r.body); // the logged entry, proven included
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_PROOF_INVALID` when malformed or the proof fails;
 * `ERR_AUDIT_CHECKPOINT_INVALID` when the checkpoint fails the policy.
 */
export function verifyReceipt(
  text: string,
  policy: CheckpointPolicy & { readonly leafHash?: Uint8Array },
): VerifiedReceipt {
  const r = parseReceipt(text);
  const checkpoint = verifyCosignedCheckpoint(r.checkpointNote, policy);
  const fromBody = r.extra ? leafHashOfBody(r.extra) : undefined;
  const leaf = policy.leafHash ?? fromBody;
  const fail = () =>
    new KeywardenError("ERR_AUDIT_PROOF_INVALID", "inclusion proof verification failed");
  /* Precondition: a receipt whose extra body does not hash to the given leaf is rejected. */
  if (!leaf || (policy.leafHash && fromBody && !bytesEqual(policy.leafHash, fromBody)))
    throw fail();
  const cp = checkpoint.checkpoint;
  if (!verifyInclusion(leaf, r.index, cp.size, r.proof, cp.rootHash)) throw fail();
  const body = r.extra ? decodeUtf8(r.extra) : undefined;
  if (r.extra && body === undefined) throw fail();
  return { index: r.index, leafHash: leaf, body, checkpoint };
}
