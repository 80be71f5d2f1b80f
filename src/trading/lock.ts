/**
 * A keyed async mutex: callers holding the same key run one at a time, in arrival order. Used so
 * that the kill-switch check and the order intent for one user happen under one lock, and the
 * kill switch cannot slip between them.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` while holding `key`; releases it whether `fn` returned or threw. */
  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** True while some caller holds or waits for `key`. */
  isLocked(key: string): boolean {
    return this.#tails.has(key);
  }
}
