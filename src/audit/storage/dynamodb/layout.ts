/**
 * Item layout of the DynamoDB audit store (key schema: `pk` String HASH, `sk` Number RANGE).
 *
 * - Block `pk = "c#<chainId>"`, `sk = first seq`: one append request, written by ONE conditional
 *   PutItem (`attribute_not_exists(pk)`), so a batch is atomic without transactions. Attributes:
 *   `n` count, `h` hashes, `b` bodies (lists, in seq order), `p` payload openings and `k`
 *   idempotency keys (maps keyed by seq), `t` the Merkle nodes completed by the batch (map
 *   `"level/index"` → 32 bytes; node (l, i) lives in the block holding leaf `(i + 1) * 2^l - 1`).
 * - Reservation `pk = "i#<chainId>#<key>"`, `sk = 0`, `at` = the block start it was reserved
 *   for. Authoritative only when the block at `at` exists and lists the key (see dynamodb.ts).
 * - Checkpoint `pk = "k#<chainId>"`, `sk = size`, `note`.
 *
 * @packageDocumentation
 */
import type { StoredEntry } from "../index.js";

/** A DynamoDB AttributeValue (the subset used here). */
export type Attr =
  | { S: string }
  | { N: string }
  | { B: Uint8Array }
  | { L: Attr[] }
  | { M: Record<string, Attr> };
/** A raw item. */
export type Item = Record<string, Attr>;

export const blockPk = (chainId: string): string => `c#${chainId}`;
export const reservationPk = (chainId: string, key: string): string => `i#${chainId}#${key}`;
export const checkpointPk = (chainId: string): string => `k#${chainId}`;

/** The seq of the leaf whose append completes node (level, index). */
export const nodeCarrier = (level: number, index: number): number => (index + 1) * 2 ** level - 1;

const s = (a: Attr | undefined): string | undefined => (a && "S" in a ? a.S : undefined);
export const num = (a: Attr | undefined): number => (a && "N" in a ? Number(a.N) : Number.NaN);

/** A decoded block. */
export interface Block {
  readonly start: number;
  readonly hashes: string[];
  readonly bodies: string[];
  readonly payloads: Record<string, Attr>;
  readonly keys: Record<string, Attr>;
  readonly nodes: Record<string, Attr>;
}

/** Decodes a block item; throws on a malformed one (the core then reports a store fault). */
export function decodeBlock(item: Item): Block {
  const start = num(item.sk);
  const h = item.h && "L" in item.h ? item.h.L.map(s) : [];
  const b = item.b && "L" in item.b ? item.b.L.map(s) : [];
  if (
    !Number.isSafeInteger(start) ||
    h.length === 0 ||
    h.length !== b.length ||
    h.some((x) => x === undefined) ||
    b.some((x) => x === undefined)
  )
    throw new Error("malformed audit block item");
  const map = (a: Attr | undefined) => (a && "M" in a ? a.M : {});
  return {
    start,
    hashes: h as string[],
    bodies: b as string[],
    payloads: map(item.p),
    keys: map(item.k),
    nodes: map(item.t),
  };
}

/** Entry `seq` of a block. */
export function entryOf(block: Block, seq: number): StoredEntry {
  const i = seq - block.start;
  const key = s(block.keys[String(seq)]);
  return {
    seq,
    hash: block.hashes[i] as string,
    body: block.bodies[i] as string,
    payload: s(block.payloads[String(seq)]) ?? null,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  };
}

/** The seq in `block` whose idempotency key is `key`, if any. */
export function seqOfKey(block: Block, key: string): number | undefined {
  for (const [seq, v] of Object.entries(block.keys)) if (s(v) === key) return Number(seq);
  return undefined;
}

/** Rough size of an item in bytes (DynamoDB's limit is 400 KB). */
export function itemBytes(item: Item): number {
  let n = 0;
  const walk = (a: Attr): void => {
    if ("S" in a) n += Buffer.byteLength(a.S) + 8;
    else if ("N" in a) n += a.N.length + 8;
    else if ("B" in a) n += a.B.length + 8;
    else if ("L" in a) a.L.forEach(walk);
    else
      for (const [k, v] of Object.entries(a.M)) {
        n += k.length + 4;
        walk(v);
      }
  };
  for (const [k, v] of Object.entries(item)) {
    n += k.length;
    walk(v);
  }
  return n;
}
