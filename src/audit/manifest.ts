/**
 * The export manifest: the first record of every export, naming the chain and the head the
 * export was taken at. It deliberately holds no unverifiable metadata (no export time): every
 * byte of an export is checked by the verifier. The transparency layer adds a signed checkpoint to it (extra fields are
 * preserved and ignored by this verifier).
 *
 * @packageDocumentation
 */
import { canonicalize, type JsonValue } from "../canonical.js";
import { isChainId } from "./entry.js";
import { isHexHash } from "./hex.js";
import type { HexHash } from "./store.js";

/** Value of the manifest's `format` field. */
export const EXPORT_FORMAT = "keywarden.audit.export";

/** The manifest of an export. */
export interface ExportManifest {
  readonly v: 1;
  readonly format: typeof EXPORT_FORMAT;
  readonly chainId: string;
  /** Number of entries in the export. */
  readonly size: number;
  /** Hash of the last entry, or `null` when `size` is 0. */
  readonly headHash: HexHash | null;
  /** Further fields (e.g. a signed checkpoint added by the transparency layer). */
  readonly [extra: string]: JsonValue | undefined;
}

/** Why `value` is not a manifest, or `undefined` when it is. */
export function manifestProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "manifest is not an object";
  const m = value as Record<string, unknown>;
  if (m.v !== 1) return "unsupported manifest version";
  if (m.format !== EXPORT_FORMAT) return "not a keywarden audit export";
  if (!isChainId(m.chainId)) return "invalid manifest chainId";
  if (typeof m.size !== "number" || !Number.isSafeInteger(m.size) || m.size < 0)
    return "invalid manifest size";
  if (m.size === 0 ? m.headHash !== null : !isHexHash(m.headHash))
    return "invalid manifest headHash";
  return undefined;
}

/** Canonical JSON text of a manifest. */
export function encodeManifest(manifest: ExportManifest): string {
  return canonicalize(manifest);
}
