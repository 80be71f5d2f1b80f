/**
 * The contract between the vault and a key-management service. A provider only ever wraps and
 * unwraps 32-byte data keys; it never sees credentials. Built-in providers: {@link LocalKms}
 * (`keywarden/vault`) and `AwsKms` (`keywarden/vault/aws-kms`).
 *
 * @packageDocumentation
 */
import type { Secret } from "../../secret.js";

/** What a data key is for; part of the encryption context and of the key policy. */
export type KmsPurpose = "exchange-api-secret" | "trading-grant";

/**
 * The encryption context of a wrapped data key. It is authenticated with the wrapped key (and by
 * AWS KMS checked against the key policy): a key wrapped for one user or grant does not unwrap
 * under another's context.
 */
export interface KmsContext {
  readonly userId: string;
  readonly purpose: KmsPurpose;
  /** Present exactly when `purpose` is `"trading-grant"`. */
  readonly grantId?: string;
}

/**
 * Whose authority a KMS call runs under. The vault builds it from a verified identity; providers
 * that enforce authorization themselves (AWS) present it to the KMS: a session's JWT through STS
 * AssumeRoleWithWebIdentity, or the grant runner's role for a grant.
 */
export type KmsAuthorization =
  | {
      readonly kind: "session";
      readonly userId: string;
      /** Stable id of the session (for per-session client caches). */
      readonly sessionId: string;
      /** The user's verified JWT. */
      readonly token: Secret;
      /** Epoch ms when the session ends. */
      readonly expiresAt: number | undefined;
    }
  | {
      readonly kind: "grant";
      readonly userId: string;
      readonly grantId: string;
      readonly expiresAt: number;
    };

/** A freshly generated data key: the plaintext (wipe it) and the wrapped form (store it). */
export interface GeneratedDataKey {
  readonly plaintext: Secret;
  readonly wrapped: Uint8Array;
  /** Identifier of the master key that wrapped it (LocalKms fingerprint, AWS key ARN). */
  readonly keyId: string;
}

/**
 * A key-management service the vault wraps data keys with.
 *
 * Every method must fail closed: an error, never a weaker fallback. Error codes: `ERR_KMS_*` for
 * service failures, and `ERR_VAULT_DECRYPT_FAILED` or `ERR_KMS_INVALID_CIPHERTEXT` when a wrapped key
 * does not authenticate under the given context.
 */
export interface KmsProvider {
  /** Short name recorded with each wrapped key, e.g. `"local"` or `"aws"`. */
  readonly name: string;

  /**
   * Generates a fresh 32-byte data key wrapped under the current master key and `context`.
   */
  generateDataKey(context: KmsContext, auth: KmsAuthorization): Promise<GeneratedDataKey>;

  /**
   * Unwraps a data key. The caller owns the returned secret and wipes it.
   */
  decrypt(wrapped: Uint8Array, context: KmsContext, auth: KmsAuthorization): Promise<Secret>;

  /**
   * Re-wraps a data key from `from` to `to` (another context, and the current master key) without
   * returning it to the caller. Used to re-wrap under a new master key and to create grant copies.
   */
  reEncrypt(
    wrapped: Uint8Array,
    from: KmsContext,
    to: KmsContext,
    auth: KmsAuthorization,
  ): Promise<{ readonly wrapped: Uint8Array; readonly keyId: string }>;
}

/** The encryption context as the string map sent to a KMS. */
export function encryptionContextMap(context: KmsContext): Record<string, string> {
  return context.grantId === undefined
    ? { userId: context.userId, purpose: context.purpose }
    : { userId: context.userId, purpose: context.purpose, grantId: context.grantId };
}
