import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditStore, StoredEntry } from "../../../../src/audit/storage/store.js";
import { isKeywardenError } from "../../../../src/errors.js";

/** A store factory for the battery: `open` twice with the same `name` must reach the same data. */
export interface StoreHarness {
  open(name: string): Promise<AuditStore>;
}

let counter = 0;
/** A unique chain id per test. */
export const freshChain = (): string => `user:battery-${process.pid}-${Date.now()}-${counter++}`;

/** Synthetic stored entries (stores do not validate content; the core does). */
export function fakeEntries(
  chainId: string,
  from: number,
  count: number,
  opts: { keys?: (string | undefined)[]; tag?: string } = {},
): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (let i = 0; i < count; i++) {
    const seq = from + i;
    const body = JSON.stringify({ chainId, seq, tag: opts.tag ?? "t" });
    const hash = createHash("sha256")
      .update(Buffer.from([0]))
      .update(body)
      .digest("hex");
    const key = opts.keys?.[i];
    out.push({
      seq,
      hash,
      body,
      payload: `{"salt":"${"ab".repeat(32)}","value":${seq}}`,
      ...(key === undefined ? {} : { idempotencyKey: key }),
    });
  }
  return out;
}

export async function collect(it: AsyncIterable<StoredEntry>): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));

/** The adapter contract, run against one adapter (until keywarden/audit/testing lands). */
export function storeBattery(
  label: string,
  harness: () => StoreHarness,
  opts: { queuesInOrder?: boolean } = {},
): void {
  describe(`${label}: AuditStore contract`, () => {
    const opened: AuditStore[] = [];
    const open = async (name = "db") => {
      const s = await harness().open(name);
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close?.();
    });

    it("an unknown chain is empty", async () => {
      const s = await open();
      expect(await s.head(freshChain())).toEqual({ size: 0, headHash: null });
      expect(await collect(s.read(freshChain(), 0))).toEqual([]);
    });

    it("appends batches, reports the head, and reads ranges byte-exact", async () => {
      const s = await open();
      const c = freshChain();
      const a = fakeEntries(c, 0, 3);
      const b = fakeEntries(c, 3, 700, { tag: 'snow ☃ \u2028 "q"' });
      expect(await s.append({ chainId: c, expectedSize: 0, entries: a })).toEqual({
        size: 3,
        headHash: a[2]?.hash,
      });
      expect(await s.append({ chainId: c, expectedSize: 3, entries: b })).toEqual({
        size: 703,
        headHash: b[699]?.hash,
      });
      expect(await s.head(c)).toEqual({ size: 703, headHash: b[699]?.hash });
      const all = await collect(s.read(c, 0));
      expect(all).toEqual([...a, ...b]);
      expect((await collect(s.read(c, 500, 502))).map((e) => e.seq)).toEqual([500, 501]);
      expect(await collect(s.read(c, 702, 9999))).toEqual([b[699]]);
      expect(await collect(s.read(c, 703))).toEqual([]);
    });

    it("a stale expectedSize is a conflict and writes nothing", async () => {
      const s = await open();
      const c = freshChain();
      await s.append({ chainId: c, expectedSize: 0, entries: fakeEntries(c, 0, 2) });
      for (const expectedSize of [0, 1, 3]) {
        const err = await s
          .append({
            chainId: c,
            expectedSize,
            entries: fakeEntries(c, expectedSize, 2, { tag: "x" }),
          })
          .catch((e) => e);
        expect(code(err)).toBe("ERR_AUDIT_APPEND_CONFLICT");
      }
      expect((await s.head(c)).size).toBe(2);
      expect((await collect(s.read(c, 0))).every((e) => !e.body.includes('"x"'))).toBe(true);
    });

    it("idempotency keys are unique per chain, atomically with the batch", async () => {
      const s = await open();
      const c = freshChain();
      const other = freshChain();
      const first = fakeEntries(c, 0, 2, { keys: ["k-1", undefined] });
      await s.append({ chainId: c, expectedSize: 0, entries: first });
      expect(await s.findByIdempotencyKey?.(c, "k-1")).toEqual(first[0]);
      expect(await s.findByIdempotencyKey?.(c, "k-2")).toBeUndefined();
      const dup = await s
        .append({
          chainId: c,
          expectedSize: 2,
          entries: fakeEntries(c, 2, 2, { keys: ["k-2", "k-1"] }),
        })
        .catch((e) => e);
      expect(code(dup)).toBe("ERR_AUDIT_APPEND_CONFLICT");
      expect((await s.head(c)).size).toBe(2);
      expect(await s.findByIdempotencyKey?.(c, "k-2")).toBeUndefined();
      // The same key on another chain is independent.
      await s.append({
        chainId: other,
        expectedSize: 0,
        entries: fakeEntries(other, 0, 1, { keys: ["k-1"] }),
      });
      expect((await s.findByIdempotencyKey?.(other, "k-1"))?.seq).toBe(0);
    });

    it("concurrent appends at the same expectedSize: exactly one wins, no fork", async () => {
      const s = await open();
      const c = freshChain();
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          s.append({
            chainId: c,
            expectedSize: 0,
            entries: fakeEntries(c, 0, 2, { tag: `w${i}` }),
          }),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results)
        if (r.status === "rejected") expect(code(r.reason)).toBe("ERR_AUDIT_APPEND_CONFLICT");
      const rows = await collect(s.read(c, 0));
      expect(rows.map((e) => e.seq)).toEqual([0, 1]);
      expect(new Set(rows.map((e) => JSON.parse(e.body).tag)).size).toBe(1);
    });

    // Not required by the contract (a store may conflict instead); the group-commit stores queue in order.
    (opts.queuesInOrder !== false ? it : () => undefined)(
      "concurrent appends at successive sizes all commit in order",
      async () => {
        const s = await open();
        const c = freshChain();
        const n = 40;
        const res = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            s.append({ chainId: c, expectedSize: i, entries: fakeEntries(c, i, 1) }),
          ),
        );
        expect(res.map((r) => r.size)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect((await collect(s.read(c, 0))).map((e) => e.seq)).toEqual(
          Array.from({ length: n }, (_, i) => i),
        );
      },
    );

    it("erasure nulls the payload, keeps body and hash, is idempotent, and rejects unknown seqs", async () => {
      const s = await open();
      const c = freshChain();
      const es = fakeEntries(c, 0, 3);
      await s.append({ chainId: c, expectedSize: 0, entries: es });
      await s.erasePayload(c, 1);
      await s.erasePayload(c, 1);
      const rows = await collect(s.read(c, 0));
      expect(rows[1]).toMatchObject({
        seq: 1,
        hash: es[1]?.hash,
        body: es[1]?.body,
        payload: null,
      });
      expect(rows[0]?.payload).toBe(es[0]?.payload);
      expect(code(await s.erasePayload(c, 3).catch((e) => e))).toBe("ERR_INVALID_ARGUMENT");
      expect(code(await s.erasePayload(freshChain(), 0).catch((e) => e))).toBe(
        "ERR_INVALID_ARGUMENT",
      );
    });

    it("stores tree nodes with the append and overwrites an existing key", async () => {
      const s = await open();
      const c = freshChain();
      const h = (b: number) => new Uint8Array(32).fill(b);
      await s.append({
        chainId: c,
        expectedSize: 0,
        entries: fakeEntries(c, 0, 2),
        treeNodes: [
          { level: 0, index: 0, hash: h(1) },
          { level: 0, index: 1, hash: h(2) },
          { level: 1, index: 0, hash: h(3) },
        ],
      });
      await s.append({
        chainId: c,
        expectedSize: 2,
        entries: fakeEntries(c, 2, 2),
        treeNodes: [
          { level: 1, index: 0, hash: h(3) },
          { level: 1, index: 1, hash: h(4) },
          { level: 2, index: 0, hash: h(5) },
        ],
      });
      const got = await s.getTreeNodes?.(c, [
        { level: 2, index: 0 },
        { level: 0, index: 1 },
        { level: 1, index: 1 },
        { level: 3, index: 0 },
      ]);
      expect(got).toEqual([h(5), h(2), h(4), undefined]);
      // A failed append writes no nodes.
      await s
        .append({
          chainId: c,
          expectedSize: 0,
          entries: fakeEntries(c, 0, 1),
          treeNodes: [{ level: 4, index: 0, hash: h(9) }],
        })
        .catch(() => {});
      expect(await s.getTreeNodes?.(c, [{ level: 4, index: 0 }])).toEqual([undefined]);
    });

    it("keeps the checkpoint with the greatest size (ties: newest)", async () => {
      const s = await open();
      const c = freshChain();
      expect(await s.latestCheckpoint?.(c)).toBeUndefined();
      await s.putCheckpoint?.(c, { size: 5, note: "five" });
      await s.putCheckpoint?.(c, { size: 3, note: "three" });
      expect(await s.latestCheckpoint?.(c)).toEqual({ size: 5, note: "five" });
      await s.putCheckpoint?.(c, { size: 5, note: "five again" });
      expect(await s.latestCheckpoint?.(c)).toEqual({ size: 5, note: "five again" });
    });

    it("persists across reopen", async () => {
      const c = freshChain();
      const s1 = await open("persist");
      const es = fakeEntries(c, 0, 4, { keys: ["a", "b", undefined, "d"] });
      await s1.append({ chainId: c, expectedSize: 0, entries: es });
      await s1.putCheckpoint?.(c, { size: 4, note: "n" });
      await s1.close?.();
      const s2 = await open("persist");
      expect(await s2.head(c)).toEqual({ size: 4, headHash: es[3]?.hash });
      expect(await collect(s2.read(c, 0))).toEqual(es);
      expect((await s2.findByIdempotencyKey?.(c, "d"))?.seq).toBe(3);
      expect(await s2.latestCheckpoint?.(c)).toEqual({ size: 4, note: "n" });
    });
  });
}
