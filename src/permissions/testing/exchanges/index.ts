import type { ExchangeSpec } from "../exchange-spec.js";
import type { SimulatedExchangeId } from "../types.js";
import { binanceSpec } from "./binance.js";
import type { SpotMarket } from "./binance-market.js";
import { bingxSpec } from "./bingx.js";
import { bitfinexSpec } from "./bitfinex.js";
import { bitgetSpec } from "./bitget.js";
import { bitstampSpec } from "./bitstamp.js";
import { bybitSpec } from "./bybit.js";
import { coinbaseSpec } from "./coinbase.js";
import { cryptocomSpec } from "./cryptocom.js";
import { deribitSpec } from "./deribit.js";
import { gateSpec } from "./gate.js";
import { geminiSpec } from "./gemini.js";
import { htxSpec } from "./htx.js";
import { hyperliquidSpec } from "./hyperliquid.js";
import { krakenSpec } from "./kraken.js";
import { kucoinSpec } from "./kucoin.js";
import { lbankSpec } from "./lbank.js";
import { mexcSpec } from "./mexc.js";
import { okxSpec } from "./okx.js";
import { wooSpec } from "./woo.js";

/** Builds the spec of every simulated exchange. */
export function buildSpecs(market: SpotMarket): Record<SimulatedExchangeId, ExchangeSpec> {
  return {
    binance: binanceSpec("binance", market),
    binanceusdm: binanceSpec("binanceusdm"),
    bybit: bybitSpec,
    okx: okxSpec,
    kucoin: kucoinSpec,
    coinbase: coinbaseSpec,
    kraken: krakenSpec,
    bitget: bitgetSpec,
    bitfinex: bitfinexSpec,
    gemini: geminiSpec,
    bingx: bingxSpec,
    htx: htxSpec,
    gate: gateSpec,
    deribit: deribitSpec,
    cryptocom: cryptocomSpec,
    mexc: mexcSpec,
    bitstamp: bitstampSpec,
    woo: wooSpec,
    lbank: lbankSpec,
    hyperliquid: hyperliquidSpec,
  };
}
