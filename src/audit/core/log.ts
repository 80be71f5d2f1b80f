/**
 * The audit log core: appends validated, hash-chained entries through any {@link AuditStore},
 * checking the chain invariants around every adapter call, and verifies chains.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { requireIdentity } from "../../guard/context.js";
import { assertIdentity, type Identity } from "../../guard/identity.js";
import { registerAuditQueue } from "../../observability/gauges.js";
import { observeAuditAppend } from "../../observability/hooks.js";
import { type Sha256, sha256Node } from "../primitives/index.js";
import { fromHex, isHexHash } from "../primitives/portable.js";
import type { AuditStore, ChainHead, StoredEntry, TreeNode } from "../storage/index.js";
import { checkedHead, checkedRead, invariant } from "../storage/index.js";
import { ActionCatalog } from "./actions.js";
import { commitPayload } from "./commitment.js";
import {
  type AuditActor,
  type AuditEntry,
  assertChainId,
  type EntryPrefixCache,
  encodeEntry,
  encodeNewLeaf,
  entryHash,
  GENESIS_PREV_HASH,
  leafHash,
  OPERATOR_CHAIN_ID,
} from "./entry.js";
import { type VerifyResult, verifyEntries } from "./verify.js";

/** Builds the Merkle tree nodes an append completes (provided by the transparency layer). */
export interface TreeNodeBuilder {
  /**
   * Returns the nodes completed by appending `leaves` (entry hashes) at `firstSeq`, reading
   * existing nodes from `store` as needed. Called once per attempt, inside the append path, with
   * the hash of the committed head the append builds on (`null` for an empty chain), which spares
   * a builder that caches its tree edge a store read to confirm the edge is current.
   */
  nodesForAppend(
    store: AuditStore,
    chainId: string,
    firstSeq: number,
    leaves: readonly Uint8Array[],
    headHash?: Uint8Array | string | null,
  ): readonly TreeNode[] | Promise<readonly TreeNode[]>;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  readonly store: AuditStore;
  /** Accepted actions; defaults to the built-in catalog. */
  readonly actions?: ActionCatalog | undefined;
  /** Source of entry timestamps; defaults to the system clock. */
  readonly clock?: (() => Date) | undefined;
  /** Attempts per append when other writers win the race (default 32). */
  readonly maxAttempts?: number | undefined;
  /** SHA-256 implementation (default node:crypto). */
  readonly sha256?: Sha256 | undefined;
  /** Merkle tree maintenance, used only with stores that declare `capabilities.treeNodes`. */
  readonly treeNodes?: TreeNodeBuilder | undefined;
  /** Called after each committed batch (e.g. checkpoint publishing). Must not throw. */
  readonly onAppended?:
    | ((event: {
        chainId: string;
        size: number;
        headHash: string;
        entries: readonly AppendedEntry[];
      }) => void)
    | undefined;
}

/** What to record. */
export interface AppendEntryInput {
  /** An action from the catalog, valid for the chain's kind. */
  readonly action: string;
  /** The action's payload (validated by its schema; never a secret). */
  readonly payload: unknown;
  /** Who acted; defaults to the current identity (`requireIdentity()`). */
  readonly actor?: Identity | undefined;
  /** Makes a retried append return the original entry instead of writing twice. */
  readonly idempotencyKey?: string | undefined;
}

/** A committed entry. */
export interface AppendedEntry {
  readonly seq: number;
  readonly hash: string;
  readonly body: string;
  readonly entry: AuditEntry;
}

/** Entries one call queued, and how to settle that call. */
interface Job {
  readonly items: Prepared[];
  /** appendEntry: resolve with the one entry, not an array. */
  readonly single: boolean;
  readonly resolve: (v: AppendedEntry | AppendedEntry[]) => void;
  readonly reject: (e: unknown) => void;
}

interface Prepared {
  readonly action: string;
  readonly actor: AuditActor;
  readonly opening: string;
  readonly commitment: string;
  readonly idempotencyKey: string | undefined;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

let lastMs = Number.NaN;
let lastIso = "";

/** The system clock as ISO-8601 UTC, formatted once per millisecond (appends come in bursts). */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Entries queued for a store append behind the one in progress (read by the queue gauge). */
function queuedEntries(queues: ReadonlyMap<string, readonly Job[]>): number {
  let n = 0;
  for (const queue of queues.values()) for (const job of queue) n += job.items.length;
  return n;
}

function hasIdempotencyKey(items: readonly Prepared[]): boolean {
  for (const item of items) if (item.idempotencyKey !== undefined) return true;
  return false;
}

/**
 * One frozen actor per identity (identities are frozen, so its fields never change). Sharing it
 * lets the entry prefix cache key on the actor object, and saves an object per entry.
 */
const actors = new WeakMap<Identity, AuditActor>();

/** The actor an identity appends as on a valid `chainId` (`operator` or `user:<userId>`). */
function actorOf(identity: Identity, chainId: string): AuditActor {
  if (chainId === OPERATOR_CHAIN_ID) {
    /* Precondition: only an operator identity may append to the operator chain. */
    if (identity.kind !== "operator")
      throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
  } else if (
    /* Precondition: a user chain records only that user's identities or an operator's. */
    identity.kind !== "operator" &&
    (chainId.length !== identity.userId.length + 5 || !chainId.endsWith(identity.userId))
  )
    throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
  let actor = actors.get(identity);
  if (actor === undefined) {
    actor = Object.freeze({ kind: identity.kind, userId: identity.userId, id: identity.id });
    actors.set(identity, actor);
  }
  return actor;
}

/**
 * An audit log over one store. Appends to one chain from many concurrent callers are serialized
 * in-process and committed in batches (group commit); races with other processes are detected by
 * the store's expected-size check and retried up to a bound.
 *
 * @example
 * ```ts
 * const log = new AuditLog({ store: createMemoryAuditStore() });
 * await runAs(hostIdentity("user-42"), () =>
 *   log.appendEntry(userChainId("user-42"), { action: "killswitch.fired", payload: { scope: "all", reason: "drawdown" } }),
 * );
 * ```
 *
 * @throws {KeywardenError} see each method.
 */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #actions: ActionCatalog;
  /** The entry timestamp now: ISO-8601 UTC with milliseconds. */
  readonly #now: () => string;
  readonly #maxAttempts: number;
  readonly #sha256: Sha256;
  readonly #opts: AuditLogOptions;
  /** Last head this log committed or verified per chain: a store may never go back behind it. */
  readonly #known = new Map<string, ChainHead & { readonly headBytes?: Uint8Array }>();
  /**
   * A head that {@link AuditLog.head} read beyond what this log committed or verified: the next
   * append's first attempt builds on it instead of on a head it already knows is stale. Only a
   * starting point (the store's expected-size check still decides); never used as `expected`.
   */
  readonly #seen = new Map<string, ChainHead>();
  readonly #queues = new Map<string, Job[]>();
  /** This log's registration in the queue gauge, held so that it lives exactly as long as the log. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: the strong reference is the point
  readonly #gauge: object;
  /** Checked entry text prefixes per actor, chain and action (see `encodeNewLeaf`). */
  readonly #prefixes: EntryPrefixCache = new WeakMap();

  /** @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on invalid options. */
  constructor(options: AuditLogOptions) {
    const s = options?.store;
    if (
      !s ||
      typeof s.append !== "function" ||
      typeof s.head !== "function" ||
      typeof s.read !== "function" ||
      typeof s.capabilities !== "object"
    )
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "AuditLog needs an AuditStore");
    const attempts = options.maxAttempts ?? 32;
    if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > 1000)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "maxAttempts must be 1..1000");
    this.#store = s;
    this.#actions = options.actions ?? new ActionCatalog();
    const clock = options.clock;
    this.#now = clock ? () => clock().toISOString() : isoNow;
    this.#maxAttempts = attempts;
    this.#sha256 = options.sha256 ?? sha256Node;
    this.#opts = options;
    // The gauge registry holds its owner through a WeakRef, and the engine keeps every WeakRef's
    // target alive until the current job's microtasks have all run; so the owner is a small
    // object of the log's own, not the log, which would keep its store and every entry in it
    // reachable while a promise-driven loop creates logs (a few hundred MB in a benchmark).
    const queues = this.#queues;
    const gauge = { queue: "group_commit" as const, waiting: () => queuedEntries(queues) };
    this.#gauge = gauge;
    registerAuditQueue(gauge, gauge);
  }

  /** The SHA-256 implementation this log hashes with. */
  get sha256(): Sha256 {
    return this.#sha256;
  }

  /** The store this log writes to. */
  get store(): AuditStore {
    return this.#store;
  }

  /**
   * Appends one entry to `chainId` and resolves once it is durable.
   *
   * @throws {KeywardenError} `ERR_AUDIT_UNKNOWN_ACTION`, `ERR_AUDIT_INVALID_ENTRY`,
   * `ERR_AUDIT_SECRET_IN_PAYLOAD`, `ERR_GUARD_UNAUTHENTICATED` (no identity, or one that may not
   * write this chain), `ERR_AUDIT_APPEND_CONTENDED` (lost the race `maxAttempts` times),
   * `ERR_AUDIT_STORE_INVARIANT` (the store misbehaved), store errors.
   */
  appendEntry(chainId: string, input: AppendEntryInput): Promise<AppendedEntry> {
    return this.#submit(chainId, [input], true) as Promise<AppendedEntry>;
  }

  /**
   * Appends several entries as one atomic batch, in order.
   *
   * @throws {KeywardenError} as {@link AuditLog.appendEntry}.
   */
  appendEntries(chainId: string, inputs: readonly AppendEntryInput[]): Promise<AppendedEntry[]> {
    return this.#submit(chainId, inputs, false) as Promise<AppendedEntry[]>;
  }

  /** Validates and queues `inputs`; resolves with the entry (`single`) or all of them, in order. */
  #submit(
    chainId: string,
    inputs: readonly AppendEntryInput[],
    single: boolean,
  ): Promise<AppendedEntry | AppendedEntry[]> {
    let items: Prepared[];
    try {
      items = this.#prepare(chainId, inputs);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      let queue = this.#queues.get(chainId);
      const start = !queue;
      if (!queue) {
        queue = [];
        this.#queues.set(chainId, queue);
      }
      queue.push({ items, single, resolve, reject });
      if (start) void this.#drain(chainId, queue);
    });
  }

  #prepare(chainId: string, inputs: readonly AppendEntryInput[]): Prepared[] {
    assertChainId(chainId);
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 10_000)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "appendEntries needs 1..10000 inputs");
    const kind = chainId === OPERATOR_CHAIN_ID ? "operator" : "user";
    const items: Prepared[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as AppendEntryInput;
      const identity = input?.actor ?? requireIdentity();
      assertIdentity(identity);
      const actor = actorOf(identity, chainId);
      this.#actions.validate(kind, input.action, input.payload);
      const key = input.idempotencyKey;
      if (key !== undefined) {
        if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key))
          throw new KeywardenError(
            "ERR_INVALID_ARGUMENT",
            "idempotencyKey must be 1-128 printable ASCII characters",
          );
        if (!this.#store.capabilities.idempotency)
          throw new KeywardenError(
            "ERR_NOT_SUPPORTED",
            "this audit store does not support idempotency keys",
          );
      }
      const { opening, commitment } = commitPayload(input.payload, this.#sha256);
      items[i] = { action: input.action, actor, opening, commitment, idempotencyKey: key };
    }
    return items;
  }

  /**
   * Records an infrastructure action on the operator chain, as the current (operator) identity.
   *
   * @example
   * ```ts
   * await runAs(operatorIdentity("ops-1"), () => log.recordOperatorAction("migration.applied", { name: "audit", version: "3" }));
   * ```
   * @throws {KeywardenError} as {@link AuditLog.appendEntry}.
   */
  recordOperatorAction(
    action: string,
    payload: unknown,
    options: { actor?: Identity; idempotencyKey?: string } = {},
  ): Promise<AppendedEntry> {
    return this.appendEntry(OPERATOR_CHAIN_ID, { action, payload, ...options });
  }

  async #drain(chainId: string, queue: Job[]): Promise<void> {
    while (queue.length > 0) {
      // Group commit: everything queued so far (up to ~1000 entries) goes into one store append.
      let take = 0;
      let count = 0;
      while (
        take < queue.length &&
        (take === 0 || count + (queue[take]?.items.length ?? 0) <= 1000)
      ) {
        count += (queue[take] as (typeof queue)[number]).items.length;
        take++;
      }
      const jobs = queue.splice(0, take);
      try {
        const results = await this.#commit(
          chainId,
          jobs.length === 1 ? (jobs[0] as Job).items : jobs.flatMap((j) => j.items),
        );
        let at = 0;
        for (const job of jobs) {
          const n = job.items.length;
          job.resolve(
            job.single
              ? (results[at] as AppendedEntry)
              : jobs.length === 1
                ? results
                : results.slice(at, at + n),
          );
          at += n;
        }
      } catch (err) {
        // One failed batch fails its jobs only; a lone job is not blamed for its neighbours' input.
        for (const job of jobs) job.reject(err);
      }
    }
    this.#queues.delete(chainId);
  }

  async #commit(chainId: string, items: Prepared[]): Promise<AppendedEntry[]> {
    const store = this.#store;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const results: Array<AppendedEntry | undefined> = new Array(items.length);
      if (store.capabilities.idempotency && hasIdempotencyKey(items)) {
        for (let i = 0; i < items.length; i++) {
          const key = items[i]?.idempotencyKey;
          if (key === undefined) continue;
          const found = await (
            store.findByIdempotencyKey as NonNullable<AuditStore["findByIdempotencyKey"]>
          )(chainId, key);
          if (found) results[i] = this.#checkedStored(chainId, found);
        }
      }
      // First attempt: build on the head this log committed last (the store's expected-size check
      // catches anyone who appended since). After a conflict, or with no known head, ask the store.
      const known = this.#known.get(chainId);
      const seen = this.#seen.get(chainId);
      const base = seen !== undefined && (!known || seen.size > known.size) ? seen : known;
      const head = attempt === 1 && base ? base : await checkedHead(store, chainId, known);
      const fresh: StoredEntry[] = [];
      let batchKeys: Map<string, number> | undefined;
      let prev = head.headHash ?? GENESIS_PREV_HASH;
      for (let i = 0; i < items.length; i++) {
        if (results[i]) continue;
        const p = items[i] as Prepared;
        const earlier =
          p.idempotencyKey === undefined ? undefined : batchKeys?.get(p.idempotencyKey);
        if (earlier !== undefined) {
          results[i] = results[earlier]; // the same key twice in one batch is one append
          continue;
        }
        if (p.idempotencyKey !== undefined) {
          batchKeys ??= new Map();
          batchKeys.set(p.idempotencyKey, i);
        }
        const entry: AuditEntry = {
          v: 1,
          chainId,
          seq: head.size + fresh.length,
          ts: this.#now(),
          actor: p.actor,
          action: p.action,
          payloadCommitment: p.commitment,
          prevHash: prev,
        };
        // Hashed as one string with its 0x00 prefix, which makes the engine lay the text out flat
        // once; the body kept is a view of that text rather than a rope of its pieces.
        const leaf = encodeNewLeaf(entry, this.#prefixes);
        const hash = leafHash(leaf, this.#sha256);
        const body = leaf.slice(1);
        fresh.push({
          seq: entry.seq,
          hash,
          body,
          payload: p.opening,
          idempotencyKey: p.idempotencyKey,
        });
        results[i] = { seq: entry.seq, hash, body, entry };
        prev = hash;
      }
      if (fresh.length === 0) return results as AppendedEntry[];
      const leaves =
        this.#opts.treeNodes && store.capabilities.treeNodes
          ? fresh.map((e) => fromHex(e.hash) as Uint8Array)
          : undefined;
      let treeNodes = leaves
        ? this.#opts.treeNodes?.nodesForAppend(
            store,
            chainId,
            head.size,
            leaves,
            // The head as bytes when this log appended it (it decoded it then), else as hex.
            head === known && known.headBytes ? known.headBytes : head.headHash,
          )
        : undefined;
      if (treeNodes !== undefined && "then" in treeNodes) treeNodes = await treeNodes;
      try {
        const request = treeNodes
          ? { chainId, expectedSize: head.size, entries: fresh, treeNodes }
          : { chainId, expectedSize: head.size, entries: fresh };
        const r = await observeAuditAppend(fresh.length, () => store.append(request));
        /* Postcondition: the store reports exactly the size and head hash that were appended. */
        invariant(
          r !== null &&
            typeof r === "object" &&
            r.size === head.size + fresh.length &&
            r.headHash === prev,
          "append returned a size or head that does not match the entries written",
        );
      } catch (err) {
        if (err instanceof KeywardenError && err.code === "ERR_AUDIT_APPEND_CONFLICT") {
          if (attempt < this.#maxAttempts)
            await new Promise((r) =>
              setTimeout(r, Math.floor(Math.random() * Math.min(50, attempt * 2))),
            );
          continue;
        }
        throw err;
      }
      const size = head.size + fresh.length;
      const headBytes = leaves?.[leaves.length - 1];
      this.#seen.delete(chainId);
      this.#known.set(
        chainId,
        headBytes ? { size, headHash: prev, headBytes } : { size, headHash: prev },
      );
      const done = results as AppendedEntry[];
      if (this.#opts.onAppended) {
        try {
          this.#opts.onAppended({
            chainId,
            size: head.size + fresh.length,
            headHash: prev,
            entries: done,
          });
        } catch {
          // A listener failure must never fail or lose a committed append.
        }
      }
      return done;
    }
    throw new KeywardenError(
      "ERR_AUDIT_APPEND_CONTENDED",
      "too many concurrent writers on this audit chain",
      {
        details: { chainId, attempts: this.#maxAttempts },
      },
    );
  }

  #checkedStored(chainId: string, e: StoredEntry): AppendedEntry {
    let entry: AuditEntry;
    try {
      entry = JSON.parse(e.body) as AuditEntry;
      invariant(
        encodeEntry(entry) === e.body && entry.chainId === chainId && entry.seq === e.seq,
        "",
      );
    } catch {
      throw new KeywardenError(
        "ERR_AUDIT_STORE_INVARIANT",
        "audit store invariant violated: idempotency lookup returned an entry that is not valid for this chain",
      );
    }
    invariant(
      isHexHash(e.hash) && entryHash(e.body, this.#sha256) === e.hash,
      "idempotency lookup returned an entry with a wrong hash",
    );
    return { seq: e.seq, hash: e.hash, body: e.body, entry };
  }

  /**
   * The chain's current head, checked: consistent with what this log last committed or verified.
   *
   * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the store went backwards or lies.
   */
  async head(chainId: string): Promise<ChainHead> {
    assertChainId(chainId);
    const known = this.#known.get(chainId);
    const head = await checkedHead(this.#store, chainId, known);
    // Another writer moved the chain on: the next append starts from here, not from a head that
    // would cost it one lost attempt (an append conflict) to find out.
    if (!known || head.size > known.size) this.#seen.set(chainId, head);
    return head;
  }

  /**
   * Reads entries `from <= seq < to` (default: to the current head), checking that the store returns
   * exactly that contiguous range. Content is not verified here; use {@link AuditLog.verifyChain}.
   *
   * @throws {KeywardenError} `ERR_AUDIT_STORE_INVARIANT` when the store skips, repeats or invents entries.
   */
  readEntries(chainId: string, from = 0, to?: number): AsyncIterable<StoredEntry> {
    assertChainId(chainId);
    return checkedRead(this.#store, chainId, from, to);
  }

  /**
   * Verifies the whole chain from the store: every hash, link and payload commitment. Without
   * `expected`, the last head this log committed or verified is required (so a store that lost
   * entries is reported as truncated).
   *
   * @example
   * ```ts
   * const result = await log.verifyChain("user:user-42");
   * if (!result.ok) alert(result.seq, result.reason);
   * ```
   * @throws {KeywardenError} on store I/O errors only; a broken chain is a result, not an error.
   */
  async verifyChain(chainId: string, expected?: ChainHead): Promise<VerifyResult> {
    assertChainId(chainId);
    const exp = expected ?? this.#known.get(chainId);
    const head = await checkedHead(this.#store, chainId, undefined);
    const result = await verifyEntries(this.#store.read(chainId, 0, head.size), {
      sha256: this.#sha256,
      chainId,
      expected: exp,
    });
    if (!result.ok) return result;
    if (result.size !== head.size)
      return {
        ok: false,
        seq: result.size,
        reason: "truncated",
        message: `store reported ${head.size} entries but returned ${result.size}`,
      };
    const known = this.#known.get(chainId);
    if (!known || known.size <= result.size)
      this.#known.set(chainId, { size: result.size, headHash: result.headHash });
    return result;
  }

  /**
   * Erases the payload of entry `seq` (e.g. a GDPR erasure request). The entry stays in the chain
   * and verifies as redacted.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the entry does not exist.
   */
  async erasePayload(chainId: string, seq: number): Promise<void> {
    assertChainId(chainId);
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "seq must be a non-negative integer");
    await this.#store.erasePayload(chainId, seq);
  }
}
