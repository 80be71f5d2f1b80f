import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemoryTable, hostIdentity, operatorIdentity } from "../../src/guard/index.js";
import { type Order, ordersWorld } from "./fixtures.js";

describe("owner-scoped memory table", () => {
  it("a row written through A's handle is invisible and immutable through B's", async () => {
    const { orders, a, b } = await ordersWorld();
    const B = orders.forUser(b);
    expect(await B.get("a1")).toBeUndefined();
    expect((await B.list()).map((o) => o.id)).toEqual(["b1"]);
    expect(await B.update("a1", (o) => ({ ...o, note: "pwned" }))).toBeUndefined();
    expect(await B.delete("a1")).toBe(false);
    expect((await orders.forUser(a).get("a1"))?.note).toBe("A-1");
  });

  it("Precondition: a row is written only with the caller as its owner.", async () => {
    const { orders, b } = await ordersWorld();
    await expect(
      orders.forUser(b).insert({ id: "x", userId: "user-a", symbol: "X", note: "" }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    // An id taken by another user cannot be claimed either.
    await expect(
      orders.forUser(b).insert({ id: "a1", userId: "user-b", symbol: "X", note: "" }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(
      orders.forUser(b).update("b1", (o) => ({ ...o, userId: "user-a" })),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("Precondition: a scoped handle is only created for a live, keywarden-minted identity.", async () => {
    const { orders, a } = await ordersWorld();
    expect(() => orders.forUser({ ...a })).toThrow(
      expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
    );
    expect(() => orders.forUser(hostIdentity("user-a", { ttlMs: -1 }))).toThrow(
      expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
    );
  });

  it("Precondition: an operator identity owns no rows, whatever its id.", async () => {
    const { orders, a } = await ordersWorld();
    const op = operatorIdentity("user-a");
    expect(await orders.forUser(op).get("a1")).toBeUndefined();
    expect(await orders.forUser(op).list()).toEqual([]);
    await expect(
      orders.forUser(op).insert({ id: "o9", userId: "user-a", symbol: "X", note: "" }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    expect((await orders.forOperator(op).list()).length).toBe(3);
    expect(() => orders.forOperator(a)).toThrow(
      expect.objectContaining({ code: "ERR_GUARD_UNAUTHENTICATED" }),
    );
  });

  it("returns copies: mutating a returned row does not change storage", async () => {
    const { orders, a } = await ordersWorld();
    const row = (await orders.forUser(a).get("a1")) as Order;
    row.note = "changed";
    row.userId = "user-b";
    expect((await orders.forUser(a).get("a1"))?.note).toBe("A-1");
  });

  it("property: no sequence of B operations changes or reveals A's rows", async () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant("get"), id: fc.constantFrom("a1", "a2", "b1", "zz") }),
      fc.record({ k: fc.constant("update"), id: fc.constantFrom("a1", "a2", "b1") }),
      fc.record({ k: fc.constant("delete"), id: fc.constantFrom("a1", "a2", "b1") }),
      fc.record({ k: fc.constant("insert"), id: fc.constantFrom("a1", "n1", "n2") }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        const orders = createMemoryTable<Order>({ name: "o", idKey: "id", ownerKey: "userId" });
        const a = hostIdentity("user-a");
        const b = hostIdentity("user-b");
        await orders.forUser(a).insert({ id: "a1", userId: "user-a", symbol: "S", note: "A" });
        await orders.forUser(a).insert({ id: "a2", userId: "user-a", symbol: "S", note: "A" });
        const B = orders.forUser(b);
        for (const o of ops) {
          let seen: unknown;
          if (o.k === "get") seen = await B.get(o.id);
          if (o.k === "update") seen = await B.update(o.id, (r) => ({ ...r, note: "B" }));
          if (o.k === "delete") await B.delete(o.id);
          if (o.k === "insert")
            await B.insert({ id: o.id, userId: "user-b", symbol: "S", note: "B" }).catch(() => {});
          expect(JSON.stringify(seen ?? null)).not.toContain('"user-a"');
        }
        expect(await orders.forUser(a).list()).toEqual([
          { id: "a1", userId: "user-a", symbol: "S", note: "A" },
          { id: "a2", userId: "user-a", symbol: "S", note: "A" },
        ]);
      }),
      { numRuns: 200 },
    );
  });
});
