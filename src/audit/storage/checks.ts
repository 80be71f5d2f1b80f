import { KeywardenError } from "../../errors.js";
import { isHexHash } from "../primitives/portable.js";
import type { AuditStore, ChainHead, StoredEntry } from "./store.js";

/**
 * Throws `ERR_AUDIT_STORE_INVARIANT` unless `condition` holds: the store returned something no
 * correct store can return.
 */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition)
    throw new KeywardenError(
      "ERR_AUDIT_STORE_INVARIANT",
      `audit store invariant violated: ${message}`,
    );
}

/**
 * `store.head()`, checked: a well-formed head, never behind (or different at the same size from)
 * the last head this process saw committed.
 */
export async function checkedHead(
  store: AuditStore,
  chainId: string,
  known: ChainHead | undefined,
): Promise<ChainHead> {
  const h = await store.head(chainId);
  /* Postcondition: a head has a safe non-negative size, and a hash exactly when it is non-empty. */
  invariant(
    h !== null &&
      typeof h === "object" &&
      Number.isSafeInteger(h.size) &&
      h.size >= 0 &&
      (h.size === 0 ? h.headHash === null : isHexHash(h.headHash)),
    "head() returned a malformed head",
  );
  if (known) {
    /* Postcondition: a chain never shrinks or changes its head behind the core's back. */
    invariant(h.size >= known.size, "head() went backwards");
    invariant(
      h.size !== known.size || h.headHash === known.headHash,
      "head() changed at the same size",
    );
  }
  return { size: h.size, headHash: h.headHash };
}

/**
 * `store.read()`, checked: exactly the contiguous range `[from, to)` in order, each entry well
 * formed with `seq` equal to its position. `to` defaults to the head at call time.
 */
export async function* checkedRead(
  store: AuditStore,
  chainId: string,
  from: number,
  to?: number,
): AsyncGenerator<StoredEntry> {
  if (
    !Number.isSafeInteger(from) ||
    from < 0 ||
    (to !== undefined && (!Number.isSafeInteger(to) || to < from))
  )
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid read range");
  const size = (await checkedHead(store, chainId, undefined)).size;
  const end = Math.min(to ?? size, size);
  let next = from;
  for await (const e of store.read(chainId, from, end)) {
    /* Postcondition: reads return the requested seqs, contiguous and in order, and nothing beyond. */
    invariant(next < end, "read() returned entries beyond the requested range");
    invariant(
      e !== null &&
        typeof e === "object" &&
        e.seq === next &&
        typeof e.body === "string" &&
        isHexHash(e.hash) &&
        (e.payload === null || typeof e.payload === "string"),
      `read() returned a malformed or out-of-order entry where seq ${next} was expected`,
    );
    yield e;
    next++;
  }
  invariant(next === end, `read() stopped at seq ${next} before the end of the range (${end})`);
}
