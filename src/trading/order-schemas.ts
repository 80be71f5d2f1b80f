/**
 * The trading client's input shapes: the public order request type, the zod schemas every order,
 * order id, symbol and strategy-parameter change is checked against before anything else runs,
 * and the allowlist of order-shaping parameters (`timeInForce`, `postOnly`, `reduceOnly`,
 * `triggerPrice`, `stopPrice`) — any other parameter is refused, so no exchange-specific option
 * can smuggle in a different operation.
 */
import { z } from "zod";

/** An order request, as ccxt's `createOrder` takes it. */
export interface OrderRequest {
  readonly symbol: string;
  readonly type: "limit" | "market";
  readonly side: "buy" | "sell";
  readonly amount: number;
  readonly price?: number | undefined;
  /** Only order-shaping parameters: `timeInForce`, `postOnly`, `reduceOnly`, `triggerPrice`, `stopPrice`. */
  readonly params?: Readonly<Record<string, string | number | boolean>> | undefined;
}

/** The allowlisted private reads of `TradingClient.read`. */
export type PrivateRead = "fetchOrder" | "fetchOpenOrders" | "fetchMyTrades" | "fetchBalance";

export const ALLOWED_PARAMS = new Set([
  "timeInForce",
  "postOnly",
  "reduceOnly",
  "triggerPrice",
  "stopPrice",
]);
export const symbolSchema = z
  .string()
  .regex(/^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}(?::[A-Z0-9]{1,20})?$/, "a ccxt symbol such as BTC/USDT");
export const orderSchema = z
  .object({
    symbol: symbolSchema,
    type: z.enum(["limit", "market"]),
    side: z.enum(["buy", "sell"]),
    amount: z.number().positive().finite(),
    price: z.number().positive().finite().optional(),
    params: z
      .record(z.string(), z.union([z.string().max(64), z.number().finite(), z.boolean()]))
      .optional(),
  })
  .strict()
  .refine((o) => o.type === "market" || o.price !== undefined, "a limit order needs a price")
  .refine(
    (o) => Object.keys(o.params ?? {}).every((k) => ALLOWED_PARAMS.has(k)),
    "unsupported order parameter",
  );
/** A validated order, as {@link orderSchema} returns it. */
export type ParsedOrder = z.infer<typeof orderSchema>;
export const orderIdSchema = z.string().min(1).max(128);
export const parameterSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/),
    from: z.json().optional(),
    to: z.json(),
  })
  .strict();

/** Options of {@link TradingClient.createOrder}. */
export interface CreateOrderOptions {
  /**
   * The client order id sent to the exchange and recorded in the write-ahead intent, 8-32
   * characters of `[A-Za-z0-9_-]` (default: a fresh random `kw…` id). The signer uses the remote
   * client's id here so that a retry is recognised as the same order.
   */
  readonly clientOrderId?: string | undefined;
}

/** Accepted client order ids: within every supported exchange's own limit. */
export const CLIENT_ORDER_ID = /^[A-Za-z0-9_-]{8,32}$/;
