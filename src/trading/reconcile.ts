import type { OrderLike } from "./exchange-like.js";

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
