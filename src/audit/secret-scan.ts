import { KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";

/** Field names (lowercased, `_`/`-` removed) that hold credentials wherever they appear. */
const CREDENTIAL_FIELDS = new Set([
  "token",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "bearer",
  "authorization",
  "apikey",
  "credential",
  "credentials",
  "cookie",
  "seed",
  "otp",
  "totp",
]);
/** Substrings that make any field name a credential field. */
const CREDENTIAL_PARTS = ["secret", "password", "passphrase", "passwd", "privatekey", "mnemonic"];
const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function isCredentialField(name: string): boolean {
  const n = name.toLowerCase().replace(/[_\-.\s]/g, "");
  if (CREDENTIAL_FIELDS.has(n)) return true;
  return CREDENTIAL_PARTS.some((part) => n.includes(part));
}

function reject(path: string): never {
  // The message names the path (field names only), never the value.
  throw new KeywardenError(
    "ERR_AUDIT_SECRET_IN_PAYLOAD",
    `audit payload must not contain secrets or credential fields (at ${path})`,
    { details: { path } },
  );
}

/**
 * Throws when `value` contains a {@link Secret}, a credential-looking field name (any value), or a
 * PEM private key, at any depth. Runs before schema validation, so a lenient host schema cannot
 * let one through.
 *
 * @throws {KeywardenError} `ERR_AUDIT_SECRET_IN_PAYLOAD` naming the path (never the value).
 */
export function assertNoSecrets(value: unknown, path = "$", depth = 0): void {
  /* Precondition: an audit payload never contains a Secret or a credential field. */
  if (Secret.isSecret(value)) reject(path);
  if (depth > 64) return; // canonicalization rejects deeper values anyway
  if (typeof value === "string") {
    if (PEM_PRIVATE.test(value)) reject(path);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertNoSecrets(value[i], `${path}[${i}]`, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    const child = `${path}.${key}`;
    if (isCredentialField(key)) reject(child);
    assertNoSecrets((value as Record<string, unknown>)[key], child, depth + 1);
  }
}
