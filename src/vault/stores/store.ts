/**
 * The storage contract of the vault. Every row is keyed by its owner, and the only way in is an
 * owner-scoped handle ({@link CredentialStore.forUser}): reads and writes always carry the owner
 * predicate, so a query cannot reach another user's rows by a wrong credential id.
 *
 * A store holds only sealed or wrapped bytes plus non-secret metadata; it is untrusted for
 * confidentiality and integrity (the vault authenticates everything it reads), but trusted for
 * availability. Built-in stores: memory, file (`keywarden/vault`), SQLite
 * (`keywarden/vault/sqlite`), PostgreSQL (`keywarden/vault/postgres`).
 *
 * @packageDocumentation
 */

/** A user's wrapped data key and sealed manifest: one row per user. */
export interface UserKeyRow {
  readonly userId: string;
  /** KMS provider name (`"local"`, `"aws"`). */
  readonly kms: string;
  /** Master key the data key is wrapped under (fingerprint or ARN). */
  readonly keyId: string;
  /** The data key, wrapped by the KMS under context `{ userId, purpose: "exchange-api-secret" }`. */
  readonly wrappedDataKey: Uint8Array;
  /** The sealed manifest: authoritative revision/state of each credential and each grant. */
  readonly manifest: Uint8Array;
  /** Manifest sequence number; every commit increments it by exactly one (compare-and-swap). */
  readonly seq: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One sealed credential set. */
export interface CredentialRow {
  readonly userId: string;
  readonly credentialId: string;
  readonly exchange: string;
  /** Free-form, non-secret label chosen by the user. */
  readonly label: string | null;
  readonly revision: number;
  /** Mirror of the manifest state for listing; the manifest is authoritative. */
  readonly disabled: boolean;
  /** The sealed blob (docs/vault-format.md). */
  readonly sealed: Uint8Array;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A trading grant. Scope and expiry here are a mirror; the sealed manifest is authoritative. */
export interface GrantRow {
  readonly userId: string;
  readonly grantId: string;
  readonly exchanges: readonly string[];
  readonly actions: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Set when revoked (by the user, or by an operator as a fail-closed emergency stop). */
  readonly revokedAt: number | null;
  /** The data key wrapped under `{ userId, purpose: "trading-grant", grantId }`; null once dropped. */
  readonly wrappedDataKey: Uint8Array | null;
  readonly keyId: string;
}

/**
 * An operator's emergency lock on a user: while it exists, the vault opens none of the user's
 * credentials, under a session or a grant, and makes no KMS call for them. Key-free by design
 * (like grant revocation): setting it only removes authority, so it needs no key and works when
 * the KMS itself is under suspicion. Only the user's own live session clears it
 * ({@link Vault.unlock}). A database writer can delete it — the worst they can do is give back
 * authority the user already had; the lock and every legitimate unlock are in the user's audit
 * chain, so a lock that vanished without a `vault.user.unlocked` entry is evidence of tampering
 * (docs/kms-setup.md §Emergency lock).
 */
export interface UserLockRow {
  readonly userId: string;
  /** Random id of this lock; an unlock clears only the lock it read (compare-and-delete). */
  readonly lockId: string;
  readonly lockedAt: number;
  /** Why (operator's words; non-secret). */
  readonly reason: string;
  /** Id of the operator identity that placed it. */
  readonly lockedBy: string;
}

/** One atomic write: the new user row (manifest) plus the rows it describes. */
export interface StoreCommit {
  /** The `seq` the stored user row must have now; `null` when no user row may exist yet. */
  readonly expectedSeq: number | null;
  /** Replaces the user row; its `seq` is `expectedSeq + 1` (or 1 for a new user). */
  readonly userKey: UserKeyRow;
  /** Credential rows to insert or replace. */
  readonly credentials?: readonly CredentialRow[];
  /** Grant rows to insert or replace. */
  readonly grants?: readonly GrantRow[];
}

/** The rows of one user, reachable only through {@link CredentialStore.forUser}. */
export interface OwnerScopedStore {
  /** The owner every query of this handle is restricted to. */
  readonly userId: string;

  /** The user's key row, or undefined when the user has none (never stored, or shredded). */
  getUserKey(): Promise<UserKeyRow | undefined>;

  /** One credential row of this owner, or undefined. */
  getCredential(credentialId: string): Promise<CredentialRow | undefined>;

  /** Every credential row of this owner. */
  listCredentials(): Promise<CredentialRow[]>;

  /** One grant row of this owner, or undefined. */
  getGrant(grantId: string): Promise<GrantRow | undefined>;

  /** Every grant row of this owner. */
  listGrants(): Promise<GrantRow[]>;

  /**
   * Applies `change` atomically if the stored user row's `seq` equals `change.expectedSeq`
   * (absent when `null`); otherwise changes nothing and returns false. A commit never clears a
   * grant's `revokedAt` nor restores its dropped key (a revoked grant stays revoked).
   */
  commit(change: StoreCommit): Promise<boolean>;

  /**
   * Marks a grant revoked at `revokedAt` (if not already) and drops its wrapped data key. Needs
   * no key: it only ever removes authority. Returns false when the grant does not exist.
   */
  revokeGrant(grantId: string, revokedAt: number): Promise<boolean>;

  /** The user's emergency lock, or undefined when not locked. */
  getLock(): Promise<UserLockRow | undefined>;

  /**
   * Places `lock` unless the user is already locked (the first lock is kept). Needs no key.
   * Returns true when this call placed it. Commits never touch the lock.
   */
  lock(lock: UserLockRow): Promise<boolean>;

  /**
   * Removes the lock only if it is still the one with `lockId` (compare-and-delete, so an unlock
   * racing a newer lock cannot clear the newer one). Returns true when it removed it.
   */
  clearLock(lockId: string): Promise<boolean>;

  /**
   * Crypto-shredding: deletes the user row (the wrapped data key), every credential row and every
   * grant row and the lock of this owner, and asks the storage to overwrite freed space where it can.
   */
  shred(): Promise<void>;
}

/**
 * A vault storage backend.
 *
 * @example
 * ```ts
 * const store: CredentialStore = new MemoryCredentialStore();
 * const alice = store.forUser("alice");
 * const rows = await alice.listCredentials();
 * ```
 */
export interface CredentialStore {
  /** A handle restricted to `userId`'s rows. */
  forUser(userId: string): OwnerScopedStore;
  /**
   * Operator capability: the ids of every user with any row (key, credential, grant or lock), in
   * ascending order. Used by emergency revocation; never exposed to users. Optional for
   * third-party stores; the vault reports `ERR_NOT_SUPPORTED` without it.
   */
  listUserIds?(): Promise<string[]>;
  /** Releases resources (connections, file handles). */
  close?(): Promise<void>;
}
