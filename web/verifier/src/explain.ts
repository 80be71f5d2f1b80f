/**
 * Plain-language wording of every result, for a reader who is not a developer and does not trust
 * their platform. Each text says what was checked and what it means, without jargon.
 */
import type { VerifyFailureReason } from "../../../src/audit/core/portable.js";
import type { EvidenceFinding, LogHistoryFinding } from "./checkpoints.js";
import type { FileKind, ManifestSignatureFinding, Verdict, VerifyReport } from "./engine.js";
import type { HeadsFinding } from "./heads.js";

/** Headline and one-paragraph explanation of the overall verdict. */
export const VERDICT_TEXT: Record<Verdict, { title: string; body: string }> = {
  valid: {
    title: "Your history checks out",
    body: "Every entry in the file is intact and in order, and the file contains exactly the history the platform signed. Nothing was changed, removed or inserted.",
  },
  "valid-unanchored": {
    title: "The file is intact — but its completeness is not proven",
    body: "Every entry is intact and correctly linked to the one before it. Without a signed checkpoint from the platform, this page cannot tell whether entries were cut off at the end or whether the whole history was regenerated. Add the checkpoint and the platform's verifier key to prove completeness.",
  },
  "valid-prefix": {
    title: "Your history checks out up to your checkpoint",
    body: "Every entry is intact and in order, and the file begins with exactly the history the platform signed. The entries after the checkpoint are intact and linked, but newer than it: ask the platform for a current checkpoint to prove that part complete too.",
  },
  broken: {
    title: "This history has been altered or damaged",
    body: "At least one entry is not what was originally recorded. The first problem is described below; entries after it cannot be trusted.",
  },
  truncated: {
    title: "Entries are missing",
    body: "The platform once signed a longer history than the one in this file. Entries at the end were removed.",
  },
  rewritten: {
    title: "This is not the history the platform signed",
    body: "The entries in this file differ from the ones the platform committed to in its signed checkpoint. The history was rewritten or replaced.",
  },
  forked: {
    title: "The platform published a different history of your account",
    body: "The platform's public log of every account (the heads log) records your history with a different summary for the same number of entries than the one you hold. The platform has shown you one history and the public another. Keep the files you used: they are the proof.",
  },
  "inconsistent-with-memory": {
    title: "Not consistent with what this browser saw before",
    body: "The file and its receipt check out on their own, but earlier this browser verified a receipt from the platform's public heads log that records this account's history differently: another history of the same length (a fork), or a longer one than this receipt records (a shrink). A history that is only ever added to cannot do either, so do not rely on this one. What was seen before is described below. Keep both sets of files: they are the proof.",
  },
  "not-export": {
    title: "This is not an audit export",
    body: "The file you chose is not a keywarden audit history (a .jsonl or .csv export): it is empty, not text, or another kind of file — a signed checkpoint or a receipt, for example, belongs in the fields below. Nothing about any history was checked. Choose the export file itself.",
  },
  "bad-key": {
    title: "The verifier key you entered is not valid",
    body: "A key you entered is not a valid key (a verifier key looks like name+1a2b3c4d+AbCd…, all on one line, as the platform published it; a chain key is 44 characters ending in =). Signatures were not checked. Check the key and try again.",
  },
  "not-checked": {
    title: "The file is intact — signatures were not checked",
    body: "Every entry is intact and correctly linked. The file or the checkpoint you added is signed, but no verifier key was entered, so the signature was not checked and completeness is not proven. Enter the platform's verifier key to check it.",
  },
  "bad-evidence": {
    title: "A signature could not be trusted",
    body: "The entries themselves look intact, but the file's signed summary, or the signed checkpoint or receipt you supplied, did not verify with the key you gave (or is for another account). Completeness is therefore NOT proven.",
  },
};

/** Why the chain is broken, in words. */
export function chainProblemText(report: VerifyReport): string {
  const c = report.chain;
  if (c.ok) return "";
  const at = `entry #${c.seq}${c.line === undefined ? "" : ` (line ${c.line} of the file)`}`;
  const texts: Record<VerifyFailureReason, string> = {
    "hash-mismatch": `${at} was changed after it was written: its content no longer matches its fingerprint.`,
    "broken-link": `${at} does not follow on from the entry before it: an entry was removed, inserted or replaced just before it.`,
    gap: `${at} is missing from the file.`,
    reorder: `The entries are out of order around ${at}.`,
    duplicate: `${at} appears twice.`,
    "foreign-chain": `${at} belongs to a different account's history.`,
    malformed:
      report.fileKind === "bom"
        ? "The file starts with a byte-order mark (BOM, the bytes EF BB BF), which a keywarden export never has: an editor or spreadsheet re-saved it, so it is no longer the exported file byte for byte. Use the file exactly as exported."
        : `The file is damaged or is not a keywarden export at ${at}: ${c.message}.`,
    "payload-mismatch": `The details shown for ${at} (amounts, symbols, …) are not the details that were originally recorded.`,
    truncated: `The file ends early: ${c.message}.`,
    "head-mismatch": `The last entry is not the one the file's own summary names: the end of the history was replaced.`,
  };
  return texts[c.reason];
}

const KIND: Record<EvidenceFinding["kind"], string> = {
  checkpoint: "Signed checkpoint",
  "earlier-checkpoint": "Earlier checkpoint you kept",
  receipt: "Receipt you kept",
};

/** Title of an evidence finding. */
export function evidenceTitle(f: EvidenceFinding): string {
  return KIND[f.kind];
}

/** One sentence for an evidence finding. */
export function evidenceText(f: EvidenceFinding, fileEntries: number): string {
  const n = f.size ?? 0;
  const entry = f.receiptSeq === undefined ? "" : `entry #${f.receiptSeq}`;
  switch (f.status) {
    case "matches":
      return f.kind === "receipt"
        ? `The platform proved that ${entry} is part of its log, and it is exactly the ${entry} in your file.`
        : `Signed by the platform for ${n} entries; your file holds exactly those ${n} entries.`;
    case "covers-prefix":
      return `Signed by the platform for ${n} entries; the first ${n} entries of your file (of ${fileEntries}) are exactly those. The entries after them are newer than this checkpoint.`;
    case "signature-only":
      return "The signature is valid, but the file could not be compared with it because the file itself is broken.";
    case "truncated":
      return f.kind === "receipt"
        ? `The platform proved that ${entry} exists, but your file ends before it: entries were removed.`
        : `Signed by the platform for ${n} entries, but your file holds only ${fileEntries}: entries were removed.`;
    case "rewritten":
      return f.kind === "receipt"
        ? `The platform proved a different ${entry} than the one in your file: the history was rewritten.`
        : "The entries in your file are not the ones the platform signed: the history was rewritten.";
    case "bad-signature":
      return "Not validly signed by the verifier key you gave (or the required witnesses did not all cosign, or the text is damaged).";
    case "wrong-chain":
      return `This was signed for another account's log (${f.origin ?? "unknown"}), not for the history in your file.`;
    case "no-key":
      return "Not checked: enter the platform's verifier key (published by the platform, ideally obtained from somewhere it cannot quietly change).";
    case "bad-key":
      return "Not checked: the verifier key you entered is not a valid key, so this signature could not be checked either way.";
  }
}

/** One sentence about how the log moved between the earlier evidence and the checkpoint. */
export function logHistoryText(h: LogHistoryFinding): string {
  const from = h.previousSize ?? 0;
  const to = h.size ?? 0;
  switch (h.status) {
    case "unchanged":
      return `The log has not changed since your earlier checkpoint (${from} entries).`;
    case "grew":
      return `The log only grew since your earlier checkpoint: from ${from} to ${to} entries, with the earlier ones unchanged.`;
    case "truncated":
      return `The log (or this file) now has fewer entries (${to}) than it had when you saved your earlier checkpoint (${from}): entries were removed.`;
    case "rewritten":
      return "The log's history differs from the one you saw before: it was rewritten (for example regenerated from the start).";
    case "origin-mismatch":
      return "Your earlier checkpoint is for a different log than the current one.";
    case "time-went-backwards":
      return "The current checkpoint claims an earlier time than the one you kept: it is not a newer view of the log.";
    case "stale":
      return "The checkpoint is too old: the log may be frozen.";
    case "proof-missing":
      return "The log grew, but the file could not be used to prove that it only grew (the file is broken).";
    case "bad-checkpoint":
      return "The current checkpoint did not verify.";
  }
}

/** What the manifest signature finding means. */
export function manifestSignatureText(f: ManifestSignatureFinding): string {
  switch (f.status) {
    case "valid": {
      const key = f.signatures.find((s) => s.role === "log" && s.valid === true);
      const which = key ? `, ${key.name} (key ${key.keyId})` : "";
      return `Signed by the platform with the verifier key you gave${which}: the platform vouches for the account, the number of entries and the last entry named at the top of the file.`;
    }
    case "invalid":
      return `Signed, but the signature did not verify with the key you gave (${f.reason ?? "invalid"}). The summary at the top of the file may have been altered, or signed by someone else.`;
    case "no-key":
      return "Signed by the platform, but not checked: enter the platform's verifier key.";
    case "bad-key":
      return "Signed by the platform, but not checked: the verifier key you entered is not a valid key.";
    case "unsigned":
      return "Not signed by the platform.";
  }
}

/** One sentence for the heads receipt's finding. */
export function headsText(h: HeadsFinding): string {
  const n = h.chainSize ?? 0;
  const what =
    h.against === "checkpoint"
      ? `your signed checkpoint (${n} entries)`
      : h.against === "export"
        ? h.status === "covers-prefix"
          ? `the first ${n} entries of your file`
          : `your file's ${n} entries`
        : `your history at ${n} entries`;
  const witnesses =
    h.witnessesListed === 0
      ? "no witness was listed"
      : `${h.witnessesValid ?? 0} of the ${h.witnessesListed} witnesses you listed cosigned it (you asked for ${h.quorum})`;
  const log = h.headsOrigin === undefined ? "the heads log" : `the heads log ${h.headsOrigin}`;
  switch (h.status) {
    case "matches":
    case "covers-prefix":
      return `The platform's public log of every account (${log}, ${h.headsSize ?? 0} records; ${witnesses}) contains record #${h.headsIndex ?? 0} for your account, and it holds exactly the summary of ${what}. The platform published this same history to everyone.`;
    case "signature-only":
      return `The heads receipt is validly signed and ${witnesses}, but your file is broken, so its record could not be compared with your history.`;
    case "no-key":
      return "Not checked: enter the heads log's verifier key and your chain key (both from the platform, ideally from somewhere it cannot quietly change).";
    case "bad-key":
      return "The heads log's verifier key, a witness key or the chain key you entered is not a valid key, so the heads receipt was not checked.";
    case "malformed":
      return "This is not a heads receipt, or it is damaged: it does not carry a record of an account's checkpoint.";
    case "heads-signature":
      return "The heads receipt is not signed by the heads log's key you gave (or a signature on it is damaged, or it is for another log). Nothing in it can be trusted.";
    case "witness-quorum":
      return `Signed by the heads log, but not enough witnesses cosigned it: ${witnesses}. Without them the platform could show this log to you alone.`;
    case "inclusion":
      return "The proof in the heads receipt does not verify: the receipt was altered or damaged, so it does not show that your record is in the public log.";
    case "not-this-chain":
      return `The heads receipt is validly signed and ${witnesses}, but its record is not for your account at ${what}. Check the chain key you entered, or ask for the receipt of this checkpoint.`;
    case "fork":
      return `The public heads log records your account at ${n} entries with a DIFFERENT summary than ${what}: the platform published two different histories of your account.`;
    case "time-mismatch":
      return `The public heads log records your account's summary with a different signing time than ${what}: it is not a record of this checkpoint.`;
  }
}

/** What a file that is not an export is, read from its first bytes (verdict `not-export`). */
export function fileKindText(kind: FileKind): string {
  switch (kind) {
    case "empty":
      return "The file is empty (0 bytes): it holds no history at all.";
    case "not-text":
      return "The file is not text: it holds binary data (an image, an archive, a spreadsheet, …), not an audit export.";
    case "checkpoint":
      return "The file is a signed checkpoint, not an export. Put it in the “Signed checkpoint” field below and choose the export file (.jsonl or .csv) above.";
    case "receipt":
      return "The file is a receipt (proof of one entry), not an export. Put it in the “Earlier checkpoint or receipt” field below and choose the export file (.jsonl or .csv) above.";
    default:
      return 'The file is text, but not a keywarden audit export: an export starts with its summary line ({"manifest":… in a .jsonl file) or with the column names seq,ts,chain_id,… (in a .csv file).';
  }
}
