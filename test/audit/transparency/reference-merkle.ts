/**
 * A naive, recursive RFC 9162 reference written straight from the definitions of §2.1.1, §2.1.3.1
 * and §2.1.4.1 (MTH, PATH, PROOF/SUBPROOF), with node:crypto SHA-256. It shares no code with
 * src/audit/transparency/merkle.ts, so the exhaustive tests compare two independent implementations.
 */
import { createHash } from "node:crypto";

export function h(...parts: Uint8Array[]): Uint8Array {
  const c = createHash("sha256");
  for (const p of parts) c.update(p);
  return new Uint8Array(c.digest());
}

export function leafHash(data: Uint8Array): Uint8Array {
  return h(Uint8Array.of(0), data);
}

function k(n: number): number {
  let x = 1;
  while (x * 2 < n) x *= 2;
  return x;
}

export function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return h(new Uint8Array(0));
  if (d.length === 1) return d[0] as Uint8Array; // leaves given as leaf hashes
  const s = k(d.length);
  return h(Uint8Array.of(1), mth(d.slice(0, s)), mth(d.slice(s)));
}

export function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  if (m < s) return [...path(m, d.slice(0, s)), mth(d.slice(s))];
  return [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}

function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  if (m <= s) return [...subproof(m, d.slice(0, s), b), mth(d.slice(s))];
  return [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

export function proof(m: number, d: Uint8Array[]): Uint8Array[] {
  return subproof(m, d, true);
}

export function leaves(n: number, salt = "leaf"): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${salt}-${i}`)));
}
