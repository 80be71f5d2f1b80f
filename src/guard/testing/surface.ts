import type { Identity } from "../identity.js";

/** One outbound side effect a handler caused (exchange call, audit append, notification...). */
export interface RecordedEffect {
  /** Where it went, e.g. `"exchange.cancelOrder"`, `"audit.append"`, `"notify.email"`. */
  readonly channel: string;
  /** What was sent (kept for failure messages; checked for the victim's canaries). */
  readonly detail: unknown;
  /** The user id of the identity in context when it was recorded, if any. */
  readonly actor: string | undefined;
  /** The kit's label of the call that caused it, when the kit made the call. */
  readonly call: string | undefined;
}

/** Sink that a surface's outbound ports feed; the kit gives each fresh world its own. */
export interface EffectRecorder {
  /** Records one side effect. Call it where the effect leaves the process (the port). */
  record(channel: string, detail?: unknown): void;
  /** Everything recorded so far, in order. */
  readonly effects: readonly RecordedEffect[];
}

/** What the seed created for one user. */
export interface SeededUser {
  /** Resource ids the user owns, by resource kind (as in the handlers' policies). Two per kind lets the kit build batches. */
  readonly ids: Readonly<Record<string, readonly string[]>>;
  /**
   * Distinctive strings found only in this user's data (notes, names, amounts, key labels). Any of
   * B's canaries in A's result, error or side effects is a read leak.
   */
  readonly canaries: readonly string[];
}

/** The seed's description of users A and B. */
export interface IsolationSeed {
  readonly a: SeededUser;
  readonly b: SeededUser;
}

/** An id position of a probe: a resource kind, or a batch position taking a list of ids. */
export type IdSlot = string | { readonly resource: string; readonly batch: true };

/** How to call one guarded handler with chosen ids. */
export interface HandlerProbe {
  /** Resource kind of each id position, in order. */
  readonly ids: readonly IdSlot[];
  /** Builds the call's arguments: one value per id position (a list for batch positions). */
  readonly args: (...ids: never[]) => readonly unknown[];
}

/** An entry point: a handler function, or `[instance, "method"]` for a decorated method. */
export type EntryPoint = ((...args: never[]) => unknown) | readonly [object, string];

/** What {@link IsolationSurface.tamper} is asked to do during a race probe. */
export interface TamperRequest {
  /** Resource kind and id of A's row the guard just checked. */
  readonly resource: string;
  readonly id: string;
  /** Make that id hold a row owned by this identity (user B)... */
  readonly victim: Identity;
  /** ...whose data contains this canary string. */
  readonly canary: string;
}

/**
 * Everything the isolation kit needs to attack a set of handlers. `W` is whatever the surface's
 * world is (stores, services, fakes). The kit builds a fresh world for every probe.
 */
export interface IsolationSurface<W> {
  /** Shown in failure messages, e.g. `"vault"`. */
  readonly name: string;
  /** Users A (attacker) and B (victim). Default: host identities `iso-user-a`, `iso-user-b`. */
  users?(): { a: Identity; b: Identity };
  /** A fresh, empty world whose outbound ports feed `recorder`. */
  world(recorder: EffectRecorder): W | Promise<W>;
  /** Seeds A's and B's data (through the surface's own APIs) and describes it. */
  seed(world: W, users: { a: Identity; b: Identity }): IsolationSeed | Promise<IsolationSeed>;
  /** A structured-clone-able picture of all storage, compared with `util.isDeepStrictEqual`. */
  snapshot(world: W): unknown;
  /** Every callable entry point of the surface by name; each must be guarded or public. */
  handlers(world: W): Readonly<Record<string, EntryPoint>>;
  /** How to call each guarded entry point, keyed like {@link IsolationSurface.handlers}. */
  readonly probes: Readonly<Record<string, HandlerProbe>>;
  /** Effects tolerated on a denied call (an "access denied" audit entry); still checked for leaks. */
  deniedEffect?(effect: RecordedEffect): boolean;
  /**
   * Optional race probe: overwrite A's row `id` with a row owned by the victim holding `canary`,
   * as a concurrent change between the guard's check and the body would. A body that uses the
   * row it was handed passes; one that re-reads by id leaks the canary.
   */
  tamper?(world: W, request: TamperRequest): void | Promise<void>;
  /** Releases a world (close pools, drop schemas). */
  dispose?(world: W): void | Promise<void>;
}

/** One problem the kit found. */
export interface IsolationFinding {
  /** Entry-point name on the surface. */
  readonly handler: string;
  /** The probe variant, e.g. `B's id in position 1`, `mixed batch A+B`, `no identity`. */
  readonly variant: string;
  /** `guarded` (normal run) or `storage-only` (guard layer switched off). */
  readonly run: "guarded" | "storage-only" | "surface";
  /** The observed effect, e.g. `read leak: result contains B's canary "CANARY-B-1"`. */
  readonly problem: string;
}

/** The kit's result. */
export interface IsolationReport {
  readonly ok: boolean;
  readonly surface: string;
  readonly findings: readonly IsolationFinding[];
  /** Number of handler calls the kit made. */
  readonly calls: number;
  /** The entry points it saw, with their registry kind (`unguarded` when neither). */
  readonly handlers: readonly { name: string; kind: "owned" | "public" | "unguarded" }[];
}
