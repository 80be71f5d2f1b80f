/**
 * Checks a heads receipt (docs/audit-format.md §18) against the user's history: the receipt proves
 * that the operator's public log of every account's checkpoints (the heads log), signed by its
 * heads key and cosigned by k of the n witnesses the user listed, records the user's chain at some
 * size with some root. Validity is decided by the library's `checkHeadsReceipt` /
 * `verifyHeadsReceipt`; this file only picks what to compare the record with — the signed chain
 * checkpoint the user gave, or else the export's own entries — and names the outcome.
 */

import { bytesEqual, toHex } from "../../../src/audit/primitives/portable.js";
import {
  type CheckpointPolicy,
  type CosignatureVerifier,
  chainTag,
  checkHeadsReceipt,
  cosignatureVerifier,
  decodeHeadLeaf,
  type HeadsReceiptFailure,
  merkleRoot,
  type NoteVerifier,
  parseChainKey,
  parseReceipt,
  parseVerifierKey,
  verifyCosignedCheckpoint,
} from "../../../src/audit/transparency/portable.js";
import { type SignatureFinding, signaturesOf } from "./checkpoints.js";

/** What the user gave for the heads check. */
export interface HeadsInput {
  /** The heads receipt text. */
  readonly receipt?: string | undefined;
  /** The heads log's verifier key(s). */
  readonly headsKeys: readonly string[];
  /** The heads log's witness keys. */
  readonly witnessKeys: readonly string[];
  /** Witnesses that must have cosigned; default: all listed. */
  readonly quorum?: number | undefined;
  /** The user's chain key (base64 of 32 bytes), delivered with their first checkpoint. */
  readonly chainKey?: string | undefined;
  /** Pins the heads log's origin (the page leaves it open; the vectors may pin it). */
  readonly origin?: string | undefined;
}

/**
 * `matches`: the heads log records the history compared with (the checkpoint, or all of the
 * export's entries). `covers-prefix`: it records the export's first `chainSize` entries.
 * `signature-only`: the receipt verified up to the record, but the export is broken and no
 * checkpoint verified, so there was nothing to compare it with. Otherwise a library failure, or
 * `no-key` / `bad-key` for the keys the user entered.
 */
export type HeadsStatus =
  | "matches"
  | "covers-prefix"
  | "signature-only"
  | "no-key"
  | "bad-key"
  | HeadsReceiptFailure;

/** The finding for the heads receipt. Plain data. */
export interface HeadsFinding {
  readonly status: HeadsStatus;
  /** What the heads record was compared with. */
  readonly against?: "checkpoint" | "export";
  /** The chain size the heads record is for (when it was compared). */
  readonly chainSize?: number;
  readonly headsOrigin?: string;
  readonly headsSize?: number;
  readonly headsIndex?: number;
  /** Witnesses the user listed that validly cosigned the heads checkpoint. */
  readonly witnessesValid?: number;
  readonly witnessesListed: number;
  readonly quorum: number;
  readonly signatures: readonly SignatureFinding[];
  /**
   * When the record verified and agrees with the user's history (`matches`, `covers-prefix`):
   * the chain's identity in the heads log (hex of its size-0 chain tag, not the chain key) and
   * the recorded chain root (hex), for the page's memory (memory.ts).
   */
  readonly chainId?: string;
  readonly chainRoot?: string;
}

/** Most chain sizes tried when looking for the size the heads record names (HMACs, cheap). */
const MAX_SIZE_SCAN = 1_000_000;

function policyOf(
  input: HeadsInput,
):
  | { policy: CheckpointPolicy; chainKey: Uint8Array; listed: number; quorum: number }
  | "no-key"
  | "bad-key" {
  const keys = input.headsKeys.map((k) => k.trim()).filter((k) => k !== "");
  const chainKeyText = input.chainKey?.trim() ?? "";
  if (keys.length === 0 || chainKeyText === "") return "no-key";
  try {
    const logKeys: NoteVerifier[] = keys.map((k) => parseVerifierKey(k));
    const witnesses: CosignatureVerifier[] = input.witnessKeys
      .map((k) => k.trim())
      .filter((k) => k !== "")
      .map((k) => cosignatureVerifier(k));
    const quorum = Math.max(0, Math.min(input.quorum ?? witnesses.length, witnesses.length));
    return {
      policy: {
        logKeys,
        witnesses,
        quorum,
        ...(input.origin === undefined ? {} : { origin: input.origin }),
      },
      chainKey: parseChainKey(chainKeyText),
      listed: witnesses.length,
      quorum,
    };
  } catch {
    return "bad-key";
  }
}

/** The chain size whose tag the receipt's leaf carries, searched from `max` down; undefined if none. */
function sizeNamed(receipt: string, chainKey: Uint8Array, max: number): number | undefined {
  let tag: Uint8Array;
  try {
    const extra = parseReceipt(receipt).extra;
    tag = decodeHeadLeaf(extra ?? "").tag;
  } catch {
    return undefined;
  }
  for (let s = max; s >= 0 && max - s < MAX_SIZE_SCAN; s--)
    if (bytesEqual(chainTag(chainKey, s), tag)) return s;
  return undefined;
}

type Policy = Exclude<ReturnType<typeof policyOf>, string>;
type Chain = { size: number; rootHash: Uint8Array; time?: number | undefined };

function noteOf(receipt: string): string {
  const split = receipt.indexOf("\n\n");
  return split >= 0 ? receipt.slice(split + 2) : "";
}

/** The finding for the receipt compared with one chain state (the library decides). */
function findingFor(
  receipt: string,
  p: Policy,
  chain: Chain,
  against: HeadsFinding["against"],
): HeadsFinding {
  const r = checkHeadsReceipt(receipt, { chainKey: p.chainKey, chain, policy: p.policy });
  const heads = r.ok ? r.receipt.heads : r.heads;
  const facts = {
    witnessesListed: p.listed,
    quorum: p.quorum,
    signatures: signaturesOf(noteOf(receipt), p.policy),
    ...(heads ? factsOf(heads) : {}),
    ...(against === undefined ? {} : { against }),
    chainSize: chain.size,
  };
  if (!r.ok) return { ...facts, status: r.reason };
  return {
    ...facts,
    status: "matches",
    headsIndex: r.receipt.headsIndex,
    chainId: toHex(chainTag(p.chainKey, 0)),
    chainRoot: toHex(chain.rootHash),
  };
}

/**
 * Checks the heads receipt against a given chain state (size, root, optional time): the page's
 * check without an export, as the heads conformance vectors run it.
 */
export function checkHeadsAgainst(input: HeadsInput, chain: Chain): HeadsFinding | undefined {
  const receipt = input.receipt?.trim() ? normalize(input.receipt) : undefined;
  if (receipt === undefined) return undefined;
  const p = policyOf(input);
  if (typeof p === "string") return keyFinding(receipt, p);
  return findingFor(receipt, p, chain, undefined);
}

function keyFinding(receipt: string, p: "no-key" | "bad-key"): HeadsFinding {
  return {
    status: p,
    witnessesListed: 0,
    quorum: 0,
    signatures: p === "no-key" ? signaturesOf(noteOf(receipt), undefined) : [],
  };
}

/**
 * Checks the heads receipt. `checkpoint` is the user's current chain checkpoint note when it
 * verified with their key (`logKeys`); `leaves` the export's entry hashes when the export
 * verified.
 */
export function checkHeads(
  input: HeadsInput,
  checkpoint: { note: string; logKeys: readonly NoteVerifier[] } | undefined,
  leaves: readonly Uint8Array[] | undefined,
): HeadsFinding | undefined {
  const receipt = input.receipt?.trim() ? normalize(input.receipt) : undefined;
  if (receipt === undefined) return undefined;
  const p = policyOf(input);
  if (typeof p === "string") return keyFinding(receipt, p);

  // 1. Against the signed chain checkpoint, when the user gave one that verified.
  let finding: HeadsFinding | undefined;
  if (checkpoint) {
    try {
      const cp = verifyCosignedCheckpoint(checkpoint.note, {
        logKeys: checkpoint.logKeys,
        quorum: 0,
      }).checkpoint;
      finding = findingFor(
        receipt,
        p,
        { size: cp.size, rootHash: cp.rootHash, time: cp.timestamp },
        "checkpoint",
      );
    } catch {
      finding = undefined;
    }
  }
  // 2. Against the export's own entries (also when the record is for another checkpoint size).
  if (leaves && (finding === undefined || finding.status === "not-this-chain")) {
    const size = sizeNamed(receipt, p.chainKey, leaves.length) ?? leaves.length;
    finding = findingFor(
      receipt,
      p,
      { size, rootHash: merkleRoot(leaves.slice(0, size)) },
      "export",
    );
    if (finding.status === "matches" && size !== leaves.length)
      finding = { ...finding, status: "covers-prefix" };
  }
  if (finding) return finding;
  // 3. Nothing to compare with: check everything up to the record itself.
  const blind = findingFor(receipt, p, { size: 0, rootHash: new Uint8Array(32) }, undefined);
  const { chainSize: _unused, chainId: _id, chainRoot: _root, ...rest } = blind;
  return ["matches", "not-this-chain", "fork", "time-mismatch"].includes(blind.status)
    ? { ...rest, status: "signature-only" }
    : rest;
}

function factsOf(heads: {
  checkpoint: { origin: string; size: number };
  cosignatures: readonly unknown[];
}) {
  return {
    headsOrigin: heads.checkpoint.origin,
    headsSize: heads.checkpoint.size,
    witnessesValid: heads.cosignatures.length,
  };
}

/** Pasted text often loses its final newline or gains CRLF line ends; signed text never has CR. */
function normalize(text: string): string {
  return `${text.replace(/\r\n/g, "\n").trim()}\n`;
}

/** True when `text` is a receipt whose proven entry is a heads-log leaf. */
export function isHeadsReceipt(text: string): boolean {
  try {
    const extra = parseReceipt(normalize(text)).extra;
    return extra !== undefined && new TextDecoder().decode(extra).startsWith("keywarden-head/v1\n");
  } catch {
    return false;
  }
}
