/**
 * Order placement, cancels and private reads, as functions of the client's internal context.
 * `createOrder` runs, in order: input validation, the last price for notional and price-band
 * limits, then under the per-user lock the kill-switch check (failing closed when the state
 * cannot be read), the risk check and the write-ahead `order.intent` entry (nothing is sent when
 * it cannot be recorded), and finally the exchange call, tracked as in flight so a kill switch
 * waits for it, with its `order.placed` or `order.failed` entry. Cancels record `order.canceled`;
 * private reads run only the allowlisted ccxt methods.
 */
import { randomBytes } from "node:crypto";
import { KeywardenError } from "../errors.js";
import type { Identity } from "../guard/identity.js";
import type { ClientContext, Row } from "./client-context.js";
import type { OrderLike } from "./exchange-like.js";
import {
  CLIENT_ORDER_ID,
  type OrderRequest,
  orderIdSchema,
  orderSchema,
  type ParsedOrder,
  symbolSchema,
} from "./order-schemas.js";
import type { TradingCredentialMeta } from "./ports.js";
import { assertRisk, type RiskLimits } from "./risk.js";
import type { KillSwitchState } from "./state.js";

const newClientOrderId = () => `kw${randomBytes(12).toString("hex")}`;
const decimal = (n: number) => {
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, "") : s;
};

async function killState(ctx: ClientContext, userId: string): Promise<KillSwitchState> {
  try {
    return await ctx.state.get(userId);
  } catch (cause) {
    /* Precondition: when the kill-switch state cannot be read, no order is sent. */
    throw new KeywardenError(
      "ERR_TRADING_STATE_UNAVAILABLE",
      "kill-switch state is unavailable; order refused",
      { cause },
    );
  }
}

function track<T>(ctx: ClientContext, userId: string, p: Promise<T>): Promise<T> {
  let set = ctx.inflight.get(userId);
  if (!set) {
    set = new Set();
    ctx.inflight.set(userId, set);
  }
  set.add(p);
  const done = () => {
    set.delete(p);
    if (set.size === 0) ctx.inflight.delete(userId);
  };
  p.then(done, done);
  return p;
}

/** Validates, risk-checks, records the intent of and places one order. */
export async function createOrder(
  ctx: ClientContext,
  identity: Identity,
  row: Row,
  input: OrderRequest,
  chosenClientOrderId?: string,
): Promise<OrderLike> {
  if (chosenClientOrderId !== undefined && !CLIENT_ORDER_ID.test(chosenClientOrderId))
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid clientOrderId");
  const parsed = orderSchema.safeParse(input);
  if (!parsed.success)
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `invalid order: ${parsed.error.issues[0]?.message}`,
    );
  const order = parsed.data;
  const clientOrderId = chosenClientOrderId ?? newClientOrderId();
  const base = {
    exchange: row.exchange,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    amount: decimal(order.amount),
    ...(order.price === undefined ? {} : { price: decimal(order.price) }),
    clientOrderId,
  };
  const limits = ctx.risk(row.userId);
  const lastPrice =
    limits && (limits.maxNotional !== undefined || limits.priceBand !== undefined)
      ? await fetchLastPrice(ctx, row.exchange, order.symbol)
      : undefined;
  // The per-user lock is held through the exchange call on purpose (`fn` returns the send
  // promise, which `run` awaits): one user's orders reach the exchange one at a time, so the
  // `maxOpenOrders` count and the kill switch's cancel always see a settled book.
  return ctx.lock.run(row.userId, async () => {
    /* Precondition: the kill-switch check and the order intent happen under the same per-user lock. */
    const state = await killState(ctx, row.userId);
    if (state.active) {
      throw new KeywardenError(
        "ERR_TRADING_KILL_SWITCH_ACTIVE",
        "kill switch is active; order refused",
      );
    }
    if (limits) {
      try {
        assertRisk(limits, { ...order, lastPrice });
      } catch (err) {
        await ctx.record(identity, row.userId, "order.failed", {
          exchange: row.exchange,
          symbol: order.symbol,
          side: order.side,
          clientOrderId,
          code: "ERR_TRADING_RISK_LIMIT",
          message: (err as Error).message.slice(0, 500),
        });
        throw err;
      }
    }
    /* Precondition: if the write-ahead intent cannot be recorded, nothing is sent. */
    try {
      await ctx.record(identity, row.userId, "order.intent", base);
    } catch (cause) {
      throw new KeywardenError(
        "ERR_TRADING_INTENT_NOT_RECORDED",
        "order intent could not be recorded; nothing was sent",
        { cause },
      );
    }
    return track(ctx, row.userId, sendOrder(ctx, identity, row, order, clientOrderId, limits));
  });
}

async function sendOrder(
  ctx: ClientContext,
  identity: Identity,
  row: Row,
  order: ParsedOrder,
  clientOrderId: string,
  limits: RiskLimits | undefined,
): Promise<OrderLike> {
  try {
    const placed = await ctx.call(identity, row, "trade", async (x) => {
      if (limits?.maxOpenOrders !== undefined) {
        const open = await x.fetchOpenOrders(order.symbol);
        assertRisk({ maxOpenOrders: limits.maxOpenOrders }, { ...order, openOrders: open.length });
      }
      return x.createOrder(order.symbol, order.type, order.side, order.amount, order.price, {
        ...order.params,
        clientOrderId,
      });
    });
    await ctx.record(identity, row.userId, "order.placed", {
      exchange: row.exchange,
      symbol: order.symbol,
      side: order.side,
      type: order.type,
      amount: decimal(order.amount),
      ...(order.price === undefined ? {} : { price: decimal(order.price) }),
      clientOrderId,
      orderId: String(placed.id),
    });
    return placed;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "ERR_TRADING_EXCHANGE_ERROR";
    await ctx.record(identity, row.userId, "order.failed", {
      exchange: row.exchange,
      symbol: order.symbol,
      side: order.side,
      clientOrderId,
      code,
      message: String((err as Error).message ?? "").slice(0, 500),
    });
    throw err;
  }
}

async function fetchLastPrice(
  ctx: ClientContext,
  exchange: string,
  symbol: string,
): Promise<number | undefined> {
  try {
    const ticker = await (await ctx.pool.marketData(exchange)).fetchTicker(symbol);
    return typeof ticker.last === "number" ? ticker.last : undefined;
  } catch {
    return undefined; // the risk check fails closed without a last price
  }
}

/** Cancels one order and records `order.canceled`. */
export async function cancelOrder(
  ctx: ClientContext,
  identity: Identity,
  row: Row,
  orderId: string,
  symbol?: string,
): Promise<unknown> {
  orderIdSchema.parse(orderId);
  if (symbol !== undefined) symbolSchema.parse(symbol);
  const result = await ctx.call(identity, row, "cancel", (x) => x.cancelOrder(orderId, symbol));
  await ctx.record(identity, row.userId, "order.canceled", {
    exchange: row.exchange,
    orderId,
    ...(symbol ? { symbol } : {}),
  });
  return result;
}

/** Cancels every open order (of one symbol, or all) and records each canceled one. */
export async function cancelAll(
  ctx: ClientContext,
  identity: Identity,
  row: Row,
  symbol?: string,
): Promise<unknown> {
  if (symbol !== undefined) symbolSchema.parse(symbol);
  const result = await ctx.call(identity, row, "cancel", (x) => x.cancelAllOrders(symbol));
  const canceled = Array.isArray(result) ? (result as OrderLike[]) : [];
  for (const o of canceled) {
    if (o?.id)
      await ctx.record(identity, row.userId, "order.canceled", {
        exchange: row.exchange,
        orderId: String(o.id),
        symbol: o.symbol,
      });
  }
  return result;
}

/** Runs one allowlisted private read; any other method is refused. */
export async function privateRead(
  ctx: ClientContext,
  identity: Identity,
  row: TradingCredentialMeta,
  method: string,
  args: readonly unknown[],
): Promise<unknown> {
  if (!["fetchOrder", "fetchOpenOrders", "fetchMyTrades", "fetchBalance"].includes(method))
    return ctx.refuse(row.credentialId, method);
  return ctx.call(identity, row, "read", async (x) => {
    const fn = (
      x as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>
    )[method];
    if (typeof fn !== "function")
      throw new KeywardenError("ERR_NOT_SUPPORTED", `${row.exchange} has no ${method}`);
    return fn.apply(x, args as unknown[]);
  });
}
