import { z } from "zod";
import { KeywardenError } from "../errors.js";

/** Host-configured risk limits for one user: a trade-only key can still drain an account through bad trades. */
export interface RiskLimits {
  /** Symbols the user's bot may trade (e.g. `["BTC/USDT"]`); absent means any. */
  readonly symbols?: readonly string[] | undefined;
  /** Largest order notional in quote currency, as a decimal string (e.g. `"1000"`). */
  readonly maxNotional?: string | undefined;
  /** Largest distance of a limit price from the last price, as a fraction (e.g. `0.05` = ±5 %). */
  readonly priceBand?: number | undefined;
  /** Most orders open at once on one exchange. */
  readonly maxOpenOrders?: number | undefined;
}

const decimal = z.string().regex(/^\d+(\.\d+)?$/, "a non-negative decimal string");

/** zod schema of {@link RiskLimits}. */
export const riskLimitsSchema = z
  .object({
    symbols: z.array(z.string().min(1).max(64)).max(1000).optional(),
    maxNotional: decimal.optional(),
    priceBand: z.number().positive().max(1).optional(),
    maxOpenOrders: z.number().int().positive().max(100_000).optional(),
  })
  .strict();

/** What the risk check needs to know about an order and the market. */
export interface OrderForRisk {
  readonly symbol: string;
  readonly type: string;
  readonly amount: number;
  readonly price?: number | undefined;
  /** The last traded price, from the credential-free market-data instance. */
  readonly lastPrice?: number | undefined;
  /** Orders currently open for this user on this exchange. */
  readonly openOrders?: number | undefined;
}

/** A failed check: the limit that was hit, named for the caller and the audit log. */
export interface RiskViolation {
  readonly limit: "symbols" | "maxNotional" | "priceBand" | "maxOpenOrders" | "lastPrice";
  readonly message: string;
}

/**
 * Checks an order against the limits and returns every violation (empty when the order passes).
 * A market order, or a notional or band check, needs the last price: without it the check fails
 * closed.
 *
 * @example
 * ```ts
 * checkRisk({ symbols: ["BTC/USDT"], maxNotional: "500" },
 *           { symbol: "BTC/USDT", type: "limit", amount: 0.01, price: 60000, lastPrice: 60100 });
 * // → [{ limit: "maxNotional", message: "order notional 600 exceeds 500" }]
 * ```
 */
export function checkRisk(limits: RiskLimits, order: OrderForRisk): RiskViolation[] {
  const out: RiskViolation[] = [];
  if (limits.symbols && !limits.symbols.includes(order.symbol)) {
    out.push({ limit: "symbols", message: `symbol ${order.symbol} is not on the allowlist` });
  }
  const needsLast = limits.maxNotional !== undefined || limits.priceBand !== undefined;
  const last = order.lastPrice;
  if (needsLast && (last === undefined || !Number.isFinite(last) || last <= 0)) {
    out.push({ limit: "lastPrice", message: "no last price to check the order against" });
    return out;
  }
  const price = order.type === "market" || order.price === undefined ? last : order.price;
  if (limits.maxNotional !== undefined && price !== undefined) {
    const notional = order.amount * price;
    if (!(notional <= Number(limits.maxNotional))) {
      out.push({
        limit: "maxNotional",
        message: `order notional ${notional} exceeds ${limits.maxNotional}`,
      });
    }
  }
  if (
    limits.priceBand !== undefined &&
    order.price !== undefined &&
    order.type !== "market" &&
    last !== undefined
  ) {
    const distance = Math.abs(order.price - last) / last;
    if (!(distance <= limits.priceBand)) {
      out.push({
        limit: "priceBand",
        message: `price ${order.price} is more than ${limits.priceBand * 100}% from ${last}`,
      });
    }
  }
  if (limits.maxOpenOrders !== undefined && (order.openOrders ?? 0) >= limits.maxOpenOrders) {
    out.push({
      limit: "maxOpenOrders",
      message: `already ${order.openOrders} open orders (limit ${limits.maxOpenOrders})`,
    });
  }
  return out;
}

/**
 * Throws when {@link checkRisk} finds a violation.
 *
 * @throws {KeywardenError} `ERR_TRADING_RISK_LIMIT` naming the first limit hit.
 */
export function assertRisk(limits: RiskLimits, order: OrderForRisk): void {
  const violations = checkRisk(limits, order);
  const first = violations[0];
  if (first) {
    throw new KeywardenError(
      "ERR_TRADING_RISK_LIMIT",
      `order refused by risk limit ${first.limit}: ${first.message}`,
      {
        details: { limit: first.limit },
      },
    );
  }
}
