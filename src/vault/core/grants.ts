/**
 * Trading grants: a user, from a live session, lets the host open their credentials for listed
 * actions on listed exchanges until a deadline, while they are logged out.
 *
 * Where a grant lives (docs/kms-setup.md §Grants): its scope, expiry and revocation are in the
 * user's sealed manifest (authoritative: the operator cannot widen, extend or un-revoke a grant
 * without the data key); a mirror row holds the same fields for listing, a revocation timestamp
 * that any operator may set (fail-closed), and the grant's own copy of the data key, wrapped by the
 * KMS under `{ userId, purpose: "trading-grant", grantId }`. Revocation drops that copy.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { KeywardenError } from "../../errors.js";
import { assertUserId, hostIdentity, type Identity, mintIdentity } from "../../guard/identity.js";
import type { Manifest } from "../format/index.js";
import type { KmsAuthorization, KmsProvider } from "../kms/index.js";
import type { GrantRow, OwnerScopedStore, UserKeyRow } from "../stores/index.js";
import { grantKeyContext, kmsAuthorization, userKeyContext } from "./authorization.js";
import { assertAction, assertExchange } from "./support.js";

/** Options of {@link Vault.createGrant}. */
export interface GrantOptions {
  /** Exchange ids the grant covers (at least one). */
  readonly exchanges: readonly string[];
  /** Actions the grant covers, e.g. `["trade", "cancel"]`. Include `"cancel"` for the kill switch. */
  readonly actions: readonly string[];
  /** Lifetime in ms (at most the vault's `maxGrantTtlMs`). */
  readonly ttlMs: number;
}

/** A grant as listed (no key material). */
export interface GrantSummary {
  readonly grantId: string;
  readonly userId: string;
  readonly exchanges: readonly string[];
  readonly actions: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
}

interface GrantDeps {
  kms: KmsProvider;
  now: () => number;
  maxTtlMs: number;
  emit(
    userId: string,
    action: string,
    payload: Record<string, string | number | null>,
    actor: Identity,
  ): Promise<void>;
  mutate(
    session: Identity,
    fn: (
      m: Manifest,
      dataKey: Uint8Array,
      row: UserKeyRow | undefined,
    ) => Promise<{
      manifest: Manifest;
      grants?: GrantRow[];
    }>,
  ): Promise<void>;
  purge(userId: string): void;
  scoped(userId: string): OwnerScopedStore;
}

const GRANT_ID = /^grant_[A-Za-z0-9_-]{22}$/;

const err = (
  code:
    | "ERR_VAULT_GRANT_INVALID"
    | "ERR_VAULT_GRANT_REVOKED"
    | "ERR_VAULT_GRANT_EXPIRED"
    | "ERR_VAULT_GRANT_SCOPE",
  message: string,
) => new KeywardenError(code, message);
const invalid = () => err("ERR_VAULT_GRANT_INVALID", "grant is not valid");
const revoked = () => err("ERR_VAULT_GRANT_REVOKED", "grant was revoked");
const expired = () => err("ERR_VAULT_GRANT_EXPIRED", "grant has expired");
const outOfScope = () => err("ERR_VAULT_GRANT_SCOPE", "grant does not cover this use");

const summary = (g: GrantRow): GrantSummary => ({
  grantId: g.grantId,
  userId: g.userId,
  exchanges: [...g.exchanges],
  actions: [...g.actions],
  createdAt: g.createdAt,
  expiresAt: g.expiresAt,
  revokedAt: g.revokedAt,
});

/** @internal The vault's grant logic. */
export class GrantBook {
  readonly #d: GrantDeps;
  readonly #expiredSeen = new Set<string>();

  constructor(deps: GrantDeps) {
    this.#d = deps;
  }

  #mint(g: GrantRow): Identity {
    return mintIdentity({
      kind: "grant",
      userId: g.userId,
      id: g.grantId,
      expiresAt: g.expiresAt,
      scope: { exchanges: g.exchanges, actions: g.actions },
    });
  }

  async create(
    session: Identity,
    o: GrantOptions,
  ): Promise<{ grant: Identity; summary: GrantSummary }> {
    if (!Array.isArray(o?.exchanges) || o.exchanges.length === 0 || o.exchanges.length > 64) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "grant needs 1-64 exchanges");
    }
    if (!Array.isArray(o.actions) || o.actions.length === 0 || o.actions.length > 16) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "grant needs 1-16 actions");
    }
    o.exchanges.forEach(assertExchange);
    o.actions.forEach(assertAction);
    if (!Number.isInteger(o.ttlMs) || o.ttlMs <= 0 || o.ttlMs > this.#d.maxTtlMs) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "grant ttlMs is out of range");
    }
    const userId = session.userId;
    const scoped = this.#d.scoped(userId);
    const userKey = await scoped.getUserKey();
    if (!userKey) throw new KeywardenError("ERR_VAULT_CREDENTIAL_NOT_FOUND", "resource not found");
    const grantId = `grant_${randomBytes(16).toString("base64url")}`;
    const now = this.#d.now();
    const exchanges = [...new Set(o.exchanges)].sort();
    const actions = [...new Set(o.actions)].sort();
    let row: GrantRow | undefined;
    await this.#d.mutate(session, async (m, _key, current) => {
      const copy = await this.#d.kms.reEncrypt(
        (current as UserKeyRow).wrappedDataKey,
        userKeyContext(userId),
        grantKeyContext(userId, grantId),
        kmsAuthorization(session),
      );
      row = {
        userId,
        grantId,
        exchanges,
        actions,
        createdAt: now,
        expiresAt: now + o.ttlMs,
        revokedAt: null,
        wrappedDataKey: copy.wrapped,
        keyId: copy.keyId,
      };
      return {
        manifest: {
          ...m,
          grants: {
            ...m.grants,
            [grantId]: {
              exchanges,
              actions,
              createdAt: now,
              expiresAt: row.expiresAt,
              revoked: false,
            },
          },
        },
        grants: [row],
      };
    });
    const g = row as GrantRow;
    await this.#d.emit(
      userId,
      "vault.grant.created",
      {
        grantId,
        exchanges: exchanges.join(","),
        actions: actions.join(","),
        expiresAt: g.expiresAt,
        sessionId: session.id,
      },
      session,
    );
    return { grant: this.#mint(g), summary: summary(g) };
  }

  async #noteExpired(scoped: OwnerScopedStore, g: GrantRow): Promise<never> {
    await scoped.revokeGrant(g.grantId, g.expiresAt); // drops the key copy; keeps it unusable
    if (!this.#expiredSeen.has(`${g.userId}\u0000${g.grantId}`)) {
      this.#expiredSeen.add(`${g.userId}\u0000${g.grantId}`);
      // Observed by the vault itself (the grant's own identity is no longer live).
      const observer = hostIdentity(g.userId, {
        id: "keywarden-vault:grant-expiry",
        ttlMs: 60_000,
      });
      await this.#d.emit(
        g.userId,
        "vault.grant.expired",
        {
          grantId: g.grantId,
          expiresAt: g.expiresAt,
        },
        observer,
      );
    }
    throw expired();
  }

  /**
   * Checks the grant's row (revocation, expiry, scope mirror) before any KMS call and returns its
   * wrapped key copy. The sealed manifest is checked again in {@link authorize}.
   */
  async precheck(
    scoped: OwnerScopedStore,
    grant: Identity,
    exchange: string,
    action: string | undefined,
  ): Promise<Uint8Array> {
    const g = await scoped.getGrant(grant.id);
    if (!g || g.userId !== grant.userId || g.grantId !== grant.id) throw invalid();
    if (this.#d.now() >= g.expiresAt) return this.#noteExpired(scoped, g);
    /* Precondition: a revoked grant never reaches the KMS. */
    if (g.revokedAt !== null || g.wrappedDataKey === null) throw revoked();
    if (action === undefined || !g.actions.includes(action) || !g.exchanges.includes(exchange)) {
      throw outOfScope();
    }
    return g.wrappedDataKey;
  }

  /**
   * Checks the grant against the authenticated manifest and records its use.
   *
   * @throws {KeywardenError} `ERR_VAULT_GRANT_*`; the audit failure if the use cannot be recorded.
   */
  async authorize(
    m: Manifest,
    grant: Identity,
    exchange: string,
    action: string | undefined,
  ): Promise<void> {
    const entry = m.grants[grant.id];
    /* Precondition: a grant opens only what its sealed scope covers, until its sealed expiry. */
    if (!entry) throw invalid();
    if (entry.revoked) throw revoked();
    if (this.#d.now() >= entry.expiresAt) throw expired();
    if (
      action === undefined ||
      !entry.actions.includes(action) ||
      !entry.exchanges.includes(exchange)
    ) {
      throw outOfScope();
    }
    await this.#d.emit(
      grant.userId,
      "vault.grant.used",
      { grantId: grant.id, exchange, action },
      grant,
    );
  }

  /** An open attempted with an expired grant identity: recorded once, then refused. */
  async expiredOpen(grant: Identity): Promise<never> {
    const scoped = this.#d.scoped(grant.userId);
    const g = await scoped.getGrant(grant.id);
    if (g && g.userId === grant.userId && this.#d.now() >= g.expiresAt)
      return this.#noteExpired(scoped, g);
    throw expired();
  }

  async resume(userId: string, grantId: string): Promise<Identity> {
    assertUserId(userId);
    if (typeof grantId !== "string" || !GRANT_ID.test(grantId)) throw invalid();
    const scoped = this.#d.scoped(userId);
    const g = await scoped.getGrant(grantId);
    if (!g || g.userId !== userId) throw invalid();
    if (this.#d.now() >= g.expiresAt) return this.#noteExpired(scoped, g);
    if (g.revokedAt !== null || g.wrappedDataKey === null) throw revoked();
    return this.#mint(g);
  }

  async find(
    userId: string,
    need: { exchange: string; action: string },
  ): Promise<Identity | undefined> {
    assertUserId(userId);
    const now = this.#d.now();
    const grants = await this.#d.scoped(userId).listGrants();
    const live = grants
      .filter(
        (g) =>
          g.userId === userId &&
          g.revokedAt === null &&
          g.wrappedDataKey !== null &&
          now < g.expiresAt &&
          g.exchanges.includes(need.exchange) &&
          g.actions.includes(need.action),
      )
      .sort((a, b) => b.expiresAt - a.expiresAt);
    return live[0] ? this.#mint(live[0]) : undefined;
  }

  async list(userId: string): Promise<GrantSummary[]> {
    const rows = await this.#d.scoped(userId).listGrants();
    return rows.filter((g) => g.userId === userId).map(summary);
  }

  async revoke(actor: Identity, userId: string, grantId: string): Promise<void> {
    assertUserId(userId);
    if (typeof grantId !== "string" || !GRANT_ID.test(grantId)) throw invalid();
    const scoped = this.#d.scoped(userId);
    const now = this.#d.now();
    // First the fail-closed mark (needs no key), so the grant stops working even if the rest fails.
    if (!(await scoped.revokeGrant(grantId, now))) throw invalid();
    this.#d.purge(userId);
    if (actor.kind === "session") {
      await this.#d.mutate(actor, async (m) => {
        const entry = m.grants[grantId];
        if (!entry) throw invalid();
        return {
          manifest: { ...m, grants: { ...m.grants, [grantId]: { ...entry, revoked: true } } },
        };
      });
    }
    await this.#d.emit(
      userId,
      "vault.grant.revoked",
      {
        grantId,
        actorKind: actor.kind,
        actorId: actor.id,
      },
      actor,
    );
  }

  /** Re-wraps every live grant copy under the current master key (part of {@link Vault.rewrap}). */
  async rewrapCopies(
    scoped: OwnerScopedStore,
    m: Manifest,
    auth: KmsAuthorization,
  ): Promise<GrantRow[]> {
    const out: GrantRow[] = [];
    for (const g of await scoped.listGrants()) {
      if (g.wrappedDataKey === null || g.revokedAt !== null || !m.grants[g.grantId]) continue;
      const ctx = grantKeyContext(g.userId, g.grantId);
      const next = await this.#d.kms.reEncrypt(g.wrappedDataKey, ctx, ctx, auth);
      out.push({ ...g, wrappedDataKey: next.wrapped, keyId: next.keyId });
    }
    return out;
  }
}
