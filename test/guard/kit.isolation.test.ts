import { describe, expect, it } from "vitest";
import { type Identity, owned, publicHandler, requireIdentity } from "../../src/guard/index.js";
import { assertIsolation, dumpTable, runIsolationSuite } from "../../src/guard/testing/index.js";
import { type Order, ordersSurface } from "./kit.surface.js";

const unscopedGet = (w: { orders: Parameters<typeof dumpTable<Order>>[0] }, id: string) =>
  dumpTable(w.orders).find((o) => o.id === id);

async function findingsOf(surface: Parameters<typeof runIsolationSuite>[0]) {
  const report = await runIsolationSuite(surface);
  return report.findings.map((f) => `${f.handler} › ${f.variant} [${f.run}]: ${f.problem}`);
}

describe("isolation kit", () => {
  it("a correct surface passes, guarded and storage-only", async () => {
    const report = await assertIsolation(ordersSurface("ok"));
    expect(report.ok).toBe(true);
    expect(report.handlers).toEqual([
      { name: "getOrder", kind: "owned" },
      { name: "cancelOrder", kind: "owned" },
      { name: "cancelMany", kind: "owned" },
      { name: "copyNote", kind: "owned" },
      { name: "listSymbols", kind: "public" },
    ]);
    expect(report.calls).toBeGreaterThan(40);
  });

  it("fails a handler with no guard at all", async () => {
    const f = await findingsOf(
      ordersSurface("noguard", {
        handlers: (d) => ({
          deleteOrder: async (id: string) => d.orders.forUser(requireIdentity()).delete(id),
        }),
      }),
    );
    expect(f).toEqual([
      "deleteOrder › registration [surface]: handler is neither guarded (owned) nor publicHandler()",
    ]);
  });

  it("fails a wrong owner check over an unscoped loader (read leak), in both runs", async () => {
    const f = await findingsOf(
      ordersSurface("wrongowner", {
        handlers: (d) => ({
          getOrder: owned(
            {
              name: "wrongowner.getOrder",
              resource: d.resource,
              id: (id: string) => id,
              load: (id: string) => unscopedGet(d, id),
              owner: () => requireIdentity().userId, // always "matches"
            },
            async ({ row }) => row,
          ),
        }),
      }),
    );
    expect(f).toContain(
      `getOrder › B's id [guarded]: call succeeded (returned { id: 'b1', userId: 'iso-user-b', symbol: 'BTC/USDT', note: 'CANARY-B-1', status: 'open' })`,
    );
    expect(f).toContain(
      `getOrder › B's id [guarded]: read leak: result contains B's canary "CANARY-B-1"`,
    );
    expect(f).toContain(
      `getOrder › B's id [storage-only]: read leak: result contains B's canary "CANARY-B-1"`,
    );
    expect(f.every((x) => x.startsWith("getOrder"))).toBe(true);
  });

  it("fails when the guard holds but storage does not (unscoped loader): storage-only run", async () => {
    const f = await findingsOf(
      ordersSurface("unscoped", {
        handlers: (d) => ({
          cancelOrder: owned(
            {
              name: "unscoped.cancelOrder",
              resource: d.resource,
              id: (id: string) => id,
              load: (id: string) => unscopedGet(d, id),
              owner: (o: Order) => o.userId,
            },
            async ({ row }) => d.exchange.cancelOrder(row.id, row.symbol),
          ),
        }),
      }),
    );
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((x) => x.includes("[storage-only]"))).toBe(true);
    expect(f).toContain(
      `cancelOrder › B's id [storage-only]: side effect: exchange.cancelOrder [ 'b1', 'BTC/USDT' ]`,
    );
  });

  it("fails a body that re-reads by id instead of using the loaded row (race probe)", async () => {
    const f = await findingsOf(
      ordersSurface("reread", {
        handlers: (d) => ({
          getOrder: owned(
            {
              name: "reread.getOrder",
              resource: d.resource,
              id: (id: string) => id,
              load: (id: string, who: Identity) => d.orders.forUser(who).get(id),
              owner: (o: Order) => o.userId,
            },
            async (_loaded, id: string) => unscopedGet(d, id), // re-read: check-then-use race
          ),
        }),
      }),
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(
      /^getOrder › race: row changed owner after the check \[guarded\]: body re-read by id: B's canary "CANARY-RACE-[0-9a-f]+" reached the result$/,
    );
  });

  it("fails a side effect that happens before the check", async () => {
    const f = await findingsOf(
      ordersSurface("early", {
        handlers: (d) => ({
          cancelOrder: owned(
            {
              name: "early.cancelOrder",
              resource: d.resource,
              id: (id: string) => id,
              load: async (id: string, who: Identity) => {
                await d.exchange.cancelOrder(id, "BTC/USDT"); // effect before the owner check
                return d.orders.forUser(who).get(id);
              },
              owner: (o: Order) => o.userId,
            },
            async ({ row }) => row.id,
          ),
        }),
      }),
    );
    expect(f).toContain(
      `cancelOrder › B's id [guarded]: side effect: exchange.cancelOrder [ 'b1', 'BTC/USDT' ]`,
    );
    expect(f).toContain(`cancelOrder › B's id [guarded]: storage modified`);
    expect(
      f.some((x) =>
        x.startsWith(
          "cancelOrder › non-existent id [guarded]: side effect: exchange.cancelOrder [ 'kw-missing-",
        ),
      ),
    ).toBe(true);
    expect(f.every((x) => x.startsWith("cancelOrder"))).toBe(true);
  });

  it("fails a registered guarded handler missing from the surface, and one without a probe", async () => {
    const f = await findingsOf(ordersSurface("unlisted", { drop: ["copyNote"] }));
    expect(f).toEqual([
      `unlisted.copyNote › registration [surface]: registered guarded "order-unlisted" handler is not on the surface`,
    ]);
    const complete = ordersSurface("noprobe");
    const { cancelOrder: _dropped, ...probes } = complete.probes;
    const g = await findingsOf({ ...complete, probes });
    expect(g).toEqual([
      "cancelOrder › registration [surface]: guarded handler has no probe: add one to `probes`",
    ]);
  });

  it("fails when not-found and not-yours are distinguishable", async () => {
    const f = await findingsOf(
      ordersSurface("oracle", {
        handlers: (d) => ({
          getOrder: owned(
            {
              name: "oracle.getOrder",
              resource: d.resource,
              id: (id: string) => id,
              load: (id: string, who: Identity) => {
                if (!unscopedGet(d, id)) throw new Error("no such order");
                return d.orders.forUser(who).get(id);
              },
              owner: (o: Order) => o.userId,
            },
            async ({ row }) => row,
          ),
        }),
      }),
    );
    expect(f).toEqual([
      `getOrder › non-existent id [guarded]: not-yours and not-found differ: "ERR_GUARD_NOT_FOUND: resource not found" vs "Error: no such order"`,
    ]);
  });

  it("fails a vacuous probe (the owner's own call fails)", async () => {
    const f = await findingsOf(
      ordersSurface("vacuous", {
        probes: { getOrder: { ids: [`order-vacuous`], args: (id: string) => [`x${id}`] } },
      }),
    );
    expect(f).toContain(
      `getOrder › owner replay as B with B's ids [guarded]: probe is not meaningful: the owner's call failed (ERR_GUARD_NOT_FOUND: resource not found)`,
    );
  });

  it("fails a handler that caches the caller in shared state (concurrency probe)", async () => {
    const f = await findingsOf(
      ordersSurface("cached", {
        handlers: (d) => {
          let lastCaller: Identity | undefined; // the bug: per-request state in a shared closure
          return {
            getOrder: owned(
              {
                name: "cached.getOrder",
                resource: d.resource,
                id: (id: string) => id,
                load: (id: string, who: Identity) => d.orders.forUser(who).get(id),
                owner: (o: Order) => o.userId,
              },
              async ({ identity }) => {
                lastCaller = identity;
                await new Promise((r) => setTimeout(r, 10));
                return d.orders.forUser(lastCaller).list();
              },
            ),
          };
        },
      }),
    );
    // Whichever caller wrote the shared state last, the other one reads it: one side always leaks.
    expect(
      f.some((x) =>
        /^getOrder › concurrent A and B calls \[guarded\]: read leak under concurrency: (A's call on A's own ids saw B's canary "CANARY-B-\d"|B's call saw A's canary "CANARY-A-\d")$/.test(
          x,
        ),
      ),
    ).toBe(true);
    expect(f.every((x) => x.startsWith("getOrder › concurrent"))).toBe(true);
  });

  it("fails an empty surface instead of passing it vacuously", async () => {
    const complete = ordersSurface("empty");
    const f = await findingsOf({ ...complete, handlers: () => ({}), probes: {} });
    expect(f).toContain("(none) › registration [surface]: the surface lists no handlers");
  });

  it("fails a public handler that leaks B's data when it has a probe", async () => {
    const f = await findingsOf(
      ordersSurface("publeak", {
        handlers: (d) => ({
          peek: publicHandler(
            { name: "publeak.peek", reason: "meant to show public order fields" },
            async (id: string) => unscopedGet(d, id),
          ),
        }),
        probes: { peek: { ids: ["order-publeak"], args: (id: string) => [id] } },
      }),
    );
    expect(f).toEqual([
      `peek › B's id (public handler) [guarded]: read leak: B's canary "CANARY-B-1"`,
    ]);
  });

  it("assertIsolation throws an AssertionError naming handler, variant and effect", async () => {
    const err = await assertIsolation(
      ordersSurface("assert", { handlers: (d) => ({ raw: async () => dumpTable(d.orders) }) }),
    ).catch((e: unknown) => e as Error & { report: { ok: boolean } });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("AssertionError");
    expect((err as Error).message).toContain(
      "orders(assert) › raw › registration [surface]: handler is neither guarded (owned) nor publicHandler()",
    );
    expect((err as { report: { ok: boolean } }).report.ok).toBe(false);
  });
});

describe("isolation kit: attribution under concurrency", () => {
  it("does not blame A for B's own call that legitimately sends B's data out", async () => {
    // Regression: the kit once matched the label "owner-b" as one of A's "own" calls.
    const surface = ordersSurface("sendsnote", {
      handlers: (d) => ({
        sendNote: owned(
          {
            name: "sendsnote.sendNote",
            resource: d.resource,
            id: (id: string) => id,
            load: (id: string, who: Identity) => d.orders.forUser(who).get(id),
            owner: (o: Order) => o.userId,
          },
          async ({ row }) => d.exchange.cancelOrder(row.id, row.note),
        ),
      }),
      probes: { sendNote: { ids: ["order-sendsnote"], args: (id: string) => [id] } },
    });
    const report = await runIsolationSuite(surface);
    expect(report.findings).toEqual([]);
  });
});
