/**
 * The exchanges added in permissions v2 that have no key-permission read-back (see
 * ./unsupported.model.ts): no call is made and every key is reported UNSUPPORTED.
 *
 * @packageDocumentation
 */
import type { ExchangeId } from "../types.js";
import type { PermissionModel } from "./model.js";
import { poloniexModel } from "./poloniex.model.js";
import { failed } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";
import {
  bitvavoModel,
  coinexModel,
  phemexModel,
  upbitModel,
  whitebitModel,
} from "./unsupported.model.js";

function unsupported(id: ExchangeId, model: PermissionModel, source: string): ExchangeSpec {
  return {
    id,
    status: "unsupported",
    source,
    model,
    readOnlyMethods: [],
    plan: () => [],
    parse: () => failed(id, "UNSUPPORTED"),
    classifyError: () => undefined,
  };
}

/** Upbit (unsupported). */
export const upbit = unsupported(
  "upbit",
  upbitModel,
  "https://docs-e.upbit.com/reference/open-api-key-list",
);
/** CoinEx (unsupported). */
export const coinex = unsupported("coinex", coinexModel, "https://docs.coinex.com/api/v2/");
/** Bitvavo (unsupported). */
export const bitvavo = unsupported("bitvavo", bitvavoModel, "https://docs.bitvavo.com/");
/** WhiteBIT (unsupported). */
export const whitebit = unsupported(
  "whitebit",
  whitebitModel,
  "https://docs.whitebit.com/private/http-auth",
);
/** Phemex (unsupported). */
export const phemex = unsupported(
  "phemex",
  phemexModel,
  "https://github.com/phemex/phemex-api-docs",
);
/** Poloniex (unsupported). */
export const poloniex = unsupported(
  "poloniex",
  poloniexModel,
  "https://api-docs.poloniex.com/spot/api/",
);
