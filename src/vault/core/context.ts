/**
 * The vault's options and the private state every job of the vault works on — the KMS, the
 * store, the per-user keyring, the grant and lock books, the clock and the audit emitter — built
 * once from the options by the `Vault` constructor and never exposed on the public type; plus the
 * one not-found error those jobs share.
 * Lower than every job file (credential lifecycle, opening, grant and user operations): it
 * imports none of them.
 *
 * @packageDocumentation
 */
import { KeywardenError, NOT_FOUND_MESSAGE } from "../../errors.js";
import type { Identity } from "../../guard/identity.js";
import type { RevisionWitness } from "../format/index.js";
import type { KmsProvider } from "../kms/index.js";
import { DataKeyCache, type DataKeyCacheOptions } from "../kms/index.js";
import type { CredentialStore } from "../stores/index.js";
import { GrantBook } from "./grants.js";
import { UserKeyring } from "./keyring.js";
import { LockBook } from "./locks.js";
import { type VaultAuditSink, vaultEvent } from "./support.js";

/** @internal What the vault's operations share; held privately by one `Vault`. */
export interface VaultContext {
  readonly kms: KmsProvider;
  readonly store: CredentialStore;
  readonly audit: VaultAuditSink | undefined;
  readonly ring: UserKeyring;
  readonly grants: GrantBook;
  readonly locks: LockBook;
  readonly now: () => number;
  /** Records a `vault.*` event on the user's chain (ids and numbers only). */
  emit(
    userId: string,
    action: string,
    payload: Record<string, string | number | null>,
    actor: Identity,
  ): Promise<void>;
}

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

/** @internal Builds the vault's private state from its options (the `Vault` constructor). */
export function createVaultContext(options: VaultOptions): VaultContext {
  const audit = options.audit;
  const now = options.now ?? Date.now;
  const emit: VaultContext["emit"] = async (userId, action, payload, actor) => {
    await audit?.append(`user:${userId}`, action, vaultEvent(payload), actor);
  };
  const ring = new UserKeyring({
    kms: options.kms,
    store: options.store,
    witness: options.witness,
    cache: options.dataKeyCache ? new DataKeyCache(options.dataKeyCache) : undefined,
    now,
  });
  const grants = new GrantBook({
    kms: options.kms,
    now,
    maxTtlMs: options.maxGrantTtlMs ?? 30 * 24 * 3600_000,
    emit,
    mutate: (session, fn) => ring.mutate(session, fn),
    purge: (userId) => ring.purge(userId),
    scoped: (userId) => ring.scoped(userId),
  });
  const locks = new LockBook({
    ring,
    now,
    emitUser: emit,
    emitOperator: async (action, payload, actor) => {
      await audit?.append("operator", action, vaultEvent(payload), actor);
    },
  });
  return { kms: options.kms, store: options.store, audit, ring, grants, locks, now, emit };
}

/** The fixed error for a credential (or user key) the caller has not got, whoever owns it. */
export function credentialNotFound(): KeywardenError {
  return new KeywardenError("ERR_VAULT_CREDENTIAL_NOT_FOUND", NOT_FOUND_MESSAGE);
}
