/**
 * The in-memory {@link AuditStore}: for tests, examples and single-process hosts that persist
 * elsewhere. Every capability is implemented, so it is also the reference for adapter authors.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import type {
  AppendRequest,
  AppendResult,
  AuditStore,
  ChainHead,
  StoredCheckpoint,
  StoredEntry,
  TreeNode,
  TreeNodeKey,
} from "./store.js";

interface MemoryChain {
  entries: StoredEntry[];
  keys: Map<string, number>;
  /** Tree nodes by level, then index. */
  nodes: Array<Map<number, Uint8Array>>;
  checkpoint: StoredCheckpoint | undefined;
}

const NO_NODES: readonly TreeNode[] = [];

function conflict(message: string): KeywardenError {
  return new KeywardenError("ERR_AUDIT_APPEND_CONFLICT", message);
}

/**
 * Creates an empty in-memory audit store. Entries are frozen copies; nothing survives the process.
 *
 * @example
 * ```ts
 * const log = new AuditLog({ store: createMemoryAuditStore() });
 * ```
 * @throws never.
 */
export function createMemoryAuditStore(): AuditStore {
  const chains = new Map<string, MemoryChain>();
  const chain = (id: string): MemoryChain => {
    let c = chains.get(id);
    if (!c) {
      c = { entries: [], keys: new Map(), nodes: [], checkpoint: undefined };
      chains.set(id, c);
    }
    return c;
  };
  return {
    capabilities: { idempotency: true, treeNodes: true, checkpoints: true },

    async head(chainId): Promise<ChainHead> {
      const entries = chains.get(chainId)?.entries ?? [];
      const last = entries[entries.length - 1];
      return { size: entries.length, headHash: last ? last.hash : null };
    },

    async append(request: AppendRequest): Promise<AppendResult> {
      const c = chain(request.chainId);
      // Everything is checked before anything is written: the append is all or nothing.
      if (c.entries.length !== request.expectedSize) throw conflict("chain size changed");
      let batchKeys: Set<string> | undefined;
      for (const e of request.entries) {
        const key = e.idempotencyKey;
        if (key === undefined) continue;
        batchKeys ??= new Set();
        if (c.keys.has(key) || batchKeys.has(key)) throw conflict("idempotency key already used");
        batchKeys.add(key);
      }
      for (const e of request.entries) {
        const copy: StoredEntry = Object.freeze(
          e.idempotencyKey === undefined
            ? { seq: e.seq, hash: e.hash, body: e.body, payload: e.payload }
            : {
                seq: e.seq,
                hash: e.hash,
                body: e.body,
                payload: e.payload,
                idempotencyKey: e.idempotencyKey,
              },
        );
        if (e.idempotencyKey !== undefined) c.keys.set(e.idempotencyKey, c.entries.length);
        c.entries.push(copy);
      }
      for (const n of request.treeNodes ?? NO_NODES) {
        let level = c.nodes[n.level];
        if (!level) {
          level = new Map();
          c.nodes[n.level] = level;
        }
        level.set(n.index, new Uint8Array(n.hash));
      }
      const last = c.entries[c.entries.length - 1] as StoredEntry;
      return { size: c.entries.length, headHash: last.hash };
    },

    async *read(chainId, from, to) {
      const entries = chains.get(chainId)?.entries ?? [];
      const end = Math.min(to ?? entries.length, entries.length);
      for (let i = Math.max(0, from); i < end; i++) yield entries[i] as StoredEntry;
    },

    async erasePayload(chainId, seq) {
      const c = chains.get(chainId);
      const e = c?.entries[seq];
      if (!c || !e) throw new KeywardenError("ERR_INVALID_ARGUMENT", "no such audit entry");
      c.entries[seq] = Object.freeze({ ...e, payload: null });
    },

    async findByIdempotencyKey(chainId, idempotencyKey) {
      const c = chains.get(chainId);
      const seq = c?.keys.get(idempotencyKey);
      return seq === undefined ? undefined : c?.entries[seq];
    },

    async getTreeNodes(chainId, keys: readonly TreeNodeKey[]) {
      const nodes = chains.get(chainId)?.nodes;
      return keys.map((k) => {
        const h = nodes?.[k.level]?.get(k.index);
        return h ? new Uint8Array(h) : undefined;
      });
    },

    async putCheckpoint(chainId, checkpoint) {
      const c = chain(chainId);
      if (!c.checkpoint || checkpoint.size >= c.checkpoint.size)
        c.checkpoint = Object.freeze({ size: checkpoint.size, note: checkpoint.note });
    },

    async latestCheckpoint(chainId) {
      return chains.get(chainId)?.checkpoint;
    },
  };
}
