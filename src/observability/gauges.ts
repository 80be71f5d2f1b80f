/**
 * What the observable gauges read when the SDK collects: sources that the audit log, the
 * PostgreSQL sequencer and the trading client register when they are created. Registering only
 * files a weak reference (a forgotten instance drops out on its own), so it costs nothing on any
 * hot path, and nothing here runs until a collection, and then only while observability is on.
 * A reader never throws into the SDK: a source that fails is left out of that collection.
 * No source hands over a user id or a chain id: kill-switch users are only counted, queues only
 * summed.
 *
 * @packageDocumentation
 */
import type { ObservableResultLike } from "./otel-like.js";

/** The durable sequencer queue of one database, as one query reads it. */
export interface DurableQueueDepth {
  /** Entries not yet sequenced. */
  readonly pending: number;
  /** Entries the sequencer refused (kept for their writer to learn why). */
  readonly failed: number;
  /** Age of the oldest pending entry, in seconds (0 when none is pending). */
  readonly oldestPendingSeconds: number;
}

/** One instance with an in-process audit queue (an `AuditLog`, a sequencer). */
export interface AuditQueueSource {
  readonly queue: "group_commit" | "sequencer";
  /** Entries this instance is waiting on right now. */
  waiting(): number;
  /** The database its durable queue lives in: sources sharing one object are read once. */
  readonly database?: object | undefined;
  /** Reads the durable queue (the sequencer only). */
  readDurable?: (() => Promise<DurableQueueDepth>) | undefined;
}

/** A kill-switch state store, as far as the gauge needs it. */
export interface KillSwitchStateSource {
  listActive(): Promise<readonly string[]>;
}

/**
 * Sources held weakly by their owner; registering the same owner again replaces its source. A
 * collected owner's reference leaves the set through the finalization registry, so a process that
 * creates many short-lived audit logs with observability off does not accumulate references.
 */
class WeakSources<S> {
  readonly #source = new WeakMap<object, S>();
  readonly #ref = new WeakMap<object, WeakRef<object>>();
  readonly #live = new Set<WeakRef<object>>();
  readonly #gone = new FinalizationRegistry<WeakRef<object>>((ref) => this.#live.delete(ref));

  add(owner: object, source: S): void {
    if (!this.#ref.has(owner)) {
      const ref = new WeakRef(owner);
      this.#ref.set(owner, ref);
      this.#live.add(ref);
      this.#gone.register(owner, ref, ref);
    }
    this.#source.set(owner, source);
  }

  delete(owner: object): void {
    const ref = this.#ref.get(owner);
    if (ref) {
      this.#live.delete(ref);
      this.#gone.unregister(ref);
    }
    this.#ref.delete(owner);
    this.#source.delete(owner);
  }

  /** How many owners are registered and not yet collected (for tests). */
  get size(): number {
    return this.#live.size;
  }

  *[Symbol.iterator](): IterableIterator<S> {
    for (const ref of this.#live) {
      const owner = ref.deref();
      const source = owner && this.#source.get(owner);
      if (source === undefined) this.#live.delete(ref);
      else yield source;
    }
  }
}

const auditQueues = new WeakSources<AuditQueueSource>();
const killSwitchStates = new WeakSources<KillSwitchStateSource>();

/**
 * How many sources are registered and not yet collected (tests check that forgotten instances
 * drop out).
 *
 * @internal
 */
export function registeredSources(): { auditQueues: number; killSwitchStates: number } {
  return { auditQueues: auditQueues.size, killSwitchStates: killSwitchStates.size };
}

/**
 * Registers `owner`'s audit queue for the queue gauges (again: replaces it).
 *
 * @internal
 */
export function registerAuditQueue(owner: object, source: AuditQueueSource): void {
  auditQueues.add(owner, source);
}

/**
 * Removes `owner`'s audit queue from the gauges (e.g. a closed sequencer).
 *
 * @internal
 */
export function unregisterAuditQueue(owner: object): void {
  auditQueues.delete(owner);
}

/**
 * Registers a kill-switch state store for the active-switch gauge (once per store, however many
 * clients share it).
 *
 * @internal
 */
export function registerKillSwitchState(state: KillSwitchStateSource): void {
  if (typeof state?.listActive === "function") killSwitchStates.add(state, state);
}

/** `keywarden.audit.queue.waiting`: entries waited on in this process, by queue kind. */
export function readAuditWaiting(result: ObservableResultLike): void {
  const sum = new Map<string, number>();
  for (const s of auditQueues) {
    let n: number;
    try {
      n = s.waiting();
    } catch {
      continue;
    }
    if (Number.isFinite(n) && n >= 0) sum.set(s.queue, (sum.get(s.queue) ?? 0) + n);
  }
  for (const [queue, n] of sum) result.observe(n, { queue });
}

/**
 * Reads every database's durable queue once (sources sharing a database are read once); resolves
 * `undefined` when no sequencer is registered or none answered.
 */
export async function readDurableQueues(): Promise<DurableQueueDepth | undefined> {
  const byDatabase = new Map<object, () => Promise<DurableQueueDepth>>();
  for (const s of auditQueues)
    if (s.database && s.readDurable && !byDatabase.has(s.database))
      byDatabase.set(s.database, s.readDurable);
  if (byDatabase.size === 0) return undefined;
  const read = await Promise.allSettled([...byDatabase.values()].map((r) => r()));
  let answered = false;
  let pending = 0;
  let failed = 0;
  let oldestPendingSeconds = 0;
  for (const r of read) {
    if (r.status !== "fulfilled") continue;
    answered = true;
    pending += r.value.pending;
    failed += r.value.failed;
    oldestPendingSeconds = Math.max(oldestPendingSeconds, r.value.oldestPendingSeconds);
  }
  return answered ? { pending, failed, oldestPendingSeconds } : undefined;
}

/** `keywarden.trading.kill_switch.active`: users with an active switch, over every known store. */
export async function readKillSwitchActive(result: ObservableResultLike): Promise<void> {
  const stores = [...killSwitchStates];
  if (stores.length === 0) return;
  const lists = await Promise.allSettled(stores.map((s) => s.listActive()));
  const users = new Set<string>();
  for (const l of lists) {
    // A store that cannot be listed leaves the gauge unreported rather than reporting too few.
    if (l.status !== "fulfilled" || !Array.isArray(l.value)) return;
    for (const u of l.value) users.add(u);
  }
  result.observe(users.size);
}
