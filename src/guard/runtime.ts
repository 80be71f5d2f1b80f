import { AsyncLocalStorage } from "node:async_hooks";
import { KeywardenError } from "../errors.js";
import type { Identity } from "./identity-types.js";

/**
 * The process-global guard state, shared by every copy of keywarden loaded in the process (two
 * bundles, ESM and require(esm)), so that they agree on who the caller is and which handlers exist.
 * It is created on first use (no side effect at import), defined on `globalThis` under a
 * registered symbol as non-writable and non-configurable, and frozen, so another package cannot
 * replace it to impersonate a user or hide a handler.
 */
export interface GuardRuntime {
  readonly version: 1;
  /** The identity of the current async call chain. */
  readonly context: AsyncLocalStorage<Identity>;
  /** Every identity keywarden minted; membership is the brand check. */
  readonly identities: WeakSet<object>;
  /** Registered handlers by name (filled by the registry, see `registry.ts`). */
  readonly handlers: Map<string, unknown>;
  /** Guarded and public handler functions, mapped to their registry entry. */
  readonly marks: WeakMap<object, unknown>;
}

const KEY = Symbol.for("keywarden.guard.runtime.v1");

let cached: GuardRuntime | undefined;

function isGenuine(value: unknown): value is GuardRuntime {
  if (typeof value !== "object" || value === null || !Object.isFrozen(value)) return false;
  const r = value as Partial<GuardRuntime>;
  return (
    r.version === 1 &&
    r.context instanceof AsyncLocalStorage &&
    r.identities instanceof WeakSet &&
    r.handlers instanceof Map &&
    r.marks instanceof WeakMap
  );
}

/**
 * Returns the process-global guard runtime, creating it on first use.
 *
 * @throws {KeywardenError} `ERR_GUARD_CONTEXT_TAMPERED` when something else occupies the slot or
 * it was defined writable/configurable.
 * @internal
 */
export function guardRuntime(): GuardRuntime {
  if (cached) return cached;
  const g = globalThis as Record<symbol, unknown>;
  let desc = Object.getOwnPropertyDescriptor(g, KEY);
  if (!desc) {
    const runtime: GuardRuntime = Object.freeze({
      version: 1,
      context: new AsyncLocalStorage<Identity>(),
      identities: new WeakSet<object>(),
      handlers: new Map<string, unknown>(),
      marks: new WeakMap<object, unknown>(),
    });
    Object.defineProperty(g, KEY, {
      value: runtime,
      writable: false,
      configurable: false,
      enumerable: false,
    });
    desc = Object.getOwnPropertyDescriptor(g, KEY);
  }
  if (
    !desc ||
    desc.writable ||
    desc.configurable ||
    desc.get ||
    desc.set ||
    !isGenuine(desc.value)
  ) {
    throw new KeywardenError(
      "ERR_GUARD_CONTEXT_TAMPERED",
      "keywarden guard runtime was tampered with",
    );
  }
  cached = desc.value;
  return cached;
}
