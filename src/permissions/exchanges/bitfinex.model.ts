/**
 * Bitfinex v2's key-permission model: rows `[SCOPE, READ, WRITE]`; the model lists what WRITE=1
 * grants per scope (READ=1 on any scope grants read).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const PERMS = primary(
  "https://docs.bitfinex.com/reference/key-permissions",
  "Key Permissions — Key permission arrays: SCOPE, READ, WRITE",
);
const TRANSFER = primary(
  "https://docs.bitfinex.com/reference/rest-auth-transfer",
  "Transfer Between Wallets — email_dst: transfer to another Bitfinex account",
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
      note: "wallet transfers can go to another user (email_dst)",
    },
    {
      value: "bfxpay",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: [],
      cite: PERMS,
      note: "Bitfinex Pay: payments to merchants",
    },
    {
      value: "withdraw",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v2/auth/w/withdraw"],
      cite: primary("https://docs.bitfinex.com/reference/rest-auth-withdraw", "Withdrawal"),
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
      moves: "withdrawal",
      requires: ["withdraw"],
      cite: PERMS,
    },
  ],
  accountRules: [],
};
