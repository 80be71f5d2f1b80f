/**
 * The store-independent parts of a sequenced appender: option checks, the errors a waiter can
 * get, reading a queue row back into an append, and the book of callers waiting for their keys.
 * Used by both sequencers (the PostgreSQL one shares the errors' classification, the timing
 * helpers and the public types).
 *
 * @packageDocumentation
 */
import { isKeywardenError, KeywardenError, type KeywardenErrorCode } from "../../errors.js";
import { mintIdentity } from "../../guard/identity.js";
import type { AppendEntryInput } from "../core/index.js";

/** Errors that say nothing about the entry itself: its row stays queued for the next round. */
const TRANSIENT: ReadonlySet<KeywardenErrorCode> = new Set([
  "ERR_AUDIT_APPEND_CONTENDED",
  "ERR_AUDIT_APPEND_CONFLICT",
  "ERR_AUDIT_STORE_INVARIANT",
  "ERR_AUDIT_STORE_UNAVAILABLE",
]);

/** What a sequenced appender's `append` acknowledges: the committed entry. */
export interface SequencedEntry {
  readonly seq: number;
  readonly hash: string;
  readonly body: string;
  readonly idempotencyKey: string;
}

/** A held lease: the fencing token and who holds it. */
export interface SequencerLease {
  readonly chainId: string;
  readonly token: number;
  readonly holder: string;
}

/**
 * What `purgeFailed()` removes, for `PostgresSequencedAppender.purgeFailed` and
 * `SqliteSequencedAppender.purgeFailed`.
 */
export interface PurgeFailedOptions {
  /** Only this chain's rows (default: every chain's). */
  readonly chainId?: string | undefined;
  /**
   * Only rows marked failed at least this long ago, in ms (default 600000, ten minutes: longer
   * than any waiter's timeout, so a waiting writer still learns why). 0 purges every failed row.
   */
  readonly olderThanMs?: number | undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

/** True for a fault that says nothing about the entries (a database fault, a lost race, a fence). */
export function isTransient(err: unknown): boolean {
  if (!isKeywardenError(err)) return true;
  return err.details?.retryable === true || TRANSIENT.has(err.code);
}

/** True for a retryable database fault (the queue is durable: try again until the deadline). */
export function isRetryable(err: unknown): boolean {
  return isKeywardenError(err) && err.details?.retryable === true;
}

/** An integer option in `lo..hi`, or `ERR_INVALID_ARGUMENT`. */
export function intOption(
  value: number | undefined,
  fallback: number,
  lo: number,
  hi: number,
  what: string,
): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < lo || n > hi)
    throw new KeywardenError("ERR_INVALID_ARGUMENT", `${what} must be ${lo}..${hi}`);
  return n;
}

/** The commit of a sequencer whose lease is no longer current: nothing was written. */
export function fencedOut(): KeywardenError {
  return new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    "this sequencer's lease is no longer current; nothing was written",
    { details: { retryable: true, fenced: true } },
  );
}

/** A caller's deadline passed after its enqueue committed: the entry is durable, not yet known sequenced. */
export function queuedTimeout(): KeywardenError {
  return new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    "the entry is enqueued but was not sequenced in time; it will still be sequenced, retry with the same idempotency key",
    { details: { retryable: true, enqueued: true } },
  );
}

/** A caller's deadline passed before its enqueue could commit (the database stayed locked). */
export function notQueuedTimeout(): KeywardenError {
  return new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    "the entry was not enqueued in time (the database stayed locked); nothing was written, retry with the same idempotency key",
    { details: { retryable: true, enqueued: false } },
  );
}

/** A queue row as the sequencer reads it. */
export interface QueueRowText {
  readonly idempotency_key: string;
  readonly action: string;
  readonly payload: string;
  readonly actor: string;
}

/** The actor as a queue row records it (re-minted by the sequencer). */
export function actorText(identity: { kind: string; userId: string; id: string }): string {
  return JSON.stringify({ kind: identity.kind, userId: identity.userId, id: identity.id });
}

/** The append a queue row stands for, or `undefined` when its actor or payload is not readable. */
export function readQueueRow(row: QueueRowText): AppendEntryInput | undefined {
  try {
    const a = JSON.parse(row.actor) as { kind: "host"; userId: string; id: string };
    return {
      action: row.action,
      payload: JSON.parse(row.payload) as unknown,
      actor: mintIdentity({ kind: a.kind, userId: a.userId, id: a.id }),
      idempotencyKey: row.idempotency_key,
    };
  } catch {
    return undefined;
  }
}

type Waiter = {
  readonly deadline: number;
  readonly resolve: (e: SequencedEntry) => void;
  readonly reject: (e: unknown) => void;
};

/** The callers of one process waiting for their keys on one chain (two may wait for one key). */
export class WaiterBook {
  readonly #waiters = new Map<string, Waiter[]>();

  get size(): number {
    return this.#waiters.size;
  }

  /** Callers waiting, counting each one. */
  count(): number {
    let n = 0;
    for (const list of this.#waiters.values()) n += list.length;
    return n;
  }

  /** Whether a caller waits for `key`. */
  has(key: string): boolean {
    return this.#waiters.has(key);
  }

  keys(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Registers a caller for `key` until `deadline` (a `now()` time); the promise is its answer. */
  wait(key: string, deadline: number): Promise<SequencedEntry> {
    const p = new Promise<SequencedEntry>((resolve, reject) => {
      const w = { deadline, resolve, reject };
      const list = this.#waiters.get(key);
      if (list) list.push(w);
      else this.#waiters.set(key, [w]);
    });
    p.catch(() => {}); // handled by the caller; a deadline may pass before it awaits
    return p;
  }

  /** Resolves (or rejects) every caller waiting for `key`. */
  settle(key: string, entry?: SequencedEntry, err?: unknown): void {
    const list = this.#waiters.get(key);
    if (!list) return;
    this.#waiters.delete(key);
    for (const w of list) {
      if (entry) w.resolve({ ...entry, idempotencyKey: key });
      else w.reject(err);
    }
  }

  /** Rejects every caller past its deadline with `error()`. */
  expire(at: number, error: () => unknown): void {
    for (const [key, list] of this.#waiters) {
      const rest = list.filter((w) => {
        if (at <= w.deadline) return true;
        w.reject(error());
        return false;
      });
      if (rest.length === 0) this.#waiters.delete(key);
      else this.#waiters.set(key, rest);
    }
  }

  /** Rejects every caller with `err`. */
  failAll(err: unknown): void {
    for (const key of this.keys()) this.settle(key, undefined, err);
  }
}
