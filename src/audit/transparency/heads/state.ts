/**
 * What a user remembers about their chain across heads-log checkpoints, and the rule that turns a
 * new heads receipt into either a new state or a fork finding: two roots for one chain size, or a
 * chain that shrinks later in the heads log (or was larger earlier). Pure and JSON-serialisable,
 * so the CLI, the library and the browser page share it.
 *
 * No node-only import: this file is part of the offline verifier bundle.
 *
 * @packageDocumentation
 */
import { assertHash, assertIndex, toHex } from "../../primitives/portable.js";

/** The remembered state of one chain as seen through the heads log. */
export interface HeadsChainState {
  /** Largest heads-log leaf index seen for this chain, and the chain size and root it recorded. */
  readonly headsIndex: number;
  readonly size: number;
  readonly rootHash: string;
  /** Every (chain size, root hex) pair seen, most recent last (bounded to {@link MAX_SEEN}). */
  readonly seen: readonly (readonly [number, string])[];
}

/** How many (size, root) pairs a state keeps. */
export const MAX_SEEN = 4096;

/** One verified observation: the chain at `size` with `rootHash`, recorded at heads leaf `headsIndex`. */
export interface HeadsObservation {
  readonly headsIndex: number;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/** Closed set of reasons a heads observation is refused. */
export type HeadsFinding = "fork" | "shrink";

/** Result of {@link observeHead}. */
export type HeadsObserveResult =
  | { readonly ok: true; readonly state: HeadsChainState }
  | { readonly ok: false; readonly finding: HeadsFinding; readonly state: HeadsChainState };

/**
 * Folds a verified heads observation into the remembered state. Call it only with observations
 * whose receipt verified ({@link verifyHeadsReceipt}).
 *
 * @example
 * ```ts
 * const r = observeHead(saved, { headsIndex: v.index, size: cp.size, rootHash: cp.rootHash });
 * if (!r.ok) alarm(r.finding); else save(r.state);
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a malformed observation.
 */
export function observeHead(
  state: HeadsChainState | undefined,
  obs: HeadsObservation,
): HeadsObserveResult {
  assertIndex(obs.headsIndex, "heads index");
  assertIndex(obs.size, "chain size");
  const root = toHex(assertHash(obs.rootHash, "chain root"));
  if (state === undefined) {
    return {
      ok: true,
      state: {
        headsIndex: obs.headsIndex,
        size: obs.size,
        rootHash: root,
        seen: [[obs.size, root]],
      },
    };
  }
  /* Precondition: two different roots for one chain size are a fork. */
  const known = state.seen.find(([s]) => s === obs.size);
  if (known !== undefined && known[1] !== root) return { ok: false, finding: "fork", state };
  /* Precondition: a chain that is smaller later in the heads log (or larger earlier) is a shrink. */
  if (
    (obs.headsIndex > state.headsIndex && obs.size < state.size) ||
    (obs.headsIndex < state.headsIndex && obs.size > state.size) ||
    (obs.headsIndex === state.headsIndex && (obs.size !== state.size || root !== state.rootHash))
  ) {
    return { ok: false, finding: "shrink", state };
  }
  const seen =
    known === undefined ? [...state.seen, [obs.size, root] as const].slice(-MAX_SEEN) : state.seen;
  const latest = obs.headsIndex > state.headsIndex;
  return {
    ok: true,
    state: {
      headsIndex: latest ? obs.headsIndex : state.headsIndex,
      size: latest ? obs.size : state.size,
      rootHash: latest ? root : state.rootHash,
      seen,
    },
  };
}
