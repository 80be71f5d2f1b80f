/**
 * The redacting secret container. Secret bytes live in a private field that no formatter,
 * serializer or structured clone can reach; they are readable only inside {@link Secret.use}, and
 * {@link Secret.wipe} zeroes them.
 *
 * @packageDocumentation
 */
import { timingSafeEqual } from "node:crypto";
import { KeywardenError } from "./errors.js";

/** What every formatter prints in place of a secret. */
export const REDACTED = "[REDACTED]";

const BRAND = Symbol.for("keywarden.secret");
const inspectCustom = Symbol.for("nodejs.util.inspect.custom");

/**
 * A secret value (API secret, passphrase, data key, signing key) that cannot leak by accident.
 *
 * - `String(s)`, `${s}`, `JSON.stringify(s)`, `util.inspect(s)` (any options), every
 *   `util.format` specifier (`%s %o %O %j`, which console methods use) and an `Error` cause all
 *   print {@link REDACTED}.
 * - `structuredClone`, `v8.serialize` and worker `postMessage` see an object with no own data.
 * - The bytes are readable only inside {@link Secret.use}; after {@link Secret.wipe} they are zeroed
 *   and every further use throws `ERR_SECRET_WIPED`.
 *
 * What it cannot do: once code inside `use` copies the bytes into a JavaScript string (ccxt needs
 * its credentials as strings), that string is immutable and lives until the garbage collector
 * reclaims it. See docs/security.md.
 *
 * @example
 * ```ts
 * import { Secret } from "keywarden/secret";
 * const s = Secret.fromBytes(randomBytes(32));
 * const shown = `${s}`; // "[REDACTED]"
 * const mac = s.use((key) => createHmac("sha256", key).update(msg).digest());
 * s.wipe();
 * ```
 */
export class Secret {
  #bytes: Uint8Array;
  #wiped = false;

  static {
    // The cross-copy brand lives on the prototype, not on each instance: a property defined per
    // instance made every Secret four times as costly to create (issue 21); `isSecret` reads it
    // the same way.
    Object.defineProperty(Secret.prototype, BRAND, { value: true });
  }

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    Object.freeze(this);
  }

  /**
   * Wraps `bytes` without copying: the secret takes ownership, and wiping it zeroes that buffer.
   * Pass a buffer nothing else keeps (not a slice of Node's shared Buffer pool).
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `bytes` is not a Uint8Array.
   */
  static fromBytes(bytes: Uint8Array): Secret {
    if (!(bytes instanceof Uint8Array)) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "Secret.fromBytes expects a Uint8Array");
    }
    return new Secret(bytes);
  }

  /** Copies `bytes` into a fresh buffer owned by the secret; the caller should wipe its own copy. */
  static copyOf(bytes: Uint8Array): Secret {
    if (!(bytes instanceof Uint8Array)) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "Secret.copyOf expects a Uint8Array");
    }
    return new Secret(new Uint8Array(bytes));
  }

  /**
   * The weaker form: encodes `text` as UTF-8 into a buffer the secret owns. The string itself is
   * immutable and stays in memory until garbage-collected; prefer {@link Secret.fromBytes}.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when `text` is not a string.
   */
  static fromString(text: string): Secret {
    if (typeof text !== "string") {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "Secret.fromString expects a string");
    }
    return new Secret(new TextEncoder().encode(text));
  }

  /** True for a keywarden secret from any copy of the library loaded in the process. */
  static isSecret(value: unknown): value is Secret {
    return (
      typeof value === "object" &&
      value !== null &&
      (#bytes in value || (value as Record<symbol, unknown>)[BRAND] === true)
    );
  }

  /** Number of secret bytes (not secret itself). */
  get byteLength(): number {
    return this.#bytes.byteLength;
  }

  /** True once {@link Secret.wipe} has run. */
  get wiped(): boolean {
    return this.#wiped;
  }

  /**
   * Runs `fn` with the secret bytes and returns what it returns (a promise for an async `fn`).
   * Do not keep the array past the callback: a later `wipe()` zeroes it.
   *
   * @throws {KeywardenError} `ERR_SECRET_WIPED` after {@link Secret.wipe}.
   */
  use<T>(fn: (bytes: Uint8Array) => T): T {
    if (this.#wiped) throw new KeywardenError("ERR_SECRET_WIPED", "secret was already wiped");
    return fn(this.#bytes);
  }

  /** Like {@link Secret.use} with the bytes decoded as UTF-8 (the string cannot be wiped). */
  useText<T>(fn: (text: string) => T): T {
    return this.use((bytes) => fn(new TextDecoder("utf-8", { fatal: true }).decode(bytes)));
  }

  /**
   * Runs `fn` with the bytes, then wipes the secret whether `fn` returned, threw or rejected.
   *
   * @throws {KeywardenError} `ERR_SECRET_WIPED` when already wiped.
   */
  async consume<T>(fn: (bytes: Uint8Array) => T | Promise<T>): Promise<Awaited<T>> {
    try {
      return await this.use(fn);
    } finally {
      this.wipe();
    }
  }

  /** Constant-time comparison with another secret of the same length. */
  equals(other: Secret): boolean {
    return this.use((a) => other.use((b) => a.length === b.length && timingSafeEqual(a, b)));
  }

  /** Zeroes the bytes. Idempotent. */
  wipe(): void {
    this.#bytes.fill(0);
    this.#wiped = true;
  }

  /** Always {@link REDACTED}. */
  toString(): string {
    return REDACTED;
  }

  /** Always {@link REDACTED}, so `JSON.stringify` never carries the bytes. */
  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  get [Symbol.toStringTag](): string {
    return "Secret";
  }

  [inspectCustom](): string {
    return `Secret(${REDACTED})`;
  }
}
