import { KeywardenError } from "../errors.js";
import { type DualMethodDecorator, decorateMethod } from "./decorate.js";
import { registerHandler } from "./registry.js";

/** Why a handler is deliberately not ownership-guarded. */
export interface PublicHandlerOptions {
  /** Unique handler name, e.g. `"exchanges.list"`. */
  name: string;
  /** A reviewed sentence: why anyone may call this (shown by the registry and the kit). */
  reason: string;
}

function entry(options: PublicHandlerOptions) {
  if (typeof options?.reason !== "string" || options.reason.trim().length < 8) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "publicHandler() needs a reason of at least 8 characters",
    );
  }
  return {
    name: options.name,
    kind: "public" as const,
    resource: undefined,
    allowOperators: false,
    batch: false,
    reason: options.reason,
  };
}

/**
 * Marks a handler as deliberately public: it runs without an ownership check, is recorded in the
 * registry with its reason, and the isolation kit accepts it instead of failing it as unguarded.
 * With only options, it is a method decorator (TC39 standard and legacy).
 *
 * @example
 * ```ts
 * const listExchanges = publicHandler(
 *   { name: "exchanges.list", reason: "static list of supported exchanges, no user data" },
 *   async () => SUPPORTED_EXCHANGES,
 * );
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a missing reason, an invalid name, or a name
 * registered with a different policy.
 */
export function publicHandler<Args extends unknown[], R>(
  options: PublicHandlerOptions,
  fn: (...args: Args) => R,
): (...args: Args) => R;
export function publicHandler(options: PublicHandlerOptions): DualMethodDecorator<[]>;
export function publicHandler(
  options: PublicHandlerOptions,
  fn?: (...args: unknown[]) => unknown,
): ((...args: unknown[]) => unknown) | DualMethodDecorator<[]> {
  const e = entry(options);
  if (fn === undefined) {
    return decorateMethod((method) => {
      const marked = function (this: unknown, ...args: unknown[]) {
        return method.apply(this, args);
      };
      registerHandler(e, marked);
      return marked;
    });
  }
  if (typeof fn !== "function") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "publicHandler() needs a function");
  }
  const marked = function (this: unknown, ...args: unknown[]) {
    return fn.apply(this, args);
  };
  registerHandler(e, marked);
  return marked;
}
