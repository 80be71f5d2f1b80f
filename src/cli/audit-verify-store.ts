/**
 * `keywarden audit verify --store URL --chain ID`: verifies a chain where it is stored (any store
 * a `--store` URL names, opened read-only), entry by entry, and optionally against a signed
 * checkpoint — the same checks as verifying its export, without writing one.
 */
import { AuditLog, type VerifyResult, verifyEntries } from "../audit/core/index.js";
import { sha256Node } from "../audit/primitives/index.js";
import { fromHex } from "../audit/primitives/portable.js";
import type { ChainHead, StoredEntry } from "../audit/storage/index.js";
import {
  type CheckpointCheckOutcome,
  type CheckpointVerifyValues,
  openCheckpointCheck,
} from "./audit-monitor.js";
import type { CliIo } from "./io.js";
import type { Progress } from "./progress.js";
import { openStoreOption } from "./store-open.js";

/** What {@link verifyStoredChain} found. */
export interface StoredVerifyOutcome {
  readonly result: VerifyResult;
  readonly checkpoint?: CheckpointCheckOutcome | undefined;
}

/**
 * Verifies `chainId` in the store named by `values.store` / `values["store-env"]`: every hash,
 * link and payload commitment, the store's reported size, `expected` when given, and — with
 * `values.checkpoint` — the signed checkpoint against the stored entry hashes (which the
 * verifier has just recomputed from the entry text).
 *
 * @throws {KeywardenError} on store errors or a bad URL; a broken chain is a result.
 */
export async function verifyStoredChain(
  values: CheckpointVerifyValues & {
    readonly store?: string | undefined;
    readonly "store-env"?: string | undefined;
  },
  chainId: string,
  io: CliIo,
  expected: ChainHead | undefined,
  progress: Progress,
): Promise<StoredVerifyOutcome> {
  const check =
    values.checkpoint === undefined ? undefined : await openCheckpointCheck(values, io, chainId);
  const opened = await openStoreOption(values, io, { readOnly: true });
  try {
    const log = new AuditLog({ store: opened.store });
    const head = await log.head(chainId);
    if (check && !check.failed) check.expectLeaves();
    let feeding = check !== undefined && !check.failed;
    async function* tap(): AsyncIterable<StoredEntry> {
      for await (const e of log.readEntries(chainId, 0, head.size)) {
        // A hash that differs from the recomputed one fails verification at this entry, so
        // the checkpoint outcome is only reported for hashes the verifier accepted.
        if (feeding) feeding = check?.push(fromHex(e.hash) as Uint8Array) ?? false;
        yield e;
      }
    }
    let result = await verifyEntries(tap(), {
      sha256: sha256Node,
      chainId,
      expected,
      onProgress: (n) => progress.update(`verified ${n} entries…`),
    });
    if (result.ok && result.size !== head.size)
      result = {
        ok: false,
        seq: result.size,
        reason: "truncated",
        message: `store reported ${head.size} entries but returned ${result.size}`,
      };
    const checkpoint = result.ok && check ? await check.finish(chainId) : undefined;
    return { result, checkpoint };
  } finally {
    progress.done();
    await opened.close();
  }
}
