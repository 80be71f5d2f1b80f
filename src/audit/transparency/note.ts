/**
 * C2SP signed-note (`c2sp.org/signed-note`): parsing, signing, verifier keys and verification that
 * follows the spec rather than the shortcuts other verifiers took — the text ends at the LAST blank
 * line, signatures by unknown keys are ignored, a failing signature by a known key rejects the
 * whole note, and a note no known key verifies is rejected.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { KeywardenError } from "../../errors.js";
import {
  concat,
  fromBase64,
  hasControlCharacter,
  sha256,
  toBase64,
  utf8,
} from "../primitives/portable.js";

/** Signature type byte of plain Ed25519 note signatures. */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type byte of timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;

/** Largest note accepted, in UTF-16 code units (a checkpoint with 100 signatures is ~15 kB). */
export const MAX_NOTE_LENGTH = 1 << 20;
/** Most signature lines accepted (the spec requires at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

/** One signature line: the key name, the 32-bit key ID, and the signature bytes after the ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A parsed (not yet verified) note. `text` includes its final newline. */
export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/**
 * A key a verifier trusts: name, key ID, and a check of a signature over the note text. The check
 * receives the whole text because some types (cosignatures) sign a message derived from it.
 */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
  verify(text: string, signature: Uint8Array): boolean;
}

/** Produces one signature line for a note text. */
export interface NoteSigner {
  readonly keyName: string;
  readonly keyId: number;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

const MALFORMED = "signed note is malformed";

function malformed(): KeywardenError {
  return new KeywardenError("ERR_AUDIT_CHECKPOINT_INVALID", MALFORMED);
}

/** True for a valid key name: non-empty, no Unicode space, no `+`, no control character. @internal */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === "string" &&
    name.length > 0 &&
    !/[\s+\u0085\u180e\u200b]/u.test(name) &&
    !hasControlCharacter(name, false) &&
    name.isWellFormed()
  );
}

/**
 * Key ID per signed-note: `SHA-256(name || 0x0A || type || publicKey)[:4]` read big-endian.
 *
 * @example
 * ```ts
 * computeKeyId("example.com/log", SIG_TYPE_ED25519, publicKey); // e.g. 0x530d903a
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid name.
 */
export function computeKeyId(name: string, type: number, publicKey: Uint8Array): number {
  if (!isValidKeyName(name)) throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid key name");
  const h = sha256(concat(utf8(name), Uint8Array.of(0x0a, type), publicKey));
  return (
    (((h[0] as number) << 24) |
      ((h[1] as number) << 16) |
      ((h[2] as number) << 8) |
      (h[3] as number)) >>>
    0
  );
}

/** The 8-digit lowercase hex form of a key ID. @internal */
export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

/**
 * The verifier-key string `<name>+<hex key ID>+<base64(type || publicKey)>`.
 *
 * @example
 * ```ts
 * formatVerifierKey("example.com/log", SIG_TYPE_ED25519, publicKey); // "example.com/log+1a2b3c4d+AUk…"
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid name.
 */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  const id = computeKeyId(name, type, publicKey);
  return `${name}+${keyIdHex(id)}+${toBase64(concat(Uint8Array.of(type), publicKey))}`;
}

function verifyEd25519(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * A verifier for plain Ed25519 note signatures (type 0x01).
 *
 * @example
 * ```ts
 * const v = ed25519NoteVerifier("example.com/log", publicKey);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an invalid name or a key that is not 32 bytes.
 */
export function ed25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "Ed25519 public key must be 32 bytes");
  }
  const key = new Uint8Array(publicKey);
  return {
    name,
    keyId: computeKeyId(name, SIG_TYPE_ED25519, key),
    type: SIG_TYPE_ED25519,
    publicKey: key,
    verify: (text, signature) => verifyEd25519(utf8(text), signature, key),
  };
}

/**
 * Decodes a verifier key into its name, key ID, type byte and public key, checking the key ID.
 *
 * @example
 * ```ts
 * decodeVerifierKey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").type; // 1
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when malformed or the key ID does not match.
 */
export function decodeVerifierKey(vkey: string): {
  name: string;
  keyId: number;
  type: number;
  publicKey: Uint8Array;
} {
  const bad = () => new KeywardenError("ERR_INVALID_ARGUMENT", "invalid verifier key");
  if (typeof vkey !== "string" || vkey.length > 8192) throw bad();
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (first <= 0 || second < 0) throw bad();
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const material = fromBase64(vkey.slice(second + 1));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex) || !material || material.length < 2) {
    throw bad();
  }
  const type = material[0] as number;
  const publicKey = material.slice(1);
  const keyId = Number.parseInt(idHex, 16);
  /* Precondition: a verifier key whose key ID is not the hash of its name, type and key is rejected. */
  if (computeKeyId(name, type, publicKey) !== keyId) throw bad();
  return { name, keyId, type, publicKey };
}

/**
 * Parses a verifier key of type 0x01 (Ed25519 note signatures) into a {@link NoteVerifier}.
 * Cosigner keys (type 0x04) are parsed by `cosignatureVerifier` in `witness.ts`.
 *
 * @example
 * ```ts
 * const v = parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when malformed, of another type, or its key ID does not match.
 */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const k = decodeVerifierKey(vkey);
  if (k.type !== SIG_TYPE_ED25519 || k.publicKey.length !== 32) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "verifier key is not an Ed25519 note key");
  }
  return ed25519NoteVerifier(k.name, k.publicKey);
}

/**
 * Parses a signed note without verifying it. The text is everything up to and including the
 * newline before the LAST blank line; every line after it must be a signature line.
 *
 * @example
 * ```ts
 * const { text, signatures } = parseNote(noteText);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` when malformed (fixed message).
 */
export function parseNote(note: string): ParsedNote {
  if (typeof note !== "string" || note.length > MAX_NOTE_LENGTH || !note.isWellFormed()) {
    throw malformed();
  }
  /* Precondition: a note with an ASCII control character other than newline is rejected. */
  if (hasControlCharacter(note)) throw malformed();
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed();
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) throw malformed();
  const lines = block.slice(0, -1).split("\n");
  if (lines.length === 0 || lines.length > MAX_NOTE_SIGNATURES) throw malformed();
  const signatures = lines.map((line) => {
    const m = /^\u2014 ([^ ]+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw malformed();
    const name = m[1] as string;
    const raw = fromBase64(m[2] as string);
    if (!isValidKeyName(name) || !raw || raw.length < 5) throw malformed();
    const keyId = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0);
    return { name, keyId, signature: raw.slice(4) };
  });
  return { text, signatures };
}

/**
 * Verifies a signed note against trusted keys and returns its text and the verified signatures.
 * Signatures whose (name, key ID) match no trusted key are ignored; a signature by a trusted key
 * that fails rejects the note; a note no trusted key verifies is rejected.
 *
 * @example
 * ```ts
 * const { text } = openNote(noteText, [parseVerifierKey(vkey)]);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_CHECKPOINT_INVALID` (fixed message) when malformed or not verified.
 */
export function openNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): { text: string; verified: NoteSignature[] } {
  const parsed = parseNote(note);
  const verified: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const matching = verifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (matching.length === 0) continue;
    /* Precondition: a signature by a known key that fails to verify rejects the whole note. */
    if (!matching.every((v) => v.verify(parsed.text, sig.signature))) {
      throw new KeywardenError("ERR_AUDIT_CHECKPOINT_INVALID", "signed note verification failed");
    }
    verified.push(sig);
  }
  /* Precondition: a note that no known key verifies is rejected. */
  if (verified.length === 0) {
    throw new KeywardenError("ERR_AUDIT_CHECKPOINT_INVALID", "signed note verification failed");
  }
  return { text: parsed.text, verified };
}

/** One signature line for `text` (`— <name> <base64(keyId || sig)>\n`). @internal */
export async function signatureLine(text: string, signer: NoteSigner): Promise<string> {
  const sig = await signer.sign(utf8(text));
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, signer.keyId >>> 0);
  return `\u2014 ${signer.keyName} ${toBase64(concat(id, sig))}\n`;
}

/**
 * Signs `text` (which must end in a newline and contain no control characters but newlines) with
 * each signer and returns the signed note.
 *
 * @example
 * ```ts
 * const note = await signNote("example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", [signer]);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the text or a key name is invalid.
 */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  if (
    typeof text !== "string" ||
    !text.endsWith("\n") ||
    !text.isWellFormed() ||
    hasControlCharacter(text) ||
    signers.length === 0
  ) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "note text must end in a newline and hold no control characters",
    );
  }
  let out = `${text}\n`;
  for (const s of signers) {
    if (!isValidKeyName(s.keyName))
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid key name");
    out += await signatureLine(text, s);
  }
  return out;
}
