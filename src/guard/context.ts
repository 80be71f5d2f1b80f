import { KeywardenError } from "../errors.js";
import { assertIdentity, type Identity, isIdentityLive } from "./identity.js";
import { guardRuntime } from "./runtime.js";

/**
 * Runs `fn` with `identity` as the caller for everything it does, including across `await`s,
 * timers and promise callbacks (AsyncLocalStorage). Nested calls replace the identity for their
 * own extent only.
 *
 * @example
 * ```ts
 * const who = await sessions.verify(bearerToken);
 * await runAs(who, () => trading.createOrder({ ... }));
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED` when `identity` is not a live identity.
 */
export function runAs<T>(identity: Identity, fn: () => T): T {
  assertIdentity(identity);
  return guardRuntime().context.run(identity, fn);
}

/** The current caller's identity, or `undefined` outside {@link runAs} or when it has expired. */
export function currentIdentity(): Identity | undefined {
  const identity = guardRuntime().context.getStore();
  return identity && isIdentityLive(identity) ? identity : undefined;
}

/**
 * The current caller's identity.
 *
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED` outside {@link runAs} or once expired.
 */
export function requireIdentity(): Identity {
  const identity = currentIdentity();
  if (!identity) throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
  return identity;
}
