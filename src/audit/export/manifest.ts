/**
 * The export manifest: the first record of every export, naming the chain and the head the
 * export was taken at. It deliberately holds no unverifiable metadata (no export time): every
 * byte of an export is checked by the verifier. The transparency layer adds a signed checkpoint to it (extra fields are
 * preserved and ignored by this verifier).
 *
 * A manifest may be signed (format §6.1): `origin` names the log, and `signature` holds the
 * signature lines of a C2SP signed note whose text is {@link manifestSignedText} — every other
 * member of the manifest, so the signature never covers itself.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { canonicalize, type JsonValue } from "../../canonical.js";
import { KeywardenError } from "../../errors.js";
import { isChainId } from "../core/portable.js";
import { isHexHash } from "../primitives/portable.js";
import type { HexHash } from "../storage/index.js";
import {
  chainOrigin,
  isValidOrigin,
  type NoteSigner,
  type NoteVerifier,
  openNote,
  signNote,
} from "../transparency/portable.js";

/** Value of the manifest's `format` field. */
export const EXPORT_FORMAT = "keywarden.audit.export";

/** First line of the signed text of a manifest (domain separation from checkpoints and receipts). */
export const MANIFEST_SIGNATURE_HEADER = "keywarden.audit.export.manifest/v1";

/** Manifest members set by the exporter itself; annotations cannot set them. */
export const RESERVED_MANIFEST_FIELDS = [
  "v",
  "format",
  "chainId",
  "size",
  "headHash",
  "origin",
  "signature",
] as const;

/** The manifest of an export. */
export interface ExportManifest {
  readonly v: 1;
  readonly format: typeof EXPORT_FORMAT;
  readonly chainId: string;
  /** Number of entries in the export. */
  readonly size: number;
  /** Hash of the last entry, or `null` when `size` is 0. */
  readonly headHash: HexHash | null;
  /** Signed manifests: the log's origin, `<logName>/keywarden/<chainId>`. */
  readonly origin?: string | undefined;
  /** Signed manifests: the signature lines (`— <name> <base64>` + LF, one or more) of the signed note. */
  readonly signature?: string | undefined;
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

/**
 * The text a manifest signature signs: `keywarden.audit.export.manifest/v1` LF, then the JCS
 * text of the manifest without its `signature` member, LF.
 *
 * @example
 * ```ts
 * manifestSignedText(manifest); // 'keywarden.audit.export.manifest/v1\n{"chainId":"user:alice",…}\n'
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the manifest is not canonicalizable.
 */
export function manifestSignedText(manifest: ExportManifest): string {
  const { signature: _signature, ...signed } = manifest;
  return `${MANIFEST_SIGNATURE_HEADER}\n${canonicalize(signed as JsonValue)}\n`;
}

/**
 * Signs a manifest: sets `origin` to `<logName>/keywarden/<chainId>` and `signature` to the
 * signature line of `signer` over {@link manifestSignedText}.
 *
 * @example
 * ```ts
 * const signed = await signManifest(manifest, signer, "audit.example.com");
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the manifest already has `origin` or
 * `signature`, the log name does not form a valid origin, or the text cannot be signed; signer errors.
 */
export async function signManifest(
  manifest: ExportManifest,
  signer: NoteSigner,
  logName: string,
): Promise<ExportManifest> {
  if (manifest.origin !== undefined || manifest.signature !== undefined)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "manifest is already signed");
  const origin = chainOrigin(logName, manifest.chainId);
  const unsigned: ExportManifest = { ...manifest, origin };
  const text = manifestSignedText(unsigned);
  const note = await signNote(text, [signer]);
  return { ...unsigned, signature: note.slice(text.length + 1) };
}

const SIGNATURE_LINES = /^(?:\u2014 [^ \n]+ [A-Za-z0-9+/=]+\n)+$/;

/** What {@link manifestSignatureProblem} accepts. */
export interface ManifestSignaturePolicy {
  /** Trusted keys; signatures by other keys are ignored. */
  readonly keys: readonly NoteVerifier[];
  /** Accept a manifest without `signature` (e.g. when a checkpoint authenticates the entries). */
  readonly allowUnsigned?: boolean | undefined;
}

/**
 * Why a manifest's signature is not acceptable under `policy`, or `undefined` when it is. Follows
 * the signed-note rules: unknown keys are ignored, a failing signature by a known key rejects,
 * and a signature no known key verifies rejects. Messages are fixed and reveal nothing else.
 *
 * @example
 * ```ts
 * manifestSignatureProblem(manifest, { keys: [parseVerifierKey(vkey)] }); // undefined when valid
 * ```
 * @throws never.
 */
export function manifestSignatureProblem(
  manifest: ExportManifest,
  policy: ManifestSignaturePolicy,
): string | undefined {
  const { signature, origin } = manifest;
  /* Precondition: with verifier keys given, an unsigned manifest is rejected unless unsigned ones are explicitly allowed. */
  if (signature === undefined && origin === undefined)
    return policy.allowUnsigned === true ? undefined : "manifest is not signed";
  if (typeof signature !== "string" || !SIGNATURE_LINES.test(signature))
    return "manifest signature is malformed";
  /* Precondition: a signed manifest's origin names the manifest's own chain. */
  if (!isValidOrigin(origin) || !origin.endsWith(`/keywarden/${manifest.chainId}`))
    return "manifest origin does not name its chain";
  try {
    openNote(`${manifestSignedText(manifest)}\n${signature}`, policy.keys);
  } catch {
    return "manifest signature verification failed";
  }
  return undefined;
}
