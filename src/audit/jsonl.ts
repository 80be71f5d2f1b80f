/**
 * JSON Lines export layout (pure string code). Line 1: `{"manifest":{…}}`; then one line per
 * entry: `{"entry":<entry>,"hash":"<hex>","payload":<opening>|null}`. Every line is the RFC 8785
 * canonical form of its object, so the entry's bytes inside the line are exactly the hashed bytes.
 *
 * @packageDocumentation
 */
import { type AuditEntry, encodeValidatedEntry, entryProblem } from "./entry.js";
import { canonicalJson } from "./fast-json.js";
import { isHexHash } from "./hex.js";
import { malformedInput } from "./line-reader.js";
import { type ExportManifest, encodeManifest, manifestProblem } from "./manifest.js";
import type { StoredEntry } from "./store.js";
import type { VerifyItem } from "./verify.js";

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

/**
 * Decodes one export line.
 *
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` naming the line.
 */
export function decodeJsonlLine(text: string, line: number): ExportRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return malformedInput(line, "not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    return malformedInput(line, "not a JSON object");
  const o = v as Record<string, unknown>;
  if ("manifest" in o) {
    const problem = manifestProblem(o.manifest);
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
  if (Object.keys(o).length !== 3 || !("payload" in o))
    malformedInput(line, "entry line must have exactly entry, hash, payload");
  const problem = entryProblem(o.entry);
  if (problem !== undefined) malformedInput(line, problem);
  if (!isHexHash(o.hash)) malformedInput(line, "hash is not 64 lowercase hex characters");
  const entry = o.entry as AuditEntry;
  const body = encodeValidatedEntry(entry); // entryProblem() passed above
  let payload: string | null = null;
  if (o.payload !== null) {
    try {
      payload = canonicalJson(o.payload);
    } catch {
      return malformedInput(line, "payload is not valid canonical JSON");
    }
  }
  if (`{"entry":${body},"hash":"${o.hash}","payload":${payload ?? "null"}}` !== text)
    malformedInput(line, "line is not in canonical form");
  return { kind: "entry", item: { body, hash: o.hash, payload, entry, line } };
}
