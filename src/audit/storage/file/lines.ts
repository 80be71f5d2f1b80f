/**
 * The exact line texts the JSONL file store writes (docs/audit-format.md, "File store"). One
 * function per line kind, used by the store itself and by anything that must produce the same bytes
 * (the 10M-entry benchmark writes its fixture file through these).
 *
 * @packageDocumentation
 */
import type { StoredEntry, TreeNode } from "../index.js";

/**
 * The chain-file line of one append batch, with its trailing `\n`.
 *
 * @example
 * ```ts
 * appendLineText("user:1", 0, entries, []); // '{"t":"append","chainId":"user:1","first":0,…}\n'
 * ```
 * @throws never.
 */
export function appendLineText(
  chainId: string,
  first: number,
  entries: readonly StoredEntry[],
  treeNodes: readonly TreeNode[] | undefined,
): string {
  const batch = entries.map((e) =>
    e.idempotencyKey === undefined
      ? { hash: e.hash, body: e.body }
      : { hash: e.hash, body: e.body, key: e.idempotencyKey },
  );
  const nodes = treeNodes?.map((n) => [n.level, n.index, Buffer.from(n.hash).toString("hex")]);
  return `${JSON.stringify({ t: "append", chainId, first, entries: batch, ...(nodes?.length ? { nodes } : {}) })}\n`;
}

/**
 * The payload-file line of entry `seq`, with its trailing `\n`.
 *
 * @example
 * ```ts
 * payloadLineText("user:1", 0, entry); // '{"chainId":"user:1","seq":0,"hash":…,"payload":…}\n'
 * ```
 * @throws never.
 */
export function payloadLineText(chainId: string, seq: number, entry: StoredEntry): string {
  return `${JSON.stringify({ chainId, seq, hash: entry.hash, payload: entry.payload })}\n`;
}
