import { describe, expect, it } from "vitest";
import { NOT_FOUND_MESSAGE } from "../../src/errors.js";
import {
  handlerEntryOf,
  type Identity,
  listHandlers,
  operatorIdentity,
  owned,
  publicHandler,
  runAs,
} from "../../src/guard/index.js";
import { type Order, ordersWorld, rejectionOf } from "./fixtures.js";

async function world() {
  const w = await ordersWorld();
  const load = (id: string, who: Identity) => w.orders.forUser(who).get(id);
  let bodyCalls = 0;
  const getOrder = owned(
    {
      name: "test.orders.get",
      resource: "order",
      id: (orderId: string) => orderId,
      load,
      owner: (o: Order) => o.userId,
    },
    async ({ row, identity }, _orderId: string) => {
      bodyCalls++;
      return { ...row, caller: identity.userId };
    },
  );
  const getMany = owned(
    {
      name: "test.orders.getMany",
      resource: "order",
      ids: (ids: readonly string[]) => ids,
      load,
      owner: (o: Order) => o.userId,
    },
    async ({ rows }) => {
      bodyCalls++;
      return rows.map((r) => r.id);
    },
  );
  const opsView = owned(
    {
      name: "test.orders.opsView",
      resource: "order",
      id: (orderId: string) => orderId,
      load: (id: string, who: Identity) =>
        who.kind === "operator" ? w.orders.forOperator(who).get(id) : load(id, who),
      owner: (o: Order) => o.userId,
      allowOperators: true,
    },
    async ({ row }) => row.id,
  );
  return { ...w, getOrder, getMany, opsView, calls: () => bodyCalls };
}

describe("owned()", () => {
  it("passes the owner and hands the loaded row to the body", async () => {
    const w = await world();
    const got = await runAs(w.a, () => w.getOrder("a1"));
    expect(got).toEqual({
      id: "a1",
      userId: "user-a",
      symbol: "BTC/USDT",
      note: "A-1",
      caller: "user-a",
    });
  });

  it("Precondition: not-found and not-yours throw the same error with the same message.", async () => {
    const w = await world();
    const foreign = await rejectionOf(w.a, () => w.getOrder("b1"));
    const missing = await rejectionOf(w.a, () => w.getOrder("zz"));
    for (const err of [foreign, missing]) {
      expect(err.code).toBe("ERR_GUARD_NOT_FOUND");
      expect(err.message).toBe(NOT_FOUND_MESSAGE);
      expect(err.cause).toBeUndefined();
      expect(JSON.stringify(err)).not.toContain("B-1");
    }
    expect(JSON.stringify(foreign)).toBe(JSON.stringify(missing));
    expect(w.calls()).toBe(0);
  });

  it("Precondition: a malformed id is treated exactly like an id that does not exist.", async () => {
    const w = await world();
    for (const bad of ["", "x".repeat(300), 5, null, { id: "a1" }]) {
      const err = await rejectionOf(w.a, () => w.getOrder(bad as never));
      expect(err.code).toBe("ERR_GUARD_NOT_FOUND");
    }
  });

  it("Precondition: a guarded handler runs only for a live, keywarden-minted identity.", async () => {
    const w = await world();
    // Never a synchronous throw: callers always get a rejected promise.
    const pending = w.getOrder("a1");
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: "ERR_GUARD_UNAUTHENTICATED" });
    const err = await rejectionOf(undefined, () => w.getOrder("a1"));
    expect(err.code).toBe("ERR_GUARD_UNAUTHENTICATED");
    expect(w.calls()).toBe(0);
  });

  it("Precondition: a batch is all-or-nothing: one foreign or missing id rejects the whole call.", async () => {
    const w = await world();
    expect(await runAs(w.a, () => w.getMany(["a1", "a2"]))).toEqual(["a1", "a2"]);
    for (const ids of [["a1", "b1"], ["b1"], ["a1", "nope"], ["a1", 7]]) {
      const err = await rejectionOf(w.a, () => w.getMany(ids as string[]));
      expect(err.code).toBe("ERR_GUARD_NOT_FOUND");
      expect(err.message).toBe(NOT_FOUND_MESSAGE);
    }
    expect(w.calls()).toBe(1);
    const notArray = await rejectionOf(w.a, () => w.getMany("a1" as never));
    expect(notArray.code).toBe("ERR_GUARD_NOT_FOUND");
    const tooMany = await rejectionOf(w.a, () => w.getMany(Array(1001).fill("a1")));
    expect(tooMany.code).toBe("ERR_INVALID_ARGUMENT");
  });

  it("Precondition: operators do not pass user guards unless the handler allows operators.", async () => {
    const w = await world();
    // An operator whose id equals the owner's user id still does not pass a user guard.
    const op = operatorIdentity("user-a");
    const err = await rejectionOf(op, () => w.getOrder("a1"));
    expect(err.code).toBe("ERR_GUARD_NOT_FOUND");
    expect(w.calls()).toBe(0);
    // With allowOperators the operator passes, reading through the operator view.
    expect(await runAs(op, () => w.opsView("a1"))).toBe("a1");
    expect(await runAs(op, () => w.opsView("b1"))).toBe("b1");
    expect(await runAs(w.a, () => w.opsView("a1"))).toBe("a1");
    expect((await rejectionOf(w.b, () => w.opsView("a1"))).code).toBe("ERR_GUARD_NOT_FOUND");
  });

  it("checks the owner even when the loader is not scoped", async () => {
    const w = await world();
    const leaky = owned(
      {
        name: "test.orders.unscopedLoad",
        resource: "order",
        id: (id: string) => id,
        load: (id: string) => w.orders.forUser(w.b).get(id), // wrong scope on purpose
        owner: (o: Order) => o.userId,
      },
      async ({ row }) => row.note,
    );
    expect((await rejectionOf(w.a, () => leaky("b1"))).code).toBe("ERR_GUARD_NOT_FOUND");
  });

  it("keeps `this` and registers in the registry", async () => {
    const w = await world();
    const svc = {
      prefix: "order:",
      get: owned(
        {
          name: "test.orders.withThis",
          resource: "order",
          id: (id: string) => id,
          load: (id: string, who: Identity) => w.orders.forUser(who).get(id),
          owner: (o: Order) => o.userId,
        },
        async function (this: { prefix: string }, { row }) {
          return this.prefix + row.id;
        },
      ),
    };
    expect(await runAs(w.a, () => svc.get("a1"))).toBe("order:a1");
    expect(handlerEntryOf(svc.get)).toMatchObject({
      name: "test.orders.withThis",
      kind: "owned",
      resource: "order",
      batch: false,
    });
    expect(listHandlers().map((h) => h.name)).toContain("test.orders.withThis");
    expect(handlerEntryOf(w.getMany)?.batch).toBe(true);
    expect(handlerEntryOf(() => 1)).toBeUndefined();
  });

  it("Precondition: a handler name cannot be re-registered with a different policy.", () => {
    const policy = {
      name: "test.orders.dup",
      resource: "order",
      id: (id: string) => id,
      load: () => undefined,
      owner: (o: Order) => o.userId,
    };
    owned(policy, async () => 1);
    expect(() => owned(policy, async () => 2)).not.toThrow();
    expect(() => owned({ ...policy, allowOperators: true }, async () => 3)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() =>
      publicHandler({ name: "test.orders.dup", reason: "no user data at all" }, () => 1),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });

  it("rejects invalid policies", () => {
    const bad = [
      { resource: "order", id: (x: string) => x, load: () => undefined, owner: () => "u" },
      {
        name: "test.bad1",
        resource: "",
        id: (x: string) => x,
        load: () => undefined,
        owner: () => "u",
      },
      { name: "test.bad2", resource: "order", load: () => undefined, owner: () => "u" },
      {
        name: "9bad",
        resource: "order",
        id: (x: string) => x,
        load: () => undefined,
        owner: () => "u",
      },
    ];
    for (const p of bad) {
      expect(() => owned(p as never, async () => 1)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    }
  });

  it("publicHandler marks and registers a deliberate exception", async () => {
    const list = publicHandler(
      { name: "test.exchanges.list", reason: "static list, no user data" },
      async () => ["binance"],
    );
    expect(await list()).toEqual(["binance"]);
    expect(handlerEntryOf(list)).toMatchObject({
      kind: "public",
      reason: "static list, no user data",
    });
    expect(() => publicHandler({ name: "test.nope", reason: "" }, () => 1)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

describe("owned() under the kit's switch context (the general path)", () => {
  it("enforces the same checks as the hot path when the owner check is not bypassed", async () => {
    const { guardTestSwitches } = await import("../../src/guard/test-hooks.js");
    const w = await world();
    const op = operatorIdentity("user-a");
    await guardTestSwitches.run({ bypassOwnerCheck: false, bypassed: 0 }, async () => {
      expect((await runAs(w.a, () => w.getOrder("a1"))).note).toBe("A-1");
      for (const [who, id, code] of [
        [w.a, "b1", "ERR_GUARD_NOT_FOUND"],
        [w.a, "zz", "ERR_GUARD_NOT_FOUND"],
        [w.a, "", "ERR_GUARD_NOT_FOUND"],
        [op, "a1", "ERR_GUARD_NOT_FOUND"],
        [undefined, "a1", "ERR_GUARD_UNAUTHENTICATED"],
      ] as const) {
        const err = await rejectionOf(who, () => w.getOrder(id));
        expect(err.code).toBe(code);
      }
      expect(await runAs(op, () => w.opsView("b1"))).toBe("b1");
    });
    expect(w.calls()).toBe(1);
  });

  it("with the owner check bypassed, the scoped loader alone still refuses B's row", async () => {
    const { guardTestSwitches } = await import("../../src/guard/test-hooks.js");
    const w = await world();
    const switches = { bypassOwnerCheck: true, bypassed: 0 };
    await guardTestSwitches.run(switches, async () => {
      expect((await rejectionOf(w.a, () => w.getOrder("b1"))).code).toBe("ERR_GUARD_NOT_FOUND");
    });
    expect(switches.bypassed).toBe(1);
  });
});
