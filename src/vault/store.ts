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

  /**
   * Crypto-shredding: deletes the user row (the wrapped data key), every credential row and every
   * grant row of this owner, and asks the storage to overwrite freed space where it can.
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
  /** Releases resources (connections, file handles). */
  close?(): Promise<void>;
}
