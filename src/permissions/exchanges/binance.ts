/**
 * Binance: `GET /sapi/v1/account/apiRestrictions` (`sapiGetAccountApiRestrictions`). Spot and
 * USDⓈ-M futures share the key and the endpoint, so `binanceusdm` reuses this parser.
 * Source: https://developers.binance.com/docs/wallet/account/api-key-permission (verbatim sample).
 * A key with Enable Spot & Margin Trading reads as transfer `"unknown"`: a sub-account's such key
 * may transfer to its master and siblings, and the answer does not say whose key it is.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { ExchangeId, FindingCode } from "../types.js";
import { binanceModel } from "./binance.model.js";
import {
  type Evidence,
  errorAnswer,
  failed,
  malformed,
  matchCode,
  permissions,
  shape,
} from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "sapiGetAccountApiRestrictions";

/** Every boolean field the parser knows, and what `true` grants. */
const FIELDS = {
  enableReading: "read",
  enableFixReadOnly: "read",
  enableSpotAndMarginTrading: "trade",
  enableMargin: "trade",
  enableFutures: "trade",
  enablePortfolioMarginTrading: "trade",
  enableVanillaOptions: "trade",
  enableFixApiTrade: "trade",
  enableWithdrawals: "withdraw",
  enableInternalTransfer: "transfer",
  permitsUniversalTransfer: "transfer",
  ipRestrict: "ip",
} as const;

/** Every flag the cited model lists (binance.model.ts); FIELDS must not name any other. */
const KNOWN = new Set(binanceModel.values.map((v) => v.value));

/** Raw Binance codes (reference §2 error table; -2015 is ambiguous: key, IP or permission). */
const ERRORS: Readonly<Record<string, FindingCode>> = {
  "-2015": "INVALID_KEY",
  "-2014": "INVALID_KEY",
  "-2008": "INVALID_KEY",
  "-1022": "INVALID_KEY",
  "-1002": "PERMISSION_DENIED",
};

const ErrorBody = z.looseObject({ code: z.number(), msg: z.string().optional() });
const Answer = z.record(z.string(), z.unknown());

function parseBinance(id: ExchangeId, answer: unknown) {
  const err = shape(ErrorBody, answer);
  /* Precondition: a Binance body carrying a numeric `code` is an error, whatever else it holds. */
  if (err) return errorAnswer(id, matchCode(ERRORS, err.code), err.code);
  const body = shape(Answer, answer);
  if (!body || Array.isArray(answer)) return malformed(id, "body");
  const evidence: Evidence = {};
  const unknownTokens: string[] = [];
  const flag = (name: keyof typeof FIELDS): boolean | undefined => {
    const v = body[name];
    if (typeof v === "boolean") evidence[name] = v;
    return typeof v === "boolean" ? v : undefined;
  };
  for (const [name, value] of Object.entries(body)) {
    // A flag the cited model does not list that is ON might grant anything: fail closed on it.
    if (!KNOWN.has(name) && value === true) unknownTokens.push(name);
  }
  if (typeof body.createTime === "number") evidence.createTime = body.createTime;
  const trades = (Object.keys(FIELDS) as (keyof typeof FIELDS)[])
    .filter((k) => FIELDS[k] === "trade")
    .map(flag);
  const reads = [flag("enableReading"), flag("enableFixReadOnly")];
  const withdraw = flag("enableWithdrawals");
  const transfers = [flag("enableInternalTransfer"), flag("permitsUniversalTransfer")];
  const ip = flag("ipRestrict");
  const unknown = unknownTokens.length > 0;
  /* Precondition: a Binance key with spot trading on reads transfer as unknown unless a transfer flag is on. */
  const spot = body.enableSpotAndMarginTrading === true;
  return permissions(id, {
    read: reads.includes(true) ? true : reads[0] === false && !unknown ? false : "unknown",
    trade: trades.includes(true) ? true : trades[0] === false && !unknown ? false : "unknown",
    /* Precondition: a missing enableWithdrawals field makes withdraw unknown. */
    withdraw: withdraw === true ? true : withdraw === false && !unknown ? false : "unknown",
    transfer: transfers.includes(true)
      ? true
      : transfers.every((t) => t === false) && !unknown && !spot
        ? false
        : "unknown",
    // Binance reports only a flag, never the list.
    ipRestricted: ip ?? "unknown",
    unknownTokens,
    evidence,
  });
}

/** Builds the Binance spec for `binance` or `binanceusdm` (same key, same endpoint). */
export function binanceFamily(id: "binance" | "binanceusdm"): ExchangeSpec {
  return {
    id,
    status: "confirmed",
    source: "https://developers.binance.com/docs/wallet/account/api-key-permission",
    model: id === "binance" ? binanceModel : { ...binanceModel, exchange: id },
    readOnlyMethods: [METHOD],
    plan: () => [{ method: METHOD, params: () => ({}) }],
    parse: (answers) =>
      answers.length === 1 ? parseBinance(id, answers[0]) : failed(id, "MALFORMED_RESPONSE"),
    classifyError: (body) => {
      const err = shape(ErrorBody, body);
      return err ? matchCode(ERRORS, err.code) : undefined;
    },
  };
}

/** Binance spot. */
export const binance: ExchangeSpec = binanceFamily("binance");
