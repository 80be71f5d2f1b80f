import { KeywardenError } from "../errors.js";

/** A token-bucket rate: `perSecond` sustained, `burst` at once. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** @internal One token bucket per key (bot capability or user). */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit, now: () => number) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1))
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "rate limits must be positive");
    this.#limit = limit;
    this.#now = now;
  }

  /** Takes one token for `key`, or throws `ERR_SIGNER_RATE_LIMITED`. */
  take(key: string): void {
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: this.#limit.burst, at: now };
    b.tokens = Math.min(
      this.#limit.burst,
      b.tokens + ((now - b.at) / 1000) * this.#limit.perSecond,
    );
    b.at = now;
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      throw new KeywardenError("ERR_SIGNER_RATE_LIMITED", "too many requests; slow down");
    }
    b.tokens -= 1;
    this.#buckets.set(key, b);
    if (this.#buckets.size > 100_000) this.#buckets.clear(); // bounded memory under key churn
  }
}
