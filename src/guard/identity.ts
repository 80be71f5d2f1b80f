import { KeywardenError } from "../errors.js";
import type { Identity, IdentityInit } from "./identity-types.js";
import { guardRuntime } from "./runtime.js";

export type { Identity, IdentityInit, IdentityKind } from "./identity-types.js";

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/**
 * Validates a user id: 1–128 characters of `[A-Za-z0-9._:@-]`, starting alphanumeric.
 *
 * @example
 * ```ts
 * assertUserId(req.params.userId);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for anything else.
 */
export function assertUserId(userId: unknown, what = "userId"): asserts userId is string {
  if (typeof userId !== "string" || !USER_ID.test(userId)) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `${what} must be 1-128 characters of [A-Za-z0-9._:@-]`,
    );
  }
}

/**
 * Creates a branded identity. Internal to keywarden: the public ways in are the session verifier,
 * {@link hostIdentity}, {@link operatorIdentity} and the vault's grants.
 *
 * @internal
 */
export function mintIdentity(init: IdentityInit): Identity {
  assertUserId(init.userId);
  if (typeof init.id !== "string" || init.id.length === 0 || init.id.length > 256) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "identity id must be a non-empty string");
  }
  const identity: Identity = Object.freeze({
    kind: init.kind,
    userId: init.userId,
    id: init.id,
    expiresAt: init.expiresAt,
    token: init.token,
    scope: init.scope
      ? Object.freeze({
          exchanges: Object.freeze([...init.scope.exchanges]),
          actions: Object.freeze([...init.scope.actions]),
        })
      : undefined,
  });
  guardRuntime().identities.add(identity);
  return identity;
}

/**
 * True when `value` is an identity minted by keywarden (in any copy loaded in the process). An
 * object literal with the same fields, a clone or a JSON round-trip is not.
 *
 * @example
 * ```ts
 * if (!isIdentity(who)) throw new Error("not a keywarden identity");
 * ```
 * @throws {KeywardenError} `ERR_GUARD_CONTEXT_TAMPERED` if the guard runtime was tampered with.
 */
export function isIdentity(value: unknown): value is Identity {
  return typeof value === "object" && value !== null && guardRuntime().identities.has(value);
}

/**
 * True when the identity has not expired at `now` (epoch ms).
 *
 * @example
 * ```ts
 * if (!isIdentityLive(who)) return reply.status(401).send();
 * ```
 * @throws never
 */
export function isIdentityLive(identity: Identity, now = Date.now()): boolean {
  return identity.expiresAt === undefined || now < identity.expiresAt;
}

/**
 * Throws unless `value` is a live, keywarden-minted identity.
 *
 * @example
 * ```ts
 * assertIdentity(who); // before using `who` outside runAs
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED` for anything else (same message for forged,
 * expired or missing identities).
 */
export function assertIdentity(value: unknown): asserts value is Identity {
  if (!isIdentity(value) || !isIdentityLive(value)) {
    throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
  }
}

/**
 * An identity asserted by the host application for a user it authenticated itself (an API key,
 * mTLS, its own session layer). It passes ownership guards, but the vault does not accept it for
 * opening credentials: that needs a verified session or a trading grant.
 *
 * @example
 * ```ts
 * const who = hostIdentity("user-42", { id: req.id });
 * await runAs(who, () => handlers.listOrders(orderId));
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on an invalid user id.
 */
export function hostIdentity(
  userId: string,
  options: { id?: string; ttlMs?: number } = {},
): Identity {
  return mintIdentity({
    kind: "host",
    userId,
    id: options.id ?? `host:${userId}`,
    expiresAt: options.ttlMs === undefined ? undefined : Date.now() + options.ttlMs,
  });
}

/**
 * An operator identity, for infrastructure actions recorded on the operator audit chain. It does
 * not pass user guards unless a handler allows operators, and owns no rows in scoped stores.
 *
 * @example
 * ```ts
 * await runAs(operatorIdentity("ops-alice"), () => rewrapAll());
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on an invalid operator id.
 */
export function operatorIdentity(operatorId: string): Identity {
  return mintIdentity({ kind: "operator", userId: operatorId, id: `operator:${operatorId}` });
}
