import { KeywardenError } from "../errors.js";
import { clearCredentials, type ExchangeFactory, type ExchangeLike } from "./exchange-like.js";

interface ExchangePool {
  /** Credential-free instance for market data; its markets and throttler are shared by all. */
  readonly shared: ExchangeLike;
  readonly idle: ExchangeLike[];
  readonly waiters: Array<(instance: ExchangeLike) => void>;
  size: number;
}

/**
 * Pools credential-free ccxt instances per exchange. Constructing one costs milliseconds and
 * hundreds of kilobytes, so no call constructs one: a call checks an instance out exclusively,
 * sets the user's credentials for that call only, and returns it cleared. Every pooled instance
 * shares the market table and the rate limiter (ccxt's throttler) of one credential-free
 * instance, so per-call credentials cost no extra requests and respect the exchange's limits.
 */
export class InstancePool {
  readonly #factory: ExchangeFactory;
  readonly #max: number;
  readonly #pools = new Map<string, Promise<ExchangePool>>();

  constructor(factory: ExchangeFactory, options: { maxPerExchange?: number } = {}) {
    this.#factory = factory;
    this.#max = options.maxPerExchange ?? 8;
  }

  #pool(exchange: string): Promise<ExchangePool> {
    let p = this.#pools.get(exchange);
    if (!p) {
      p = (async () => {
        const shared = await this.#factory(exchange);
        shared.verbose = false;
        clearCredentials(shared);
        await shared.loadMarkets();
        return { shared, idle: [], waiters: [], size: 0 };
      })();
      this.#pools.set(exchange, p);
      p.catch(() => this.#pools.delete(exchange));
    }
    return p;
  }

  /** The shared credential-free instance, with markets loaded (for public market data). */
  async marketData(exchange: string): Promise<ExchangeLike> {
    return (await this.#pool(exchange)).shared;
  }

  async #checkout(exchange: string): Promise<{ pool: ExchangePool; instance: ExchangeLike }> {
    const pool = await this.#pool(exchange);
    const ready = pool.idle.pop();
    if (ready) return { pool, instance: ready };
    if (pool.size < this.#max) {
      pool.size++;
      try {
        const instance = await this.#factory(exchange);
        instance.verbose = false;
        clearCredentials(instance);
        if (pool.shared.markets && instance.setMarkets)
          instance.setMarkets(pool.shared.markets, pool.shared.currencies);
        instance.throttler = pool.shared.throttler;
        return { pool, instance };
      } catch (err) {
        pool.size--;
        throw err;
      }
    }
    const instance = await new Promise<ExchangeLike>((resolve) => pool.waiters.push(resolve));
    return { pool, instance };
  }

  /**
   * Runs `fn` with an instance checked out for this call only. Credentials that `fn` sets are
   * cleared before the instance goes back, whether `fn` returned or threw.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for an empty exchange id; whatever `fn` throws.
   */
  async withInstance<T>(exchange: string, fn: (instance: ExchangeLike) => Promise<T>): Promise<T> {
    if (typeof exchange !== "string" || exchange.length === 0) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "exchange id is required");
    }
    const { pool, instance } = await this.#checkout(exchange);
    try {
      return await fn(instance);
    } finally {
      /* Postcondition: an instance goes back to the pool without credentials or request copies. */
      clearCredentials(instance);
      instance.verbose = false;
      const next = pool.waiters.shift();
      if (next) next(instance);
      else pool.idle.push(instance);
    }
  }
}
