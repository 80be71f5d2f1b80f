/**
 * Kraken's key-permission model. `GetApiKeyInfo` returns permission strings; only the strings of
 * the documented sample are known — every other string is an UNKNOWN_TOKEN.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const INFO = primary(
  "https://docs.kraken.com/api-reference/account-data/get-api-key-info",
  "Get API Key Info — Response sample: permissions",
);
const GUIDE = primary(
  "https://docs.kraken.com/exchange/guides/rest/api-keys",
  "API key permissions — Permission descriptions",
);
const ACCT = primary(
  "https://docs.kraken.com/api-reference/subaccounts/account-transfer",
  "Account Transfer — “API Key Permissions Required: Funds permissions - Withdraw”",
);
const F = "result.permissions";

/** Kraken. */
export const krakenModel: PermissionModel = {
  exchange: "kraken",
  status: "confirmed",
  endpoint: "POST /0/private/GetApiKeyInfo",
  values: [
    plain("query-funds", F, ["read"], INFO, "Query Funds: Balance, BalanceEx, TradeBalance"),
    plain("query-open-trades", F, ["read"], INFO, "Query Open Orders & Trades"),
    plain("modify-trades", F, ["trade"], INFO, "Create & Modify Orders"),
    {
      value: "withdraw-funds",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "POST /0/private/Withdraw",
        "POST /0/private/WalletTransfer",
        "POST /0/private/AccountTransfer",
      ],
      cite: INFO,
      note: "Withdraw Funds: withdrawals and master ↔ sub-account transfers",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /0/private/Withdraw",
      moves: "withdrawal",
      requires: ["withdraw-funds"],
      cite: primary(
        "https://docs.kraken.com/api-reference/funding/withdraw-funds",
        "Withdraw Funds — API Key Permissions Required: Funds permissions - Withdraw",
      ),
    },
    {
      endpoint: "POST /0/private/AccountTransfer",
      moves: "master ↔ sub-account (master key)",
      requires: ["withdraw-funds"],
      cite: ACCT,
    },
  ],
  accountRules: [
    {
      rule: "Kraken's UI names (Query Funds, Withdraw Funds, …) are not the response strings; only sampled strings are mapped.",
      cite: GUIDE,
    },
  ],
  notes: [
    "Strings for Deposit Funds, Query Closed Orders & Trades, Cancel/Close Orders, Query Ledger Entries, Export Data, WebSocket token are not documented as response strings: UNKNOWN_TOKEN (fail closed).",
  ],
};
