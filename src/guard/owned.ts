import { AsyncLocalStorage } from "node:async_hooks";
import { KeywardenError, NOT_FOUND_MESSAGE } from "../errors.js";
import { requireIdentity } from "./context.js";
import { type DualMethodDecorator, decorateMethod } from "./decorate.js";
import type { Identity } from "./identity.js";
import { registerHandler } from "./registry.js";
import { guardTestSwitches } from "./test-hooks.js";

type MaybePromise<T> = T | Promise<T>;

/** What every ownership policy says: which resource, how to load it, who owns it. */
export interface OwnedPolicy<Row> {
  /** Unique handler name for the registry and the isolation kit, e.g. `"vault.openCredential"`. */
  name: string;
  /** Resource kind, e.g. `"credential"`; the kit substitutes other users' ids of this kind. */
  resource: string;
  /**
   * Loads one row by id for the caller. Load through an owner-scoped store
   * (`table.forUser(identity).get(id)` or an RLS transaction) so that the storage layer holds even
   * if this guard were bypassed. Return `undefined`/`null` when there is no such row.
   */
  load: (id: string, identity: Identity) => MaybePromise<Row | undefined | null>;
  /** The owning user id of a loaded row. */
  owner: (row: Row) => string;
  /**
   * Let `operator` identities through (for infrastructure handlers). Default `false`: an
   * operator never passes a user guard, even if its id equals the owner's user id.
   */
  allowOperators?: boolean;
}

/** A policy for a handler that acts on one resource id. */
export interface OwnedOne<Args extends unknown[], Row> extends OwnedPolicy<Row> {
  /** The resource id, from the call's arguments. */
  id: (...args: Args) => string;
}

/** A policy for a handler that acts on a list of ids, all-or-nothing. */
export interface OwnedMany<Args extends unknown[], Row> extends OwnedPolicy<Row> {
  /** The resource ids, from the call's arguments. */
  ids: (...args: Args) => readonly string[];
  /** Largest accepted list. Default 1000. */
  maxBatch?: number;
}

/** What the body of a one-id handler receives: the caller and the row it owns. */
export interface Loaded<Row> {
  readonly identity: Identity;
  readonly row: Row;
}

/** What the body of a batch handler receives: the caller and every row, in the order of the ids. */
export interface LoadedBatch<Row> {
  readonly identity: Identity;
  readonly rows: readonly Row[];
}

type AnyPolicy = OwnedOne<unknown[], unknown> | OwnedMany<unknown[], unknown>;

const loadedContext = new AsyncLocalStorage<Loaded<unknown> | LoadedBatch<unknown>>();
const MAX_ID_LENGTH = 256;

const notFound = () => new KeywardenError("ERR_GUARD_NOT_FOUND", NOT_FOUND_MESSAGE);

/** The policy as captured at wrap time: later mutation of the caller's object changes nothing. */
interface Compiled {
  readonly resource: string;
  readonly load: (id: string, identity: Identity) => MaybePromise<unknown>;
  readonly owner: (row: unknown) => string;
  readonly allowOperators: boolean;
  readonly id: ((...args: unknown[]) => unknown) | undefined;
  readonly ids: ((...args: unknown[]) => unknown) | undefined;
  readonly maxBatch: number;
}

type Invoke<R> = (loaded: Loaded<unknown> | LoadedBatch<unknown>) => R;

function compile(policy: AnyPolicy): Compiled {
  const batch = "ids" in policy;
  return Object.freeze({
    resource: policy.resource,
    load: policy.load,
    owner: policy.owner as (row: unknown) => string,
    allowOperators: policy.allowOperators === true,
    id: batch ? undefined : (policy as OwnedOne<unknown[], unknown>).id,
    ids: batch ? (policy as OwnedMany<unknown[], unknown>).ids : undefined,
    maxBatch: batch ? ((policy as OwnedMany<unknown[], unknown>).maxBatch ?? 1000) : 1,
  });
}

async function loadOwned(p: Compiled, identity: Identity, id: unknown, bypass: boolean) {
  /* Precondition: a malformed id is treated exactly like an id that does not exist. */
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) throw notFound();
  const row = await p.load(id, identity);
  if (row === undefined || row === null) throw notFound();
  if (bypass || (identity.kind === "operator" && p.allowOperators)) return row;
  /* Precondition: not-found and not-yours throw the same error with the same message. */
  if (p.owner(row) !== identity.userId) throw notFound();
  return row;
}

/** The guard itself: identity, kind, load, owner check, then `invoke` with what it loaded. */
async function runGuarded<R>(p: Compiled, args: unknown[], invoke: Invoke<R>): Promise<Awaited<R>> {
  /* Precondition: a guarded handler runs only for a live, keywarden-minted identity. */
  const identity = requireIdentity();
  const switches = guardTestSwitches.getStore();
  const bypass = switches?.bypassOwnerCheck === true;
  if (switches && bypass) switches.bypassed++;
  /* Precondition: operators do not pass user guards unless the handler allows operators. */
  if (!bypass && identity.kind === "operator" && !p.allowOperators) throw notFound();
  let loaded: Loaded<unknown> | LoadedBatch<unknown>;
  let ids: readonly unknown[];
  if (p.ids) {
    const list: unknown = p.ids(...args);
    if (!Array.isArray(list)) throw notFound();
    if (list.length > p.maxBatch) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", `at most ${p.maxBatch} ids per call`);
    }
    ids = list;
    /* Precondition: a batch is all-or-nothing: one foreign or missing id rejects the whole call. */
    const rows = await Promise.all(list.map((id) => loadOwned(p, identity, id, bypass)));
    loaded = Object.freeze({ identity, rows: Object.freeze(rows) });
  } else {
    const id = (p.id as (...a: unknown[]) => unknown)(...args);
    ids = [id];
    loaded = Object.freeze({ identity, row: await loadOwned(p, identity, id, bypass) });
  }
  if (switches?.afterCheck) {
    await switches.afterCheck({ resource: p.resource, ids: ids as string[] });
  }
  return await invoke(loaded);
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof (v as { then?: unknown } | null | undefined)?.then === "function";

function checkOwner(p: Compiled, identity: Identity, row: unknown): void {
  if (row === undefined || row === null) throw notFound();
  if (!(identity.kind === "operator" && p.allowOperators) && p.owner(row) !== identity.userId) {
    throw notFound();
  }
}

/**
 * Hot path for one-id handlers outside the isolation kit: the same checks as {@link runGuarded}
 * (kept in step by the same tests), without extra async frames, so a guarded call costs about
 * what the check written inline does.
 */
function runOne<R>(p: Compiled, args: unknown[], invoke: Invoke<R>): Promise<Awaited<R>> {
  try {
    if (guardTestSwitches.getStore() !== undefined) return runGuarded(p, args, invoke);
    const identity = requireIdentity();
    if (identity.kind === "operator" && !p.allowOperators) throw notFound();
    const id = (p.id as (...a: unknown[]) => unknown)(...args);
    if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH) throw notFound();
    const pending = p.load(id, identity);
    if (isThenable(pending)) {
      return Promise.resolve(pending).then((row) => {
        checkOwner(p, identity, row);
        return invoke(Object.freeze({ identity, row }));
      }) as Promise<Awaited<R>>;
    }
    checkOwner(p, identity, pending);
    return Promise.resolve(invoke(Object.freeze({ identity, row: pending })));
  } catch (err) {
    return Promise.reject(err);
  }
}

function validate(policy: AnyPolicy): void {
  const p = policy as Partial<AnyPolicy> | undefined;
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.load !== "function" ||
    typeof p.owner !== "function" ||
    typeof p.resource !== "string" ||
    p.resource.length === 0 ||
    ("ids" in p ? typeof p.ids !== "function" : typeof (p as { id?: unknown }).id !== "function")
  ) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      "owned() needs { name, resource, load, owner } and either id or ids",
    );
  }
}

function register(policy: AnyPolicy, fn: object): void {
  registerHandler(
    {
      name: policy.name,
      kind: "owned",
      resource: policy.resource,
      allowOperators: policy.allowOperators === true,
      batch: "ids" in policy,
      reason: undefined,
    },
    fn,
  );
}

/**
 * Wraps a handler in an ownership guard. On each call it requires a live identity from the
 * context ({@link runAs}; there is no identity argument, so a handler cannot be called "as"
 * someone by passing a value), loads the row(s) through `load`, checks `owner(row)` against the
 * caller's user id, and only then runs `body` with the loaded row(s), so the body never re-reads
 * by id. Missing and foreign rows throw the same error. The handler is recorded in the registry.
 *
 * Called with only a policy, `owned` is a method decorator (TC39 standard and legacy
 * `experimentalDecorators`); the method reads its rows with {@link loadedRow} / {@link loadedRows}.
 *
 * @example
 * ```ts
 * const orders = createMemoryTable<Order>({ name: "orders", idKey: "id", ownerKey: "userId" });
 * const cancelOrder = owned(
 *   { name: "orders.cancel", resource: "order", id: (orderId: string) => orderId,
 *     load: (id, who) => orders.forUser(who).get(id), owner: (o) => o.userId },
 *   async ({ row }) => exchange.cancelOrder(row.exchangeOrderId, row.symbol),
 * );
 * await runAs(who, () => cancelOrder("ord_1"));
 * ```
 * @throws {KeywardenError} At wrap time `ERR_INVALID_ARGUMENT` for an invalid policy. At call time
 * `ERR_GUARD_UNAUTHENTICATED` without a live identity, `ERR_GUARD_NOT_FOUND` (message
 * `NOT_FOUND_MESSAGE`) when any row is missing, not the caller's, or the caller is a disallowed
 * operator, `ERR_INVALID_ARGUMENT` for a batch over `maxBatch`; otherwise what `body` throws.
 */
export function owned<Args extends unknown[], Row, R>(
  policy: OwnedOne<Args, Row>,
  body: (loaded: Loaded<Row>, ...args: Args) => R,
): (...args: Args) => Promise<Awaited<R>>;
export function owned<Args extends unknown[], Row, R>(
  policy: OwnedMany<Args, Row>,
  body: (loaded: LoadedBatch<Row>, ...args: Args) => R,
): (...args: Args) => Promise<Awaited<R>>;
export function owned<A extends unknown[], Row>(
  policy: OwnedOne<A, Row> | OwnedMany<A, Row>,
): DualMethodDecorator<A>;
export function owned(
  policy: AnyPolicy,
  body?: (loaded: never, ...args: unknown[]) => unknown,
): ((...args: unknown[]) => Promise<unknown>) | DualMethodDecorator<unknown[]> {
  validate(policy);
  const compiled = compile(policy);
  const run = compiled.ids ? runGuarded : runOne;
  if (body === undefined) {
    return decorateMethod((method) => {
      const guarded = function (this: unknown, ...args: unknown[]) {
        return run(compiled, args, (loaded) =>
          loadedContext.run(loaded, () => method.apply(this, args)),
        );
      };
      register(policy, guarded);
      return guarded;
    });
  }
  if (typeof body !== "function") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "owned() body must be a function");
  }
  const guarded = function (this: unknown, ...args: unknown[]) {
    return run(compiled, args, (loaded) => body.call(this, loaded as never, ...args));
  };
  register(policy, guarded);
  return guarded;
}

function currentLoaded(): Loaded<unknown> | LoadedBatch<unknown> {
  const loaded = loadedContext.getStore();
  if (!loaded) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "not inside an @owned method");
  }
  return loaded;
}

/**
 * Inside an `@owned` one-id method: the row the guard loaded and checked (do not re-read by id).
 *
 * @example
 * ```ts
 * class Orders {
 *   @owned({ name: "orders.get", resource: "order", id: (id: string) => id, load, owner })
 *   async get(_id: string) { return loadedRow<Order>(); }
 * }
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` outside a one-id `@owned` method.
 */
export function loadedRow<Row>(): Row {
  const loaded = currentLoaded();
  if (!("row" in loaded)) throw new KeywardenError("ERR_INVALID_ARGUMENT", "batch handler");
  return loaded.row as Row;
}

/**
 * Inside an `@owned` batch method: the rows the guard loaded and checked, in id order.
 *
 * @example
 * ```ts
 * const orders = loadedRows<Order>();
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` outside a batch `@owned` method.
 */
export function loadedRows<Row>(): readonly Row[] {
  const loaded = currentLoaded();
  if (!("rows" in loaded)) throw new KeywardenError("ERR_INVALID_ARGUMENT", "one-id handler");
  return loaded.rows as readonly Row[];
}
