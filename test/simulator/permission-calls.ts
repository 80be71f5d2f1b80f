import type { SimulatedExchangeId } from "../../src/permissions/testing/index.js";
import type { CcxtInstance } from "./ccxt-classes.js";

/** The implicit ccxt method each exchange's permission check uses (reference §2). */
export const PERMISSION_CALLS: Partial<
  Record<SimulatedExchangeId, { endpoint: string; call: (ex: CcxtInstance) => Promise<unknown> }>
> = {
  binance: {
    endpoint: "GET /sapi/v1/account/apiRestrictions",
    call: (ex) => invoke(ex, "sapiGetAccountApiRestrictions"),
  },
  binanceusdm: {
    endpoint: "GET /sapi/v1/account/apiRestrictions",
    call: (ex) => invoke(ex, "sapiGetAccountApiRestrictions"),
  },
  bybit: {
    endpoint: "GET /v5/user/query-api",
    call: (ex) => invoke(ex, "privateGetV5UserQueryApi"),
  },
  okx: {
    endpoint: "GET /api/v5/account/config",
    call: (ex) => invoke(ex, "privateGetAccountConfig"),
  },
  kucoin: {
    endpoint: "GET /api/v1/user/api-key",
    call: (ex) => invoke(ex, "privateGetUserApiKey"),
  },
  coinbase: {
    endpoint: "GET /api/v3/brokerage/key_permissions",
    call: (ex) => invoke(ex, "v3PrivateGetBrokerageKeyPermissions"),
  },
};

export function invoke(ex: CcxtInstance, method: string, params: unknown = {}): Promise<unknown> {
  const fn = ex[method];
  if (typeof fn !== "function") throw new Error(`ccxt has no method ${method}`);
  return (fn as (p: unknown) => Promise<unknown>).call(ex, params);
}
