/**
 * CSV export layout (RFC 4180, via csv-stringify / csv-parse). A header row, a manifest row, then
 * one row per entry. The `entry`, `hash` and `opening` columns carry the exact canonical bytes so
 * the CSV stays verifiable; the other columns are for people and spreadsheets, are neutralized
 * against formula injection, and are checked by the verifier against the entry they describe.
 *
 * @packageDocumentation
 */
import { stringify } from "csv-stringify/sync";
import { canonicalize } from "../../canonical.js";
import { type AuditEntry, decodeEntry, parseOpening } from "../core/portable.js";
import { isHexHash } from "../primitives/portable.js";
import type { StoredEntry } from "../storage/index.js";
import type { ExportRecord } from "./jsonl.js";
import { malformedInput } from "./line-reader.js";
import { type ExportManifest, encodeManifest, manifestProblem } from "./manifest.js";

/** The header row, in order. */
export const CSV_COLUMNS = [
  "seq",
  "ts",
  "chain_id",
  "action",
  "actor_kind",
  "actor_user_id",
  "actor_id",
  "payload",
  "entry",
  "hash",
  "opening",
] as const;

/** Value of the `seq` cell of the manifest row. */
export const CSV_MANIFEST_MARKER = "manifest";
/** Value of the human `payload` cell of an erased entry. */
export const CSV_REDACTED = "[redacted]";

/**
 * Neutralizes a human-readable cell a spreadsheet would execute: a leading `=`, `+`, `-`, `@`,
 * tab or CR gets a `'` prefix (OWASP CSV injection guidance).
 *
 *
 * @example
 * ```ts
 * neutralizeCell("=HYPERLINK(\"x\")"); // "'=HYPERLINK(\"x\")"
 * ```
 * @throws never.
 */
export function neutralizeCell(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

function humanCells(entry: AuditEntry, opening: string | null): string[] {
  let payload = CSV_REDACTED;
  if (opening !== null) payload = canonicalize(parseOpening(opening).value);
  return [
    String(entry.seq),
    entry.ts,
    entry.chainId,
    entry.action,
    entry.actor.kind,
    entry.actor.userId,
    entry.actor.id,
    payload,
  ].map(neutralizeCell);
}

const row = (cells: readonly string[]) =>
  stringify([cells], { eof: true, record_delimiter: "unix" });

/**
 * @internal The one byte string the exporter writes for a record with these cells (with its LF).
 * The reader requires every line to be exactly this (format §7): a cell quoted that needs no
 * quotes, or any other RFC 4180 variant, would give one log two byte strings.
 */
export const csvRecordText = row;

/** The header row and the manifest row. */
export function csvHead(manifest: ExportManifest): string {
  const manifestRow = [
    CSV_MANIFEST_MARKER,
    "",
    "",
    "",
    "",
    "",
    "",
    "",
    encodeManifest(manifest),
    "",
    "",
  ];
  return row(CSV_COLUMNS) + row(manifestRow);
}

/** The row of a stored entry. */
export function csvEntryRow(e: StoredEntry): string {
  const entry = decodeEntry(e.body);
  return row([...humanCells(entry, e.payload), e.body, e.hash, e.payload ?? ""]);
}

/**
 * Decodes one parsed CSV record (`index` 0 is the header).
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the record's line.
 */
export function decodeCsvRecord(
  cells: string[],
  index: number,
  line: number,
): ExportRecord | undefined {
  if (cells.length !== CSV_COLUMNS.length)
    malformedInput(line, `expected ${CSV_COLUMNS.length} columns`);
  if (index === 0) {
    if (cells.some((c, i) => c !== CSV_COLUMNS[i])) malformedInput(line, "unexpected CSV header");
    return undefined;
  }
  const [seq, , , , , , , , entryText, hash, opening] = cells as [string, ...string[]] & {
    length: 11;
  };
  if (seq === CSV_MANIFEST_MARKER) {
    let m: unknown;
    try {
      m = JSON.parse(entryText as string);
    } catch {
      return malformedInput(line, "manifest is not valid JSON");
    }
    const problem = manifestProblem(m);
    if (problem !== undefined) malformedInput(line, problem);
    if (
      encodeManifest(m as ExportManifest) !== entryText ||
      cells.some((c, i) => i !== 0 && i !== 8 && c !== "")
    )
      malformedInput(line, "manifest row is not in canonical form");
    return { kind: "manifest", manifest: m as ExportManifest, line };
  }
  let entry: AuditEntry;
  try {
    entry = decodeEntry(entryText as string);
  } catch (err) {
    return malformedInput(line, (err as Error).message);
  }
  if (!isHexHash(hash)) malformedInput(line, "hash is not 64 lowercase hex characters");
  const payload = opening === "" ? null : (opening as string);
  let human: string[];
  try {
    human = humanCells(entry, payload);
  } catch {
    return malformedInput(line, "opening is not a valid payload opening");
  }
  /* Precondition: the human-readable CSV columns say exactly what the verified entry says. */
  if (human.some((c, i) => c !== cells[i]))
    malformedInput(line, "human-readable columns do not match the entry");
  return { kind: "entry", item: { body: entryText as string, hash, payload, entry, line } };
}
