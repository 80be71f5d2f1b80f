import { KeywardenError } from "../../errors.js";
import { Secret } from "../../secret.js";

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

/** Verdicts for field names seen before: payloads repeat a small vocabulary of names. */
const verdicts = new Map<string, boolean>();
const MAX_REMEMBERED = 4096;

function isCredentialField(name: string): boolean {
  const known = verdicts.get(name);
  if (known !== undefined) return known;
  const n = name.toLowerCase().replace(/[_\-.\s]/g, "");
  const verdict = CREDENTIAL_FIELDS.has(n) || CREDENTIAL_PARTS.some((part) => n.includes(part));
  if (name.length <= 64 && verdicts.size < MAX_REMEMBERED) verdicts.set(name, verdict);
  return verdict;
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
export function assertNoSecrets(value: unknown): void {
  const at = secretAt(value, 0);
  if (at !== undefined) reject(`$${at.reverse().join("")}`);
}

/** The path (innermost segment first) of the first secret in `value`, or `undefined`. */
function secretAt(value: unknown, depth: number): string[] | undefined {
  /* Precondition: an audit payload never contains a Secret or a credential field. */
  if (Secret.isSecret(value)) return [];
  if (depth > 64) return undefined; // canonicalization rejects deeper values anyway
  if (typeof value === "string") return PEM_PRIVATE.test(value) ? [] : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = secretAt(value[i], depth + 1);
      if (at !== undefined) {
        at.push(`[${i}]`);
        return at;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const at = isCredentialField(key)
      ? []
      : secretAt((value as Record<string, unknown>)[key], depth + 1);
    if (at !== undefined) {
      at.push(`.${key}`);
      return at;
    }
  }
  return undefined;
}
