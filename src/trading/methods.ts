/**
 * What a trading handle may call. Everything not on {@link ALLOWED_METHODS} is refused before any
 * network call; the names on {@link FUNDS_MOVING_METHODS} are also recorded in the audit log when a
 * caller tries them, because trying to move funds off an account is itself worth an alert.
 */

/** Order calls: they change state on the exchange and go through intent → call → result. */
export const ORDER_METHODS = ["createOrder", "cancelOrder", "cancelAllOrders"] as const;

/** Private reads: they need credentials but change nothing. */
export const PRIVATE_READ_METHODS = [
  "fetchOrder",
  "fetchOpenOrders",
  "fetchMyTrades",
  "fetchBalance",
] as const;

/** Public market data, served by the shared credential-free instance. */
export const MARKET_DATA_METHODS = [
  "fetchTicker",
  "fetchTickers",
  "fetchOrderBook",
  "fetchOHLCV",
  "fetchTrades",
  "fetchMarkets",
] as const;

/** One of {@link ORDER_METHODS}. */
export type OrderMethod = (typeof ORDER_METHODS)[number];
/** One of {@link PRIVATE_READ_METHODS}. */
export type PrivateReadMethod = (typeof PRIVATE_READ_METHODS)[number];
/** One of {@link MARKET_DATA_METHODS}. */
export type MarketDataMethod = (typeof MARKET_DATA_METHODS)[number];
/** Every method a trading handle offers. */
export type AllowedMethod = OrderMethod | PrivateReadMethod | MarketDataMethod;

/** The complete allowlist. */
export const ALLOWED_METHODS: readonly AllowedMethod[] = [
  ...ORDER_METHODS,
  ...PRIVATE_READ_METHODS,
  ...MARKET_DATA_METHODS,
];

/**
 * ccxt unified methods that can move funds off the account, or open a path to (withdrawals,
 * transfers between accounts or users, deposit-address creation that precedes a sweep, loans,
 * address-book changes). Not exhaustive by design: the handle refuses every name that is not on
 * the allowlist; this list only decides which refusals are audited as `funds.blocked`.
 */
export const FUNDS_MOVING_METHODS = new Set<string>([
  "withdraw",
  "transfer",
  "transferIn",
  "transferOut",
  "fetchTransfer",
  "createDepositAddress",
  "borrowMargin",
  "borrowCrossMargin",
  "borrowIsolatedMargin",
  "repayMargin",
  "repayCrossMargin",
  "repayIsolatedMargin",
  "addMargin",
  "reduceMargin",
  "setMargin",
  "createConvertTrade",
  "createGiftCode",
  "redeemGiftCode",
  "sendRequest",
]);

/** True when `name` is on the allowlist. */
export function isAllowedMethod(name: string): name is AllowedMethod {
  return (ALLOWED_METHODS as readonly string[]).includes(name);
}

/**
 * True for names a caller must never reach through a handle: anything off the allowlist,
 * including every ccxt implicit endpoint (`sapiPostCapitalWithdrawApply`, `privatePostWithdraw`…),
 * `request`, `fetch` and the credential fields.
 */
export function isFundsMovingName(name: string): boolean {
  return FUNDS_MOVING_METHODS.has(name) || /withdraw|transfer|payout|loan|borrow/i.test(name);
}
