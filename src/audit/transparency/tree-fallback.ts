/**
 * A chain's Merkle tree for one-shot tools (CLI): the store's own tree nodes when it kept them
 * for the whole chain, otherwise a tree rebuilt in memory from the entries (O(n), each entry's
 * hash recomputed from its stored body), so proofs work on chains written before tree nodes were
 * enabled. Services use {@link TransparencyLog}, which never rebuilds.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { bytesEqual, fromHex } from "../primitives/portable.js";
import type { AuditStore } from "../storage/index.js";
import {
  frontierKeys,
  MemoryMerkleNodes,
  MerkleFrontier,
  type MerkleNodeReader,
  type NodeKey,
} from "./merkle.js";
import { leafHashOfBody } from "./receipt.js";

/** A node reader over a chain, with its size and entry bodies. */
export interface ChainTreeReader extends MerkleNodeReader {
  readonly size: number;
  /** The stored canonical body of entry `seq`. */
  body(seq: number): Promise<string>;
}

/**
 * Opens the tree of `chainId` as it is now.
 *
 * @example
 * ```ts
 * const tree = await entryTreeReader(store, "user:42");
 * const proof = await inclusionProof(tree, 7, tree.size);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when an entry's body does not hash to its stored hash.
 */
export async function entryTreeReader(
  store: AuditStore,
  chainId: string,
): Promise<ChainTreeReader> {
  const head = await store.head(chainId);
  const size = head.size;
  const body = async (seq: number) => {
    for await (const e of store.read(chainId, seq, seq + 1)) if (e.seq === seq) return e.body;
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "entry is not in the chain");
  };
  const headHash = head.headHash === null ? undefined : fromHex(head.headHash);
  if (store.capabilities.treeNodes && store.getTreeNodes && size > 0 && headHash) {
    const get = store.getTreeNodes.bind(store);
    const probe: NodeKey[] = [
      ...frontierKeys(size),
      { level: 0, index: size - 1 },
      { level: 0, index: 0 },
    ];
    const found = await get(chainId, probe);
    const last = found[found.length - 2];
    if (
      found.every((h) => h instanceof Uint8Array && h.length === 32) &&
      last &&
      bytesEqual(last, headHash)
    ) {
      return {
        size,
        body,
        async readNodes(keys) {
          const out = await get(chainId, keys);
          if (
            out.length !== keys.length ||
            out.some((h) => !(h instanceof Uint8Array) || h.length !== 32)
          )
            throw new KeywardenError(
              "ERR_AUDIT_STORE_INVARIANT",
              "Merkle node missing from the audit store",
            );
          return out as Uint8Array[];
        },
      };
    }
  }
  const nodes = new MemoryMerkleNodes();
  const frontier = new MerkleFrontier();
  for await (const e of store.read(chainId, 0, size)) {
    const leaf = leafHashOfBody(e.body);
    const stored = fromHex(e.hash);
    /* Precondition: a rebuilt tree uses only entries whose body hashes to the stored entry hash, in seq order. */
    if (e.seq !== frontier.size || !stored || !bytesEqual(leaf, stored)) {
      throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "audit entry does not match its hash", {
        details: { seq: e.seq },
      });
    }
    nodes.writeNodes(frontier.append(leaf));
  }
  if (frontier.size !== size)
    throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "audit store returned a short chain");
  return { size, body, readNodes: (keys) => nodes.readNodes(keys) };
}
