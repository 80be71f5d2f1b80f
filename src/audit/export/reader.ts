/**
 * Reading exports back: JSON Lines or CSV byte streams to decoded records, with verification.
 * Works over any async iterable of byte chunks (a Node stream, a fetch body).
 *
 * @packageDocumentation
 */
import { parse } from "csv-parse/sync";
import { KeywardenError } from "../../errors.js";
import type { AuditEntry } from "../core/portable.js";
import {
  acceptNextEntryLine,
  ChainVerifier,
  pushUncheckedEntry,
  type VerifyBroken,
  type VerifyFailureReason,
  type VerifyItem,
  type VerifyValid,
} from "../core/portable.js";
import type { Sha256 } from "../primitives/index.js";
import type { ChainHead } from "../storage/index.js";
import type { NoteVerifier } from "../transparency/portable.js";
import { csvRecordText, decodeCsvRecord } from "./csv.js";
import {
  acceptJsonlEntryLine,
  decodeJsonlLine,
  type ExportRecord,
  parseJsonlEntryLine,
  type RawExportRecord,
  splitJsonlLine,
} from "./jsonl.js";
import { MAX_LINE_BYTES, malformedInput, readLineBatches } from "./line-reader.js";
import { type ExportManifest, manifestSignatureProblem } from "./manifest.js";

/** Export file formats. */
export type ExportFormat = "jsonl" | "csv";

/** Options of {@link readExport} and {@link verifyExport}. */
export interface ReadExportOptions {
  readonly format: ExportFormat;
  /** Cap on one line in bytes (default 1 MiB). */
  readonly maxLineBytes?: number | undefined;
}

/**
 * Decodes an export: the manifest record first, then entry records.
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line of the first bad record.
 *
 * @example
 * ```ts
 * for await (const r of readExport(createReadStream("a.csv"), { format: "csv" })) if (r.kind === "entry") show(r.item.entry);
 * ```
 */
export async function* readExport(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: ReadExportOptions,
): AsyncGenerator<ExportRecord> {
  for await (const batch of recordBatches(chunks, options, true)) yield* batch as ExportRecord[];
}

/** An entry line decoded in one pass, for the verifier (see `parseJsonlEntryLine`). */
interface ParsedEntryRecord {
  readonly kind: "parsed";
  readonly entry: AuditEntry;
  readonly item: VerifyItem & { readonly line: number };
}

/**
 * The records of an export, one array per input chunk. With `decodeEntries` false, JSON Lines
 * entry records carry the entry text only (the verifier decodes it once, itself).
 */
async function* recordBatches(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: ReadExportOptions,
  decodeEntries: boolean,
): AsyncGenerator<Array<ExportRecord | RawExportRecord | ParsedEntryRecord>> {
  const csv = formatIsCsv(options);
  let index = 0;
  for await (const lines of readLineBatches(chunks, options.maxLineBytes ?? MAX_LINE_BYTES)) {
    const batch: Array<ExportRecord | RawExportRecord | ParsedEntryRecord> = [];
    try {
      for (const { text, line } of lines) {
        const record = recordOfLine(text, line, csv, decodeEntries, index++);
        if (record !== undefined) batch.push(record);
      }
    } catch (err) {
      if (batch.length > 0) yield batch;
      throw err;
    }
    yield batch;
  }
}

/** True for CSV, false for JSON Lines. */
function formatIsCsv(options: ReadExportOptions): boolean {
  if (options?.format !== "jsonl" && options?.format !== "csv")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "format must be jsonl or csv");
  return options.format === "csv";
}

/**
 * The record of line `line` (`index` lines before it), or `undefined` for the CSV header row.
 * With `decodeEntries` false, JSON Lines entry records carry the entry text only (the verifier
 * decodes it once, itself).
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line.
 */
function recordOfLine(
  text: string,
  line: number,
  csv: boolean,
  decodeEntries: boolean,
  index: number,
): ExportRecord | RawExportRecord | ParsedEntryRecord | undefined {
  let record: ExportRecord | RawExportRecord | ParsedEntryRecord | undefined;
  if (!csv) {
    if (decodeEntries) record = decodeJsonlLine(text, line);
    else {
      const parsed = parseJsonlEntryLine(text, line);
      record = parsed
        ? { kind: "parsed", entry: parsed.entry, item: parsed.item }
        : splitJsonlLine(text, line);
    }
  } else {
    let rows: string[][];
    try {
      rows = parse(text, { relax_column_count: true, bom: false }) as string[][];
    } catch {
      return malformedInput(line, "not a valid RFC 4180 CSV record");
    }
    if (rows.length !== 1) malformedInput(line, "expected exactly one CSV record on the line");
    if (csvRecordText(rows[0] as string[]) !== `${text}\n`)
      malformedInput(line, "CSV record is not written as the exporter writes it (quoting)");
    record = decodeCsvRecord(rows[0] as string[], index, line);
  }
  if (record === undefined) return undefined;
  if ((record.kind === "manifest") !== (index + 1 === (csv ? 2 : 1)))
    malformedInput(
      line,
      record.kind === "manifest"
        ? "manifest after the first record"
        : "export does not start with a manifest",
    );
  return record;
}

/**
 * Why an export failed: a chain failure, or `manifest-signature` — with `manifestKeys` given, the
 * manifest is unsigned, its signature or origin is malformed, or no given key verifies it.
 */
export type ExportFailureReason = VerifyFailureReason | "manifest-signature";

/** The first problem found in an export. */
export type VerifyExportBroken = Omit<VerifyBroken, "reason"> & {
  readonly reason: ExportFailureReason;
};

/** Result of {@link verifyExport}: the verification result and the manifest, if one was read. */
export type VerifyExportResult = (VerifyValid | VerifyExportBroken) & {
  readonly manifest: ExportManifest | undefined;
};

/** Options of {@link verifyExport}. */
export interface VerifyExportOptions extends ReadExportOptions {
  readonly sha256: Sha256;
  /** A head obtained out of band (e.g. a published checkpoint); detects truncation. */
  readonly expected?: ChainHead | undefined;
  readonly onProgress?: ((verified: number) => void) | undefined;
  /**
   * Trusted keys for the manifest signature (format §6.1), e.g. `[parseVerifierKey(vkey)]`.
   * When given (even empty), the manifest must carry a signature that one of them verifies;
   * signatures by other keys are ignored. When absent, a manifest signature is NOT checked (a
   * signed export verifies exactly like an unsigned one).
   */
  readonly manifestKeys?: readonly NoteVerifier[] | undefined;
  /** With `manifestKeys`: also accept an unsigned manifest (a signed one must still verify). */
  readonly allowUnsignedManifest?: boolean | undefined;
}

/**
 * Verifies an export file end to end: every entry, the manifest's size and head, (when given)
 * a head obtained out of band, which detects an export cut short together with its manifest, and
 * (with `manifestKeys`) the manifest's signature, checked before any entry is read.
 *
 * @example
 * ```ts
 * const r = await verifyExport(createReadStream("chain.jsonl"), { format: "jsonl", sha256: sha256Node });
 * const s = await verifyExport(createReadStream("chain.jsonl"), { format: "jsonl", sha256: sha256Node, manifestKeys: [parseVerifierKey(vkey)] });
 * ```
 * @throws {KeywardenError} on I/O errors of the source; `ERR_INVALID_ARGUMENT` for invalid
 * options (e.g. `manifestKeys` that are not note verifiers); bad content is a result.
 */
export function verifyExport(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: VerifyExportOptions,
): Promise<VerifyExportResult> {
  return verifyExportLines(chunks, options, true);
}

/**
 * @internal {@link verifyExport} without its JSON Lines fast path (every entry line is decoded and
 * pushed the full way): the reference the property tests hold the fast path to.
 */
export function verifyExportFullPath(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: VerifyExportOptions,
): Promise<VerifyExportResult> {
  return verifyExportLines(chunks, options, false);
}

async function verifyExportLines(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: VerifyExportOptions,
  fastPath: boolean,
): Promise<VerifyExportResult> {
  const keys = options?.manifestKeys;
  if (
    keys !== undefined &&
    (!Array.isArray(keys) ||
      !keys.every((k) => typeof k === "object" && k !== null && typeof k.verify === "function"))
  )
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "manifestKeys must be note verifiers");
  let manifest: ExportManifest | undefined;
  let v = new ChainVerifier({ sha256: options.sha256, expected: options.expected });
  const csv = formatIsCsv(options);
  const fast = fastPath && !csv;
  const onProgress = options.onProgress;
  let index = 0;
  // The fast path over bytes: a line the verifier takes as the entry it expects next is never
  // decoded (see acceptNextEntryLine); any other line is decoded and handled below.
  const take = fast
    ? (bytes: Uint8Array, start: number, end: number): boolean => {
        if (!acceptNextEntryLine(v, bytes, start, end)) return false;
        index++;
        if (onProgress && v.verified % 65536 === 0) onProgress(v.verified);
        return true;
      }
    : undefined;
  try {
    for await (const lines of readLineBatches(
      chunks,
      options.maxLineBytes ?? MAX_LINE_BYTES,
      take,
    )) {
      for (const { text, line } of lines) {
        // The fast path only accepts an entry line that is exactly the one the chain expects
        // next (see acceptJsonlEntryLine); anything else takes the full path below.
        if (fast && acceptJsonlEntryLine(v, text)) {
          index++;
          if (onProgress && v.verified % 65536 === 0) onProgress(v.verified);
          continue;
        }
        const record = recordOfLine(text, line, csv, false, index++);
        if (record === undefined) continue;
        if (record.kind === "manifest") {
          manifest = record.manifest;
          const problem =
            keys === undefined
              ? undefined
              : manifestSignatureProblem(manifest, {
                  keys,
                  allowUnsigned: options.allowUnsignedManifest,
                });
          if (problem !== undefined)
            return {
              ok: false,
              seq: 0,
              reason: "manifest-signature",
              message: problem,
              line: record.line,
              manifest,
            };
          // Every entry must belong to the manifest's chain.
          v = new ChainVerifier({
            sha256: options.sha256,
            expected: options.expected,
            chainId: manifest.chainId,
            maxEntries: manifest.size,
          });
          continue;
        }
        const failure =
          record.kind === "parsed"
            ? pushUncheckedEntry(v, record.entry, record.item)
            : v.push(record.item);
        if (failure) return { ...failure, manifest };
        if (onProgress && v.verified % 65536 === 0) onProgress(v.verified);
      }
    }
  } catch (err) {
    if (err instanceof KeywardenError && err.code === "ERR_AUDIT_MALFORMED_INPUT") {
      const line = err.details?.line;
      return { ...v.malformed(err.message, typeof line === "number" ? line : undefined), manifest };
    }
    throw err;
  }
  const result = v.finish();
  if (!result.ok) return { ...result, manifest };
  if (!manifest) return { ...v.malformed("export has no manifest"), manifest };
  if (result.size < manifest.size)
    return {
      ok: false,
      seq: result.size,
      reason: "truncated",
      message: `manifest promises ${manifest.size} entries, found ${result.size}`,
      manifest,
    };
  if (result.headHash !== manifest.headHash)
    return {
      ok: false,
      seq: result.size - 1,
      reason: "head-mismatch",
      message: "last entry differs from the manifest's head",
      manifest,
    };
  return { ...result, manifest };
}
