import { KeywardenError } from "../errors.js";
import { assertIdentity, type Identity, isIdentity, isIdentityLive } from "./identity.js";
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

/**
 * The current caller's identity, or `undefined` outside {@link runAs}, when it has expired, or
 * when the context holds something keywarden did not mint (entered by going around {@link runAs}).
 *
 * @example
 * ```ts
 * const who = currentIdentity();
 * if (!who) return reply.status(401).send();
 * ```
 * @throws never
 */
export function currentIdentity(): Identity | undefined {
  const identity: unknown = guardRuntime().context.getStore();
  /* Precondition: only a branded, live identity counts as the caller. */
  return isIdentity(identity) && isIdentityLive(identity) ? identity : undefined;
}

/**
 * Runs `fn` with no identity at all, even when called inside {@link runAs}: for background work
 * that must not act as whoever triggered it.
 *
 * @example
 * ```ts
 * runAsNobody(() => setInterval(sweepExpiredGrants, 60_000));
 * ```
 * @throws never (rethrows what `fn` throws)
 */
export function runAsNobody<T>(fn: () => T): T {
  return guardRuntime().context.exit(fn);
}

/**
 * The current caller's identity.
 *
 * @example
 * ```ts
 * const who = requireIdentity();
 * const mine = orders.forUser(who);
 * ```
 * @throws {KeywardenError} `ERR_GUARD_UNAUTHENTICATED` outside {@link runAs} or once expired.
 */
export function requireIdentity(): Identity {
  const identity = currentIdentity();
  if (!identity) throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
  return identity;
}
