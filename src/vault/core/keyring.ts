/**
 * Per-user key handling shared by the vault's operations: owner-scoped store handles, unwrapping
 * data keys (optionally through the opt-in cache), the rollback high-water marks, and the single
 * write path (decrypt and verify the manifest, apply a change, compare-and-swap commit).
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import type { Identity } from "../../guard/identity.js";
import type { Secret } from "../../secret.js";
import {
  decryptFailed,
  type Manifest,
  ManifestReader,
  openManifest,
  type RevisionWitness,
  sealManifest,
} from "../format/index.js";
import type { DataKeyCache, KmsAuthorization, KmsContext, KmsProvider } from "../kms/index.js";
import type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  OwnerScopedStore,
  UserKeyRow,
} from "../stores/index.js";
import { kmsAuthorization, userKeyContext } from "./authorization.js";

/** What a mutation of a user's manifest writes. */
export interface Mutation {
  readonly manifest: Manifest;
  readonly credentials?: readonly CredentialRow[];
  readonly grants?: readonly GrantRow[];
  readonly userKey?: Pick<UserKeyRow, "wrappedDataKey" | "keyId">;
}

/** @internal */
export interface KeyringOptions {
  readonly kms: KmsProvider;
  readonly store: CredentialStore;
  readonly witness: RevisionWitness | undefined;
  readonly cache: DataKeyCache | undefined;
  readonly now: () => number;
}

/** @internal */
export class UserKeyring {
  readonly #o: KeyringOptions;
  readonly #highWater = new Map<string, number>();
  /** Read-only manifest opens (credential opens); see {@link ManifestReader}. */
  readonly manifests = new ManifestReader();

  constructor(options: KeyringOptions) {
    this.#o = options;
  }

  /** Wipes cached data keys of `userId` (grant revocation, re-wrap, deletion). */
  purge(userId: string): void {
    this.#o.cache?.purgeUser(userId);
    this.manifests.forget(userId);
  }

  scoped(userId: string): OwnerScopedStore {
    const scoped = this.#o.store.forUser(userId);
    if (scoped.userId !== userId) throw new KeywardenError("ERR_INTERNAL", "store scoped wrongly");
    /* Precondition: a store without emergency locks is refused (every open must check the lock). */
    if (typeof scoped.getLock !== "function" || typeof scoped.lock !== "function") {
      throw new KeywardenError("ERR_NOT_SUPPORTED", "credential store lacks emergency locks");
    }
    return scoped;
  }

  /** Raises and persists the user's high-water mark; a `seq` below it is a rollback. */
  async checkSeq(userId: string, seq: number): Promise<void> {
    const mem = this.#highWater.get(userId) ?? 0;
    const persisted = this.#o.witness ? await this.#o.witness.get(userId) : 0;
    /* Precondition: a manifest older than one already seen for the user is refused (rollback). */
    if (seq < Math.max(mem, persisted)) throw decryptFailed();
    if (seq > mem) this.#highWater.set(userId, seq);
    if (this.#o.witness && seq > persisted) await this.#o.witness.advance(userId, seq);
  }

  async unwrap(
    identity: Identity,
    wrapped: Uint8Array,
    context: KmsContext,
    auth: KmsAuthorization,
  ): Promise<{ key: Secret; cached: boolean }> {
    const hit = this.#o.cache?.get(identity, wrapped, this.#o.now());
    if (hit) return { key: hit, cached: false }; // the cache hands out copies
    const key = await this.#o.kms.decrypt(wrapped, context, auth);
    if (key.byteLength !== 32) {
      key.wipe();
      throw decryptFailed();
    }
    const cached = this.#o.cache?.put(identity, wrapped, key, this.#o.now()) ?? false;
    return { key, cached };
  }

  /** Loads, decrypts and verifies a user's manifest, runs `fn`, commits what it returns. */
  async mutate(
    session: Identity,
    fn: (
      m: Manifest,
      dataKey: Uint8Array,
      row: UserKeyRow | undefined,
    ) => Mutation | Promise<Mutation>,
  ): Promise<void> {
    const userId = session.userId;
    const scoped = this.scoped(userId);
    const auth = kmsAuthorization(session);
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await scoped.getUserKey();
      let dk: Secret;
      let wrapped: Uint8Array;
      let keyId: string;
      let manifest: Manifest;
      let cached = false;
      if (!row) {
        const g = await this.#o.kms.generateDataKey(userKeyContext(userId), auth);
        dk = g.plaintext;
        wrapped = g.wrapped;
        keyId = g.keyId;
        const floor = Math.max(
          this.#highWater.get(userId) ?? 0,
          (await this.#o.witness?.get(userId)) ?? 0,
        );
        manifest = { userId, seq: floor, credentials: {}, grants: {} };
      } else {
        if (row.userId !== userId) throw decryptFailed();
        ({ key: dk, cached } = await this.unwrap(
          session,
          row.wrappedDataKey,
          userKeyContext(userId),
          auth,
        ));
        wrapped = row.wrappedDataKey;
        keyId = row.keyId;
        manifest = { userId, seq: row.seq, credentials: {}, grants: {} }; // replaced below
      }
      try {
        if (row) {
          manifest = dk.use((k) => openManifest(k, userId, row.seq, row.manifest));
          await this.checkSeq(userId, row.seq);
        }
        const change = await dk.use((k) => fn(manifest, k, row));
        const next: Manifest = { ...change.manifest, seq: manifest.seq + 1 };
        const now = this.#o.now();
        const ok = await scoped.commit({
          expectedSeq: row ? row.seq : null,
          userKey: {
            userId,
            kms: this.#o.kms.name,
            keyId: change.userKey?.keyId ?? keyId,
            wrappedDataKey: change.userKey?.wrappedDataKey ?? wrapped,
            manifest: dk.use((k) => sealManifest(k, next)),
            seq: next.seq,
            createdAt: row?.createdAt ?? now,
            updatedAt: now,
          },
          credentials: change.credentials ?? [],
          grants: change.grants ?? [],
        });
        if (ok) {
          await this.checkSeq(userId, next.seq);
          return;
        }
      } finally {
        if (!cached) dk.wipe();
      }
    }
    throw new KeywardenError("ERR_VAULT_REVISION_CONFLICT", "concurrent update; retry");
  }
}
