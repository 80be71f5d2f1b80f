/**
 * In-memory {@link CredentialStore}, for tests and single-process deployments that keep nothing
 * across restarts.
 *
 * @packageDocumentation
 */
import type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  OwnerScopedStore,
  StoreCommit,
  UserKeyRow,
  UserLockRow,
} from "./store.js";

/** Postcondition: a commit never clears a grant's revocation (nor restores its dropped key). */
export function keepRevocation(old: GrantRow | undefined, next: GrantRow): GrantRow {
  if (old?.revokedAt == null) return next;
  return { ...next, revokedAt: old.revokedAt, wrappedDataKey: null };
}

interface UserRows {
  key: UserKeyRow | undefined;
  credentials: Map<string, CredentialRow>;
  grants: Map<string, GrantRow>;
  lock: UserLockRow | undefined;
}

const copyCred = (r: CredentialRow): CredentialRow => ({ ...r, sealed: new Uint8Array(r.sealed) });
const copyKey = (r: UserKeyRow): UserKeyRow => ({
  ...r,
  wrappedDataKey: new Uint8Array(r.wrappedDataKey),
  manifest: new Uint8Array(r.manifest),
});
const copyGrant = (r: GrantRow): GrantRow => ({
  ...r,
  exchanges: [...r.exchanges],
  actions: [...r.actions],
  wrappedDataKey: r.wrappedDataKey ? new Uint8Array(r.wrappedDataKey) : null,
});

/**
 * Keeps every row in a Map keyed by owner; values are copied in and out so callers cannot alter
 * stored bytes.
 *
 * @example
 * ```ts
 * const vault = createVault({ kms: LocalKms.fromKeyFile("master.key"), store: new MemoryCredentialStore() });
 * ```
 */
export class MemoryCredentialStore implements CredentialStore {
  readonly #users = new Map<string, UserRows>();

  #rows(userId: string): UserRows {
    let rows = this.#users.get(userId);
    if (!rows) {
      rows = { key: undefined, credentials: new Map(), grants: new Map(), lock: undefined };
      this.#users.set(userId, rows);
    }
    return rows;
  }

  /** {@inheritDoc CredentialStore.listUserIds} */
  async listUserIds(): Promise<string[]> {
    return [...this.#users]
      .filter(([, r]) => r.key || r.lock || r.credentials.size > 0 || r.grants.size > 0)
      .map(([id]) => id)
      .sort();
  }

  /** {@inheritDoc CredentialStore.forUser} */
  forUser(userId: string): OwnerScopedStore {
    const rows = () => this.#rows(userId);
    return {
      userId,
      getUserKey: async () => {
        const k = rows().key;
        return k ? copyKey(k) : undefined;
      },
      getCredential: async (id) => {
        const r = rows().credentials.get(id);
        return r ? copyCred(r) : undefined;
      },
      listCredentials: async () => [...rows().credentials.values()].map(copyCred),
      getGrant: async (id) => {
        const g = rows().grants.get(id);
        return g ? copyGrant(g) : undefined;
      },
      listGrants: async () => [...rows().grants.values()].map(copyGrant),
      commit: async (change: StoreCommit) => {
        const r = rows();
        const seq = r.key?.seq ?? null;
        if (seq !== change.expectedSeq) return false;
        r.key = copyKey(change.userKey);
        for (const c of change.credentials ?? []) r.credentials.set(c.credentialId, copyCred(c));
        for (const g of change.grants ?? [])
          r.grants.set(g.grantId, keepRevocation(r.grants.get(g.grantId), copyGrant(g)));
        return true;
      },
      revokeGrant: async (grantId, revokedAt) => {
        const g = rows().grants.get(grantId);
        if (!g) return false;
        g.wrappedDataKey?.fill(0);
        rows().grants.set(grantId, {
          ...g,
          revokedAt: g.revokedAt ?? revokedAt,
          wrappedDataKey: null,
        });
        return true;
      },
      getLock: async () => {
        const l = this.#users.get(userId)?.lock;
        return l ? { ...l } : undefined;
      },
      lock: async (lock) => {
        const r = rows();
        if (r.lock) return false;
        r.lock = { ...lock, userId };
        return true;
      },
      clearLock: async (lockId) => {
        const r = this.#users.get(userId);
        if (r?.lock?.lockId !== lockId) return false;
        r.lock = undefined;
        return true;
      },
      shred: async () => {
        const r = this.#users.get(userId);
        if (!r) return;
        r.key?.wrappedDataKey.fill(0);
        r.key?.manifest.fill(0);
        for (const c of r.credentials.values()) c.sealed.fill(0);
        for (const g of r.grants.values()) g.wrappedDataKey?.fill(0);
        this.#users.delete(userId);
      },
    };
  }
}
