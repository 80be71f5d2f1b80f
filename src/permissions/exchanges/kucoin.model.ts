/**
 * KuCoin's key-permission model: `permission` is a comma list of the API-permission names of the
 * docs' introduction; older keys also report `InnerTransfer` and `Transfer`.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const INTRO = primary(
  "https://www.kucoin.com/docs-new/introduction",
  "Document Structure — 3. api-permission",
);
const INFO = primary(
  "https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info",
  "Get Apikey Info — Response: permission",
);
const SUPPORT = primary(
  "https://www.kucoin.com/support/900006465403",
  "API permissions: “Transfer – Allows a key to transfer funds (including deposit and withdrawal)”",
);
const FIELD = "data.permission";

/** KuCoin. */
export const kucoinModel: PermissionModel = {
  exchange: "kucoin",
  status: "confirmed",
  endpoint: "GET /api/v1/user/api-key",
  values: [
    plain("General", FIELD, ["read"], INTRO, "read-only: queries, no orders, no withdrawals"),
    plain("Spot", FIELD, ["trade"], INTRO),
    plain("Margin", FIELD, ["trade"], INTRO),
    plain("Futures", FIELD, ["trade"], INTRO),
    plain("Unified", FIELD, ["trade"], INTRO, "trade spot and derivatives from one account"),
    plain(
      "Earn",
      FIELD,
      ["none"],
      INTRO,
      "subscribe to / redeem Earn products: funds stay with the owner",
    ),
    {
      value: "Withdrawal",
      field: FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v3/withdrawals"],
      cite: INTRO,
    },
    {
      value: "Transfer",
      field: FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v3/withdrawals"],
      cite: SUPPORT,
      note: "the older name of Withdrawal",
    },
    {
      value: "FlexTransfers",
      field: FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /api/v3/accounts/universal-transfer"],
      cite: INTRO,
      note: "transfers across the supported types, including PARENT_TO_SUB and SUB_TO_PARENT",
    },
    {
      value: "InnerTransfer",
      field: FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /api/v2/accounts/sub-transfer"],
      cite: INFO,
      note: "listed in the response sample, not explained beyond its name: treated as master ↔ sub transfer",
    },
    {
      value: "LeadtradeFutures",
      field: FIELD,
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: INTRO,
      note: "lead-trader copy trading; whether it moves funds (e.g. profit sharing, lead account transfers) is not said: unknown",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /api/v3/withdrawals",
      moves: "on-chain and internal withdrawal",
      requires: ["Withdrawal", "Transfer"],
      cite: INTRO,
    },
    {
      endpoint: "POST /api/v3/accounts/universal-transfer",
      moves: "internal, parent → sub, sub → parent",
      requires: ["FlexTransfers"],
      cite: INTRO,
    },
    {
      endpoint: "POST /api/v2/accounts/sub-transfer",
      moves: "master ↔ sub-account",
      requires: ["InnerTransfer"],
      cite: INFO,
    },
  ],
  accountRules: [
    { rule: "Withdrawal and FlexTransfers require an IP restriction.", cite: INTRO },
    { rule: "isMaster in the response says whether the key is a master account's.", cite: INFO },
  ],
};
