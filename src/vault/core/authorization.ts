/**
 * Which identities may do what in the vault, and the KMS authorization each becomes.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { type Identity, isIdentity, isIdentityLive } from "../../guard/identity.js";
import type { KmsAuthorization, KmsContext } from "../kms/index.js";

/** Fixed message of every authorization failure. */
export const UNAUTHORIZED_MESSAGE = "not authorized";

export function unauthorized(): KeywardenError {
  return new KeywardenError("ERR_VAULT_UNAUTHORIZED", UNAUTHORIZED_MESSAGE);
}

/**
 * Returns `identity` if it is a keywarden-minted, live identity of one of `kinds`.
 *
 * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` otherwise (forged, expired, wrong kind).
 */
export function requireKind(
  identity: unknown,
  kinds: readonly Identity["kind"][],
  now: number,
): Identity {
  /* Precondition: only a live keywarden-minted identity of an accepted kind is authorized. */
  if (!isIdentity(identity) || !isIdentityLive(identity, now) || !kinds.includes(identity.kind)) {
    throw unauthorized();
  }
  return identity;
}

/** The KMS authorization of a verified session or grant identity. */
export function kmsAuthorization(identity: Identity): KmsAuthorization {
  if (identity.kind === "session") {
    if (!identity.token) throw unauthorized();
    return {
      kind: "session",
      userId: identity.userId,
      sessionId: identity.id,
      token: identity.token,
      expiresAt: identity.expiresAt,
    };
  }
  if (identity.kind === "grant" && identity.expiresAt !== undefined) {
    return {
      kind: "grant",
      userId: identity.userId,
      grantId: identity.id,
      expiresAt: identity.expiresAt,
    };
  }
  throw unauthorized();
}

/** The context a user's primary data key is wrapped under. */
export function userKeyContext(userId: string): KmsContext {
  return { userId, purpose: "exchange-api-secret" };
}

/** The context of a grant's copy of the data key. */
export function grantKeyContext(userId: string, grantId: string): KmsContext {
  return { userId, purpose: "trading-grant", grantId };
}
