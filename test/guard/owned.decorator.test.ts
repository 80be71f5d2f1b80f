import { describe, expect, it } from "vitest";
import { NOT_FOUND_MESSAGE } from "../../src/errors.js";
import {
  handlerEntryOf,
  type Identity,
  loadedRow,
  loadedRows,
  owned,
  publicHandler,
  runAs,
} from "../../src/guard/index.js";
import { type Order, ordersWorld, rejectionOf } from "./fixtures.js";

// TC39 standard decorators (this file has no legacy marker).
const { orders, a, b } = await ordersWorld();
const load = (id: string, who: Identity) => orders.forUser(who).get(id);
let bodyRuns = 0;

class OrderService {
  readonly tag = "svc";

  @owned({
    name: "tc39.orders.get",
    resource: "order",
    id: (id: string) => id,
    load,
    owner: (o: Order) => o.userId,
  })
  async get(_id: string, suffix = ""): Promise<string> {
    bodyRuns++;
    return `${this.tag}:${loadedRow<Order>().note}${suffix}`;
  }

  @owned({
    name: "tc39.orders.many",
    resource: "order",
    ids: (ids: string[]) => ids,
    load,
    owner: (o: Order) => o.userId,
  })
  async many(_ids: string[]): Promise<string[]> {
    bodyRuns++;
    return loadedRows<Order>().map((o) => o.id);
  }

  @publicHandler({ name: "tc39.orders.symbols", reason: "static list, no user data" })
  async symbols(): Promise<string[]> {
    return ["BTC/USDT"];
  }
}

describe("@owned as a TC39 standard decorator", () => {
  const svc = new OrderService();

  it("guards the method and hands it the loaded row", async () => {
    expect(await runAs(a, () => svc.get("a1", "!"))).toBe("svc:A-1!");
    expect(await runAs(b, () => svc.get("b1"))).toBe("svc:B-1");
  });

  it("refuses other users' and missing rows with the same error, before the body runs", async () => {
    const before = bodyRuns;
    const foreign = await rejectionOf(a, () => svc.get("b1"));
    const missing = await rejectionOf(a, () => svc.get("nope"));
    expect([foreign.code, missing.code]).toEqual(["ERR_GUARD_NOT_FOUND", "ERR_GUARD_NOT_FOUND"]);
    expect([foreign.message, missing.message]).toEqual([NOT_FOUND_MESSAGE, NOT_FOUND_MESSAGE]);
    expect((await rejectionOf(undefined, () => svc.get("a1"))).code).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
    expect((await rejectionOf(a, () => svc.many(["a1", "b1"]))).code).toBe("ERR_GUARD_NOT_FOUND");
    expect(bodyRuns).toBe(before);
    expect(await runAs(a, () => svc.many(["a2", "a1"]))).toEqual(["a2", "a1"]);
  });

  it("registers decorated methods at class definition", () => {
    expect(handlerEntryOf(OrderService.prototype.get)).toMatchObject({
      name: "tc39.orders.get",
      kind: "owned",
    });
    expect(handlerEntryOf(OrderService.prototype.many)?.batch).toBe(true);
    expect(handlerEntryOf(OrderService.prototype.symbols)?.kind).toBe("public");
  });

  it("loadedRow outside an @owned method throws", () => {
    expect(() => loadedRow()).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });

  it("refuses non-method targets", () => {
    const dec = owned({
      name: "tc39.bad",
      resource: "order",
      id: (id: string) => id,
      load,
      owner: (o: Order) => o.userId,
    });
    expect(() =>
      (dec as unknown as (v: unknown, c: unknown) => unknown)(undefined, {
        kind: "field",
        name: "x",
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});
