/**
 * Coinbase Advanced Trade's key-permission model (CDP keys), re-read against the key-permissions
 * schema, the Advanced Trade scope page (a CDP key holds `view`, `trade` or `transfer`), the
 * Coinbase App send and fiat-withdrawal pages (both `transfer`) and the portfolio pages.
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary } from "./model.js";

const PERMS_URL =
  "https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/data-api/get-api-key-permissions";
const PERMS_SECTION =
  "Get API Key Permissions — GetApiKeyPermissionsResponse: can_view, can_trade, can_transfer";
const SCOPES = primary(
  "https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/rest-scopes",
  "Advanced Trade Scope & Permissions",
  "A CDP API key needs `view`, `trade`, or `transfer`.",
);
const PERMS = primary(
  PERMS_URL,
  PERMS_SECTION,
  "Get information about your CDP API key permissions",
);
const SEND = primary(
  "https://docs.cdp.coinbase.com/coinbase-business/transfer-apis/send-crypto",
  "Send Crypto — Send Money (POST /v2/accounts/:account_id/transactions)",
  "Send funds to a network address for any",
);
const WITHDRAW_FIAT = primary(
  "https://docs.cdp.coinbase.com/coinbase-app/transfer-apis/withdraw-fiat",
  "Fiat Withdrawals — Table of Endpoints (Withdraw Funds: CDP API Key Scope)",
  "The Withdrawal resource represents a withdrawal of funds using a payment method (e.g., a bank).",
);
const MOVE_FUNDS = primary(
  "https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/portfolios/move-portfolios-funds",
  "Move Portfolio Funds (POST /api/v3/brokerage/portfolios/move_funds)",
  "Move funds between portfolios.",
);
const PORTFOLIOS = primary(
  "https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/guides/portfolios",
  "Portfolios — API Keys",
  "Each API key is scoped to specific portfolio and, unless otherwise noted, can only view and create data that belongs to its own portfolio.",
);

/** Coinbase Advanced Trade. */
export const coinbaseModel: PermissionModel = {
  exchange: "coinbase",
  status: "confirmed",
  endpoint: "GET /api/v3/brokerage/key_permissions",
  values: [
    {
      value: "can_view",
      field: "can_view",
      grants: ["read"],
      fundMovingEndpoints: [],
      cite: SCOPES,
      note: "the `view` scope: GET endpoints (accounts, orders, withdrawals listed)",
    },
    {
      value: "can_trade",
      field: "can_trade",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: SCOPES,
      note: "the `trade` scope: orders, converts; the Coinbase App send and fiat-withdrawal pages ask `transfer`, not `trade`",
    },
    {
      value: "can_transfer",
      field: "can_transfer",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "POST /v2/accounts/:account_id/transactions",
        "POST /v2/accounts/:account_id/withdrawals",
        "POST /api/v3/brokerage/portfolios/move_funds",
      ],
      cite: PERMS,
      note: "the `transfer` scope: sends off Coinbase (on-chain or to an email), fiat withdrawals to a bank, moves between portfolios",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v2/accounts/:account_id/transactions",
      moves: "send crypto to a network address or to another Coinbase user's email",
      requires: ["can_transfer"],
      cite: SEND,
    },
    {
      endpoint: "POST /v2/accounts/:account_id/withdrawals",
      moves: "fiat withdrawal to a linked payment method (bank)",
      requires: ["can_transfer"],
      cite: WITHDRAW_FIAT,
    },
    {
      endpoint: "POST /api/v3/brokerage/portfolios/move_funds",
      moves: "between the user's portfolios",
      requires: ["can_transfer"],
      cite: MOVE_FUNDS,
    },
  ],
  accountRules: [
    { rule: "portfolio_type / portfolio_uuid scope the key to one portfolio.", cite: PORTFOLIOS },
  ],
};
