/**
 * Publishes each chain's signed checkpoint every N entries and/or every T seconds to pluggable
 * sinks, and delivers to each user their chain's latest checkpoint with a receipt per new entry
 * (via a host callback: email, dashboard…), so users hold evidence the operator cannot take back.
 *
 * Publishing runs off the append path: `onAppended` only records that a chain grew. Failures are
 * reported to `onError` and retried on the next tick (the newest checkpoint supersedes older ones),
 * so a failing sink never blocks or loses an append.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../errors.js";
import { toBase64 } from "../primitives/portable.js";
import type { SignedCheckpoint, TransparencyLog } from "./log.js";
import type { CheckpointSink } from "./sinks.js";

/** What the host receives for one user's chain. */
export interface UserDelivery {
  readonly chainId: string;
  /** The user id when the chain is `user:<id>`; undefined for the operator chain. */
  readonly userId: string | undefined;
  readonly checkpoint: { readonly size: number; readonly note: string };
  /** Receipts (c2sp.org/tlog-proof@v1) for the entries since the last delivery, oldest first. */
  readonly receipts: readonly { readonly seq: number; readonly receipt: string }[];
  /** Entries since the last delivery that got no receipt because of `maxReceiptsPerDelivery`. */
  readonly receiptsOmitted: number;
  /**
   * With {@link CheckpointPublisherOptions.heads}: the chain's heads-log key (base64, format §17.1),
   * on the chain's first delivery only, so the user can recognise their records in the heads log.
   */
  readonly headsChainKey?: string;
}

/**
 * Where the publisher records each published chain checkpoint in the operator's heads log (format
 * §17): `HeadsLog` fits. `enqueue` only queues; the host integrates the queue once per interval
 * (`HeadsLog.integrate()`), and each batch's `heads` name the chains whose heads receipts are due.
 */
export interface HeadsQueue {
  /** Queues one chain checkpoint for the next batch. */
  enqueue(head: {
    readonly origin: string;
    readonly size: number;
    readonly rootHash: Uint8Array;
    readonly timestamp: number;
  }): number;
  /** The chain's heads key, delivered to the user with their first checkpoint. */
  chainKey?(chainOrigin: string): Uint8Array;
}

/** A publishing failure, reported to the host (never thrown into the append path). */
export interface PublishError {
  readonly chainId: string;
  /**
   * The sink name, `"sign"` for checkpoint signing, `"heads"` for the heads-log queue, or
   * `"deliver"` for user delivery.
   */
  readonly stage: string;
  readonly error: unknown;
}

/** Options of {@link CheckpointPublisher}. */
export interface CheckpointPublisherOptions {
  readonly log: TransparencyLog;
  readonly sinks?: readonly CheckpointSink[];
  /** Publish once a chain has grown by this many entries since its last publication. */
  readonly everyEntries?: number;
  /** Publish every chain that grew, at this interval (requires {@link CheckpointPublisher.start}). */
  readonly everySeconds?: number;
  /**
   * Re-sign and publish a chain that did not grow once its last publication is this old (checked
   * on each `everySeconds` tick), so verifiers enforcing a maximum checkpoint age (`--max-age`)
   * can tell a quiet log from a frozen one. Applies to chains this publisher has seen.
   */
  readonly refreshSeconds?: number;
  /** Clock in milliseconds (default `Date.now`). */
  readonly now?: () => number;
  /** Per-user delivery of checkpoints and receipts. */
  readonly deliverToUser?: (delivery: UserDelivery) => Promise<void>;
  /** Cap on receipts per delivery (default 1000); the newest entries are kept. */
  readonly maxReceiptsPerDelivery?: number;
  /** Receives failures; must not throw. */
  readonly onError?: (error: PublishError) => void;
  /**
   * Opt-in: record every chain checkpoint this publisher publishes (once per new chain size) in
   * the operator's heads log. The checkpoint must carry a `keywarden-time` (TransparencyLog's do).
   */
  readonly heads?: HeadsQueue;
}

interface ChainState {
  size: number;
  published: number;
  delivered: number;
  failedSinks: Set<string>;
  publishedAt: number;
  /** Largest chain size recorded in the heads log. */
  headsSize: number;
  running: Promise<void> | undefined;
  again: boolean;
}

/**
 * @example
 * ```ts
 * const publisher = new CheckpointPublisher({
 *   log: transparency,
 *   sinks: [httpCheckpointSink("https://mirror.example.com/checkpoints")],
 *   everyEntries: 100,
 *   everySeconds: 60,
 *   deliverToUser: async (d) => mailer.send(d.userId, d.checkpoint.note, d.receipts),
 * });
 * const log = new AuditLog({ store, treeNodes: transparency.treeNodes, onAppended: publisher.onAppended });
 * publisher.start();
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` from the constructor on an invalid interval.
 */
export class CheckpointPublisher {
  readonly #opts: CheckpointPublisherOptions;
  readonly #chains = new Map<string, ChainState>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: CheckpointPublisherOptions) {
    const n = options.everyEntries;
    const t = options.everySeconds;
    const r = options.refreshSeconds;
    if (
      (n !== undefined && !(Number.isSafeInteger(n) && n > 0)) ||
      (t !== undefined && !(t > 0)) ||
      (r !== undefined && !(r > 0))
    ) {
      throw new KeywardenError(
        "ERR_INVALID_ARGUMENT",
        "everyEntries, everySeconds and refreshSeconds must be positive",
      );
    }
    this.#opts = options;
  }

  /** Pass as `AuditLog`'s `onAppended`. Synchronous and never throws. */
  readonly onAppended = (event: { chainId: string; size: number }): void => {
    const c = this.#state(event.chainId);
    c.size = Math.max(c.size, event.size);
    const n = this.#opts.everyEntries;
    if (n !== undefined && c.size - c.published >= n) void this.#kick(event.chainId);
  };

  /** Starts the `everySeconds` timer (unref'd, so it never keeps the process alive). */
  start(): void {
    const t = this.#opts.everySeconds;
    if (t === undefined || this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), t * 1000);
    this.#timer.unref?.();
  }

  /** Stops the timer and waits for publications in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all([...this.#chains.values()].map((c) => c.running));
  }

  /** Publishes every chain that grew or has an undelivered sink, and waits for it. */
  async flush(): Promise<void> {
    await this.#tick();
  }

  /**
   * Signs and publishes `chainId` now (even if it did not grow), awaiting all sinks; the signed
   * checkpoint is returned even when a sink failed (failures go to `onError`).
   *
   * @throws {KeywardenError} from signing (e.g. `ERR_AUDIT_INCONSISTENT_CHECKPOINT`).
   */
  async publishNow(chainId: string): Promise<SignedCheckpoint> {
    const c = this.#state(chainId);
    const cp = await this.#opts.log.signCheckpoint(chainId);
    await this.#deliver(chainId, c, cp);
    return cp;
  }

  #state(chainId: string): ChainState {
    let c = this.#chains.get(chainId);
    if (!c) {
      c = {
        size: 0,
        published: 0,
        delivered: 0,
        failedSinks: new Set(),
        publishedAt: this.#now(),
        headsSize: 0,
        running: undefined,
        again: false,
      };
      this.#chains.set(chainId, c);
    }
    return c;
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  async #tick(): Promise<void> {
    const refresh = this.#opts.refreshSeconds;
    const now = this.#now();
    const due = [...this.#chains.entries()].filter(
      ([, c]) =>
        c.size > c.published ||
        c.failedSinks.size > 0 ||
        (refresh !== undefined && now - c.publishedAt >= refresh * 1000),
    );
    await Promise.all(due.map(([id]) => this.#kick(id)));
  }

  #kick(chainId: string): Promise<void> {
    const c = this.#state(chainId);
    if (c.running) {
      c.again = true;
      return c.running;
    }
    c.running = (async () => {
      do {
        c.again = false;
        try {
          const cp = await this.#opts.log.signCheckpoint(chainId);
          await this.#deliver(chainId, c, cp);
        } catch (error) {
          this.#report({ chainId, stage: "sign", error });
        }
      } while (c.again);
    })().finally(() => {
      c.running = undefined;
    });
    return c.running;
  }

  async #deliver(chainId: string, c: ChainState, cp: SignedCheckpoint): Promise<void> {
    const size = cp.checkpoint.size;
    c.size = Math.max(c.size, size);
    const published = { chainId, origin: cp.checkpoint.origin, size, note: cp.note };
    await Promise.all(
      (this.#opts.sinks ?? []).map(async (sink) => {
        try {
          await sink.publish(published);
          c.failedSinks.delete(sink.name);
        } catch (error) {
          c.failedSinks.add(sink.name);
          this.#report({ chainId, stage: sink.name, error });
        }
      }),
    );
    c.published = Math.max(c.published, size);
    c.publishedAt = this.#now();
    this.#enqueueHead(chainId, c, cp);
    const deliver = this.#opts.deliverToUser;
    if (!deliver || size <= c.delivered) return;
    try {
      const cap = this.#opts.maxReceiptsPerDelivery ?? 1000;
      const from = Math.max(c.delivered, size - cap);
      const receipts: { seq: number; receipt: string }[] = [];
      for (let seq = from; seq < size; seq++) {
        receipts.push({ seq, receipt: await this.#opts.log.receipt(chainId, seq, cp) });
      }
      await deliver({
        chainId,
        userId: chainId.startsWith("user:") ? chainId.slice(5) : undefined,
        checkpoint: { size, note: cp.note },
        receipts,
        receiptsOmitted: from - c.delivered,
        ...(c.delivered === 0 && this.#opts.heads?.chainKey
          ? { headsChainKey: toBase64(this.#opts.heads.chainKey(cp.checkpoint.origin)) }
          : {}),
      });
      c.delivered = size;
    } catch (error) {
      this.#report({ chainId, stage: "deliver", error });
    }
  }

  /** Records a published checkpoint of a new chain size in the heads log (at most once per size). */
  #enqueueHead(chainId: string, c: ChainState, cp: SignedCheckpoint): void {
    const heads = this.#opts.heads;
    const { origin, size, rootHash, timestamp } = cp.checkpoint;
    if (!heads || size <= c.headsSize) return;
    try {
      if (timestamp === undefined)
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "checkpoint has no keywarden-time");
      heads.enqueue({ origin, size, rootHash, timestamp });
      c.headsSize = size;
    } catch (error) {
      this.#report({ chainId, stage: "heads", error });
    }
  }

  #report(e: PublishError): void {
    try {
      this.#opts.onError?.(e);
    } catch {
      // The host's error handler must not break publishing.
    }
  }
}
