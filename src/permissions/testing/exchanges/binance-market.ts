/*
 * Market data of the simulated Binance spot venue: two symbols, their filters, and the last price
 * that market orders fill at. Amounts are fixed-point bigints with 8 decimals (Binance's own
 * precision), so balances never drift through float rounding.
 */

const SCALE = 100_000_000n;

/** Parses a non-negative decimal string into 1e-8 units; undefined when malformed. */
export function toUnits(text: string | null | undefined): bigint | undefined {
  if (typeof text !== "string" || !/^\d{1,12}(\.\d{1,8})?$/.test(text)) return undefined;
  const [whole = "0", fraction = ""] = text.split(".");
  return BigInt(whole) * SCALE + BigInt(fraction.padEnd(8, "0"));
}

/** Formats 1e-8 units the way Binance prints amounts ("0.00100000"). */
export function fromUnits(units: bigint): string {
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  return `${sign}${abs / SCALE}.${(abs % SCALE).toString().padStart(8, "0")}`;
}

/** price × quantity, both in units, result in units (truncated). */
export function multiply(a: bigint, b: bigint): bigint {
  return (a * b) / SCALE;
}

export interface SpotSymbol {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly tickSize: bigint;
  readonly stepSize: bigint;
  readonly minNotional: bigint;
}

export const SPOT_SYMBOLS: readonly SpotSymbol[] = [
  {
    symbol: "BTCUSDT",
    base: "BTC",
    quote: "USDT",
    tickSize: toUnits("0.01") as bigint,
    stepSize: toUnits("0.00001") as bigint,
    minNotional: toUnits("5") as bigint,
  },
  {
    symbol: "ETHUSDT",
    base: "ETH",
    quote: "USDT",
    tickSize: toUnits("0.01") as bigint,
    stepSize: toUnits("0.0001") as bigint,
    minNotional: toUnits("5") as bigint,
  },
];

/** Default balances of a newly registered key. */
export const DEFAULT_BALANCES: Readonly<Record<string, string>> = {
  BTC: "1",
  ETH: "10",
  USDT: "100000",
};

/** Last traded prices, shared by every key of one simulator. */
export class SpotMarket {
  readonly #last = new Map<string, bigint>([
    ["BTCUSDT", toUnits("60000") as bigint],
    ["ETHUSDT", toUnits("3000") as bigint],
  ]);

  symbol(id: string | null | undefined): SpotSymbol | undefined {
    return SPOT_SYMBOLS.find((s) => s.symbol === id);
  }

  lastPrice(symbol: string): bigint {
    return this.#last.get(symbol) ?? 0n;
  }

  setLastPrice(symbol: string, price: bigint): void {
    this.#last.set(symbol, price);
  }
}

/** GET /api/v3/exchangeInfo in Binance's documented shape, for the simulated symbols. */
export function exchangeInfo(now: number): Record<string, unknown> {
  return {
    timezone: "UTC",
    serverTime: now,
    rateLimits: [
      { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 6000 },
    ],
    exchangeFilters: [],
    symbols: SPOT_SYMBOLS.map((s) => ({
      symbol: s.symbol,
      status: "TRADING",
      baseAsset: s.base,
      baseAssetPrecision: 8,
      quoteAsset: s.quote,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
      icebergAllowed: true,
      ocoAllowed: true,
      otoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: false,
      filters: [
        {
          filterType: "PRICE_FILTER",
          minPrice: fromUnits(s.tickSize),
          maxPrice: "1000000.00000000",
          tickSize: fromUnits(s.tickSize),
        },
        {
          filterType: "LOT_SIZE",
          minQty: fromUnits(s.stepSize),
          maxQty: "9000.00000000",
          stepSize: fromUnits(s.stepSize),
        },
        {
          filterType: "NOTIONAL",
          minNotional: fromUnits(s.minNotional),
          applyMinToMarket: true,
          maxNotional: "9000000.00000000",
          applyMaxToMarket: false,
          avgPriceMins: 5,
        },
      ],
      permissions: [],
      permissionSets: [["SPOT"]],
      defaultSelfTradePreventionMode: "EXPIRE_MAKER",
      allowedSelfTradePreventionModes: ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    })),
  };
}

/** GET /api/v3/ticker/24hr for one symbol (flat day: open = high = low = last). */
export function ticker24hr(s: SpotSymbol, last: bigint, now: number): Record<string, unknown> {
  const price = fromUnits(last);
  return {
    symbol: s.symbol,
    priceChange: "0.00000000",
    priceChangePercent: "0.000",
    weightedAvgPrice: price,
    prevClosePrice: price,
    lastPrice: price,
    lastQty: "0.00000000",
    bidPrice: price,
    bidQty: "1.00000000",
    askPrice: price,
    askQty: "1.00000000",
    openPrice: price,
    highPrice: price,
    lowPrice: price,
    volume: "0.00000000",
    quoteVolume: "0.00000000",
    openTime: now - 86_400_000,
    closeTime: now,
    firstId: -1,
    lastId: -1,
    count: 0,
  };
}
