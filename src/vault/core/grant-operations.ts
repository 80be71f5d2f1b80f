/**
 * The vault's grant operations: who may create, resume, find, list and revoke a trading grant
 * (the caller checks), each then delegating to the `GrantBook` (grants.ts), which owns the
 * grant's sealed scope, mirror row and wrapped key copy.
 *
 * @packageDocumentation
 */
import { assertUserId, type Identity } from "../../guard/identity.js";
import { requireKind, unauthorized } from "./authorization.js";
import type { VaultContext } from "./context.js";
import type { GrantOptions, GrantSummary } from "./grants.js";
import { assertReason } from "./locks.js";

/** {@link Vault.createGrant}: a grant from a live session. */
export async function createGrant(
  ctx: VaultContext,
  session: Identity,
  options: GrantOptions,
): Promise<{ grant: Identity; summary: GrantSummary }> {
  const who = requireKind(session, ["session"], ctx.now());
  return ctx.grants.create(who, options);
}

/** A live identity that acts for `userId` (any kind but operator must be that user's), or an operator. */
function requireActingFor(ctx: VaultContext, caller: Identity, userId: string): void {
  const who = requireKind(caller, ["session", "grant", "host", "operator"], ctx.now());
  /* Precondition: a grant is looked up only by or for its own user, or by an operator. */
  if (who.kind !== "operator" && who.userId !== userId) throw unauthorized();
}

/** {@link Vault.resumeGrant}: the identity of an existing grant, for its user or an operator. */
export async function resumeGrant(
  ctx: VaultContext,
  caller: Identity,
  userId: string,
  grantId: string,
): Promise<Identity> {
  requireActingFor(ctx, caller, userId);
  return ctx.grants.resume(userId, grantId);
}

/** {@link Vault.findGrant}: a live grant covering `need`, for its user or an operator. */
export async function findGrant(
  ctx: VaultContext,
  caller: Identity,
  userId: string,
  need: { exchange: string; action: string },
): Promise<Identity | undefined> {
  requireActingFor(ctx, caller, userId);
  return ctx.grants.find(userId, need);
}

/** {@link Vault.listGrants}: the caller's user's grants. */
export async function listGrants(ctx: VaultContext, identity: Identity): Promise<GrantSummary[]> {
  const who = requireKind(identity, ["session", "host"], ctx.now());
  return ctx.grants.list(who.userId);
}

/** {@link Vault.revokeGrant}: the user's own grant from a session, any grant for an operator. */
export async function revokeGrant(
  ctx: VaultContext,
  identity: Identity,
  target: { grantId: string; userId?: string },
): Promise<void> {
  const who = requireKind(identity, ["session", "operator"], ctx.now());
  const userId = who.kind === "operator" ? target.userId : who.userId;
  if (userId === undefined) throw unauthorized();
  return ctx.grants.revoke(who, userId, target.grantId);
}

/** {@link Vault.revokeAllGrants}: an operator revokes every not-yet-revoked grant of a user. */
export async function revokeAllGrants(
  ctx: VaultContext,
  operator: Identity,
  userId: string,
  reason: string,
): Promise<number> {
  const who = requireKind(operator, ["operator"], ctx.now());
  assertUserId(userId);
  assertReason(reason);
  const grants = await ctx.ring.scoped(userId).listGrants();
  let revoked = 0;
  for (const g of grants) {
    if (g.userId !== userId || (g.revokedAt !== null && g.wrappedDataKey === null)) continue;
    await ctx.grants.revoke(who, userId, g.grantId);
    revoked++;
  }
  return revoked;
}
