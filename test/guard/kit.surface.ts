import { createMemoryTable, type Identity, owned, publicHandler } from "../../src/guard/index.js";
import {
  dumpTable,
  type EffectRecorder,
  type EntryPoint,
  type HandlerProbe,
  type IsolationSurface,
  overwriteRow,
  recordCalls,
} from "../../src/guard/testing/index.js";

/** A test order with a canary note. */
export interface Order {
  id: string;
  userId: string;
  symbol: string;
  note: string;
  status: "open" | "cancelled";
}

/** A fake exchange whose calls are the outbound side effects. */
export class FakeExchange {
  readonly cancelled: string[] = [];
  async cancelOrder(id: string, symbol: string) {
    this.cancelled.push(`${id}:${symbol}`);
    return { id, status: "canceled" };
  }
}

/** One world of the orders service: a scoped table, a recorded exchange, and handlers. */
export interface OrdersWorld {
  orders: ReturnType<typeof createMemoryTable<Order>>;
  exchange: FakeExchange;
  recorder: EffectRecorder;
  handlers: Record<string, EntryPoint>;
  resource: string;
}

type Deps = Omit<OrdersWorld, "handlers">;

/** The correct handlers; `tag` keeps registry names and the resource kind unique per test. */
export function correctHandlers(d: Deps, tag: string): Record<string, EntryPoint> {
  const policy = {
    resource: d.resource,
    load: (id: string, who: Identity) => d.orders.forUser(who).get(id),
    owner: (o: Order) => o.userId,
  };
  return {
    getOrder: owned(
      { ...policy, name: `${tag}.getOrder`, id: (id: string) => id },
      async ({ row }) => row,
    ),
    cancelOrder: owned(
      { ...policy, name: `${tag}.cancelOrder`, id: (id: string) => id },
      async ({ row, identity }) => {
        await d.exchange.cancelOrder(row.id, row.symbol);
        await d.orders.forUser(identity).update(row.id, (o) => ({ ...o, status: "cancelled" }));
        return { id: row.id };
      },
    ),
    cancelMany: owned(
      { ...policy, name: `${tag}.cancelMany`, ids: (ids: string[]) => ids },
      async ({ rows, identity }) => {
        for (const row of rows) {
          await d.orders.forUser(identity).update(row.id, (o) => ({ ...o, status: "cancelled" }));
        }
        return rows.length;
      },
    ),
    copyNote: owned(
      { ...policy, name: `${tag}.copyNote`, ids: (from: string, to: string) => [from, to] },
      async ({ rows, identity }) => {
        const [from, to] = rows as [Order, Order];
        await d.orders.forUser(identity).update(to.id, (o) => ({ ...o, note: `${from.note}+` }));
        return "copied";
      },
    ),
    listSymbols: publicHandler(
      { name: `${tag}.listSymbols`, reason: "static list of symbols, no user data" },
      async () => ["BTC/USDT", "ETH/USDT"],
    ),
  };
}

/** Probes for the correct handlers. */
export function correctProbes(resource: string): Record<string, HandlerProbe> {
  return {
    getOrder: { ids: [resource], args: (id: string) => [id] },
    cancelOrder: { ids: [resource], args: (id: string) => [id] },
    cancelMany: { ids: [{ resource, batch: true }], args: (ids: string[]) => [ids] },
    copyNote: { ids: [resource, resource], args: (from: string, to: string) => [from, to] },
  };
}

/** The orders surface, with optional extra or replaced handlers and probes. */
export function ordersSurface(
  tag: string,
  change: {
    handlers?: (d: Deps) => Record<string, EntryPoint>;
    probes?: Record<string, HandlerProbe>;
    drop?: string[];
  } = {},
): IsolationSurface<OrdersWorld> {
  const resource = `order-${tag}`;
  const probes = { ...correctProbes(resource), ...change.probes };
  for (const name of change.drop ?? []) delete probes[name as keyof typeof probes];
  return {
    name: `orders(${tag})`,
    world(recorder) {
      const d: Deps = {
        orders: createMemoryTable<Order>({ name: "orders", idKey: "id", ownerKey: "userId" }),
        exchange: recordCalls(recorder, "exchange", new FakeExchange()),
        recorder,
        resource,
      };
      const handlers = { ...correctHandlers(d, tag), ...change.handlers?.(d) };
      for (const name of change.drop ?? []) delete handlers[name];
      return { ...d, handlers };
    },
    async seed(w, { a, b }) {
      const add = (who: Identity, id: string, note: string) =>
        w.orders
          .forUser(who)
          .insert({ id, userId: who.userId, symbol: "BTC/USDT", note, status: "open" });
      await add(a, "a1", "CANARY-A-1");
      await add(a, "a2", "CANARY-A-2");
      await add(b, "b1", "CANARY-B-1");
      await add(b, "b2", "CANARY-B-2");
      return {
        a: { ids: { [resource]: ["a1", "a2"] }, canaries: ["CANARY-A-1", "CANARY-A-2"] },
        b: { ids: { [resource]: ["b1", "b2"] }, canaries: ["CANARY-B-1", "CANARY-B-2"] },
      };
    },
    snapshot: (w) => ({ orders: dumpTable(w.orders), exchange: [...w.exchange.cancelled] }),
    handlers: (w) => w.handlers,
    probes,
    tamper(w, t) {
      overwriteRow(w.orders, {
        id: t.id,
        userId: t.victim.userId,
        symbol: "XRP/USDT",
        note: t.canary,
        status: "open",
      } satisfies Order);
    },
  };
}
