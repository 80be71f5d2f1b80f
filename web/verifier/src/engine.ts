/**
 * The verification the page runs (in a Web Worker, or on the page when workers are unavailable).
 * Everything that decides validity is the library's own code, bundled unchanged:
 * - `verifyExport` (src/audit/export/reader.ts → verify.ts, entry.ts, commitment.ts, jsonl.ts,
 *   csv.ts) with `sha256Portable` (@noble/hashes) checks every entry of the export;
 * - checkpoints.ts calls the transparency verifiers (note.ts, witness.ts, checkpoint.ts,
 *   merkle.ts, transparency-monitor.ts, receipt.ts; Ed25519 via @noble/curves).
 * A second pass with the library's `readExport` collects the rows shown in the history table and
 * the verified entry hashes the checkpoints are compared with.
 */

import type { VerifyResult } from "../../../src/audit/core/portable.js";
import {
  type ExportFormat,
  type ExportManifest,
  manifestSignatureProblem,
  manifestSignedText,
  readExport,
  type VerifyExportResult,
  verifyExport,
} from "../../../src/audit/export/index.js";
import { fromHex, sha256Portable } from "../../../src/audit/primitives/portable.js";
import {
  buildPolicy,
  type CheckpointPolicyOrProblem,
  checkCheckpointNote,
  checkReceipt,
  compareLogHistory,
  type EvidenceFinding,
  isReceipt,
  type LogHistoryFinding,
  type SignatureFinding,
  signaturesOf,
  type TrustInput,
} from "./checkpoints.js";
import { checkHeads, type HeadsFinding, type HeadsInput } from "./heads.js";
import { type HistoryRow, historyRow } from "./history.js";

/** What the user handed to the page. */
export interface VerifyRequest extends TrustInput {
  readonly exportName: string;
  readonly exportSize: number;
  /** Opens the export as a fresh stream of bytes (called once per pass). */
  readonly openExport: () => AsyncIterable<Uint8Array>;
  /** A signed checkpoint note (current). */
  readonly checkpoint?: string | undefined;
  /** An earlier checkpoint or a receipt the user kept. */
  readonly earlier?: string | undefined;
  /** A heads receipt with the heads log's keys and the user's chain key (format §18). */
  readonly heads?: HeadsInput | undefined;
}

/** Progress of a run: bytes of the export read in the current pass. */
export interface VerifyProgress {
  readonly phase: "verify" | "read";
  readonly bytes: number;
  readonly total: number;
}

/** The overall answer, in the order of severity. */
export type Verdict =
  | "broken"
  | "truncated"
  | "rewritten"
  | "forked"
  | "inconsistent-with-memory"
  | "bad-evidence"
  | "not-export"
  | "bad-key"
  | "not-checked"
  | "valid-unanchored"
  | "valid-prefix"
  | "valid";

/**
 * What the file is, read from its first bytes (never from its name): an export in one of the two
 * formats, an export preceded by a UTF-8 byte-order mark, or something else a user may pick by
 * mistake.
 */
export type FileKind =
  | ExportFormat
  | "bom"
  | "empty"
  | "not-text"
  | "checkpoint"
  | "receipt"
  | "unknown";

/** The export manifest's signature (format §6.1), checked with the verifier keys the user gave. */
export interface ManifestSignatureFinding {
  /**
   * `valid`: a given key verifies it. `invalid`: signed, but no given key verifies it (or it is
   * malformed). `no-key`: signed, and no key was given. `bad-key`: signed, and a key the user
   * entered is not a valid key (nothing was checked). `unsigned`: the platform did not sign
   * this export.
   */
  readonly status: "valid" | "invalid" | "no-key" | "bad-key" | "unsigned";
  /** The library's fixed reason for `invalid`. */
  readonly reason?: string;
  /**
   * Every signature line on the manifest (name and key id, and whether a key the user gave
   * verified it): for `valid`, the entry with `valid: true` is the key that was trusted.
   */
  readonly signatures: readonly SignatureFinding[];
}

/** Everything the page shows. Plain data (structured-cloneable). */
export interface VerifyReport {
  readonly verdict: Verdict;
  readonly format: ExportFormat;
  /** What the file's first bytes say it is. */
  readonly fileKind: FileKind;
  /** `bad-key`: a verifier or witness key the user entered is not a valid key. */
  readonly keyProblem: "bad-key" | undefined;
  /** The library's result for the export itself (manifest omitted; see `manifest`). */
  readonly chain: VerifyResult;
  readonly manifest: { chainId: string; size: number; headHash: string | null } | undefined;
  /** Present when the export has a manifest. */
  readonly manifestSignature: ManifestSignatureFinding | undefined;
  readonly evidence: readonly EvidenceFinding[];
  readonly logHistory: LogHistoryFinding | undefined;
  /** The heads receipt's finding, when one was given. */
  readonly heads: HeadsFinding | undefined;
  readonly rows: readonly HistoryRow[];
  /** Rows not kept for display (very large exports); they were verified all the same. */
  readonly rowsOmitted: number;
  /**
   * The text fields whose pasted text had white space around it (or lacked its final line end):
   * it was trimmed to the note before checking. The page's only leniency, and always reported; a
   * CR is never removed (signed text has none, so a CR is a change to what was signed).
   */
  readonly trimmed: readonly ("checkpoint" | "earlier")[];
  readonly elapsedMs: number;
}

/** Most rows kept for the table. */
export const MAX_ROWS = 500_000;

const CSV_HEADER_START = "seq,ts,chain_id,";

/** True when `text` holds a control character no text file has (U+0000–U+0008, U+000E–U+001F). */
function hasBinaryControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x08 || (c >= 0x0e && c <= 0x1f)) return true;
  }
  return false;
}

/** What the file is, from its first bytes (see {@link FileKind}). */
export function detectFileKind(head: Uint8Array): FileKind {
  if (head.length === 0) return "empty";
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return "bom";
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      head.subarray(0, Math.min(head.length, 60)),
    );
  } catch {
    // A multi-byte character cut at the end of the sample is still text.
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(
        head.subarray(0, Math.min(head.length, 56)),
      );
    } catch {
      return "not-text";
    }
  }
  if (hasBinaryControl(text)) return "not-text";
  if (text.startsWith("{")) return "jsonl";
  if (text.startsWith(CSV_HEADER_START)) return "csv";
  if (text.startsWith("c2sp.org/tlog-proof@v1\n")) return "receipt";
  if (/^[\x21-\x2a\x2c-\x7e]{1,255}\n(?:0|[1-9][0-9]*)\n/.test(text)) return "checkpoint";
  return "unknown";
}

/**
 * The format to read the file in: from its content; the name only decides between the two when
 * the content names neither (the file is then reported as not an export anyway).
 */
export function detectFormat(name: string, kind: FileKind): ExportFormat {
  if (kind === "jsonl" || kind === "csv") return kind;
  return /\.csv$/i.test(name) ? "csv" : "jsonl";
}

async function* counting(
  source: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    onBytes(n);
    yield chunk;
  }
}

function verdictOf(
  chain: VerifyReport["chain"],
  evidence: readonly EvidenceFinding[],
  history: LogHistoryFinding | undefined,
  manifestSignature: ManifestSignatureFinding | undefined,
  heads: HeadsFinding | undefined,
): Verdict {
  const statuses = new Set<string>(evidence.map((e) => e.status));
  if (history) statuses.add(history.status);
  if (!chain.ok && chain.reason !== "truncated") return "broken";
  if (!chain.ok || statuses.has("truncated")) return "truncated";
  if (statuses.has("rewritten")) return "rewritten";
  if (heads?.status === "fork") return "forked";
  if (manifestSignature?.status === "invalid") return "bad-evidence";
  if (heads && !["matches", "covers-prefix", "signature-only", "no-key"].includes(heads.status))
    return "bad-evidence";
  for (const bad of [
    "bad-signature",
    "wrong-chain",
    "origin-mismatch",
    "time-went-backwards",
    "bad-checkpoint",
  ])
    if (statuses.has(bad)) return "bad-evidence";
  if (
    statuses.has("no-key") ||
    manifestSignature?.status === "no-key" ||
    heads?.status === "no-key"
  )
    return "not-checked";
  if (evidence.some((e) => e.status === "matches") || heads?.status === "matches") return "valid";
  return evidence.some((e) => e.status === "covers-prefix") || heads?.status === "covers-prefix"
    ? "valid-prefix"
    : "valid-unanchored";
}

/**
 * Verifies an export and the evidence beside it.
 *
 * @throws only when the export cannot be read at all (e.g. the file vanished); bad content is a
 * result.
 */
export async function runVerification(
  req: VerifyRequest,
  onProgress: (p: VerifyProgress) => void = () => {},
): Promise<VerifyReport> {
  const started = Date.now();
  let head = new Uint8Array(0);
  for await (const chunk of req.openExport()) {
    const joined = new Uint8Array(head.length + chunk.length);
    joined.set(head);
    joined.set(chunk, head.length);
    head = joined;
    if (head.length >= 64) break;
  }
  const fileKind = detectFileKind(head);
  const format = detectFormat(req.exportName, fileKind);
  const total = req.exportSize;

  // Pass 1: the library's verifier over every byte of the file.
  const { manifest, ...rest }: VerifyExportResult = await verifyExport(
    counting(req.openExport(), (bytes) => onProgress({ phase: "verify", bytes, total })),
    { format, sha256: sha256Portable },
  );
  const chain = rest as VerifyResult;

  // Pass 2: rows for people, and the entry hashes that verified (seq 0 … k-1, in order).
  const rows: HistoryRow[] = [];
  const leaves: Uint8Array[] = [];
  let rowsOmitted = 0;
  const verifiedBefore = (line: number, seq: number) =>
    chain.ok || (chain.line === undefined ? seq < chain.seq : line < chain.line);
  try {
    for await (const record of readExport(
      counting(req.openExport(), (bytes) => onProgress({ phase: "read", bytes, total })),
      { format },
    )) {
      if (record.kind !== "entry") continue;
      const { entry, line, payload, hash } = record.item;
      const verified = verifiedBefore(line, entry.seq);
      if (verified && entry.seq === leaves.length && hash !== undefined) {
        const leaf = fromHex(hash);
        if (leaf) leaves.push(leaf);
      }
      if (rows.length < MAX_ROWS) rows.push(historyRow(entry, payload ?? null, line, verified));
      else rowsOmitted++;
    }
  } catch {
    // A malformed record ends the table; pass 1 already reported it as the first problem.
  }

  // Compare the checkpoint(s) with the entries only when the whole file verified: a broken file
  // proves nothing about completeness either way.
  const comparable = chain.ok ? leaves : undefined;
  const chainId = manifest?.chainId;
  const policy = buildPolicy(req);
  const manifestSignature = manifestSignatureOf(manifest, policy);
  const evidence: EvidenceFinding[] = [];
  const trimmed: ("checkpoint" | "earlier")[] = [];
  const current = req.checkpoint?.trim() ? normalizeNote(req.checkpoint) : undefined;
  if (current !== undefined && current !== req.checkpoint) trimmed.push("checkpoint");
  if (current)
    evidence.push(checkCheckpointNote("checkpoint", current, policy, chainId, comparable));
  // The witness quorum is asked of the current checkpoint; evidence the user kept from earlier
  // needs the log's signature only (its cosignatures are still checked and listed).
  const keptPolicy = typeof policy === "string" ? policy : { ...policy, quorum: 0 };
  let earlierNote: string | undefined;
  const earlier = req.earlier?.trim() ? normalizeNote(req.earlier) : undefined;
  if (earlier !== undefined && earlier !== req.earlier) trimmed.push("earlier");
  if (earlier && isReceipt(earlier)) {
    const r = checkReceipt(earlier, keptPolicy, chainId, comparable);
    evidence.push(r.finding);
    earlierNote = r.checkpointNote;
  } else if (earlier) {
    evidence.push(
      checkCheckpointNote("earlier-checkpoint", earlier, keptPolicy, chainId, comparable),
    );
    earlierNote = earlier;
  }
  const logHistory =
    current && earlierNote
      ? compareLogHistory(earlierNote, current, policy, comparable)
      : undefined;

  // The heads receipt is compared with the current checkpoint when that verified with the
  // platform's key, else with the export's own entries.
  const checkpointVerified =
    current !== undefined &&
    typeof policy !== "string" &&
    ["matches", "covers-prefix", "signature-only"].includes(evidence[0]?.status ?? "");
  const heads = req.heads
    ? checkHeads(
        req.heads,
        checkpointVerified && current && typeof policy !== "string"
          ? { note: current, logKeys: policy.logKeys }
          : undefined,
        comparable,
      )
    : undefined;

  const keyProblem = policy === "bad-key" || heads?.status === "bad-key" ? "bad-key" : undefined;
  const notExport =
    !chain.ok &&
    manifest === undefined &&
    fileKind !== "jsonl" &&
    fileKind !== "csv" &&
    fileKind !== "bom";
  const verdict = verdictOf(chain, evidence, logHistory, manifestSignature, heads);
  return {
    verdict: notExport ? "not-export" : verdict === "broken" ? verdict : (keyProblem ?? verdict),
    format,
    fileKind,
    keyProblem,
    chain,
    manifest: manifest
      ? { chainId: manifest.chainId, size: manifest.size, headHash: manifest.headHash }
      : undefined,
    manifestSignature,
    evidence,
    logHistory,
    heads,
    rows,
    rowsOmitted,
    trimmed,
    elapsedMs: Date.now() - started,
  };
}

function manifestSignatureOf(
  manifest: ExportManifest | undefined,
  policy: CheckpointPolicyOrProblem,
): ManifestSignatureFinding | undefined {
  if (!manifest) return undefined;
  if (manifest.signature === undefined && manifest.origin === undefined)
    return { status: "unsigned", signatures: [] };
  // The manifest's signature lines read as the signed note they are (format §6.1).
  const signatures =
    typeof manifest.signature === "string"
      ? signaturesOf(
          `${manifestSignedText(manifest)}\n${manifest.signature}`,
          typeof policy === "string" ? undefined : policy,
        )
      : [];
  if (typeof policy === "string") return { status: policy, signatures };
  const problem = manifestSignatureProblem(manifest, { keys: policy.logKeys });
  return problem === undefined
    ? { status: "valid", signatures }
    : { status: "invalid", reason: problem, signatures };
}

/**
 * Pasted notes often lose their final newline or gain blank lines around them: the note is the
 * text between them, ending with one LF. Only white space around the note is removed; a CR inside
 * it is kept (and refused by the note parser), since signed text never has one.
 */
function normalizeNote(text: string): string {
  return `${text.replace(/^[ \t\n]+|[ \t\n]+$/g, "")}\n`;
}
