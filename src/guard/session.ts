import { createHash } from "node:crypto";
import {
  type CryptoKey,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  type KeyObject,
} from "jose";
import { z } from "zod";
import { KeywardenError } from "../errors.js";
import { Secret } from "../secret.js";
import { assertUserId, type Identity, mintIdentity } from "./identity.js";

/** Asymmetric JWS algorithms accepted for sessions. Shared-secret (HS*) algorithms are refused. */
export const SESSION_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

/** One of {@link SESSION_ALGORITHMS}. */
export type SessionAlgorithm = (typeof SESSION_ALGORITHMS)[number];

/** A public key, or a key-resolving function such as jose's `createRemoteJWKSet`/`createLocalJWKSet`. */
export type SessionKey =
  | CryptoKey
  | KeyObject
  | JWK
  | ((
      header: import("jose").JWTHeaderParameters,
      token: import("jose").FlattenedJWSInput,
    ) => Promise<CryptoKey | KeyObject>);

/** Options of {@link createSessionVerifier}. */
export interface SessionVerifierOptions {
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud` (one of). */
  audience: string | readonly string[];
  /** Allowed algorithms; asymmetric only. */
  algorithms: readonly SessionAlgorithm[];
  /** The identity provider's public key or key set. */
  key: SessionKey;
  /** Sessions issued longer ago than this (by `iat`) are refused even before `exp`. Default 12 h. */
  maxAgeSeconds?: number;
  /** Clock skew tolerated on `exp`/`nbf`/`iat`. Default 30 s. */
  clockToleranceSeconds?: number;
  /** Claim holding the user id. Default `sub`. */
  userIdClaim?: string;
}

const optionsSchema = z.object({
  issuer: z.string().min(1),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  algorithms: z.array(z.enum(SESSION_ALGORITHMS)).min(1),
  maxAgeSeconds: z
    .number()
    .int()
    .positive()
    .max(30 * 24 * 3600)
    .optional(),
  clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
  userIdClaim: z.string().min(1).optional(),
});

/** Verifies users' session tokens into identities. */
export interface SessionVerifier {
  /**
   * Verifies a compact JWS session token and returns the user's `session` identity, which carries
   * the token as a {@link Secret} for providers that must present it (AWS STS).
   *
   * @throws {KeywardenError} `ERR_GUARD_SESSION_INVALID` with a fixed message for every failure.
   */
  verify(token: string): Promise<Identity>;
}

function isSymmetricKey(key: unknown): boolean {
  if (key instanceof Uint8Array) return true;
  const k = key as { type?: unknown; kty?: unknown };
  return k?.type === "secret" || k?.kty === "oct";
}

/**
 * Creates a session verifier pinned to asymmetric algorithms, an issuer, an audience, an expiry
 * and a maximum age. A shared-secret key is refused: whoever holds it could mint sessions.
 *
 * @example
 * ```ts
 * import { createLocalJWKSet } from "jose";
 * const sessions = createSessionVerifier({
 *   issuer: "https://auth.example.com/", audience: "trading-api",
 *   algorithms: ["ES256"], key: createLocalJWKSet(jwks),
 * });
 * const who = await sessions.verify(bearerToken);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for invalid options or a symmetric key.
 */
export function createSessionVerifier(options: SessionVerifierOptions): SessionVerifier {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `invalid session verifier options: ${parsed.error.issues[0]?.message}`,
    );
  }
  if (isSymmetricKey(options.key)) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "session keys must be asymmetric public keys; HMAC keys are refused",
    );
  }
  const maxAge = options.maxAgeSeconds ?? 12 * 3600;
  const tolerance = options.clockToleranceSeconds ?? 30;
  const claim = options.userIdClaim ?? "sub";
  const key = options.key;
  const audience = typeof options.audience === "string" ? options.audience : [...options.audience];
  const invalid = (cause?: unknown) =>
    new KeywardenError("ERR_GUARD_SESSION_INVALID", "session token is not valid", {
      // Only jose's error code travels, never the token or its claims.
      ...(cause instanceof joseErrors.JOSEError ? { details: { reason: cause.code } } : {}),
    });

  return {
    async verify(token: string): Promise<Identity> {
      if (typeof token !== "string" || token.length === 0 || token.length > 16_384) throw invalid();
      let payload: JWTPayload;
      try {
        const verifyKey = key as Parameters<typeof jwtVerify>[1];
        ({ payload } = await jwtVerify(token, verifyKey, {
          issuer: options.issuer,
          audience,
          algorithms: [...options.algorithms],
          maxTokenAge: maxAge,
          clockTolerance: tolerance,
          requiredClaims: ["exp", "iat", claim],
        }));
      } catch (err) {
        throw invalid(err);
      }
      const userId = payload[claim];
      try {
        assertUserId(userId);
      } catch {
        throw invalid();
      }
      const exp = (payload.exp as number) * 1000;
      const sid =
        typeof payload.sid === "string"
          ? payload.sid
          : typeof payload.jti === "string"
            ? payload.jti
            : // No session id claim: derive one from the verified token itself, which is unique
              // per session (two users' tokens issued in the same second must never share an id).
              `tok:${createHash("sha256").update(token).digest("hex").slice(0, 32)}`;
      return mintIdentity({
        kind: "session",
        userId,
        id: sid.slice(0, 256),
        expiresAt: Math.min(exp, ((payload.iat as number) + maxAge) * 1000),
        token: Secret.fromString(token),
      });
    },
  };
}
