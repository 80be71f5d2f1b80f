/**
 * WOO X's key-permission model (API v3). `GET /v3/account/credentials` lists the account's keys,
 * each with `permissions` drawn from `READ`, `TRADE`, `WITHDRAWAL` and `allowedIPs` (absent when
 * the key has no IP restriction). The docs do not say which permission the main ↔ sub-account
 * transfer (`POST /v3/asset/transfer`) requires, so a `TRADE` key's transfer capability stays
 * unknown (fail closed).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const CREDENTIALS = primary(
  "https://developer.woox.io/api-reference/endpoint/account/credentials",
  'Get account api key permission — Response example: data.rows[].permissions ["READ", "TRADE", "WITHDRAWAL"], allowedIPs (“hide field if no ip restriction”)',
  '"permissions": [ "READ", "TRADE", "WITHDRAWAL" ], "allowedIPs": ["123.0.0.1", "124.2.1.1"] // hide field if no ip restriction',
);
const CREDENTIALS_SCOPE = primary(
  "https://developer.woox.io/api-reference/endpoint/account/credentials",
  "Get account api key permission — description",
  "Get api_key list and its permissions of the account. The response will contain your API keys’ permissions based on the credentials.",
);
const CCXT_ROUTES = thirdParty(
  "https://github.com/ccxt/ccxt/blob/master/ts/src/woo.ts",
  "describe().api: v1 private post asset/internal_withdraw, v3 private post asset/transfer and asset/wallet/withdraw",
  "'asset/internal_withdraw'",
);
const TRANSFER_HISTORY = primary(
  "https://developer.woox.io/api-reference/endpoint/assets/get_transfer_history",
  "Get Transfer History — rows[].from / rows[].to: transfers between the Main account and sub-accounts (sub001)",
  '"from": { "applicationId": "046b5c5c-5b44-4d27-9593-ddc32c0a08ae", "accountName": "Main" }, "to": { "applicationId": "082ae5ae-e26a-4fb1-be5b-03e5b4867663", "accountName": "sub001" }',
);

/** WOO X (API v3). */
export const wooModel: PermissionModel = {
  exchange: "woo",
  status: "confirmed",
  endpoint: "GET /v3/account/credentials",
  values: [
    plain("READ", "data.rows[].permissions", ["read"], CREDENTIALS),
    {
      value: "TRADE",
      field: "data.rows[].permissions",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: CREDENTIALS,
      note: "order placement; the permission POST /v3/asset/transfer needs is not documented, so the parser reads transfer as unknown for every TRADE key",
    },
    {
      value: "WITHDRAWAL",
      field: "data.rows[].permissions",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v3/asset/wallet/withdraw", "POST /v1/asset/internal_withdraw"],
      cite: CREDENTIALS,
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v1/asset/internal_withdraw",
      moves:
        "internal withdrawal to another WOO X account (route known from ccxt; its permission is not documented in the v3 reference, read as WITHDRAWAL)",
      requires: ["WITHDRAWAL"],
      cite: CCXT_ROUTES,
    },
    {
      endpoint: "POST /v3/asset/wallet/withdraw",
      moves: "on-chain withdrawal",
      requires: ["WITHDRAWAL"],
      cite: CREDENTIALS,
    },
    {
      endpoint: "POST /v3/asset/transfer",
      moves: "Main account ↔ sub-account transfer (history shows Main → sub001)",
      requires: [],
      cite: TRANSFER_HISTORY,
    },
  ],
  accountRules: [
    {
      rule: "The endpoint lists every key of the account: the parser reads only the row whose apiKey equals the key under test, and fails closed when it is not on the page.",
      cite: CREDENTIALS_SCOPE,
    },
    {
      rule: 'Transfer requirement undocumented: POST /v3/asset/transfer names no permission, so TRADE yields transfer "unknown" (never false).',
      cite: TRANSFER_HISTORY,
    },
  ],
  notes: [
    "Re-read 2026-12: the v3 reference still documents exactly READ, TRADE and WITHDRAWAL, and still names no permission for POST /v3/asset/transfer.",
    'The doc sample masks apiKey ("+Pxxxxxxxxxxxxxxxxxxxx=="); if the live answer masks it too, no row matches and the key is refused (unconfirmed in practice).',
  ],
};
