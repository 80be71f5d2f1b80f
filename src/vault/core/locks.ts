/**
 * Emergency locks: an operator blocks every open of a user's credentials without any key, and
 * only the user's own live session lifts the block (docs/kms-setup.md §Emergency lock).
 *
 * Why a lock and not "disable every credential": a credential's state lives in the user's sealed
 * manifest, under their data key, and the emergency path must decrypt nothing. The lock is a
 * separate, key-free row, like a grant's revocation mark: it only ever removes authority.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { KeywardenError } from "../../errors.js";
import { assertUserId, type Identity } from "../../guard/identity.js";
import { openManifest } from "../format/index.js";
import type { OwnerScopedStore, UserLockRow } from "../stores/index.js";
import { kmsAuthorization, userKeyContext } from "./authorization.js";
import type { UserKeyring } from "./keyring.js";

/** A user's lock state as shown to the user, a host or an operator (no key material). */
export type LockStatus =
  | { readonly locked: false }
  | { readonly locked: true; readonly lockedAt: number; readonly reason: string };

type Payload = Record<string, string | number | null>;

/** @internal */
export interface LockDeps {
  readonly ring: UserKeyring;
  readonly now: () => number;
  emitUser(userId: string, action: string, payload: Payload, actor: Identity): Promise<void>;
  emitOperator(action: string, payload: Payload, actor: Identity): Promise<void>;
}

/** The fixed error of an open refused by a lock: says what to do, reveals nothing else. */
export function lockedError(): KeywardenError {
  return new KeywardenError(
    "ERR_VAULT_USER_LOCKED",
    "credentials are locked by an operator; the user must re-authorize",
  );
}

/**
 * Throws when the user has a lock row. Called on every open before any KMS call.
 *
 * @throws {KeywardenError} `ERR_VAULT_USER_LOCKED`.
 */
export function assertUnlocked(lock: UserLockRow | undefined): void {
  /* Precondition: a locked user's credentials never reach the KMS, under a session or a grant. */
  if (lock !== undefined) throw lockedError();
}

export function assertReason(reason: unknown): asserts reason is string {
  if (
    typeof reason !== "string" ||
    reason.trim().length === 0 ||
    reason.length > 1000 ||
    !reason.isWellFormed()
  ) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "reason must be 1-1000 characters");
  }
}

/** @internal The vault's emergency-lock logic. */
export class LockBook {
  readonly #d: LockDeps;

  constructor(deps: LockDeps) {
    this.#d = deps;
  }

  /** Places the lock (no key needed); returns how many enabled credentials it newly blocked. */
  async lock(operator: Identity, userId: string, reason: string): Promise<number> {
    assertUserId(userId);
    assertReason(reason);
    const scoped = this.#d.ring.scoped(userId);
    const lockId = `lock_${randomBytes(12).toString("base64url")}`;
    const placed = await scoped.lock({
      userId,
      lockId,
      lockedAt: this.#d.now(),
      reason,
      lockedBy: operator.id,
    });
    this.#d.ring.purge(userId);
    if (!placed) return 0; // already locked: that earlier lock blocks everything already
    // The row mirror of `disabled` is enough for a count; the lock blocks every row regardless.
    const blocked = (await scoped.listCredentials()).filter(
      (c) => c.userId === userId && !c.disabled,
    ).length;
    const payload = { lockId, reason, blockedCredentials: blocked };
    await this.#d.emitUser(
      userId,
      "vault.user.locked",
      { ...payload, actorKind: operator.kind, actorId: operator.id },
      operator,
    );
    await this.#d.emitOperator("vault.lock.placed", { userId, ...payload }, operator);
    return blocked;
  }

  async status(userId: string): Promise<LockStatus> {
    const lock = await this.#d.ring.scoped(userId).getLock();
    if (!lock || lock.userId !== userId) return { locked: false };
    return { locked: true, lockedAt: lock.lockedAt, reason: lock.reason };
  }

  /**
   * Lifts the lock for the user's own live session, after re-authorizing at the KMS: the session
   * must unwrap the user's data key and the manifest must verify (AWS: with the user's own STS
   * credentials). Recorded before the lock is removed, so no unlock goes unrecorded.
   */
  async unlock(session: Identity): Promise<boolean> {
    const userId = session.userId;
    const scoped = this.#d.ring.scoped(userId);
    const [lock, row] = await Promise.all([scoped.getLock(), scoped.getUserKey()]);
    if (!lock) return false;
    if (row) await this.#reauthorize(session, scoped, row.wrappedDataKey, row.seq, row.manifest);
    await this.#d.emitUser(
      userId,
      "vault.user.unlocked",
      { lockId: lock.lockId, lockedAt: lock.lockedAt, sessionId: session.id },
      session,
    );
    return scoped.clearLock(lock.lockId);
  }

  async #reauthorize(
    session: Identity,
    scoped: OwnerScopedStore,
    wrapped: Uint8Array,
    seq: number,
    manifest: Uint8Array,
  ): Promise<void> {
    const userId = scoped.userId;
    const { key, cached } = await this.#d.ring.unwrap(
      session,
      wrapped,
      userKeyContext(userId),
      kmsAuthorization(session),
    );
    try {
      key.use((k) => openManifest(k, userId, seq, manifest));
      await this.#d.ring.checkSeq(userId, seq);
    } finally {
      if (!cached) key.wipe();
    }
  }
}
