import { createMemoryTable, hostIdentity, type Identity, runAs } from "../../src/guard/index.js";

/** A user-owned row used across the guard tests. */
export interface Order {
  id: string;
  userId: string;
  symbol: string;
  note: string;
}

/** A fresh orders table with one order each for user-a (`a1`, `a2`) and user-b (`b1`). */
export async function ordersWorld() {
  const orders = createMemoryTable<Order>({ name: "orders", idKey: "id", ownerKey: "userId" });
  const a = hostIdentity("user-a");
  const b = hostIdentity("user-b");
  await orders.forUser(a).insert({ id: "a1", userId: "user-a", symbol: "BTC/USDT", note: "A-1" });
  await orders.forUser(a).insert({ id: "a2", userId: "user-a", symbol: "ETH/USDT", note: "A-2" });
  await orders.forUser(b).insert({ id: "b1", userId: "user-b", symbol: "SOL/USDT", note: "B-1" });
  return { orders, a, b };
}

/** Awaits `fn` as `who` and returns the rejection (or fails if it resolved). */
export async function rejectionOf(who: Identity | undefined, fn: () => Promise<unknown>) {
  const run = who ? () => runAs(who, fn) : fn;
  try {
    await run();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}
