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

/** Serialises a credential set; the caller zeroes the returned buffer. */
export function encodeFields(input: CredentialInput): Uint8Array {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    bad("credentials must be an object of field name to value");
  }
  const names = Object.keys(input).sort();
  if (names.length === 0 || names.length > MAX_FIELDS) {
    bad(`credentials must have 1-${MAX_FIELDS} fields`);
  }
  const values: Uint8Array[] = [];
  try {
    let total = 1;
    for (const name of names) {
      if (!FIELD_NAME.test(name)) bad("credential field names must match [A-Za-z][A-Za-z0-9_]*");
      const v = input[name];
      let bytes: Uint8Array;
      if (typeof v === "string") bytes = new TextEncoder().encode(v);
      else if (Secret.isSecret(v)) bytes = v.use((b) => new Uint8Array(b));
      else if (v instanceof Uint8Array) bytes = new Uint8Array(v);
      else bad("credential field values must be strings, bytes or Secrets");
      values.push(bytes);
      if (bytes.length > MAX_FIELD_BYTES)
        bad(`credential field values must be <= ${MAX_FIELD_BYTES} bytes`);
      total += 1 + name.length + 4 + bytes.length;
    }
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    out[0] = names.length;
    let at = 1;
    names.forEach((name, i) => {
      const v = values[i] as Uint8Array;
      out[at++] = name.length;
      for (let j = 0; j < name.length; j++) out[at++] = name.charCodeAt(j);
      view.setUint32(at, v.length);
      at += 4;
      out.set(v, at);
      at += v.length;
    });
    return out;
  } finally {
    for (const v of values) v.fill(0);
  }
}

/**
 * Parses the plaintext of a credential blob into Secrets, each owning a fresh copy. Only called on
 * authenticated plaintext; a malformed one (a writer bug) throws `ERR_VAULT_FORMAT`.
 */
export function decodeFields(plain: Uint8Array): CredentialSecrets {
  const fail = () => new KeywardenError("ERR_VAULT_FORMAT", "sealed credential is malformed");
  const out: Record<string, Secret> = Object.create(null);
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  try {
    const count = plain[0] ?? 0;
    let at = 1;
    for (let i = 0; i < count; i++) {
      const len = plain[at++];
      if (len === undefined || at + len + 4 > plain.length) throw fail();
      const name = String.fromCharCode(...plain.subarray(at, at + len));
      at += len;
      const vlen = view.getUint32(at);
      at += 4;
      if (!FIELD_NAME.test(name) || name in out || at + vlen > plain.length) throw fail();
      out[name] = Secret.copyOf(plain.subarray(at, at + vlen));
      at += vlen;
    }
    if (at !== plain.length || count === 0) throw fail();
    return Object.freeze(out);
  } catch (err) {
    for (const s of Object.values(out)) s.wipe();
    throw err instanceof KeywardenError ? err : fail();
  }
}

/** Wipes every Secret of a credential set. */
export function wipeFields(secrets: CredentialSecrets): void {
  for (const s of Object.values(secrets)) s.wipe();
}
