/**
 * Bitfinex v2's key-permission model: rows `[SCOPE, READ, WRITE]`; the model lists what WRITE=1
 * grants per scope (READ=1 on any scope grants read). Re-read against the Key Permissions page,
 * the wallet transfer page, the official Python client (bitfinexcom/bitfinex-api-py: transfer,
 * withdraw and the Bitfinex Pay merchant endpoints) and the support page on internal transfers (a
 * withdrawal to another user's Bitfinex deposit address is an internal transfer, so `withdraw`
 * also moves funds to other users).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const PERMS_URL = "https://docs.bitfinex.com/reference/key-permissions";
const SCOPE_LIST =
  "Api scope, ('account', 'history', 'orders', 'positions', 'funding', 'settings', 'wallets', 'withdraw', 'ui_withdraw', 'bfxpay')";
const PERMS = primary(
  PERMS_URL,
  "Key Permissions — Key permission arrays: SCOPE, READ, WRITE",
  SCOPE_LIST,
);
const WRITE = primary(
  PERMS_URL,
  "Key Permissions — Key permission arrays: [2] WRITE",
  "Write permission (0 - false, 1 - true)",
);
const TRANSFER = primary(
  "https://docs.bitfinex.com/reference/rest-auth-transfer",
  "Transfer Between Wallets (POST /v2/auth/w/transfer)",
  "Transfer funds between wallets.",
);
const INTERNAL = primary(
  "https://support.bitfinex.com/hc/en-us/articles/900001925366-Internal-transfer-within-Bitfinex",
  "Internal transfer within Bitfinex",
  "An internal transfer is a process when funds are deposited or withdrawn from one Bitfinex account to another.",
);
const F = "[SCOPE, _, WRITE=1]";

/** Bitfinex v2. */
export const bitfinexModel: PermissionModel = {
  exchange: "bitfinex",
  status: "confirmed",
  endpoint: "POST /v2/auth/r/permissions",
  values: [
    plain("account", F, ["none"], PERMS, "account settings"),
    plain("history", F, ["none"], PERMS),
    plain("settings", F, ["none"], PERMS),
    plain("orders", F, ["trade"], PERMS),
    plain("positions", F, ["trade"], PERMS),
    plain("funding", F, ["trade"], PERMS, "margin-funding offers: funds stay in the account"),
    {
      value: "wallets",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v2/auth/w/transfer"],
      cite: TRANSFER,
      note: "wallet transfers; the page's request body (email_dst / user_id_dst, as clients send it) can name another user, so it reads as transfer",
    },
    {
      value: "bfxpay",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v2/auth/w/ext/pay/invoice/complete"],
      cite: PERMS,
      note: "Bitfinex Pay merchant endpoints (invoice create/complete, convert settings); listed, not explained: treated as transfer",
    },
    {
      value: "withdraw",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v2/auth/w/withdraw"],
      cite: WRITE,
      note: "on-chain withdrawal; to another user's Bitfinex deposit address it is an internal transfer",
    },
    {
      value: "ui_withdraw",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [],
      cite: PERMS,
      note: "listed, not explained: treated as withdraw",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v2/auth/w/transfer",
      moves: "between wallets and to another Bitfinex user",
      requires: ["wallets"],
      cite: TRANSFER,
    },
    {
      endpoint: "POST /v2/auth/w/withdraw",
      moves: "withdrawal, and to another user's Bitfinex deposit address as an internal transfer",
      requires: ["withdraw"],
      cite: INTERNAL,
    },
  ],
  accountRules: [],
};
