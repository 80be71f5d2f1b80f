/**
 * Reconciliation: what the exchange reports against what the audit log recorded as placed.
 * `compareOrders` is the pure comparison (public); `reconcileCredential` is the trading client's
 * side of it, as a function of the client's internal context — it reads the user's chain for
 * `order.placed` entries of one exchange, then the exchange's order history (or only its open
 * orders where it offers no history call) for every symbol involved, and compares the two.
 */
import { userChainId } from "../audit/core/portable.js";
import type { Identity } from "../guard/identity.js";
import type { ClientContext, Row } from "./client-context.js";
import type { OrderLike } from "./exchange-like.js";
import { symbolSchema } from "./order-schemas.js";

/** An order keywarden recorded as placed. */
export interface LoggedOrder {
  readonly orderId: string;
  readonly clientOrderId: string | undefined;
  readonly symbol: string;
  readonly seq: number;
}

/** What {@link compareOrders} found. */
export interface ReconciliationReport {
  /** Orders the exchange has that keywarden never placed: placed around it (another tool, the exchange UI, a leaked key). */
  readonly notInLog: ReadonlyArray<{
    orderId: string;
    symbol: string;
    clientOrderId: string | undefined;
  }>;
  /** Orders the log records as placed that the exchange does not report. */
  readonly notOnExchange: readonly LoggedOrder[];
  /** Orders found on both sides. */
  readonly matched: number;
  /** `full`: the exchange's order history was read; `open-only`: it offers no history call, so only open orders were compared. */
  readonly coverage: "full" | "open-only";
}

/**
 * Compares the exchange's orders with the orders the audit log recorded as placed. An exchange
 * order matches a logged one by exchange order id, or by the client order id keywarden assigned.
 * With `coverage: "open-only"`, a logged order that has since filled or been canceled is not
 * reported as missing.
 */
export function compareOrders(
  exchangeOrders: readonly OrderLike[],
  logged: readonly LoggedOrder[],
  coverage: "full" | "open-only",
): ReconciliationReport {
  const byId = new Map(logged.map((o) => [o.orderId, o]));
  const byClient = new Map(
    logged.filter((o) => o.clientOrderId).map((o) => [o.clientOrderId as string, o]),
  );
  const seen = new Set<LoggedOrder>();
  const notInLog: Array<{ orderId: string; symbol: string; clientOrderId: string | undefined }> =
    [];
  for (const o of exchangeOrders) {
    const hit =
      byId.get(String(o.id)) ?? (o.clientOrderId ? byClient.get(o.clientOrderId) : undefined);
    if (hit) seen.add(hit);
    else
      notInLog.push({
        orderId: String(o.id),
        symbol: o.symbol,
        clientOrderId: o.clientOrderId ?? undefined,
      });
  }
  const notOnExchange = coverage === "full" ? logged.filter((o) => !seen.has(o)) : [];
  return { notInLog, notOnExchange, matched: seen.size, coverage };
}

/** Compares one credential's exchange orders since `options.since` with the logged ones. */
export async function reconcileCredential(
  ctx: ClientContext,
  identity: Identity,
  row: Row,
  options: { since?: number; symbols?: readonly string[] },
): Promise<ReconciliationReport> {
  const since = options.since ?? 0;
  const logged: LoggedOrder[] = [];
  for await (const e of ctx.audit.readEntries(userChainId(row.userId))) {
    const body = JSON.parse(e.body) as { action?: string; ts?: string };
    if (body.action !== "order.placed" || e.payload === null) continue;
    if (since && Date.parse(body.ts ?? "") < since) continue;
    const value = (JSON.parse(e.payload) as { value?: Record<string, unknown> }).value ?? {};
    if (value.exchange !== row.exchange || typeof value.orderId !== "string") continue;
    logged.push({
      orderId: value.orderId,
      clientOrderId: typeof value.clientOrderId === "string" ? value.clientOrderId : undefined,
      symbol: String(value.symbol),
      seq: e.seq,
    });
  }
  const symbols = [...new Set([...(options.symbols ?? []), ...logged.map((o) => o.symbol)])];
  for (const sym of symbols) symbolSchema.parse(sym);
  return ctx.call(identity, row, "read", async (x) => {
    const history =
      typeof x.fetchOrders === "function" &&
      (x as { has?: Record<string, unknown> }).has?.fetchOrders !== false;
    const orders: OrderLike[] = [];
    for (const sym of symbols) {
      orders.push(
        ...(history && x.fetchOrders
          ? await x.fetchOrders(sym, since || undefined)
          : await x.fetchOpenOrders(sym)),
      );
    }
    return compareOrders(orders, logged, history ? "full" : "open-only");
  });
}
