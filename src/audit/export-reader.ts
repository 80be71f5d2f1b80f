/**
 * Reading exports back: JSON Lines or CSV byte streams to decoded records, with verification.
 * Works over any async iterable of byte chunks (a Node stream, a fetch body).
 *
 * @packageDocumentation
 */
import { parse } from "csv-parse/sync";
import { KeywardenError } from "../errors.js";
import { decodeCsvRecord } from "./csv.js";
import { decodeJsonlLine, type ExportRecord } from "./jsonl.js";
import { MAX_LINE_BYTES, malformedInput, readLines } from "./line-reader.js";
import type { ExportManifest } from "./manifest.js";
import type { Sha256 } from "./sha256.js";
import type { ChainHead } from "./store.js";
import { ChainVerifier, type VerifyResult } from "./verify.js";

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
  if (options?.format !== "jsonl" && options?.format !== "csv")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "format must be jsonl or csv");
  let index = 0;
  for await (const { text, line } of readLines(chunks, options.maxLineBytes ?? MAX_LINE_BYTES)) {
    let record: ExportRecord | undefined;
    if (options.format === "jsonl") {
      record = decodeJsonlLine(text, line);
    } else {
      let rows: string[][];
      try {
        rows = parse(text, { relax_column_count: true, bom: false }) as string[][];
      } catch {
        return malformedInput(line, "not a valid RFC 4180 CSV record");
      }
      if (rows.length !== 1) malformedInput(line, "expected exactly one CSV record on the line");
      record = decodeCsvRecord(rows[0] as string[], index, line);
    }
    index++;
    if (record === undefined) continue;
    if ((record.kind === "manifest") !== (index === (options.format === "csv" ? 2 : 1)))
      malformedInput(
        line,
        record.kind === "manifest"
          ? "manifest after the first record"
          : "export does not start with a manifest",
      );
    yield record;
  }
}

/** Result of {@link verifyExport}: the verification result and the manifest, if one was read. */
export type VerifyExportResult = VerifyResult & { readonly manifest: ExportManifest | undefined };

/**
 * Verifies an export file end to end: every entry, the manifest's size and head, and (when given)
 * a head obtained out of band, which detects an export cut short together with its manifest.
 *
 * @example
 * ```ts
 * const r = await verifyExport(createReadStream("chain.jsonl"), { format: "jsonl", sha256: sha256Node });
 * ```
 * @throws {KeywardenError} only on I/O errors of the source; bad content is a result.
 */
export async function verifyExport(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: ReadExportOptions & {
    readonly sha256: Sha256;
    readonly expected?: ChainHead | undefined;
    readonly onProgress?: ((verified: number) => void) | undefined;
  },
): Promise<VerifyExportResult> {
  let manifest: ExportManifest | undefined;
  let v = new ChainVerifier({ sha256: options.sha256, expected: options.expected });
  try {
    for await (const record of readExport(chunks, options)) {
      if (record.kind === "manifest") {
        manifest = record.manifest;
        // Every entry must belong to the manifest's chain.
        v = new ChainVerifier({
          sha256: options.sha256,
          expected: options.expected,
          chainId: manifest.chainId,
        });
        continue;
      }
      if (
        manifest &&
        record.item.entry.seq >= manifest.size &&
        record.item.entry.chainId === manifest.chainId
      )
        return {
          ...v.malformed("more entries than the manifest's size", record.item.line),
          manifest,
        };
      const failure = v.push(record.item);
      if (failure) return { ...failure, manifest };
      if (options.onProgress && v.verified % 65536 === 0) options.onProgress(v.verified);
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
