/**
 * BingX's key-permission model. `GET /openApi/v1/account/apiPermissions` ("Query API KEY
 * Permissions", usable by main and sub accounts) returns the calling key's `permissions` as
 * numeric codes from a documented table (1 spot trading, 2 read, 3 professional contract trading,
 * 4 universal transfer, 5 withdraw, 7 intra-sub-account transfer); the official docs
 * (BingX-API/docs-v3, published as bingx-api.github.io/docs-v3) give a verbatim sample. Every
 * fund-moving endpoint names one of 4, 5 or 7 as its key permission (withdrawal and the internal
 * transfer to other users: Withdraw; parent ↔ sub asset transfer: Universal Transfer; sub-account
 * internal transfer: Internal Transfers Between Subaccounts), so a key holding none of them can
 * move no funds. Those per-endpoint permission lines are read from a verbatim third-party copy of
 * the older official pages (the docs-v3 data carries no permission field).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const DOCS =
  "https://bingx-api.github.io/docs-v3/#/en/Account%20and%20Wallet/Sub-account%20Management/%20Query%20API%20KEY%20Permissions";
const CODES = primary(
  DOCS,
  "Query API KEY Permissions — Response: permissions (source: BingX-API/docs-v3, static/js/app.4ba922b42c5d07b46306.js, module KPwr)",
  "Permissions, 1 - Spot trading, 2 - Read, 3 - Professional contract trading, 4 - Universal transfer, 5 - Withdraw, 7 - Allow intra-sub-account transfer",
);
const SAMPLE = primary(
  DOCS,
  "Query API KEY Permissions — responseBody",
  '{apiKey:"",permissions:[1,2],ipAddresses:[],note:"demo"}',
);
const COPY = "https://github.com/rosssaunders/coincise/blob/main/docs/bingx/account_wallet";
const INNER = thirdParty(
  `${COPY}/account_api/main_accoun_internal_transfer.md`,
  "Main Account internal transfer — POST /openApi/wallets/v1/capital/innerTransfer/apply (a verbatim copy of bingx-api.github.io/docs/#/en-us/common/account-api.html)",
  "API KEY permission: Withdraw … Users can transfer money to each other within the bingx platform.",
);
const SUB_INNER = thirdParty(
  `${COPY}/sub_account/sub_account_internal_transfer.md`,
  "Sub-account internal transfer — POST /openApi/wallets/v1/capital/subAccountInnerTransfer/apply (a verbatim copy of bingx-api.github.io/docs/#/en-us/common/sub-account)",
  "API KEY permission: Internal Transfers Between Subaccounts",
);
const PARENT_SUB = thirdParty(
  `${COPY}/sub_account/sub_account_asset_transfer_interface_for_master_account_operations_only.md`,
  "Sub-Account Asset Transfer Interface (For Master Account Operations Only) — POST /openApi/account/transfer/v1/subAccount/transferAsset (a verbatim copy of bingx-api.github.io/docs/#/en-us/common/sub-account)",
  "API KEY permission: Universal Transfer",
);
const OWN_TRANSFER = thirdParty(
  `${COPY}/account_api/asset_transfer_new.md`,
  "Asset Transfer New — POST /openApi/api/asset/v1/transfer (a verbatim copy of the official page)",
  "API KEY permission: Universal Transfer",
);
const WITHDRAW = thirdParty(
  `${COPY}/wallet_api/withdraw.md`,
  "Withdraw — POST /openApi/wallets/v1/capital/withdraw/apply (a verbatim copy of bingx-api.github.io/docs/#/en-us/common/wallet-api.html)",
  "API KEY permission: Withdraw",
);
const BOTH = thirdParty(
  `${COPY}/sub_account/query_user_api_key_permissions.md`,
  "Query user API Key permissions (a verbatim copy of bingx-api.github.io/docs/#/en-us/common/sub-account)",
  "Query the user's APIKEY permissions, which can be used by both main and sub account.",
);
const CONSOLE = primary(
  "https://bingx.com/en-gb/account/api/",
  "API management page, note 5",
  "API keys with withdrawal permissions must be linked to an IP address.",
);
const F = "permissions[]";

/** BingX. */
export const bingxModel: PermissionModel = {
  exchange: "bingx",
  status: "confirmed",
  endpoint: "GET /openApi/v1/account/apiPermissions",
  values: [
    plain("1", F, ["trade"], CODES, "spot trading"),
    plain("2", F, ["read"], CODES, "read"),
    plain("3", F, ["trade"], CODES, "professional (perpetual) contract trading"),
    {
      value: "4",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: [
        "POST /openApi/account/transfer/v1/subAccount/transferAsset",
        "POST /openApi/api/asset/v1/transfer",
      ],
      cite: CODES,
      note: "universal transfer: the parent ↔ sub-account asset transfer needs it",
    },
    {
      value: "5",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "POST /openApi/wallets/v1/capital/withdraw/apply",
        "POST /openApi/wallets/v1/capital/innerTransfer/apply",
      ],
      cite: CODES,
      note: "withdraw: on-chain withdrawal and the internal transfer to other BingX users",
    },
    {
      value: "7",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /openApi/wallets/v1/capital/subAccountInnerTransfer/apply"],
      cite: CODES,
      note: "allow intra-sub-account transfer (sub → sub, sub → main)",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /openApi/wallets/v1/capital/withdraw/apply",
      moves: "on-chain withdrawal",
      requires: ["5"],
      cite: WITHDRAW,
    },
    {
      endpoint: "POST /openApi/wallets/v1/capital/innerTransfer/apply",
      moves: "internal transfer to another BingX user (UID, phone or email), main → sub included",
      requires: ["5"],
      cite: INNER,
    },
    {
      endpoint: "POST /openApi/wallets/v1/capital/subAccountInnerTransfer/apply",
      moves: "sub-account → sub-account and sub-account → main account",
      requires: ["7"],
      cite: SUB_INNER,
    },
    {
      endpoint: "POST /openApi/account/transfer/v1/subAccount/transferAsset",
      moves: "parent ↔ sub-account asset transfer (master account key only)",
      requires: ["4"],
      cite: PARENT_SUB,
    },
    {
      endpoint: "POST /openApi/api/asset/v1/transfer",
      moves:
        "between the key's own fund, spot and futures accounts (funds stay with the user; listed because it shares code 4)",
      requires: ["4"],
      cite: OWN_TRANSFER,
    },
  ],
  accountRules: [
    {
      rule: "The read-back works for main and sub-account keys alike, and every fund-moving path names its own code (4, 5 or 7) for either kind of key: no reading depends on master or sub.",
      cite: BOTH,
    },
    {
      rule: "The documented sample is the bare object; the parser also reads it inside BingX's usual {code: 0, data} envelope and treats any non-zero code as an error.",
      cite: SAMPLE,
    },
    {
      rule: "A withdraw-enabled key must be bound to an IP address.",
      cite: CONSOLE,
    },
  ],
  notes: [
    "A code the table does not list (6 is missing; the console also offers sub-account management) is an UNKNOWN_TOKEN, so withdraw and transfer become unknown.",
    "Raised from unconfirmed in 2026-12 on the official docs' own sample and code table.",
  ],
};
