/**
 * Binance's key-permission model, from "Query API Key Permission (USER_DATA)" (spot and USDⓈ-M
 * futures share keys and this endpoint).
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary } from "./model.js";

const DOC = "https://developers.binance.com/docs/wallet/account/api-key-permission";
const SAMPLE = "Query API Key Permission (USER_DATA) — Response Example (field comments)";
const flag = primary(DOC, SAMPLE);

/** Binance (spot and USDⓈ-M futures). */
export const binanceModel: PermissionModel = {
  exchange: "binance",
  status: "confirmed",
  endpoint: "GET /sapi/v1/account/apiRestrictions",
  values: [
    {
      value: "enableReading",
      field: "enableReading",
      grants: ["read"],
      fundMovingEndpoints: [],
      cite: flag,
    },
    {
      value: "enableFixReadOnly",
      field: "enableFixReadOnly",
      grants: ["read"],
      fundMovingEndpoints: [],
      cite: flag,
      note: "FIX API read permission",
    },
    {
      value: "enableSpotAndMarginTrading",
      field: "enableSpotAndMarginTrading",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag,
    },
    {
      value: "enableMargin",
      field: "enableMargin",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag,
      note: "editable only after a cross-margin transfer",
    },
    {
      value: "enableFutures",
      field: "enableFutures",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag,
    },
    {
      value: "enablePortfolioMarginTrading",
      field: "enablePortfolioMarginTrading",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag,
    },
    {
      value: "enableVanillaOptions",
      field: "enableVanillaOptions",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag,
    },
    {
      value: "enableFixApiTrade",
      field: "enableFixApiTrade",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag,
    },
    {
      value: "enableWithdrawals",
      field: "enableWithdrawals",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /sapi/v1/capital/withdraw/apply"],
      cite: flag,
      note: "“This option allows you to withdraw via API”; needs an IP restriction",
    },
    {
      value: "enableInternalTransfer",
      field: "enableInternalTransfer",
      grants: ["transfer"],
      fundMovingEndpoints: [
        "POST /sapi/v1/sub-account/universalTransfer",
        "POST /sapi/v1/sub-account/transfer/subToMaster",
        "POST /sapi/v1/sub-account/transfer/subToSub",
      ],
      cite: flag,
      note: "“authorizes this key to transfer funds between your master account and your sub account instantly”",
    },
    {
      value: "permitsUniversalTransfer",
      field: "permitsUniversalTransfer",
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /sapi/v1/asset/transfer"],
      cite: flag,
      note: "universal transfer between the user's wallets; counted as transfer (conservative)",
    },
    {
      value: "ipRestrict",
      field: "ipRestrict",
      grants: ["none"],
      fundMovingEndpoints: [],
      cite: flag,
      note: "IP allow-list flag, not a permission",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /sapi/v1/capital/withdraw/apply",
      moves: "on-chain withdrawal",
      requires: ["enableWithdrawals"],
      cite: primary(
        "https://developers.binance.com/docs/wallet/capital/withdraw",
        "Withdraw (USER_DATA)",
      ),
    },
    {
      endpoint: "POST /sapi/v1/sub-account/universalTransfer",
      moves: "master ↔ sub-account, sub ↔ sub",
      requires: ["enableInternalTransfer"],
      cite: primary(
        "https://developers.binance.com/docs/sub_account/asset-management/Universal-Transfer",
        "Universal Transfer (For Master Account)",
      ),
    },
    {
      endpoint: "POST /sapi/v1/sub-account/transfer/subToMaster",
      moves: "sub-account → master",
      requires: ["enableInternalTransfer"],
      cite: primary(
        "https://developers.binance.com/docs/sub_account/asset-management/Transfer-to-Master",
        "Transfer to Master (For Sub-account)",
      ),
    },
    {
      endpoint: "POST /sapi/v1/asset/transfer",
      moves: "between the user's own wallets",
      requires: ["permitsUniversalTransfer"],
      cite: primary(
        "https://developers.binance.com/docs/wallet/asset/user-universal-transfer",
        "User Universal Transfer (USER_DATA)",
      ),
    },
  ],
  accountRules: [
    { rule: "Withdrawals can only be enabled on a key with an IP restriction.", cite: flag },
  ],
  notes: [
    "A boolean field the model does not list that is true is an UNKNOWN_TOKEN (fail closed).",
  ],
};
