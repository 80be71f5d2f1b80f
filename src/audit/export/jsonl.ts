/**
 * JSON Lines export layout (pure string code). Line 1: `{"manifest":{…}}`; then one line per
 * entry: `{"entry":<entry>,"hash":"<hex>","payload":<opening>|null}`. Every line is the RFC 8785
 * canonical form of its object, so the entry's bytes inside the line are exactly the hashed bytes.
 *
 * @packageDocumentation
 */

import type { ChainVerifier, VerifyItem } from "../core/portable.js";
import {
  type AuditEntry,
  acceptNextEntry,
  decodeEntry,
  ENTRY_SOURCE_UNCHECKED_HASHES,
  entryOfMatch,
} from "../core/portable.js";
import { isHexHash } from "../primitives/portable.js";
import type { StoredEntry } from "../storage/index.js";
import { malformedInput } from "./line-reader.js";
import { type ExportManifest, encodeManifest, manifestProblem } from "./manifest.js";

/** One decoded record of an export. */
export type ExportRecord =
  | { readonly kind: "manifest"; readonly manifest: ExportManifest; readonly line: number }
  | {
      readonly kind: "entry";
      readonly item: VerifyItem & { readonly entry: AuditEntry; readonly line: number };
    };

/** The manifest line (with its `\n`). */
export function jsonlManifestLine(manifest: ExportManifest): string {
  return `{"manifest":${encodeManifest(manifest)}}\n`;
}

/** The export line of a stored entry (with its `\n`), built from the stored bytes verbatim. */
export function jsonlEntryLine(e: StoredEntry): string {
  return `{"entry":${e.body},"hash":"${e.hash}","payload":${e.payload ?? "null"}}\n`;
}

/** An export record whose entry text is not decoded yet (the verifier decodes it itself). */
export type RawExportRecord =
  | Extract<ExportRecord, { kind: "manifest" }>
  | { readonly kind: "entry"; readonly item: VerifyItem & { readonly line: number } };

/**
 * Decodes one export line.
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line.
 */
export function decodeJsonlLine(text: string, line: number): ExportRecord {
  const record = splitJsonlLine(text, line);
  if (record.kind === "manifest") return record;
  let entry: AuditEntry;
  try {
    entry = decodeEntry(record.item.body);
  } catch (err) {
    return malformedInput(line, err instanceof Error ? err.message : "invalid entry");
  }
  return { kind: "entry", item: { ...record.item, entry } };
}

/**
 * Cuts one export line into its parts, without decoding the entry text.
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line.
 */
export function splitJsonlLine(text: string, line: number): RawExportRecord {
  if (text.startsWith(MANIFEST_PREFIX)) return decodeManifestLine(text, line);
  // Entry lines are cut at their fixed delimiters instead of parsed: `,"hash":"` cannot occur inside
  // the canonical entry (a JSON string never holds an unescaped quote), the entry text is checked
  // to be canonical when it is decoded, and the payload opening by its commitment in the verifier
  // — so only the exact canonical line is ever accepted.
  if (!text.startsWith(ENTRY_PREFIX) || text.charCodeAt(text.length - 1) !== 0x7d)
    return malformedInput(line, "not a manifest or entry line");
  const h = text.indexOf(HASH_SEP, ENTRY_PREFIX.length);
  const hashAt = h + HASH_SEP.length;
  const payloadAt = hashAt + 64 + PAYLOAD_SEP.length;
  const hash = text.slice(hashAt, hashAt + 64);
  if (
    h < 0 ||
    !isHexHash(hash) ||
    !text.startsWith(PAYLOAD_SEP, hashAt + 64) ||
    payloadAt >= text.length
  )
    return malformedInput(line, 'entry line must be {"entry":…,"hash":"<hex>","payload":…}');
  const body = text.slice(ENTRY_PREFIX.length, h);
  const payloadText = text.slice(payloadAt, -1);
  const payload = payloadText === "null" ? null : payloadText;
  return { kind: "entry", item: { body, hash, payload, line } };
}

/**
 * The head of an entry line: the entry layout (groups 1–9, with the hex of its two hash members
 * unchecked, see `parseEntryUncheckedHashes`) and the claimed hash (group 10, unchecked likewise).
 * The payload text after it runs to the line's final `}`; the verifier checks it against the
 * entry's commitment.
 */
const ENTRY_LINE_HEAD = new RegExp(
  `^\\{"entry":${ENTRY_SOURCE_UNCHECKED_HASHES},"hash":"([^"\\\\\\x00-\\x1f]{64})","payload":`,
);
const ENTRY_LINE_HEAD_FRAME = '{"entry":,"hash":"","payload":'.length + 64;

/**
 * @internal One pass over an entry line, for the verifier only: the entry (decoded as
 * `parseEntryUncheckedHashes` does) and the verify item, or `undefined` when the line is anything
 * but an entry line of that shape, which {@link splitJsonlLine} and the verifier then diagnose.
 * The hex of `prevHash`, `payloadCommitment` and the claimed hash is NOT checked: hand the result
 * to `pushUncheckedEntry`, which proves it. The entry layout is delimiter-terminated (`,"hash":"`
 * cannot occur inside it), so the line is cut where {@link splitJsonlLine} cuts it.
 */
export function parseJsonlEntryLine(
  text: string,
  line: number,
):
  | { readonly entry: AuditEntry; readonly item: VerifyItem & { readonly line: number } }
  | undefined {
  const m = ENTRY_LINE_HEAD.exec(text);
  if (m === null) return undefined;
  const headLength = (m[0] as string).length;
  const entry = entryOfMatch(m);
  if (
    entry === undefined ||
    headLength >= text.length - 1 ||
    text.charCodeAt(text.length - 1) !== 0x7d
  )
    return undefined;
  const payloadText = text.slice(headLength, -1);
  return {
    entry,
    item: {
      body: text.slice(
        ENTRY_PREFIX.length,
        headLength - (ENTRY_LINE_HEAD_FRAME - ENTRY_PREFIX.length),
      ),
      hash: m[10] as string,
      payload: payloadText === "null" ? null : payloadText,
      line,
    },
  };
}

/**
 * @internal The verifier's fast path for an export line: true when `text` is
 * `{"entry":<body>,"hash":"<hash>","payload":<opening>|null}` and `acceptNextEntry` takes that
 * body, hash and opening as the entry the chain expects next (then the verifier has taken it);
 * false when that is not proven, and the line must take the full path, which names any failure.
 * The line is cut where {@link splitJsonlLine} cuts it; since an accepted body is a whole v1 entry
 * text, the hash 64 hex characters and the opening canonical, the line is exactly the canonical
 * line of that entry, which the full path would accept the same way.
 */
export function acceptJsonlEntryLine(verifier: ChainVerifier, text: string): boolean {
  const n = text.length;
  if (text.charCodeAt(n - 1) !== 0x7d || text.substr(0, ENTRY_PREFIX.length) !== ENTRY_PREFIX)
    return false;
  const h = text.indexOf(HASH_SEP, ENTRY_PREFIX.length);
  const hashAt = h + HASH_SEP.length;
  const payloadAt = hashAt + 64 + PAYLOAD_SEP.length;
  if (h < 0 || payloadAt >= n || text.substr(hashAt + 64, PAYLOAD_SEP.length) !== PAYLOAD_SEP)
    return false;
  const payload = text.slice(payloadAt, n - 1);
  return acceptNextEntry(
    verifier,
    text.slice(ENTRY_PREFIX.length, h),
    text.slice(hashAt, hashAt + 64),
    payload === "null" ? null : payload,
  );
}

const MANIFEST_PREFIX = '{"manifest":';
const ENTRY_PREFIX = '{"entry":';
const HASH_SEP = ',"hash":"';
const PAYLOAD_SEP = '","payload":';

function decodeManifestLine(
  text: string,
  line: number,
): Extract<ExportRecord, { kind: "manifest" }> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return malformedInput(line, "not valid JSON");
  }
  const o = v as Record<string, unknown>;
  const problem = manifestProblem(o?.manifest);
  if (problem !== undefined || Object.keys(o).length !== 1)
    malformedInput(line, problem ?? "unknown fields beside the manifest");
  let canonical: string;
  try {
    canonical = jsonlManifestLine(o.manifest as ExportManifest);
  } catch {
    return malformedInput(line, "manifest is not canonical JSON");
  }
  if (canonical !== `${text}\n`) malformedInput(line, "manifest line is not in canonical form");
  return { kind: "manifest", manifest: o.manifest as ExportManifest, line };
}
