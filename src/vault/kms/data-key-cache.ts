/**
 * The opt-in data-key cache. Off by default: with it, an unwrapped data key outlives one call, so
 * a memory disclosure exposes more, and a revoked session keeps its key until the entry ages out
 * (grant revocation and credential state are still checked on every open). Entries are
 * partitioned per identity object (one verified session, one resumed grant), bounded by age (at most the identity's
 * remaining lifetime) and by count, and wiped when evicted.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from "node:crypto";
import { KeywardenError } from "../../errors.js";
import type { Identity } from "../../guard/identity.js";
import { Secret } from "../../secret.js";

/** Options of the opt-in data-key cache. */
export interface DataKeyCacheOptions {
  /** Longest an unwrapped key is kept, in ms (capped by the identity's expiry). Max 15 minutes. */
  readonly maxAgeMs: number;
  /** Most entries kept. Default 1000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly key: Secret;
  readonly expiresAt: number;
  readonly userId: string;
}

/** @internal */
export class DataKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxAge: number;
  readonly #max: number;

  constructor(options: DataKeyCacheOptions) {
    const maxAge = options.maxAgeMs;
    if (!Number.isInteger(maxAge) || maxAge <= 0 || maxAge > 15 * 60_000) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "dataKeyCache.maxAgeMs must be 1..900000");
    }
    this.#maxAge = maxAge;
    this.#max = options.maxEntries ?? 1000;
  }

  readonly #partitions = new WeakMap<Identity, string>();

  /** One partition per identity object (a verified session or a resumed grant), never shared. */
  #id(identity: Identity, wrapped: Uint8Array): string {
    let p = this.#partitions.get(identity);
    if (!p) {
      p = randomBytes(16).toString("hex");
      this.#partitions.set(identity, p);
    }
    const h = createHash("sha256").update(wrapped).digest("hex");
    return `${p}\u0000${identity.userId}\u0000${h}`;
  }

  /** A copy of the cached key (the caller wipes it) — never the cached buffer itself. */
  get(identity: Identity, wrapped: Uint8Array, now: number): Secret | undefined {
    const id = this.#id(identity, wrapped);
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      e.key.wipe();
      this.#entries.delete(id);
      return undefined;
    }
    return e.key.use((k) => Secret.copyOf(k));
  }

  /** Caches a copy of `key`; returns false (the caller keeps ownership either way). */
  put(identity: Identity, wrapped: Uint8Array, key: Secret, now: number): false {
    const limit = Math.min(now + this.#maxAge, identity.expiresAt ?? Number.POSITIVE_INFINITY);
    if (limit <= now) return false;
    while (this.#entries.size >= this.#max) {
      const first = this.#entries.keys().next().value as string;
      this.#entries.get(first)?.key.wipe();
      this.#entries.delete(first);
    }
    this.#entries.set(this.#id(identity, wrapped), {
      key: key.use((k) => Secret.copyOf(k)),
      expiresAt: limit,
      userId: identity.userId,
    });
    return false;
  }

  /** Wipes every entry of `userId`. */
  purgeUser(userId: string): void {
    for (const [id, e] of this.#entries) {
      if (e.userId === userId) {
        e.key.wipe();
        this.#entries.delete(id);
      }
    }
  }
}
