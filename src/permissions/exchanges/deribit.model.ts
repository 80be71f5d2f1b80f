/**
 * Deribit's scope model: UNSUPPORTED (no safe call returns the key's scope).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const F = "result.scope";
/** The API v2 reference's scope table (its text read from a stored copy of that page). */
const scope = (quote: string) =>
  primary(
    "https://docs.deribit.com/v2/#access-scope",
    "Access scope — scope table (API v2 reference)",
    quote,
  );
const WITHDRAW = primary(
  "https://docs.deribit.com/api-reference/wallet/private-withdraw",
  "private/withdraw — Scope",
  "Scope: wallet:read_write and mainaccount",
);
const TO_USER = primary(
  "https://docs.deribit.com/api-reference/wallet/private-submit_transfer_to_user",
  "private/submit_transfer_to_user — Scope: wallet:read_write and mainaccount",
  "This method allows you to send funds from your main account to another Deribit user's account.",
);

/** Deribit (unsupported: no call is made). */
export const deribitModel: PermissionModel = {
  exchange: "deribit",
  status: "unsupported",
  endpoint: null,
  values: [
    plain("account:read", F, ["read"], scope("Access to account methods - read only data.")),
    plain(
      "account:read_write",
      F,
      ["unknown"],
      scope("Access to account methods - allows to manage account settings, add subaccounts, etc."),
      "includes sub-account management",
    ),
    plain("trade:read", F, ["read"], scope("Access to trade methods - read only data.")),
    plain(
      "trade:read_write",
      F,
      ["trade"],
      scope("Access to trade methods - required to create and modify orders."),
    ),
    plain(
      "block_trade:read",
      F,
      ["read"],
      scope("Access to block_trade methods - reading info about block trades - read only data."),
    ),
    plain(
      "block_trade:read_write",
      F,
      ["trade"],
      scope("Access to block_trade methods - required to create block trades."),
    ),
    plain("wallet:read", F, ["read"], scope("Access to wallet methods - read only data.")),
    {
      value: "wallet:read_write",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "private/withdraw",
        "private/submit_transfer_to_user",
        "private/submit_transfer_to_subaccount",
      ],
      cite: scope(
        "Access to wallet methods - allows to withdraw, generate new deposit address, etc.",
      ),
    },
  ],
  transferPaths: [
    {
      endpoint: "private/withdraw",
      moves: "withdrawal to an address-book address",
      requires: ["wallet:read_write"],
      cite: WITHDRAW,
    },
    {
      endpoint: "private/submit_transfer_to_user",
      moves: "to another Deribit user",
      requires: ["wallet:read_write"],
      cite: TO_USER,
    },
  ],
  accountRules: [
    {
      rule: "private/list_api_keys returns every key's client_secret: never called.",
      cite: primary(
        "https://docs.deribit.com/api-reference/account-management/private-list_api_keys",
        "private/list_api_keys — Response example",
      ),
    },
  ],
  notes: [
    "The scope quotes are from the API v2 reference's scope table (https://docs.deribit.com/v2/#access-scope), read from a stored copy of that page.",
  ],
};
