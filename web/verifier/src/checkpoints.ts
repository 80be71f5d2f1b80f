/**
 * Checks the signed evidence a user holds (a checkpoint, an earlier checkpoint, a receipt) against
 * their export, with the library's transparency code: `verifyCosignedCheckpoint`,
 * `checkCheckpointUpdate` (truncation and rewrite detection) and `verifyReceipt`. This file only
 * sequences those calls and names their outcomes for the page.
 */

import { bytesEqual, toBase64 } from "../../../src/audit/primitives/portable.js";
import {
  type CheckpointPolicy,
  type CosignatureVerifier,
  checkCheckpointUpdate,
  cosignatureVerifier,
  type MonitorFailure,
  type MonitorRecord,
  type NoteVerifier,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  RECEIPT_HEADER,
  verifyCosignedCheckpoint,
  verifyReceipt,
} from "../../../src/audit/transparency/portable.js";

/** Outcome of one piece of evidence compared with the export. */
export type EvidenceStatus =
  /** Signed by the log and the export holds exactly the signed tree. */
  | "matches"
  /** Signed by the log and the export's first `size` entries are the signed tree (the export is newer). */
  | "covers-prefix"
  /** Signature checked, but the export could not be compared (the file itself is broken). */
  | "signature-only"
  /** The log signed more entries than the export holds. */
  | "truncated"
  /** The export's entries are not the ones the log signed. */
  | "rewritten"
  /** Not signed by the given key, witness quorum not met, or malformed. */
  | "bad-signature"
  /** Signed for another chain (another user's log). */
  | "wrong-chain"
  /** No verifier key was given, so nothing could be checked. */
  | "no-key"
  /** A verifier or witness key the user entered is not a valid key: nothing was checked. */
  | "bad-key";

/** A signature line found on a note, and whether it verified. */
export interface SignatureFinding {
  readonly name: string;
  /** The signature's key ID, 8 hex digits (which key of that name signed). */
  readonly keyId: string;
  readonly role: "log" | "witness" | "unknown";
  /** True when checked with a key the user gave; `false` = checked and failed; `null` = no key. */
  readonly valid: boolean | null;
  /** Cosignature time (POSIX seconds) for witnesses. */
  readonly timestamp?: number;
}

/** The finding for one piece of evidence. */
export interface EvidenceFinding {
  readonly kind: "checkpoint" | "earlier-checkpoint" | "receipt";
  readonly status: EvidenceStatus;
  readonly origin?: string;
  readonly size?: number;
  /** The log's claimed signing time (POSIX seconds). */
  readonly timestamp?: number;
  readonly signatures: readonly SignatureFinding[];
  /** Receipts: the entry the receipt proves. */
  readonly receiptSeq?: number;
}

/** How the log moved between the earlier evidence and the current checkpoint. */
export interface LogHistoryFinding {
  readonly status: "unchanged" | "grew" | MonitorFailure;
  readonly previousSize?: number;
  readonly size?: number;
}

/** Keys and quorum the user supplied. */
export interface TrustInput {
  readonly verifierKeys: readonly string[];
  readonly witnessKeys: readonly string[];
  /** Witnesses that must cosign; default: all given witnesses. */
  readonly quorum?: number | undefined;
}

/** The policy built from the user's keys, or the reason it could not be built. */
export type CheckpointPolicyOrProblem = CheckpointPolicy | "no-key" | "bad-key";

/** The policy built from the user's keys, or the reason it could not be built. */
export function buildPolicy(trust: TrustInput): CheckpointPolicyOrProblem {
  const keys = trust.verifierKeys.map((k) => k.trim()).filter((k) => k !== "");
  if (keys.length === 0) return "no-key";
  try {
    const logKeys: NoteVerifier[] = keys.map((k) => parseVerifierKey(k));
    const witnesses: CosignatureVerifier[] = trust.witnessKeys
      .map((k) => k.trim())
      .filter((k) => k !== "")
      .map((k) => cosignatureVerifier(k));
    const quorum = Math.min(trust.quorum ?? witnesses.length, witnesses.length);
    return { logKeys, witnesses, quorum };
  } catch {
    return "bad-key";
  }
}

/** Every signature line on a note, checked with the keys the user gave where possible. */
export function signaturesOf(
  note: string,
  policy: CheckpointPolicy | undefined,
): SignatureFinding[] {
  let parsed: ReturnType<typeof parseNote>;
  try {
    parsed = parseNote(note);
  } catch {
    return [];
  }
  return parsed.signatures.map((sig): SignatureFinding => {
    const keyId = (sig.keyId >>> 0).toString(16).padStart(8, "0");
    const log = policy?.logKeys.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (log)
      return { name: sig.name, keyId, role: "log", valid: log.verify(parsed.text, sig.signature) };
    const w = policy?.witnesses?.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (w) {
      const ts = w.timestampOf(parsed.text, sig.signature);
      return ts === undefined
        ? { name: sig.name, keyId, role: "witness", valid: false }
        : { name: sig.name, keyId, role: "witness", valid: true, timestamp: ts };
    }
    return { name: sig.name, keyId, role: "unknown", valid: null };
  });
}

function originOf(note: string): string | undefined {
  try {
    return parseCheckpoint(parseNote(note).text).origin;
  } catch {
    return undefined;
  }
}

/** True when `origin` is the log of `chainId` (`<logName>/keywarden/<chainId>`). */
export function originIsForChain(origin: string, chainId: string): boolean {
  return origin.endsWith(`/keywarden/${chainId}`);
}

/**
 * Compares one signed checkpoint with the export's verified entry hashes (`leaves`, from seq 0;
 * `undefined` when the export is broken and cannot be compared).
 */
export function checkCheckpointNote(
  kind: EvidenceFinding["kind"],
  note: string,
  policyOrError: CheckpointPolicy | "no-key" | "bad-key",
  chainId: string | undefined,
  leaves: readonly Uint8Array[] | undefined,
): EvidenceFinding {
  const policy = typeof policyOrError === "string" ? undefined : policyOrError;
  const signatures = signaturesOf(note, policy);
  const origin = originOf(note);
  const base = { kind, signatures, ...(origin === undefined ? {} : { origin }) };
  if (policyOrError === "no-key" || policyOrError === "bad-key")
    return { ...base, status: policyOrError };
  if (!policy || origin === undefined) return { ...base, status: "bad-signature" };
  const r = checkCheckpointUpdate({ note, policy: { ...policy, origin }, allLeafHashes: leaves });
  if (!r.ok) {
    if (r.reason === "truncated" || r.reason === "rewritten")
      return { ...base, status: r.reason, ...(r.size === undefined ? {} : { size: r.size }) };
    return { ...base, status: "bad-signature" };
  }
  const cp = r.checkpoint.checkpoint;
  const facts = {
    ...base,
    size: cp.size,
    ...(cp.timestamp === undefined ? {} : { timestamp: cp.timestamp }),
  };
  if (chainId !== undefined && !originIsForChain(cp.origin, chainId))
    return { ...facts, status: "wrong-chain" };
  if (!leaves) return { ...facts, status: "signature-only" };
  return { ...facts, status: cp.size === leaves.length ? "matches" : "covers-prefix" };
}

/**
 * Checks a receipt (c2sp.org/tlog-proof@v1): its checkpoint and inclusion proof with the library's
 * `verifyReceipt`, then that the proven entry is the export's entry at that seq.
 */
export function checkReceipt(
  text: string,
  policyOrError: CheckpointPolicy | "no-key" | "bad-key",
  chainId: string | undefined,
  leaves: readonly Uint8Array[] | undefined,
): { finding: EvidenceFinding; checkpointNote?: string } {
  const split = text.indexOf("\n\n");
  const note = split >= 0 ? text.slice(split + 2) : "";
  const policy = typeof policyOrError === "string" ? undefined : policyOrError;
  const signatures = signaturesOf(note, policy);
  const origin = originOf(note);
  const base = {
    kind: "receipt" as const,
    signatures,
    ...(origin === undefined ? {} : { origin }),
  };
  if (policyOrError === "no-key" || policyOrError === "bad-key")
    return { finding: { ...base, status: policyOrError } };
  if (!policy) return { finding: { ...base, status: "bad-signature" } };
  let r: ReturnType<typeof verifyReceipt>;
  try {
    r = verifyReceipt(text, policy);
  } catch {
    return { finding: { ...base, status: "bad-signature" } };
  }
  const cp = r.checkpoint.checkpoint;
  const facts = {
    ...base,
    size: cp.size,
    receiptSeq: r.index,
    ...(cp.timestamp === undefined ? {} : { timestamp: cp.timestamp }),
  };
  if (chainId !== undefined && !originIsForChain(cp.origin, chainId))
    return { finding: { ...facts, status: "wrong-chain" } };
  if (!leaves) return { finding: { ...facts, status: "signature-only" }, checkpointNote: note };
  const leaf = leaves[r.index];
  let status: EvidenceStatus;
  if (leaf === undefined) status = "truncated";
  else if (!bytesEqual(leaf, r.leafHash)) status = "rewritten";
  else status = "matches";
  return { finding: { ...facts, status }, checkpointNote: note };
}

/** True when `text` looks like a receipt rather than a checkpoint. */
export function isReceipt(text: string): boolean {
  return text.startsWith(`${RECEIPT_HEADER}\n`);
}

/**
 * How the log moved from the earlier signed checkpoint to the current one: the library's monitor
 * with the earlier checkpoint as the remembered state and the export's entries as the proof.
 */
export function compareLogHistory(
  earlierNote: string,
  currentNote: string,
  policyOrError: CheckpointPolicy | "no-key" | "bad-key",
  leaves: readonly Uint8Array[] | undefined,
): LogHistoryFinding | undefined {
  if (typeof policyOrError === "string") return undefined;
  let previous: MonitorRecord;
  try {
    const v = verifyCosignedCheckpoint(earlierNote, { ...policyOrError, quorum: 0 });
    previous = {
      origin: v.checkpoint.origin,
      size: v.checkpoint.size,
      rootHash: toBase64(v.checkpoint.rootHash),
      timestamp: v.checkpoint.timestamp,
      note: earlierNote,
    };
  } catch {
    return undefined;
  }
  const r = checkCheckpointUpdate({
    note: currentNote,
    policy: { ...policyOrError, origin: previous.origin },
    previous,
    allLeafHashes: leaves,
  });
  if (r.ok) {
    if (r.status === "first-run") return undefined;
    return { status: r.status, previousSize: previous.size, size: r.checkpoint.checkpoint.size };
  }
  return {
    status: r.reason,
    ...(r.previousSize === undefined ? {} : { previousSize: r.previousSize }),
    ...(r.size === undefined ? {} : { size: r.size }),
  };
}
