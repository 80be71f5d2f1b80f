import { KeywardenError } from "../errors.js";
import { guardRuntime } from "./runtime.js";

/** What a registered handler is: ownership-guarded, or deliberately public. */
export type HandlerKind = "owned" | "public";

/** One entry of the process-global handler registry. */
export interface HandlerEntry {
  /** Unique, stable handler name, e.g. `"vault.openCredential"`. */
  readonly name: string;
  readonly kind: HandlerKind;
  /** Resource kind the handler guards (`"credential"`); for public handlers `undefined`. */
  readonly resource: string | undefined;
  /** Whether operator identities pass the guard. */
  readonly allowOperators: boolean;
  /** Whether the handler takes a list of ids (all-or-nothing). */
  readonly batch: boolean;
  /** For public handlers: why the handler needs no ownership check (reviewed text). */
  readonly reason: string | undefined;
}

const NAME = /^[A-Za-z_$][A-Za-z0-9_$.:/-]{0,127}$/;

function sameEntry(a: HandlerEntry, b: HandlerEntry): boolean {
  return (
    a.kind === b.kind &&
    a.resource === b.resource &&
    a.allowOperators === b.allowOperators &&
    a.batch === b.batch &&
    a.reason === b.reason
  );
}

/**
 * Records `entry` in the process-global registry and marks `fn` as its implementation.
 * Registering the same name again with the same policy is allowed (several instances of a
 * service); with a different policy it throws, so one handler cannot shadow another's policy.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on an invalid name or a conflicting policy.
 * @internal
 */
export function registerHandler(entry: HandlerEntry, fn: object): void {
  if (typeof entry.name !== "string" || !NAME.test(entry.name)) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "handler name must be 1-128 characters of [A-Za-z0-9_$.:/-], not starting with a digit",
    );
  }
  const runtime = guardRuntime();
  const frozen = Object.freeze({ ...entry });
  const existing = runtime.handlers.get(entry.name) as HandlerEntry | undefined;
  /* Precondition: a handler name cannot be re-registered with a different policy. */
  if (existing && !sameEntry(existing, frozen)) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `handler "${entry.name}" is already registered with a different policy`,
    );
  }
  if (!existing) runtime.handlers.set(entry.name, frozen);
  runtime.marks.set(fn, existing ?? frozen);
}

/**
 * Every registered handler (guarded and public), sorted by name: what the isolation kit checks
 * against, and what a snapshot test of the public surface should pin.
 *
 * @example
 * ```ts
 * const publicOnes = listHandlers().filter((h) => h.kind === "public").map((h) => h.name);
 * expect(publicOnes).toMatchInlineSnapshot();
 * ```
 * @throws {KeywardenError} `ERR_GUARD_CONTEXT_TAMPERED` if the guard runtime was tampered with.
 */
export function listHandlers(): readonly HandlerEntry[] {
  const all = [...guardRuntime().handlers.values()] as HandlerEntry[];
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The registry entry of a guarded or public handler function (or decorated method), or
 * `undefined` when `fn` is neither: the check the isolation kit uses to find unguarded handlers.
 *
 * @example
 * ```ts
 * if (!handlerEntryOf(service.cancelOrder)) throw new Error("cancelOrder is unguarded");
 * ```
 * @throws {KeywardenError} `ERR_GUARD_CONTEXT_TAMPERED` if the guard runtime was tampered with.
 */
export function handlerEntryOf(fn: unknown): HandlerEntry | undefined {
  if (typeof fn !== "function") return undefined;
  return guardRuntime().marks.get(fn) as HandlerEntry | undefined;
}
