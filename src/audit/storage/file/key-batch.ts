/**
 * Idempotency keys collected while rebuilding the file store's index, before they are written a
 * window of key-table slots at a time (./index-files.ts, `KeyTables.insertLater`). Kept in typed
 * arrays, so a batch of 32,768 keys is four arrays (640 KiB) instead of 32,768 objects that live
 * long enough to be promoted to V8's old space: that garbage, not live data, set the peak memory
 * of a first open (issue 20). Node only.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "../../../errors.js";

/** Keys one batch may hold: the sort key packs the position in the batch below the slot. */
export const KEY_BATCH_MAX = 65_536;
const FIRST_CAPACITY = 1024;

/** A growing batch of collected keys: fingerprint halves, start-slot bits and seq, by position. */
export class KeyBatch {
  #hi = new Uint32Array(0);
  #lo = new Uint32Array(0);
  #start = new Uint32Array(0);
  #seq = new Float64Array(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** Adds a key: its fingerprint's two 32-bit halves, the start-slot bits and the entry's seq. */
  push(hi: number, lo: number, start: number, seq: number): void {
    /* Precondition: a key batch holds at most KEY_BATCH_MAX keys. */
    if (this.#length >= KEY_BATCH_MAX)
      throw new KeywardenError("ERR_AUDIT_STORE_INVARIANT", "key batch full");
    if (this.#length === this.#hi.length) this.#grow();
    const i = this.#length++;
    this.#hi[i] = hi;
    this.#lo[i] = lo;
    this.#start[i] = start;
    this.#seq[i] = seq;
  }

  #grow(): void {
    const n = Math.min(Math.max(this.#hi.length * 2, FIRST_CAPACITY), KEY_BATCH_MAX);
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const start = new Uint32Array(n);
    const seq = new Float64Array(n);
    hi.set(this.#hi);
    lo.set(this.#lo);
    start.set(this.#start);
    seq.set(this.#seq);
    [this.#hi, this.#lo, this.#start, this.#seq] = [hi, lo, start, seq];
  }

  hi(i: number): number {
    return this.#hi[i] as number;
  }
  lo(i: number): number {
    return this.#lo[i] as number;
  }
  start(i: number): number {
    return this.#start[i] as number;
  }
  seq(i: number): number {
    return this.#seq[i] as number;
  }

  /**
   * The positions `[from, to)` in the order they are placed in a table of `cap` slots (a power of
   * two): by start slot (`start & (cap - 1)`), equal slots in collection order. Each element is
   * `slot * KEY_BATCH_MAX + (position - from)`; read it with {@link orderSlot} and
   * {@link orderPosition}.
   */
  order(from: number, to: number, cap: number): Float64Array {
    if (this.#order.length < to - from) this.#order = new Float64Array(this.#hi.length);
    const out = this.#order.subarray(0, to - from);
    for (let i = from; i < to; i++)
      out[i - from] = ((this.#start[i] as number) & (cap - 1)) * KEY_BATCH_MAX + (i - from);
    return out.sort(); // numeric, and every element is distinct: a total order
  }

  /** Scratch for {@link KeyBatch.order}, kept with the arrays. */
  #order = new Float64Array(0);

  /**
   * Forgets every key, keeping the arrays for the next batch: a batch lives long enough to reach
   * V8's old space, so arrays dropped after every batch were garbage waiting for a full GC.
   */
  clear(): void {
    this.#length = 0;
  }

  /** Forgets every key and releases the arrays. */
  release(): void {
    this.#hi = new Uint32Array(0);
    this.#lo = new Uint32Array(0);
    this.#start = new Uint32Array(0);
    this.#seq = new Float64Array(0);
    this.#order = new Float64Array(0);
    this.#length = 0;
  }
}

/** The slot of an element of {@link KeyBatch.order}. */
export const orderSlot = (o: number): number => Math.floor(o / KEY_BATCH_MAX);
/** The position (added to `from`) of an element of {@link KeyBatch.order}. */
export const orderPosition = (o: number, from: number): number => from + (o % KEY_BATCH_MAX);
