/**
 * Operations on a whole user rather than one credential set: re-wrapping the user's data key
 * under the KMS's current master key, erasing the user by crypto-shredding, listing user ids for
 * an operator, and the operator's emergency lock (place, lift, status — delegating to the
 * `LockBook` in locks.ts).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { assertUserId, type Identity } from "../../guard/identity.js";
import type { UserKeyRow } from "../stores/index.js";
import { kmsAuthorization, requireKind, unauthorized, userKeyContext } from "./authorization.js";
import { credentialNotFound, type VaultContext } from "./context.js";
import type { LockStatus } from "./locks.js";

/** {@link Vault.rewrap}: re-wraps the user's data key and every live grant copy. */
export async function rewrapUserKey(ctx: VaultContext, session: Identity): Promise<void> {
  const who = requireKind(session, ["session"], ctx.now());
  const userId = who.userId;
  const auth = kmsAuthorization(who);
  const scoped = ctx.ring.scoped(userId);
  if (!(await scoped.getUserKey())) throw credentialNotFound();
  let keyId = "";
  await ctx.ring.mutate(who, async (m, _key, row) => {
    const kctx = userKeyContext(userId);
    const main = await ctx.kms.reEncrypt((row as UserKeyRow).wrappedDataKey, kctx, kctx, auth);
    keyId = main.keyId;
    const grants = await ctx.grants.rewrapCopies(scoped, m, auth);
    return { manifest: m, userKey: { wrappedDataKey: main.wrapped, keyId: main.keyId }, grants };
  });
  ctx.ring.purge(userId);
  await ctx.emit(userId, "vault.user.rewrapped", { keyId, sessionId: who.id }, who);
}

/** {@link Vault.deleteUser}: crypto-shreds a user, for their own session or an operator. */
export async function shredUser(
  ctx: VaultContext,
  identity: Identity,
  userId: string,
): Promise<void> {
  const who = requireKind(identity, ["session", "operator"], ctx.now());
  if (who.kind === "session" && userId !== who.userId) throw unauthorized();
  const scoped = ctx.ring.scoped(userId);
  await scoped.shred();
  ctx.ring.purge(userId);
  await ctx.emit(userId, "vault.user.shredded", { actorKind: who.kind, actorId: who.id }, who);
}

/** {@link Vault.listUserIds}: every user id with a stored row, for an operator. */
export async function listUserIds(ctx: VaultContext, operator: Identity): Promise<string[]> {
  requireKind(operator, ["operator"], ctx.now());
  if (typeof ctx.store.listUserIds !== "function") {
    throw new KeywardenError("ERR_NOT_SUPPORTED", "this credential store cannot list users");
  }
  return ctx.store.listUserIds();
}

/** {@link Vault.lockUser}: an operator's key-free emergency lock. */
export async function lockUser(
  ctx: VaultContext,
  operator: Identity,
  userId: string,
  reason: string,
): Promise<number> {
  const who = requireKind(operator, ["operator"], ctx.now());
  return ctx.locks.lock(who, userId, reason);
}

/** {@link Vault.unlock}: the user's own live session lifts the lock after re-authorizing. */
export async function unlockUser(ctx: VaultContext, session: Identity): Promise<boolean> {
  const who = requireKind(session, ["session"], ctx.now());
  return ctx.locks.unlock(who);
}

/** {@link Vault.lockStatus}: own user for a session or host, any user for an operator. */
export async function lockStatus(
  ctx: VaultContext,
  identity: Identity,
  userId: string,
): Promise<LockStatus> {
  const who = requireKind(identity, ["session", "host", "operator"], ctx.now());
  if (who.kind !== "operator" && userId !== who.userId) throw unauthorized();
  assertUserId(userId);
  return ctx.locks.status(userId);
}
