/**
 * The DynamoDB sequenced appender (opt-in, `keywarden/audit/sequencer/dynamodb`): many processes
 * append to one chain in one DynamoDB table without ever failing for contention. See
 * docs/audit-operations.md ("Sequencer", DynamoDB) for the design, invariants and figures.
 *
 * DynamoDB needs no queue and no lease for this: the DynamoDB store already commits a batch as
 * ONE conditional PutItem of a block item at the chain's head (`attribute_not_exists` on
 * `(c#<chainId>, expectedSize)`), so exactly one writer wins each position and the loser writes
 * nothing; that condition is the fence. What a plain {@link AuditLog} lacks across processes is a
 * bound in time rather than in attempts, and a batch boundary the writer controls:
 *
 * - Every append of this process waiting for a chain goes into one round (≤ `batch` entries),
 *   committed as one block by the ordinary AuditLog group commit (entries, hashes, Merkle nodes).
 * - A round that loses the race is rebuilt on the new head and retried, with jittered backoff,
 *   until the earliest deadline among its callers; no request of the round (head read, idempotency reservations, block write) is sent once it passed.
 *   Callers still within their own deadline go into the next round. No caller ever gets
 *   `ERR_AUDIT_APPEND_CONTENDED`.
 * - Every entry carries an idempotency key (a random one when the caller gives none), so a retry,
 *   in this process or another, returns the original entry, also after an ambiguous fault.
 *
 * @packageDocumentation
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { isKeywardenError, KeywardenError } from "../../errors.js";
import { assertIdentity, requireIdentity } from "../../guard/index.js";
import {
  ActionCatalog,
  type AppendEntryInput,
  type AppendedEntry,
  AuditLog,
  type TreeNodeBuilder,
} from "../core/index.js";
import { type DynamoDbClientLike, openDynamoDbAuditStore } from "../storage/dynamodb/index.js";
import type { AuditStore } from "../storage/index.js";
import { intOption, isTransient, now, type SequencedEntry, sleep } from "./shared.js";

export type { SequencedEntry } from "./shared.js";

/** Options of {@link DynamoDbSequencedAppender.open}. */
export interface DynamoDbSequencerOptions {
  /** An `@aws-sdk/client-dynamodb` `DynamoDBClient` (or the structural subset of it). */
  readonly client: DynamoDbClientLike;
  readonly tableName: string;
  /** As in `openDynamoDbAuditStore`: required for a replicated (global) table. */
  readonly homeRegion?: string | undefined;
  /** Merkle tree maintenance for the entries this process commits (as in {@link AuditLog}). */
  readonly treeNodes?: TreeNodeBuilder | undefined;
  /** Accepted actions; defaults to the built-in catalog. Checked before anything is written. */
  readonly actions?: ActionCatalog | undefined;
  /** Most entries committed in one block (default 128; 1..1000; a block holds at most ~380 KB). */
  readonly batch?: number | undefined;
  /** How long `append` keeps trying, in ms (default 30000; 100..3600000). */
  readonly timeoutMs?: number | undefined;
}

/** One caller of `append`, until it is answered. */
interface Caller {
  readonly input: AppendEntryInput & { readonly idempotencyKey: string };
  readonly deadline: number;
  /** An attempt of this entry ended in a fault after which its block may have been written. */
  unknown: boolean;
  readonly resolve: (e: SequencedEntry) => void;
  readonly reject: (e: unknown) => void;
}

interface Chain {
  pending: Caller[];
  pump: Promise<void> | undefined;
  /** The current round's deadline: the store is not written after it. */
  deadline: number;
}

/** The round's deadline passed before an attempt: nothing of it is sent. */
/** The deadline of the round whose store call is running (read by the appender's client). */
const roundDeadline = new AsyncLocalStorage<number>();

class RoundExpired extends KeywardenError {
  constructor() {
    super("ERR_AUDIT_STORE_UNAVAILABLE", "the append round's deadline passed before it committed", {
      details: { retryable: true },
    });
  }
}

/**
 * The caller's deadline passed. `written: false`: no attempt of this entry can have been written
 * (each lost its conditional write, or was never sent). `written: null`: an attempt ended in a
 * fault after which its block may exist. Either way a retry with the same key is safe.
 */
export function dynamoDbAppendTimeout(written: false | null): KeywardenError {
  return new KeywardenError(
    "ERR_AUDIT_STORE_UNAVAILABLE",
    written === false
      ? "the entry was not appended in time; nothing was written, retry with the same idempotency key"
      : "the entry was not acknowledged in time and may have been written; retry with the same idempotency key to learn which",
    { details: { retryable: true, written } },
  );
}

const entryOf = (e: AppendedEntry, key: string): SequencedEntry => ({
  seq: e.seq,
  hash: e.hash,
  body: e.body,
  idempotencyKey: key,
});

/**
 * Appends to DynamoDB audit chains from any number of processes and hosts (one region), with
 * bounded waits instead of `ERR_AUDIT_APPEND_CONTENDED`. Each instance commits its own callers'
 * entries in batches; there is no queue, lease or extra process.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
 * const appender = await DynamoDbSequencedAppender.open({ client: new DynamoDBClient({ region: "eu-west-1" }), tableName: "keywarden-audit", treeNodes: transparency.treeNodes });
 * const e = await appender.append("user:alice", { action: "order.intent", payload, actor, idempotencyKey: orderId });
 * await appender.close();
 * ```
 * @throws {KeywardenError} see {@link DynamoDbSequencedAppender.append}.
 */
export class DynamoDbSequencedAppender {
  /** This instance's writer id: host, pid and a random part (for logs; DynamoDB holds no lease). */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  readonly #log: AuditLog;
  readonly #actions: ActionCatalog;
  readonly #batch: number;
  readonly #timeoutMs: number;
  readonly #chains = new Map<string, Chain>();
  #closing = false;

  /**
   * Opens the appender after the store's table checks (`openDynamoDbAuditStore`).
   *
   * @example
   * ```ts
   * const appender = await DynamoDbSequencedAppender.open({ client, tableName: "keywarden-audit" });
   * ```
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` on invalid options; `ERR_NOT_SUPPORTED`
   * without `@aws-sdk/client-dynamodb` or for a replicated table without `homeRegion`;
   * `ERR_AUDIT_STORE_UNAVAILABLE` when DynamoDB fails.
   */
  static async open(options: DynamoDbSequencerOptions): Promise<DynamoDbSequencedAppender> {
    const limits = {
      batch: intOption(options?.batch, 128, 1, 1000, "batch"),
      timeoutMs: intOption(options?.timeoutMs, 30_000, 100, 3_600_000, "timeoutMs"),
    };
    // Every request of a round goes through this client, which refuses to send once the round's
    // deadline (carried by roundDeadline) has passed: the head read, the idempotency
    // reservations and the block write alike, not only the first of them.
    const inner = options.client;
    const client: DynamoDbClientLike = {
      config: inner.config,
      send(command) {
        const deadline = roundDeadline.getStore();
        /* Precondition: a DynamoDB round is never sent after the earliest deadline of its callers. */
        if (deadline !== undefined && now() > deadline) return Promise.reject(new RoundExpired());
        return inner.send(command);
      },
    };
    const store = await openDynamoDbAuditStore({
      client,
      tableName: options.tableName,
      homeRegion: options.homeRegion,
    });
    return new DynamoDbSequencedAppender(store, options, limits);
  }

  private constructor(
    base: AuditStore,
    options: DynamoDbSequencerOptions,
    limits: { batch: number; timeoutMs: number },
  ) {
    this.#actions = options.actions ?? new ActionCatalog();
    this.#batch = limits.batch;
    this.#timeoutMs = limits.timeoutMs;
    const store: AuditStore = {
      ...base,
      append: (request) => {
        const deadline = this.#chains.get(request.chainId)?.deadline ?? 0;
        if (now() > deadline) return Promise.reject(new RoundExpired());
        return roundDeadline.run(deadline, () => base.append(request));
      },
    };
    // Lost races are retried by the core on the new head (with its jittered backoff); the
    // round's deadline, not the attempt count, is what ends them.
    this.#log = new AuditLog({
      store,
      actions: this.#actions,
      maxAttempts: 1000,
      ...(options.treeNodes ? { treeNodes: options.treeNodes } : {}),
    });
  }

  /**
   * Appends one entry and resolves once it is committed on the chain. Without `idempotencyKey` a
   * random one is used; with one, a retry (from any process) returns the original entry and never
   * writes twice. Never fails with `ERR_AUDIT_APPEND_CONTENDED`, however many processes write.
   *
   * @example
   * ```ts
   * const e = await appender.append("user:alice", { action: "order.intent", payload, actor, idempotencyKey: orderId });
   * ```
   * @throws {KeywardenError} `ERR_AUDIT_UNKNOWN_ACTION` / `ERR_AUDIT_INVALID_ENTRY` /
   * `ERR_GUARD_UNAUTHENTICATED` / `ERR_INVALID_ARGUMENT` for the input (nothing written);
   * `ERR_AUDIT_STORE_UNAVAILABLE` with `details.retryable` and `details.written` after
   * `timeoutMs` (see {@link dynamoDbAppendTimeout}); `ERR_AUDIT_STORE_INVARIANT` when the store
   * misbehaved.
   */
  append(chainId: string, input: AppendEntryInput): Promise<SequencedEntry> {
    try {
      const actor = input?.actor ?? requireIdentity();
      assertIdentity(actor);
      this.#actions.validate(
        chainId === "operator" ? "operator" : "user",
        input.action,
        input.payload,
      );
      if (this.#closing)
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "this sequenced appender is closed");
      const idempotencyKey = input.idempotencyKey ?? randomUUID();
      return new Promise((resolve, reject) => {
        const chain = this.#chain(chainId);
        chain.pending.push({
          input: { ...input, actor, idempotencyKey },
          deadline: now() + this.#timeoutMs,
          unknown: false,
          resolve,
          reject,
        });
        this.#startPump(chainId, chain);
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Stops taking appends and resolves once every accepted one is answered. The client is the
   * caller's; it is not destroyed.
   *
   * @example
   * ```ts
   * await appender.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()].map((c) => c.pump));
  }

  #startPump(chainId: string, chain: Chain): void {
    chain.pump ??= this.#pump(chainId, chain).finally(() => {
      chain.pump = undefined;
      if (chain.pending.length > 0) this.#startPump(chainId, chain);
      else if (this.#chains.get(chainId) === chain) this.#chains.delete(chainId);
    });
  }

  #chain(chainId: string): Chain {
    let chain = this.#chains.get(chainId);
    if (!chain) {
      chain = { pending: [], pump: undefined, deadline: 0 };
      this.#chains.set(chainId, chain);
    }
    return chain;
  }

  /** Commits rounds until nobody of this process waits for the chain. */
  async #pump(chainId: string, chain: Chain): Promise<void> {
    await Promise.resolve(); // let the callers of this tick join the first round
    let backoff = 0;
    while (chain.pending.length > 0) {
      const round = chain.pending.splice(0, this.#batch);
      chain.deadline = Math.min(...round.map((c) => c.deadline));
      const retry = await this.#round(chainId, round);
      chain.pending.unshift(...retry);
      if (retry.length === 0) {
        backoff = 0;
        continue;
      }
      // Everyone left lost every race until the round's deadline, or met a fault: back off.
      backoff = Math.min(200, backoff * 2 + 5);
      const until = Math.min(...retry.map((c) => c.deadline)) - now();
      await sleep(Math.max(0, Math.min(until, Math.random() * backoff)));
    }
  }

  /** One round: one block if it can; returns the callers to try again. */
  async #round(chainId: string, round: Caller[]): Promise<Caller[]> {
    let results: Array<{ ok: true; e: AppendedEntry } | { ok: false; err: unknown }>;
    try {
      const done = await this.#log.appendEntries(
        chainId,
        round.map((c) => c.input),
      );
      results = done.map((e) => ({ ok: true, e }));
    } catch (err) {
      if (isTransient(err) || round.length === 1) results = round.map(() => ({ ok: false, err }));
      else {
        // One input refused the batch (e.g. an actor that may not write this chain): one by one,
        // so that it fails only its own caller.
        results = [];
        for (const c of round)
          results.push(
            await this.#log.appendEntry(chainId, c.input).then(
              (e) => ({ ok: true as const, e }),
              (e: unknown) => ({ ok: false as const, err: e }),
            ),
          );
      }
    }
    const retry: Caller[] = [];
    const t = now();
    for (let i = 0; i < round.length; i++) {
      const c = round[i] as Caller;
      const r = results[i] as (typeof results)[number];
      if (r.ok) {
        c.resolve(entryOf(r.e, c.input.idempotencyKey));
        continue;
      }
      if (!isTransient(r.err)) {
        c.reject(r.err);
        continue;
      }
      // A lost race or an expired round wrote nothing; any other fault may have written the block.
      if (
        !(r.err instanceof RoundExpired) &&
        !isKeywardenError(r.err, "ERR_AUDIT_APPEND_CONTENDED")
      )
        c.unknown = true;
      /* Precondition: a DynamoDB append that keeps losing races never fails for contention: it is retried until its deadline, then reported with whether anything may have been written. */
      if (t >= c.deadline) c.reject(dynamoDbAppendTimeout(c.unknown ? null : false));
      else retry.push(c);
    }
    return retry;
  }
}
