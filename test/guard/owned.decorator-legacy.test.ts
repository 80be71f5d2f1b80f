// @keywarden-legacy-decorators — compiled with experimentalDecorators (the NestJS form).
import { describe, expect, it } from "vitest";
import {
  handlerEntryOf,
  type Identity,
  loadedRow,
  owned,
  publicHandler,
  runAs,
} from "../../src/guard/index.js";
import { type Order, ordersWorld, rejectionOf } from "./fixtures.js";

const { orders, a, b } = await ordersWorld();
const load = (id: string, who: Identity) => orders.forUser(who).get(id);
const calls: unknown[][] = [];

/** Records the raw decorator arguments, to prove this file really uses the legacy convention. */
function spy(target: unknown, key: unknown, descriptor?: unknown) {
  calls.push([typeof target, typeof key, typeof descriptor]);
}

class LegacyOrders {
  @spy
  @owned({
    name: "legacy.orders.get",
    resource: "order",
    id: (id: string) => id,
    load,
    owner: (o: Order) => o.userId,
  })
  async get(_id: string): Promise<string> {
    return loadedRow<Order>().note;
  }

  @publicHandler({ name: "legacy.orders.ping", reason: "health check, no user data" })
  async ping(): Promise<string> {
    return "pong";
  }
}

describe("@owned under legacy experimentalDecorators", () => {
  it("the file is compiled with the legacy (target, key, descriptor) convention", () => {
    expect(calls[0]).toEqual(["object", "string", "object"]);
  });

  it("guards the method like the standard form", async () => {
    const svc = new LegacyOrders();
    expect(await runAs(a, () => svc.get("a1"))).toBe("A-1");
    expect(await runAs(b, () => svc.get("b1"))).toBe("B-1");
    expect((await rejectionOf(a, () => svc.get("b1"))).code).toBe("ERR_GUARD_NOT_FOUND");
    expect((await rejectionOf(undefined, () => svc.get("a1"))).code).toBe(
      "ERR_GUARD_UNAUTHENTICATED",
    );
    expect(await svc.ping()).toBe("pong");
    expect(handlerEntryOf(LegacyOrders.prototype.get)?.name).toBe("legacy.orders.get");
    expect(handlerEntryOf(LegacyOrders.prototype.ping)?.kind).toBe("public");
  });
});
