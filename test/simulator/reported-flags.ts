import type { SimulatedExchangeId } from "../../src/permissions/testing/index.js";

/** What a documented response says about trade and withdraw (a deliberately minimal reading). */
export interface ReportedFlags {
  trade: boolean;
  withdraw: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const first = (v: unknown): Json => obj(Array.isArray(v) ? v[0] : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const csv = (v: unknown): string[] => (typeof v === "string" && v !== "" ? v.split(",") : []);

/** Reads the flags from each exchange's success response; undefined for probe exchanges. */
export const REPORTED_FLAGS: Record<
  SimulatedExchangeId,
  ((r: unknown) => ReportedFlags) | undefined
> = {
  binance: (r) => ({
    // The simulator reports trade as futures and margin (see binanceApiRestrictions).
    trade: obj(r).enableSpotAndMarginTrading === true || obj(r).enableFutures === true,
    withdraw: obj(r).enableWithdrawals === true,
  }),
  binanceusdm: (r) => ({
    trade: obj(r).enableFutures === true,
    withdraw: obj(r).enableWithdrawals === true,
  }),
  bybit: (r) => {
    const result = obj(obj(r).result);
    return {
      trade: result.readOnly === 0 && list(obj(result.permissions).Spot).includes("SpotTrade"),
      withdraw: list(obj(result.permissions).Wallet).includes("Withdraw"),
    };
  },
  okx: (r) => {
    const perm = csv(first(obj(r).data).perm);
    return { trade: perm.includes("trade"), withdraw: perm.includes("withdraw") };
  },
  kucoin: (r) => {
    const perm = csv(obj(obj(r).data).permission);
    return { trade: perm.includes("Spot"), withdraw: perm.includes("Transfer") };
  },
  coinbase: (r) => ({ trade: obj(r).can_trade === true, withdraw: obj(r).can_transfer === true }),
  kraken: (r) => {
    const perms = list(obj(obj(r).result).permissions);
    return { trade: perms.includes("modify-trades"), withdraw: perms.includes("withdraw-funds") };
  },
  bitget: (r) => {
    const a = list(obj(obj(r).data).authorities);
    return { trade: a.includes("stow"), withdraw: a.includes("wwow") };
  },
  bitfinex: (r) => {
    const scope = (name: string) => list(list(r).find((e) => list(e)[0] === name));
    return { trade: scope("orders")[2] === 1, withdraw: scope("withdraw")[2] === 1 };
  },
  gemini: (r) => ({ trade: obj(r).isTrader === true, withdraw: obj(r).isFundManager === true }),
  bingx: (r) => {
    const p = list(obj(obj(r).data).permissions);
    return { trade: p.includes(1), withdraw: p.includes(5) };
  },
  htx: (r) => {
    const perm = csv(first(obj(r).data).permission);
    return { trade: perm.includes("trade"), withdraw: perm.includes("withdraw") };
  },
  gate: (r) => {
    const perms = list(first(r).perms).map(obj);
    const writable = (name: string) => perms.some((p) => p.name === name && p.read_only === false);
    return { trade: writable("spot"), withdraw: writable("wallet") };
  },
  deribit: (r) => {
    const scope = String(first(obj(r).result).max_scope).split(" ");
    return {
      trade: scope.includes("trade:read_write"),
      withdraw: scope.includes("wallet:read_write"),
    };
  },
  cryptocom: undefined,
  mexc: (r) => ({ trade: obj(r).canTrade === true, withdraw: obj(r).canWithdraw === true }),
  bitstamp: undefined,
  woo: (r) => {
    const perms = list(first(obj(obj(r).data).rows).permissions);
    return { trade: perms.includes("TRADE"), withdraw: perms.includes("WITHDRAWAL") };
  },
  lbank: (r) => ({
    trade: obj(obj(r).data).enableSpotAndMarginTrading === true,
    withdraw: obj(obj(r).data).enableWithdrawals === true,
  }),
  hyperliquid: (r) => ({
    trade: obj(r).role === "user" || obj(r).role === "agent",
    withdraw: obj(r).role === "user",
  }),
};
