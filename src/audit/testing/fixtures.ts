import { canonicalize } from "../../canonical.js";
import {
  type AuditEntry,
  encodeEntry,
  entryHash,
  GENESIS_PREV_HASH,
  payloadCommitment,
} from "../core/portable.js";
import { sha256Node } from "../primitives/index.js";
import type { StoredEntry } from "../storage/index.js";

/**
 * `count` valid, linked entries of `chainId` starting at `first` after `prevHash`, for adapter
 * tests that call the store directly. `tag` varies the content so two batches differ.
 *
 * @example
 * ```ts
 * await store.append({ chainId, expectedSize: 0, entries: fixtureEntries(chainId, 0, 3) });
 * ```
 * @throws never for valid chain ids.
 */
export function fixtureEntries(
  chainId: string,
  first: number,
  count: number,
  prevHash: string = GENESIS_PREV_HASH,
  tag = "x",
): StoredEntry[] {
  const out: StoredEntry[] = [];
  let prev = prevHash;
  for (let i = 0; i < count; i++) {
    const seq = first + i;
    const salt = (seq % 256).toString(16).padStart(2, "0").repeat(32);
    const value = { name: `fixture-${tag}-${seq}`, to: "é✓" };
    const valueText = canonicalize(value);
    const entry: AuditEntry = {
      v: 1,
      chainId,
      seq,
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)).toISOString(),
      actor: { kind: "host", userId: "fixture", id: "host:fixture" },
      action: "parameter.changed",
      payloadCommitment: payloadCommitment(salt, valueText, sha256Node),
      prevHash: prev,
    };
    const body = encodeEntry(entry);
    const hash = entryHash(body, sha256Node);
    out.push({ seq, hash, body, payload: `{"salt":"${salt}","value":${valueText}}` });
    prev = hash;
  }
  return out;
}
