import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Test-only switches of the guard layer, used by the isolation kit (`keywarden/guard/testing`).
 *
 * This module is deliberately NOT re-exported from `keywarden/guard` (nor from any other
 * production entry): the only public door to it is the testing subpath. The switches live in an
 * AsyncLocalStorage, so they affect only the call chain the kit runs, never concurrent work.
 *
 * @internal
 */
export interface GuardTestSwitches {
  /** Skip the identity-kind and owner checks (the loader still runs, with the caller's identity). */
  readonly bypassOwnerCheck: boolean;
  /** Incremented each time a guarded call ran with the owner check off: proves the switch took effect. */
  bypassed: number;
  /** Runs between a passed owner check and the body (race probes). */
  readonly afterCheck?: (info: { resource: string; ids: readonly string[] }) => Promise<void>;
}

/** @internal */
export const guardTestSwitches = new AsyncLocalStorage<GuardTestSwitches>();

/** Dumps every row of a memory table, for storage snapshots in the kit. @internal */
export const DUMP_ROWS: unique symbol = Symbol("keywarden.guard.dumpRows");

/** Overwrites (or creates) a row of a memory table regardless of owner, for race probes. @internal */
export const OVERWRITE_ROW: unique symbol = Symbol("keywarden.guard.overwriteRow");
