/**
 * The registry of per-exchange specs.
 *
 * @packageDocumentation
 */
import type { ExchangeId } from "../types.js";
import { binance } from "./binance.js";
import { binanceusdm } from "./binanceusdm.js";
import { bingx } from "./bingx.js";
import { bitfinex } from "./bitfinex.js";
import { bitget } from "./bitget.js";
import { bitstamp } from "./bitstamp.js";
import { bybit } from "./bybit.js";
import { coinbase } from "./coinbase.js";
import { cryptocom } from "./cryptocom.js";
import { deribit } from "./deribit.js";
import { gate } from "./gate.js";
import { gemini } from "./gemini.js";
import { htx } from "./htx.js";
import { hyperliquid } from "./hyperliquid.js";
import { kraken } from "./kraken.js";
import { kucoin } from "./kucoin.js";
import { lbank } from "./lbank.js";
import { mexc } from "./mexc.js";
import { okx } from "./okx.js";
import type { ExchangeSpec } from "./spec.js";
import { bitvavo, coinex, phemex, poloniex, upbit, whitebit } from "./unsupported.js";
import { woo } from "./woo.js";

/** Every spec by exchange id. */
export const EXCHANGE_SPECS: Readonly<Record<ExchangeId, ExchangeSpec>> = Object.freeze({
  binance,
  binanceusdm,
  bybit,
  okx,
  kucoin,
  coinbase,
  kraken,
  bitget,
  bitfinex,
  gemini,
  bingx,
  htx,
  gate,
  deribit,
  cryptocom,
  mexc,
  bitstamp,
  woo,
  hyperliquid,
  upbit,
  coinex,
  bitvavo,
  whitebit,
  phemex,
  lbank,
  poloniex,
});
