/**
 * Coinbase Advanced Trade's key-permission model (CDP keys).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const PERMS = primary(
  "https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/data-api/get-api-key-permissions",
  "Get API Key Permissions — GetApiKeyPermissionsResponse: can_view, can_trade, can_transfer",
);

/** Coinbase Advanced Trade. */
export const coinbaseModel: PermissionModel = {
  exchange: "coinbase",
  status: "confirmed",
  endpoint: "GET /api/v3/brokerage/key_permissions",
  values: [
    plain("can_view", "can_view", ["read"], PERMS),
    plain("can_trade", "can_trade", ["trade"], PERMS),
    {
      value: "can_transfer",
      field: "can_transfer",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "POST /v2/accounts/:account_id/transactions",
        "POST /api/v3/brokerage/portfolios/move_funds",
      ],
      cite: PERMS,
      note: "sends off Coinbase and moves between portfolios",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v2/accounts/:account_id/transactions",
      moves: "send crypto (on-chain or to an email)",
      requires: ["can_transfer"],
      cite: PERMS,
    },
    {
      endpoint: "POST /api/v3/brokerage/portfolios/move_funds",
      moves: "between portfolios",
      requires: ["can_transfer"],
      cite: primary(
        "https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/portfolios/move-portfolio-funds",
        "Move Portfolio Funds",
      ),
    },
  ],
  accountRules: [
    { rule: "portfolio_type / portfolio_uuid scope the key to one portfolio.", cite: PERMS },
  ],
};
