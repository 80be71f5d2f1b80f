import { evmAddressOf } from "../../src/permissions/testing/exchanges/hyperliquid.js";
import type { SimulatedExchangeId } from "../../src/permissions/testing/index.js";
import type { CcxtInstance, TestCredentials } from "./ccxt-classes.js";

/** How the permission check for one exchange is made through ccxt's implicit API (reference §2). */
export interface PermissionCall {
  /** The endpoint(s) hit, in order. */
  endpoints: string[];
  call(ex: CcxtInstance, credentials: TestCredentials): Promise<unknown>;
  /**
   * A probe (no read-back endpoint): it succeeds only for a withdraw-enabled key and is refused
   * with the exchange's permission error otherwise.
   */
  probe?: true;
  /** The key the simulator's request log files the call under, where it is not the apiKey. */
  loggedAs?: (credentials: TestCredentials) => string;
  /**
   * Why the read-back cannot reject a key (it is public and unsigned), when it cannot: the
   * signature, unknown-key and clock cases do not apply.
   */
  unsigned?: string;
}

/** The key the request log records `credentials`' permission call under. */
export function loggedKey(id: SimulatedExchangeId, credentials: TestCredentials): string {
  return PERMISSION_CALLS[id].loggedAs?.(credentials) ?? credentials.apiKey;
}

export async function invoke(
  ex: CcxtInstance,
  method: string,
  params: unknown = {},
): Promise<unknown> {
  const fn = ex[method];
  if (typeof fn !== "function") throw new Error(`ccxt has no method ${method}`);
  return (fn as (p: unknown) => Promise<unknown>).call(ex, params);
}

const single = (endpoint: string, method: string): PermissionCall => ({
  endpoints: [endpoint],
  call: (ex) => invoke(ex, method),
});

export const PERMISSION_CALLS: Record<SimulatedExchangeId, PermissionCall> = {
  binance: single("GET /sapi/v1/account/apiRestrictions", "sapiGetAccountApiRestrictions"),
  binanceusdm: single("GET /sapi/v1/account/apiRestrictions", "sapiGetAccountApiRestrictions"),
  bybit: single("GET /v5/user/query-api", "privateGetV5UserQueryApi"),
  okx: single("GET /api/v5/account/config", "privateGetAccountConfig"),
  kucoin: single("GET /api/v1/user/api-key", "privateGetUserApiKey"),
  coinbase: single("GET /api/v3/brokerage/key_permissions", "v3PrivateGetBrokerageKeyPermissions"),
  kraken: single("POST /0/private/GetApiKeyInfo", "privatePostGetApiKeyInfo"),
  bitget: single("GET /api/v2/spot/account/info", "privateSpotGetV2SpotAccountInfo"),
  bitfinex: single("POST /v2/auth/r/permissions", "privatePostAuthRPermissions"),
  gemini: single("POST /v1/roles", "privatePostV1Roles"),
  bingx: single(
    "GET /openApi/v1/account/apiPermissions",
    "accountV1PrivateGetAccountApiPermissions",
  ),
  htx: {
    endpoints: ["GET /v2/user/uid", "GET /v2/user/api-key"],
    call: async (ex, c) => {
      const uid = (await invoke(ex, "v2PrivateGetUserUid")) as { data?: unknown };
      return invoke(ex, "v2PrivateGetUserApiKey", { uid: String(uid.data), accessKey: c.apiKey });
    },
  },
  gate: single("GET /api/v4/account/main_keys", "privateAccountGetMainKeys"),
  deribit: single("GET /api/v2/private/list_api_keys", "privateGetListApiKeys"),
  cryptocom: {
    ...single(
      "POST /exchange/v1/private/get-withdrawal-history",
      "v1PrivatePostPrivateGetWithdrawalHistory",
    ),
    probe: true,
  },
  mexc: single("GET /api/v3/account", "spotPrivateGetAccount"),
  bitstamp: {
    ...single("POST /api/v2/withdrawal-requests/", "privatePostWithdrawalRequests"),
    probe: true,
  },
  woo: single("GET /v3/account/credentials", "v3PrivateGetAccountCredentials"),
  lbank: single(
    "POST /v2/supplement/api_Restrictions.do",
    "spotPrivatePostSupplementApiRestrictions",
  ),
  // Unsigned: the role of the address the private key signs as.
  hyperliquid: {
    endpoints: ["POST /info"],
    call: (ex, c) =>
      invoke(ex, "publicPostInfo", { type: "userRole", user: evmAddressOf(c.secret) }),
    // The log files a public /info request under the address it asks about: the signer's.
    loggedAs: (c) => evmAddressOf(c.secret),
    unsigned:
      "POST /info (userRole) is public and unsigned: there is no signature, key registration or clock to reject (an unknown signer is role missing, hyperliquid.simulator.test.ts)",
  },
};
