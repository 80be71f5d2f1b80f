/**
 * Encoding of a credential set's fields inside the sealed blob (docs/vault-format.md §4): a
 * length-prefixed list, so values go from bytes to {@link Secret}s without passing through
 * JavaScript strings.
 *
 * ```
 * count (1 B) { nameLength (1 B) name (ASCII) valueLength (4 B BE) value }*count
 * ```
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { Secret } from "../../secret.js";

/** Field names: `apiKey`, `secret`, `passphrase`, `password`, `uid`, or any exchange extra. */
export const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** At most this many fields per credential set. */
export const MAX_FIELDS = 32;
/** At most this many bytes per field value. */
export const MAX_FIELD_BYTES = 16_384;

/**
 * A credential set as handed to {@link Vault.withCredentials} callbacks: every field a
 * {@link Secret}, wiped when the callback settles.
 */
export type CredentialSecrets = Readonly<Record<string, Secret>>;

/** Input to `store`/`rotate`: field values as strings or bytes (bytes are not retained). */
export type CredentialInput = Readonly<Record<string, string | Uint8Array | Secret>>;

function bad(message: string): never {
  throw new KeywardenError("ERR_INVALID_ARGUMENT", message);
}

const utf8 = new TextEncoder();

/**
 * Serialises a credential set; the caller zeroes the returned buffer. Each value is written
 * straight into the output (no intermediate copy of a secret to wipe).
 */
export function encodeFields(input: CredentialInput): Uint8Array {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    bad("credentials must be an object of field name to value");
  }
  const names = Object.keys(input).sort();
  if (names.length === 0 || names.length > MAX_FIELDS) {
    bad(`credentials must have 1-${MAX_FIELDS} fields`);
  }
  const values: (string | Uint8Array | Secret)[] = [];
  const lengths: number[] = [];
  let total = 1;
  for (const name of names) {
    if (!KNOWN_NAME_SET.has(name) && !FIELD_NAME.test(name))
      bad("credential field names must match [A-Za-z][A-Za-z0-9_]*");
    const v = input[name];
    let length: number;
    // Bytes before Secrets: a Secret is never a Uint8Array, and the byte case then skips the
    // brand lookup (issue 21).
    if (typeof v === "string") length = Buffer.byteLength(v, "utf8");
    else if (v instanceof Uint8Array) length = v.length;
    else if (Secret.isSecret(v)) length = v.byteLength;
    else bad("credential field values must be strings, bytes or Secrets");
    if (length > MAX_FIELD_BYTES)
      bad(`credential field values must be <= ${MAX_FIELD_BYTES} bytes`);
    values.push(v);
    lengths.push(length);
    total += 1 + name.length + 4 + length;
  }
  const out = new Uint8Array(total);
  try {
    out[0] = names.length;
    let at = 1;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const v = values[i] as string | Uint8Array | Secret;
      const length = lengths[i] as number;
      out[at++] = name.length;
      for (let j = 0; j < name.length; j++) out[at++] = name.charCodeAt(j);
      out[at++] = length >>> 24;
      out[at++] = (length >>> 16) & 0xff;
      out[at++] = (length >>> 8) & 0xff;
      out[at++] = length & 0xff;
      const field = out.subarray(at, at + length);
      if (typeof v === "string") {
        if (utf8.encodeInto(v, field).written !== length)
          bad("credential field could not be encoded");
      } else if (v instanceof Uint8Array) {
        if (v.length !== length) bad("credential field changed while being encoded");
        field.set(v);
      } else
        v.use((b) => {
          /* a Secret wiped or resized meanwhile must not leave a short field */
          if (b.length !== length) bad("credential field changed while being encoded");
          field.set(b);
        });
      at += length;
    }
    return out;
  } catch (err) {
    out.fill(0);
    throw err;
  }
}

/** The credential field names ccxt knows (`requiredCredentials`), as constant strings. */
const KNOWN_NAMES = [
  "apiKey",
  "secret",
  "uid",
  "password",
  "passphrase",
  "login",
  "twofa",
  "privateKey",
  "walletAddress",
  "token",
];

/** {@link KNOWN_NAMES} for a lookup without the pattern (each matches {@link FIELD_NAME}). */
const KNOWN_NAME_SET: ReadonlySet<string> = new Set(KNOWN_NAMES);

/**
 * The field name in `plain[at, at + len)`: one of {@link KNOWN_NAMES} when the bytes spell it
 * (no new string to build and look up; each matches {@link FIELD_NAME}), else the bytes as
 * Latin-1 text checked against {@link FIELD_NAME}; `undefined` when that check fails.
 */
function fieldName(plain: Uint8Array, at: number, len: number): string | undefined {
  next: for (const known of KNOWN_NAMES) {
    if (known.length !== len) continue;
    for (let j = 0; j < len; j++) if (plain[at + j] !== known.charCodeAt(j)) continue next;
    return known;
  }
  const name = String.fromCharCode(...plain.subarray(at, at + len));
  return FIELD_NAME.test(name) ? name : undefined;
}

/**
 * Parses the plaintext of a credential blob into Secrets, each owning a fresh copy. Only called on
 * authenticated plaintext; a malformed one (a writer bug) throws `ERR_VAULT_FORMAT`.
 */
export function decodeFields(plain: Uint8Array): CredentialSecrets {
  const out: Record<string, Secret> = Object.create(null);
  let ok = false;
  try {
    const count = plain[0] ?? 0;
    let at = 1;
    for (let i = 0; i < count; i++) {
      const len = plain[at++];
      if (len === undefined || at + len + 4 > plain.length) break;
      const name = fieldName(plain, at, len);
      at += len;
      const vlen =
        (((plain[at] as number) << 24) >>> 0) +
        ((plain[at + 1] as number) << 16) +
        ((plain[at + 2] as number) << 8) +
        (plain[at + 3] as number);
      at += 4;
      if (name === undefined || name in out || at + vlen > plain.length) break;
      out[name] = Secret.copyOf(plain.subarray(at, at + vlen));
      at += vlen;
      if (i === count - 1) ok = at === plain.length;
    }
  } finally {
    if (!ok) for (const name in out) out[name]?.wipe();
  }
  if (!ok) throw new KeywardenError("ERR_VAULT_FORMAT", "sealed credential is malformed");
  return Object.freeze(out);
}

/** Wipes every Secret of a credential set. */
export function wipeFields(secrets: CredentialSecrets): void {
  for (const name in secrets) secrets[name]?.wipe();
}
