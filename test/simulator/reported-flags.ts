import type { SimulatedExchangeId } from "../../src/permissions/testing/index.js";

/** What a documented response says about trade and withdraw (a deliberately minimal reading). */
export interface ReportedFlags {
  trade: boolean;
  withdraw: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const first = (v: unknown): Json => obj(Array.isArray(v) ? v[0] : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const csv = (v: unknown): string[] => (typeof v === "string" && v !== "" ? v.split(",") : []);

export const REPORTED_FLAGS: Partial<Record<SimulatedExchangeId, (r: unknown) => ReportedFlags>> = {
  binance: (r) => ({
    trade: obj(r).enableSpotAndMarginTrading === true,
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
};
