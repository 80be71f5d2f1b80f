/**
 * ChainVerifier first tries to accept an entry by comparing it with what the chain expects next
 * (entry-accept.ts) and takes its full path only when that is not proven. The fast path may only
 * accept: on stored entries mutated anywhere, the verifier must give exactly the result of the
 * full path alone (same verdict, seq, reason, message), and on an intact chain it must actually
 * be taken, or it would be dead code that the benchmarks credit.
 */
import { fc } from "@fast-check/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import {
  acceptNextEntry,
  ChainVerifier,
  entryHash,
  parseEntry,
  parseEntryUncheckedHashes,
  pushUncheckedEntry,
  type VerifyItem,
  type VerifyResult,
} from "../../../src/audit/core/portable.js";
import { type StoredEntry, sha256Node } from "../../../src/audit/index.js";
import { sampleLog } from "../helpers.js";

/** The full path only: what `push` did before the fast path existed. */
function fullPush(v: ChainVerifier, item: VerifyItem) {
  const parsed = parseEntryUncheckedHashes(item.body);
  if (parsed === undefined) {
    const why = parseEntry(item.body);
    return v.malformed(typeof why === "string" ? why : "invalid entry", item.line);
  }
  return pushUncheckedEntry(v, parsed, item);
}

function run(
  items: VerifyItem[],
  push: (v: ChainVerifier, i: VerifyItem) => unknown,
  chainId?: string,
): VerifyResult {
  const v = new ChainVerifier({ sha256: sha256Node, chainId });
  for (const item of items) if (push(v, item)) break;
  return v.finish();
}

describe("the verifier's fast path", () => {
  const stored: StoredEntry[] = [];
  let chainId = "";

  beforeAll(async () => {
    const sample = await sampleLog(8, "erin", [5]);
    chainId = sample.chainId;
    for await (const e of sample.log.store.read(chainId, 0)) stored.push(e);
  });

  it("is taken on an intact chain, once a head of each kind was accepted in full", () => {
    const v = new ChainVerifier({ sha256: sha256Node, chainId });
    const fast = stored.map((e) => {
      if (acceptNextEntry(v, e.body, e.hash, e.payload)) return true;
      expect(v.push(e)).toBeUndefined();
      return false;
    });
    // sampleLog alternates two actions: the first entry of each goes the full way.
    expect(fast).toEqual([false, false, true, true, true, true, true, true]);
    expect(v.finish()).toMatchObject({ ok: true, size: 8, redacted: 1 });
  });

  const field = fc.constantFrom("body", "payload", "hash");
  const marker = fc.constantFrom(
    "",
    '"payloadCommitment":"',
    '"prevHash":"',
    '"seq":',
    '"ts":"',
    '"v":',
    '"chainId":"',
    '"action":"',
    '"salt":"',
    '"value":',
  );
  const insert = fc.oneof(
    fc.constantFrom("A", "f", "0", "1", "9", "3", '"', "\\", " ", "é", "\u2028", "\u0001", "}", ""),
    fc.string({ maxLength: 2 }),
  );

  it("gives exactly the full path's result on mutated entries", () => {
    // biome-ignore lint/nursery/noFloatingPromises: a synchronous property; fc.assert returns void
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        field,
        marker,
        fc.nat({ max: 40 }),
        insert,
        fc.boolean(),
        fc.boolean(),
        (index, key, mark, offset, text, keepLength, rehash) => {
          const items: VerifyItem[] = stored.map((e) => ({ ...e }));
          const item = items[index] as { body: string; hash?: string; payload?: string | null };
          const value = item[key] ?? "null";
          const found = mark === "" ? 0 : value.indexOf(mark);
          const at = Math.min((found < 0 ? 0 : found + mark.length) + offset, value.length);
          const changed =
            value.slice(0, at) + text + value.slice(at + (keepLength ? text.length : 0));
          if (key === "payload") item.payload = changed === "null" ? null : changed;
          else item[key] = changed;
          // Recomputing the hash lets a body change reach the checks after the hash comparison.
          if (rehash && key === "body") item.hash = entryHash(item.body, sha256Node);
          for (const expectedChain of [chainId, undefined])
            expect(run(items, (v, i) => v.push(i), expectedChain)).toEqual(
              run(items, fullPush, expectedChain),
            );
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("gives the full path's result on reordered, repeated, foreign and missing entries", () => {
    const [e0, e1, e2, e3] = stored as [StoredEntry, StoredEntry, StoredEntry, StoredEntry];
    const cases: VerifyItem[][] = [
      [e0, e1, e3, e2],
      [e0, e1, e2, e2],
      [e0, e1, e1],
      [e0, e2],
      [e1],
      [e0, e1, { ...e2, hash: e1.hash }],
      [e0, e1, { ...e2, payload: null }],
      [e0, e1, { ...e2, payload: e3.payload }],
    ];
    // Timestamps on the days that exist only in some months (the calendar check apart from the
    // layout's character ranges), each with its hash recomputed.
    for (const day of ["2026-02-28", "2026-02-29", "2024-02-29", "2100-02-29", "2000-02-29"]) {
      for (const other of ["2026-02-30", "2026-04-30", "2026-04-31", "2026-12-31", "2026-13-01"]) {
        for (const date of [day, other]) {
          const body = e2.body.replace(/"ts":"\d{4}-\d{2}-\d{2}/, `"ts":"${date}`);
          expect(body).not.toBe(e2.body);
          cases.push([e0, e1, { ...e2, body, hash: entryHash(body, sha256Node) }, e3]);
        }
      }
    }
    for (const items of cases)
      for (const expectedChain of [chainId, "user:someone-else", undefined])
        expect(run(items, (v, i) => v.push(i), expectedChain)).toEqual(
          run(items, fullPush, expectedChain),
        );
  });
});
