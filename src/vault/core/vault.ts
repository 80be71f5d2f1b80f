/**
 * The vault: stores users' exchange credentials sealed under per-user data keys, and opens them
 * only for a verified session or a live trading grant, only for the extent of one callback.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { KeywardenError, NOT_FOUND_MESSAGE } from "../../errors.js";
import { assertUserId, type Identity, isIdentity, isIdentityLive } from "../../guard/identity.js";
import type { Secret } from "../../secret.js";
import {
  BLOB_KIND,
  decryptFailed,
  openBlob,
  openManifest,
  type RevisionWitness,
  sealBlob,
} from "../format/index.js";
import type { KmsContext, KmsProvider } from "../kms/index.js";
import { DataKeyCache, type DataKeyCacheOptions } from "../kms/index.js";
import { observedKms } from "../kms/observed.js";
import type { CredentialRow, CredentialStore, UserKeyRow } from "../stores/index.js";
import {
  grantKeyContext,
  kmsAuthorization,
  requireKind,
  unauthorized,
  userKeyContext,
} from "./authorization.js";
import {
  type CredentialInput,
  type CredentialSecrets,
  decodeFields,
  encodeFields,
  wipeFields,
} from "./credential-fields.js";
import { GrantBook, type GrantOptions, type GrantSummary } from "./grants.js";
import { UserKeyring } from "./keyring.js";
import { assertReason, assertUnlocked, LockBook, type LockStatus } from "./locks.js";
import { observeVault } from "./observed.js";
import {
  assertCredentialId,
  assertExchange,
  assertLabel,
  type VaultAuditSink,
  vaultEvent,
} from "./support.js";

/** Options of {@link createVault}. */
export interface VaultOptions {
  /** Wraps and unwraps data keys ({@link LocalKms}, or `AwsKms` from `keywarden/vault/aws-kms`). */
  readonly kms: KmsProvider;
  /** Where sealed rows live. */
  readonly store: CredentialStore;
  /** Receives store/rotate/disable/re-wrap/delete/grant events (never key material). */
  readonly audit?: VaultAuditSink;
  /** Persistent high-water marks of manifest sequence numbers (rollback detection). */
  readonly witness?: RevisionWitness;
  /** Opt-in data-key cache: off by default (see docs/vault-format.md §8 for the trade-off). */
  readonly dataKeyCache?: DataKeyCacheOptions;
  /** Longest grant allowed, in ms. Default 30 days. */
  readonly maxGrantTtlMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Non-secret metadata of a stored credential set. */
export interface CredentialMetadata {
  readonly credentialId: string;
  readonly exchange: string;
  readonly label: string | null;
  readonly revision: number;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Input of {@link Vault.store}. */
export interface StoreCredentialInput {
  /** Exchange id, e.g. `"binance"` (lowercase ccxt id). */
  readonly exchange: string;
  /** Field values: `apiKey`, `secret`, `passphrase`/`password`, `uid`, extras. */
  readonly credentials: CredentialInput;
  /** Chosen id; default a random `cred_…` id. */
  readonly credentialId?: string;
  /** Non-secret label. */
  readonly label?: string;
}

/** Options of {@link Vault.withCredentials}. */
export interface OpenOptions {
  /** What the credentials are opened for (`"trade"`, `"cancel"`, `"read"`…); required for grants. */
  readonly action?: string;
}

const notFound = () => new KeywardenError("ERR_VAULT_CREDENTIAL_NOT_FOUND", NOT_FOUND_MESSAGE);
const toMeta = (r: CredentialRow): CredentialMetadata => ({
  credentialId: r.credentialId,
  exchange: r.exchange,
  label: r.label,
  revision: r.revision,
  disabled: r.disabled,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/**
 * The vault. Create one with {@link createVault}.
 */
export class Vault {
  readonly #kms: KmsProvider;
  readonly #audit: VaultAuditSink | undefined;
  readonly #ring: UserKeyring;
  readonly #now: () => number;
  readonly #grants: GrantBook;
  readonly #locks: LockBook;
  readonly #store: CredentialStore;

  /** @internal Use {@link createVault}. */
  constructor(options: VaultOptions) {
    this.#kms = options.kms;
    this.#audit = options.audit;
    this.#now = options.now ?? Date.now;
    this.#ring = new UserKeyring({
      kms: options.kms,
      store: options.store,
      witness: options.witness,
      cache: options.dataKeyCache ? new DataKeyCache(options.dataKeyCache) : undefined,
      now: this.#now,
    });
    this.#grants = new GrantBook({
      kms: this.#kms,
      now: this.#now,
      maxTtlMs: options.maxGrantTtlMs ?? 30 * 24 * 3600_000,
      emit: (userId, action, payload, actor) => this.#emit(userId, action, payload, actor),
      mutate: (session, fn) => this.#ring.mutate(session, fn),
      purge: (userId) => this.#ring.purge(userId),
      scoped: (userId) => this.#ring.scoped(userId),
    });
    this.#store = options.store;
    this.#locks = new LockBook({
      ring: this.#ring,
      now: this.#now,
      emitUser: (userId, action, payload, actor) => this.#emit(userId, action, payload, actor),
      emitOperator: async (action, payload, actor) => {
        await this.#audit?.append("operator", action, vaultEvent(payload), actor);
      },
    });
  }

  async #emit(
    userId: string,
    action: string,
    payload: Record<string, string | number | null>,
    actor: Identity,
  ) {
    await this.#audit?.append(`user:${userId}`, action, vaultEvent(payload), actor);
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
    const who = requireKind(session, ["session"], this.#now());
    assertExchange(input?.exchange);
    const credentialId = input.credentialId ?? `cred_${randomBytes(12).toString("base64url")}`;
    assertCredentialId(credentialId);
    const label = input.label ?? null;
    if (label !== null) assertLabel(label);
    const plain = encodeFields(input.credentials);
    let meta: CredentialMetadata | undefined;
    try {
      await this.#ring.mutate(who, (m, key) => {
        if (m.credentials[credentialId]) {
          throw new KeywardenError("ERR_VAULT_REVISION_CONFLICT", "credential id already exists");
        }
        const now = this.#now();
        const row = this.#sealRow(key, who.userId, credentialId, input.exchange, 1, plain, {
          label,
          createdAt: now,
          disabled: false,
        });
        meta = toMeta(row);
        return {
          manifest: {
            ...m,
            credentials: {
              ...m.credentials,
              [credentialId]: { exchange: input.exchange, revision: 1, state: "active" },
            },
          },
          credentials: [row],
        };
      });
    } finally {
      plain.fill(0);
    }
    await this.#emit(
      who.userId,
      "vault.credential.stored",
      {
        credentialId,
        exchange: input.exchange,
        revision: 1,
        sessionId: who.id,
      },
      who,
    );
    return meta as CredentialMetadata;
  }

  #sealRow(
    key: Uint8Array,
    userId: string,
    credentialId: string,
    exchange: string,
    revision: number,
    plain: Uint8Array,
    rest: { label: string | null; createdAt: number; disabled: boolean },
  ): CredentialRow {
    const sealed = sealBlob(
      key,
      BLOB_KIND.credential,
      { userId, exchange, credentialId, revision },
      plain,
    );
    return { userId, credentialId, exchange, revision, sealed, updatedAt: this.#now(), ...rest };
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
    return this.#change(session, credentialId, "vault.credential.rotated", credentials);
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
    return this.#change(session, credentialId, "vault.credential.disabled", undefined);
  }

  async #change(
    session: Identity,
    credentialId: string,
    action: string,
    credentials: CredentialInput | undefined,
  ): Promise<CredentialMetadata> {
    const who = requireKind(session, ["session"], this.#now());
    assertCredentialId(credentialId);
    const plain = credentials ? encodeFields(credentials) : undefined;
    const scoped = this.#ring.scoped(who.userId);
    let meta: CredentialMetadata | undefined;
    try {
      await this.#ring.mutate(who, async (m, key) => {
        const entry = m.credentials[credentialId];
        const row = await scoped.getCredential(credentialId);
        if (!entry || !row || row.userId !== who.userId || row.exchange !== entry.exchange)
          throw notFound();
        const revision = entry.revision + 1;
        let next: CredentialRow;
        if (plain) {
          next = this.#sealRow(key, who.userId, credentialId, entry.exchange, revision, plain, {
            label: row.label,
            createdAt: row.createdAt,
            disabled: false,
          });
        } else {
          // Disabling destroys the sealed secret too: re-enabling needs a rotate with new secrets.
          next = this.#sealRow(
            key,
            who.userId,
            credentialId,
            entry.exchange,
            revision,
            new Uint8Array(0),
            {
              label: row.label,
              createdAt: row.createdAt,
              disabled: true,
            },
          );
        }
        meta = toMeta(next);
        return {
          manifest: {
            ...m,
            credentials: {
              ...m.credentials,
              [credentialId]: {
                exchange: entry.exchange,
                revision,
                state: plain ? "active" : "disabled",
              },
            },
          },
          credentials: [next],
        };
      });
    } finally {
      plain?.fill(0);
    }
    const done = meta as CredentialMetadata;
    await this.#emit(
      who.userId,
      action,
      {
        credentialId,
        exchange: done.exchange,
        revision: done.revision,
        sessionId: who.id,
      },
      who,
    );
    return done;
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
    const who = requireKind(identity, ["session", "grant", "host"], this.#now());
    const rows = await this.#ring.scoped(who.userId).listCredentials();
    return rows.filter((r) => r.userId === who.userId).map(toMeta);
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
    const who = requireKind(identity, ["session", "grant", "host"], this.#now());
    if (typeof credentialId !== "string") return undefined;
    const row = await this.#ring.scoped(who.userId).getCredential(credentialId);
    /* Precondition: a row of another owner is never described, even if a store returns one. */
    if (!row || row.userId !== who.userId || row.credentialId !== credentialId) return undefined;
    return { userId: row.userId, ...toMeta(row) };
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
    const now = this.#now();
    if (isIdentity(identity) && identity.kind === "grant" && !isIdentityLive(identity, now)) {
      await this.#grants.expiredOpen(identity);
    }
    const who = requireKind(identity, ["session", "grant"], now);
    if (typeof fn !== "function")
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "fn must be a function");
    assertCredentialId(credentialId);
    const userId = who.userId;
    const scoped = this.#ring.scoped(userId);
    const [row, userKey, lock] = await Promise.all([
      scoped.getCredential(credentialId),
      scoped.getUserKey(),
      scoped.getLock(),
    ]);
    assertUnlocked(lock);
    /* Precondition: a row of another owner is never opened, even if a store returns one. */
    if (
      !row ||
      !userKey ||
      row.userId !== userId ||
      userKey.userId !== userId ||
      row.credentialId !== credentialId
    ) {
      throw notFound();
    }
    const auth = kmsAuthorization(who);
    let wrapped: Uint8Array;
    let context: KmsContext;
    if (who.kind === "grant") {
      wrapped = await this.#grants.precheck(scoped, who, row.exchange, options.action);
      context = grantKeyContext(userId, who.id);
    } else {
      wrapped = userKey.wrappedDataKey;
      context = userKeyContext(userId);
    }
    const { key: dk, cached } = await this.#ring.unwrap(who, wrapped, context, auth);
    let secrets: CredentialSecrets | undefined;
    try {
      const manifest = dk.use((k) => openManifest(k, userId, userKey.seq, userKey.manifest));
      await this.#ring.checkSeq(userId, userKey.seq);
      const entry = manifest.credentials[credentialId];
      if (!entry) throw notFound();
      /* Precondition: the row's revision and exchange must equal the sealed manifest's. */
      if (entry.revision !== row.revision || entry.exchange !== row.exchange) throw decryptFailed();
      if (entry.state !== "active") {
        throw new KeywardenError("ERR_VAULT_CREDENTIAL_DISABLED", "credential is disabled");
      }
      if (who.kind === "grant") {
        await this.#grants.authorize(manifest, who, entry.exchange, options.action);
      }
      const plain = dk.use((k) =>
        openBlob(
          k,
          BLOB_KIND.credential,
          { userId, exchange: row.exchange, credentialId, revision: row.revision },
          row.sealed,
        ),
      );
      try {
        secrets = decodeFields(plain);
      } finally {
        plain.fill(0);
      }
    } finally {
      if (!cached) dk.wipe();
    }
    try {
      return await fn(secrets as CredentialSecrets);
    } finally {
      if (secrets) wipeFields(secrets);
    }
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
    const who = requireKind(session, ["session"], this.#now());
    return this.#grants.create(who, options);
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
    this.#requireActingFor(caller, userId);
    return this.#grants.resume(userId, grantId);
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
    this.#requireActingFor(caller, userId);
    return this.#grants.find(userId, need);
  }

  /** A live identity that acts for `userId` (any kind but operator must be that user's), or an operator. */
  #requireActingFor(caller: Identity, userId: string): void {
    const who = requireKind(caller, ["session", "grant", "host", "operator"], this.#now());
    /* Precondition: a grant is looked up only by or for its own user, or by an operator. */
    if (who.kind !== "operator" && who.userId !== userId) throw unauthorized();
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
    const who = requireKind(identity, ["session", "host"], this.#now());
    return this.#grants.list(who.userId);
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
    const who = requireKind(identity, ["session", "operator"], this.#now());
    const userId = who.kind === "operator" ? target.userId : who.userId;
    if (userId === undefined) throw unauthorized();
    return this.#grants.revoke(who, userId, target.grantId);
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
    const who = requireKind(session, ["session"], this.#now());
    const userId = who.userId;
    const auth = kmsAuthorization(who);
    const scoped = this.#ring.scoped(userId);
    if (!(await scoped.getUserKey())) throw notFound();
    let keyId = "";
    await this.#ring.mutate(who, async (m, _key, row) => {
      const ctx = userKeyContext(userId);
      const main = await this.#kms.reEncrypt((row as UserKeyRow).wrappedDataKey, ctx, ctx, auth);
      keyId = main.keyId;
      const grants = await this.#grants.rewrapCopies(scoped, m, auth);
      return { manifest: m, userKey: { wrappedDataKey: main.wrapped, keyId: main.keyId }, grants };
    });
    this.#ring.purge(userId);
    await this.#emit(userId, "vault.user.rewrapped", { keyId, sessionId: who.id }, who);
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
    const who = requireKind(identity, ["session", "operator"], this.#now());
    if (who.kind === "session" && userId !== who.userId) throw unauthorized();
    const scoped = this.#ring.scoped(userId);
    await scoped.shred();
    this.#ring.purge(userId);
    await this.#emit(userId, "vault.user.shredded", { actorKind: who.kind, actorId: who.id }, who);
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
    requireKind(operator, ["operator"], this.#now());
    if (typeof this.#store.listUserIds !== "function") {
      throw new KeywardenError("ERR_NOT_SUPPORTED", "this credential store cannot list users");
    }
    return this.#store.listUserIds();
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
    const who = requireKind(operator, ["operator"], this.#now());
    return this.#locks.lock(who, userId, reason);
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
    const who = requireKind(operator, ["operator"], this.#now());
    assertUserId(userId);
    assertReason(reason);
    const grants = await this.#ring.scoped(userId).listGrants();
    let revoked = 0;
    for (const g of grants) {
      if (g.userId !== userId || (g.revokedAt !== null && g.wrappedDataKey === null)) continue;
      await this.#grants.revoke(who, userId, g.grantId);
      revoked++;
    }
    return revoked;
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
    const who = requireKind(session, ["session"], this.#now());
    return this.#locks.unlock(who);
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
    const who = requireKind(identity, ["session", "host", "operator"], this.#now());
    if (who.kind !== "operator" && userId !== who.userId) throw unauthorized();
    assertUserId(userId);
    return this.#locks.status(userId);
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
  return observeVault(new Vault({ ...options, kms: observedKms(options.kms) }));
}
