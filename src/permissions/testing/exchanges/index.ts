import type { ExchangeSpec } from "../exchange-spec.js";
import type { SimulatedExchangeId } from "../types.js";
import { binanceSpec } from "./binance.js";
import { bybitSpec } from "./bybit.js";
import { coinbaseSpec } from "./coinbase.js";
import { kucoinSpec } from "./kucoin.js";
import { okxSpec } from "./okx.js";

/** Builds the spec of every simulated exchange (fresh state per simulator). */
export function buildSpecs(): Partial<Record<SimulatedExchangeId, ExchangeSpec>> {
  return {
    binance: binanceSpec("binance"),
    binanceusdm: binanceSpec("binanceusdm"),
    bybit: bybitSpec,
    okx: okxSpec,
    kucoin: kucoinSpec,
    coinbase: coinbaseSpec,
  };
}
