/**
 * Binance USDⓈ-M futures: the same key and endpoint as spot (`sapiGetAccountApiRestrictions` on the
 * binanceusdm instance, still sent to api.binance.com); futures trading is `enableFutures`.
 *
 * @packageDocumentation
 */
import { binanceFamily } from "./binance.js";
import type { ExchangeSpec } from "./spec.js";

/** Binance USDⓈ-M futures. */
export const binanceusdm: ExchangeSpec = binanceFamily("binanceusdm");
