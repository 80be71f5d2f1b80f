/**
 * Writing exports (streaming) and importing them back into a store.
 *
 * @packageDocumentation
 */
import type { JsonValue } from "../../canonical.js";
import { KeywardenError } from "../../errors.js";
import type { AuditLog } from "../core/index.js";
import { assertChainId, assertChainValid, ChainVerifier } from "../core/portable.js";
import type { Sha256 } from "../primitives/index.js";
import type { AuditStore, StoredEntry } from "../storage/index.js";
import { checkedHead, invariant } from "../storage/index.js";
import type { Signer } from "../transparency/index.js";
import type { NoteVerifier } from "../transparency/portable.js";
import { csvEntryRow, csvHead } from "./csv.js";
import { jsonlEntryLine, jsonlManifestLine } from "./jsonl.js";
import {
  EXPORT_FORMAT,
  type ExportManifest,
  manifestSignatureProblem,
  RESERVED_MANIFEST_FIELDS,
  signManifest,
} from "./manifest.js";
import { type ExportFormat, readExport } from "./reader.js";

/** Options of {@link exportChain}. */
export interface ExportChainOptions {
  readonly format: ExportFormat;
  /**
   * Adds fields to the manifest (e.g. a signed checkpoint of the exported head, from the
   * transparency layer). Cannot replace the core fields. Called once, with the core manifest.
   */
  readonly annotateManifest?:
    | ((manifest: ExportManifest) => Promise<Readonly<Record<string, JsonValue>>>)
    | undefined;
  /** Export even when the stored chain does not verify (default false: fail closed). */
  readonly allowBroken?: boolean | undefined;
  /**
   * Signs the manifest (format §6.1): adds `origin` and `signature`, a C2SP signed-note signature
   * over every other manifest member (annotations included). Without it the export is unsigned.
   */
  readonly signer?: Signer | undefined;
  /** Deployment name for the signed manifest's `origin` (default: the signer's key name). */
  readonly logName?: string | undefined;
}

/**
 * Streams an export of `chainId` as text chunks: the manifest (taken at the current head), then
 * every entry up to that head. Each entry is verified as it is written, so by default an export of
 * a broken chain fails with `ERR_AUDIT_CHAIN_BROKEN` instead of producing a file that looks fine.
 * With `signer`, the manifest is signed before anything is yielded (verify it with
 * `verifyExport(…, { manifestKeys })` or `keywarden audit verify FILE --vkey KEY`).
 *
 * @example
 * ```ts
 * await pipeline(Readable.from(exportChain(log, "user:user-42", { format: "csv" })), createWriteStream("audit.csv"));
 * // signed: exportChain(log, "user:user-42", { format: "jsonl", signer: LocalEd25519Signer.fromEnv() })
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHAIN_BROKEN`, `ERR_AUDIT_STORE_INVARIANT`, store errors,
 * `ERR_INVALID_ARGUMENT` for a reserved annotation or a log name that forms no valid origin, signer errors.
 */
export async function* exportChain(
  log: AuditLog,
  chainId: string,
  options: ExportChainOptions,
): AsyncGenerator<string> {
  assertChainId(chainId);
  if (options?.format !== "jsonl" && options?.format !== "csv")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "format must be jsonl or csv");
  const { signer, logName } = options;
  if (signer !== undefined && (typeof signer !== "object" || typeof signer.sign !== "function"))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "signer must implement Signer");
  if (logName !== undefined && signer === undefined)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "logName goes with signer");
  const head = await log.head(chainId);
  let manifest: ExportManifest = {
    v: 1,
    format: EXPORT_FORMAT,
    chainId,
    size: head.size,
    headHash: head.headHash,
  };
  if (options.annotateManifest) {
    const extra = await options.annotateManifest(manifest);
    for (const key of Object.keys(extra))
      if ((RESERVED_MANIFEST_FIELDS as readonly string[]).includes(key))
        throw new KeywardenError("ERR_INVALID_ARGUMENT", `manifest field '${key}' is reserved`);
    manifest = { ...extra, ...manifest };
  }
  if (signer) manifest = await signManifest(manifest, signer, logName ?? signer.keyName);
  yield options.format === "jsonl" ? jsonlManifestLine(manifest) : csvHead(manifest);
  const verifier = new ChainVerifier({ sha256: log.sha256, chainId, expected: head });
  for await (const e of log.readEntries(chainId, 0, head.size)) {
    if (!options.allowBroken) {
      const failure = verifier.push(e);
      if (failure) assertChainValid(failure);
    }
    yield options.format === "jsonl" ? jsonlEntryLine(e) : csvEntryRow(e);
  }
  if (!options.allowBroken) assertChainValid(verifier.finish());
}

/**
 * Imports an export into an empty chain of `store`, verifying every entry (and the manifest's
 * head) before it is written, in batches of `batchSize`. On a verification failure nothing after
 * the last verified batch is written and it throws; the chain then holds a verified prefix.
 *
 * @example
 * ```ts
 * const head = await importExport(store, createReadStream("audit.jsonl"), { format: "jsonl", sha256: sha256Node });
 * // only a manifest signed by the log: { …, manifestKeys: [parseVerifierKey(vkey)] }
 * ```
 * With `manifestKeys`, the manifest's signature is checked (as in `verifyExport`) before
 * anything is written; a failure is `ERR_AUDIT_CHAIN_BROKEN` with reason `manifest-signature`.
 *
 * @throws {KeywardenError} `ERR_AUDIT_CHAIN_BROKEN` (with seq and reason), `ERR_AUDIT_MALFORMED_INPUT`,
 * `ERR_AUDIT_APPEND_CONFLICT` when the target chain is not empty.
 */
export async function importExport(
  store: AuditStore,
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: {
    format: ExportFormat;
    sha256: Sha256;
    batchSize?: number;
    /** Trusted keys for the manifest signature; when given, an unsigned manifest is rejected. */
    manifestKeys?: readonly NoteVerifier[] | undefined;
  },
): Promise<{ chainId: string; size: number; headHash: string | null }> {
  const batchSize = options.batchSize ?? 1000;
  let manifest: ExportManifest | undefined;
  let verifier: ChainVerifier | undefined;
  let batch: StoredEntry[] = [];
  let size = 0;
  const flush = async () => {
    if (batch.length === 0 || !manifest) return;
    const r = await store.append({ chainId: manifest.chainId, expectedSize: size, entries: batch });
    invariant(r.size === size + batch.length, "append returned a wrong size");
    size = r.size;
    batch = [];
  };
  for await (const record of readExport(chunks, options)) {
    if (record.kind === "manifest") {
      manifest = record.manifest;
      if (options.manifestKeys !== undefined) {
        const problem = manifestSignatureProblem(manifest, { keys: options.manifestKeys });
        if (problem !== undefined)
          throw new KeywardenError(
            "ERR_AUDIT_CHAIN_BROKEN",
            `audit chain broken at seq 0: manifest-signature (line ${record.line})`,
            { details: { seq: 0, reason: "manifest-signature", line: record.line } },
          );
      }
      const head = await checkedHead(store, manifest.chainId, undefined);
      if (head.size !== 0)
        throw new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", "import target chain is not empty");
      verifier = new ChainVerifier({
        sha256: options.sha256,
        chainId: manifest.chainId,
        expected: { size: manifest.size, headHash: manifest.headHash },
        maxEntries: manifest.size,
      });
      continue;
    }
    const item = record.item;
    const failure = (verifier as ChainVerifier).push(item);
    if (failure) assertChainValid(failure);
    batch.push({
      seq: item.entry.seq,
      hash: item.hash as string,
      body: item.body,
      payload: item.payload ?? null,
    });
    if (batch.length >= batchSize) await flush();
  }
  if (!manifest || !verifier)
    throw new KeywardenError("ERR_AUDIT_MALFORMED_INPUT", "export has no manifest", {
      details: { line: 1 },
    });
  const result = verifier.finish();
  assertChainValid(result);
  await flush();
  return { chainId: manifest.chainId, size: result.size, headHash: result.headHash };
}
