/**
 * The vault: stores users' exchange credentials sealed under per-user data keys, and opens them
 * only for a verified session or a live trading grant, only for the extent of one callback.
 *
 * This file is the assembly: `createVault` and the `Vault` class, a thin facade that holds the
 * private state built from `VaultOptions` (context.ts) and delegates each method to the file
 * owning that job — credential-lifecycle.ts (store, rotate, disable, list, describe), credential-open.ts
 * (`withCredentials`), grant-operations.ts (create, resume, find, list, revoke grants) and
 * user-operations.ts (re-wrap, erase, list users, emergency lock).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import type { Identity } from "../../guard/identity.js";
import { observeCredentialOpen } from "../../observability/hooks.js";
import type { Secret } from "../../secret.js";
import { observedKms } from "../kms/index.js";
import { createVaultContext, type VaultContext, type VaultOptions } from "./context.js";
import type { CredentialInput, CredentialSecrets } from "./credential-fields.js";
import {
  type CredentialMetadata,
  changeCredential,
  describeCredential,
  listCredentials,
  type StoreCredentialInput,
  storeCredential,
} from "./credential-lifecycle.js";
import { type OpenOptions, openCredentials } from "./credential-open.js";
import * as grantOps from "./grant-operations.js";
import type { GrantOptions, GrantSummary } from "./grants.js";
import type { LockStatus } from "./locks.js";
import * as userOps from "./user-operations.js";

export type { VaultOptions } from "./context.js";
export type { CredentialMetadata, StoreCredentialInput } from "./credential-lifecycle.js";
export type { OpenOptions } from "./credential-open.js";

/**
 * The vault. Create one with {@link createVault}.
 */
export class Vault {
  readonly #ctx: VaultContext;

  /** @internal Use {@link createVault}. */
  constructor(options: VaultOptions) {
    this.#ctx = createVaultContext(options);
  }

  /**
   * Seals and stores a new credential set for the session's user (revision 1).
   *
   * @example
   * ```ts
   * const meta = await vault.store(session, {
   *   exchange: "binance", credentials: { apiKey, secret }, label: "main",
   * });
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless `session` is a live session;
   * `ERR_INVALID_ARGUMENT` for invalid input; `ERR_VAULT_REVISION_CONFLICT` when the id exists;
   * `ERR_KMS_*` from the KMS.
   */
  async store(session: Identity, input: StoreCredentialInput): Promise<CredentialMetadata> {
    return storeCredential(this.#ctx, session, input);
  }

  /**
   * Replaces a credential set's secrets (revision + 1) and marks it active. The older sealed
   * blob no longer opens: its revision is below the manifest's.
   *
   * @example
   * ```ts
   * await vault.rotate(session, meta.credentialId, { apiKey: newKey, secret: newSecret });
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED`, `ERR_VAULT_CREDENTIAL_NOT_FOUND`, `ERR_KMS_*`.
   */
  async rotate(
    session: Identity,
    credentialId: string,
    credentials: CredentialInput,
  ): Promise<CredentialMetadata> {
    return changeCredential(
      this.#ctx,
      session,
      credentialId,
      "vault.credential.rotated",
      credentials,
    );
  }

  /**
   * Disables a credential set: it no longer opens for anyone until rotated. Recorded in the sealed
   * manifest, so flipping the row's `disabled` column does not re-enable it.
   *
   * @example
   * ```ts
   * await vault.disable(session, credentialId);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED`, `ERR_VAULT_CREDENTIAL_NOT_FOUND`, `ERR_KMS_*`.
   */
  async disable(session: Identity, credentialId: string): Promise<CredentialMetadata> {
    return changeCredential(
      this.#ctx,
      session,
      credentialId,
      "vault.credential.disabled",
      undefined,
    );
  }

  /**
   * Lists the caller's credential sets: metadata only, never secrets.
   *
   * @example
   * ```ts
   * for (const c of await vault.list(session)) showRow(c.exchange, c.label, c.disabled);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` for anything but a live session, grant or
   * host identity.
   */
  async list(identity: Identity): Promise<CredentialMetadata[]> {
    return listCredentials(this.#ctx, identity);
  }

  /**
   * The metadata of one of the caller's credential sets, with its stored owner, read by id through
   * the caller's owner-scoped store; undefined when the caller has no such credential (another
   * user's id included). What the guarded handlers (`vaultHandlers`) load.
   *
   * @example
   * ```ts
   * const meta = await vault.describeCredential(session, credentialId);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` for anything but a live session, grant or
   * host identity.
   */
  async describeCredential(
    identity: Identity,
    credentialId: string,
  ): Promise<(CredentialMetadata & { readonly userId: string }) | undefined> {
    return describeCredential(this.#ctx, identity, credentialId);
  }

  /**
   * Opens a credential set for the extent of `fn` only. The fields are {@link Secret}s, wiped when
   * `fn` settles (returns, throws or rejects), as are the data key and every plaintext buffer.
   * Exactly one KMS decrypt per call (none with a warm opt-in cache).
   *
   * @example
   * ```ts
   * const balance = await vault.withCredentials(session, credentialId, (creds) =>
   *   creds.apiKey.useText((apiKey) => creds.secret.useText((secret) =>
   *     new ccxt.binance({ apiKey, secret }).fetchBalance())));
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live session or grant;
   * `ERR_VAULT_CREDENTIAL_NOT_FOUND` (also for another user's id); `ERR_VAULT_CREDENTIAL_DISABLED`;
   * `ERR_VAULT_USER_LOCKED` while an operator's emergency lock stands (before any KMS call);
   * `ERR_VAULT_GRANT_REVOKED` / `_EXPIRED` / `_SCOPE`; `ERR_VAULT_DECRYPT_FAILED` (fixed message)
   * for any integrity failure, including rollback; `ERR_KMS_*` from the KMS.
   */
  async withCredentials<T>(
    identity: Identity,
    credentialId: string,
    fn: (creds: CredentialSecrets) => T | Promise<T>,
    options: OpenOptions = {},
  ): Promise<Awaited<T>> {
    const kind = typeof identity?.kind === "string" ? identity.kind : "unknown";
    return observeCredentialOpen(kind, (opened) =>
      openCredentials(
        this.#ctx,
        identity,
        credentialId,
        (creds) => {
          opened();
          return fn(creds);
        },
        options,
      ),
    );
  }

  /**
   * Creates a trading grant from a live session: lets the host open the user's credentials for
   * `actions` on `exchanges` until it expires or is revoked, while the user is logged out.
   *
   * @example
   * ```ts
   * const { grant } = await vault.createGrant(session, {
   *   exchanges: ["binance"], actions: ["trade", "cancel"], ttlMs: 7 * 24 * 3600_000,
   * });
   * await vault.withCredentials(grant, credentialId, use, { action: "trade" });
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live session; `ERR_INVALID_ARGUMENT`
   * for an invalid scope or TTL; `ERR_VAULT_CREDENTIAL_NOT_FOUND` when the user stored nothing yet.
   */
  async createGrant(
    session: Identity,
    options: GrantOptions,
  ): Promise<{ grant: Identity; summary: GrantSummary }> {
    return grantOps.createGrant(this.#ctx, session, options);
  }

  /**
   * Returns the identity of an existing grant of `userId`, e.g. after the bot restarts. Only for a
   * caller acting for that user (its session or grant, or a host identity for it) or an operator,
   * so code running for one user cannot pick up another user's grant. The identity carries no
   * authority by itself: every open re-checks the grant's sealed scope and revocation state.
   *
   * @example
   * ```ts
   * const grant = await vault.resumeGrant(hostIdentity(userId), userId, grantId);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` for any other caller;
   * `ERR_VAULT_GRANT_INVALID` / `_REVOKED` / `_EXPIRED`.
   */
  async resumeGrant(caller: Identity, userId: string, grantId: string): Promise<Identity> {
    return grantOps.resumeGrant(this.#ctx, caller, userId, grantId);
  }

  /**
   * Finds a live grant of `userId` whose scope covers `action` on `exchange` — for the kill
   * switch's cancel path when the user is logged out. Undefined when the user left none. Only for
   * a caller acting for that user or an operator, as {@link Vault.resumeGrant}.
   *
   * @example
   * ```ts
   * const auth = session ?? (await vault.findGrant(operator, userId, { exchange: "binance", action: "cancel" }));
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` for any other caller;
   * `ERR_INVALID_ARGUMENT` for an invalid user id.
   */
  async findGrant(
    caller: Identity,
    userId: string,
    need: { exchange: string; action: string },
  ): Promise<Identity | undefined> {
    return grantOps.findGrant(this.#ctx, caller, userId, need);
  }

  /**
   * Lists a user's grants (scope, expiry, revocation; no key material).
   *
   * @example
   * ```ts
   * const grants = await vault.listGrants(session);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live session or host identity.
   */
  async listGrants(identity: Identity): Promise<GrantSummary[]> {
    return grantOps.listGrants(this.#ctx, identity);
  }

  /**
   * Revokes a grant now. The user may revoke from a live session (also recorded in the sealed
   * manifest); an operator may revoke any user's grant as an emergency stop (only removes
   * authority). Effective for the next open, including for a grant identity already handed out.
   *
   * @example
   * ```ts
   * await vault.revokeGrant(session, { grantId });
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED`; `ERR_VAULT_GRANT_INVALID` when unknown.
   */
  async revokeGrant(
    identity: Identity,
    target: { grantId: string; userId?: string },
  ): Promise<void> {
    return grantOps.revokeGrant(this.#ctx, identity, target);
  }

  /**
   * Re-wraps the user's data key (and every live grant copy) under the KMS's current master key,
   * inside the user's authorization (AWS: ReEncrypt with the session's credentials). Secrets are
   * not re-sealed: the data key does not change.
   *
   * @example
   * ```ts
   * await vault.rewrap(session);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED`; `ERR_VAULT_CREDENTIAL_NOT_FOUND` when the user
   * has no key; `ERR_KMS_*`.
   */
  async rewrap(session: Identity): Promise<void> {
    return userOps.rewrapUserKey(this.#ctx, session);
  }

  /**
   * Deletes a user by crypto-shredding: destroys the wrapped data key, every sealed credential and
   * every grant. Copies in backups remain decryptable while the master key can unwrap them
   * (docs/kms-setup.md §Deletion). Allowed for the user's live session or an operator.
   *
   * @example
   * ```ts
   * await vault.deleteUser(operatorIdentity("ops-1"), "user-42");
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED`.
   */
  async deleteUser(identity: Identity, userId: string = identity?.userId): Promise<void> {
    return userOps.shredUser(this.#ctx, identity, userId);
  }

  /**
   * Operator: every user id with any stored row (for emergency revocation). Ids only.
   *
   * @example
   * ```ts
   * const users = await vault.listUserIds(operatorIdentity("ops-1"));
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live operator identity;
   * `ERR_NOT_SUPPORTED` when the store has no `listUserIds`.
   */
  async listUserIds(operator: Identity): Promise<string[]> {
    return userOps.listUserIds(this.#ctx, operator);
  }

  /**
   * Operator emergency stop: locks a user so that none of their credentials opens — under a
   * session or a grant — until the user re-authorizes with {@link Vault.unlock}. Needs and uses no
   * key (works when the KMS is the suspect). Recorded as `vault.user.locked` on the user's chain
   * and `vault.lock.placed` on the operator chain. Locking a locked user keeps the first lock.
   *
   * @example
   * ```ts
   * const blocked = await vault.lockUser(operatorIdentity("ops-1"), "user-42", "key store exposed");
   * ```
   * @returns How many enabled credential sets this call newly blocked (0 if already locked).
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live operator identity;
   * `ERR_INVALID_ARGUMENT` for an invalid user id or reason. If recording fails after the lock is
   * placed, the lock stays (fail-closed) and the audit error is thrown.
   */
  async lockUser(operator: Identity, userId: string, reason: string): Promise<number> {
    return userOps.lockUser(this.#ctx, operator, userId, reason);
  }

  /**
   * Operator: revokes every not-yet-revoked grant of `userId` (fail-closed, no key needed), each
   * recorded as `vault.grant.revoked` with the operator as actor.
   *
   * @example
   * ```ts
   * const n = await vault.revokeAllGrants(operatorIdentity("ops-1"), "user-42", "key store exposed");
   * ```
   * @returns How many grants this call revoked.
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live operator identity;
   * `ERR_INVALID_ARGUMENT` for an invalid user id or reason.
   */
  async revokeAllGrants(operator: Identity, userId: string, reason: string): Promise<number> {
    return grantOps.revokeAllGrants(this.#ctx, operator, userId, reason);
  }

  /**
   * Lifts an operator's emergency lock for the user's own live session, after re-authorizing at
   * the KMS (one decrypt with the session's authorization; the manifest must verify). Recorded as
   * `vault.user.unlocked` before the lock is removed. Grants revoked meanwhile stay revoked.
   *
   * @example
   * ```ts
   * if ((await vault.lockStatus(session)).locked) await vault.unlock(session);
   * ```
   * @returns true when a lock was lifted, false when the user was not locked.
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED` unless a live session (hosts, grants and
   * operators cannot unlock); `ERR_KMS_*` / `ERR_VAULT_DECRYPT_FAILED` when re-authorization fails.
   */
  async unlock(session: Identity): Promise<boolean> {
    return userOps.unlockUser(this.#ctx, session);
  }

  /**
   * Whether a user is under an emergency lock: a session or host sees its own user, an operator
   * any user.
   *
   * @example
   * ```ts
   * const s = await vault.lockStatus(session);
   * if (s.locked) showBanner(s.reason);
   * ```
   * @throws {KeywardenError} `ERR_VAULT_UNAUTHORIZED`; `ERR_INVALID_ARGUMENT` for an invalid id.
   */
  async lockStatus(identity: Identity, userId: string = identity?.userId): Promise<LockStatus> {
    return userOps.lockStatus(this.#ctx, identity, userId);
  }
}

/**
 * Creates a vault.
 *
 * @example
 * ```ts
 * import { createVault, LocalKms, MemoryCredentialStore } from "keywarden/vault";
 * const vault = createVault({ kms: LocalKms.fromKeyFile("master.key"), store: new MemoryCredentialStore() });
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `kms` or `store` is missing.
 */
export function createVault(options: VaultOptions): Vault {
  if (!options?.kms || !options.store) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "createVault needs a kms and a store");
  }
  return new Vault({ ...options, kms: observedKms(options.kms) });
}
