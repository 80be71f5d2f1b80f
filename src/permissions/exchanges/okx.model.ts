/**
 * OKX v5's key-permission model. OKX has three privileges; `trade` alone moves funds: "Funds
 * transfer" (`POST /api/v5/asset/transfer`) needs only Trade, lets a master key push to its
 * sub-accounts and a sub-account key transfer out to its master by default.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const CONFIG_URL =
  "https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration";
const CONFIG = primary(
  CONFIG_URL,
  "Get account configuration — Response parameters: perm",
  "perm String The permission of the current requesting API key or Access token read_only: Read trade: Trade withdraw: Withdraw",
);
const TRANSFER = primary(
  "https://www.okx.com/docs-v5/en/#funding-account-rest-api-funds-transfer",
  "Funding account — Funds transfer (POST /api/v5/asset/transfer)",
  "Only API keys with Trade privilege can call this endpoint. This endpoint supports the transfer of funds between your funding account and trading account, and from the master account to sub-accounts. Sub-account can transfer out to master account by default.",
);
const SUB_TRANSFER = primary(
  "https://www.okx.com/docs-v5/en/#sub-account-rest-api-master-accounts-manage-the-transfers-between-sub-accounts",
  "Sub-account — Master accounts manage the transfers between sub-accounts (POST /api/v5/asset/subaccount/transfer)",
  "Applies to master accounts only. Only API keys with Trade privilege can call this endpoint.",
);
const TRANSFER_OUT = primary(
  "https://www.okx.com/docs-v5/en/#sub-account-rest-api-set-permission-of-transfer-out",
  "Sub-account — Set permission of transfer out (POST /api/v5/users/subaccount/set-transfer-out)",
  "Set permission of transfer out for sub-account (only applicable to master account API key). Sub-account can transfer out to master account by default. … Permission: Trade",
);
const WITHDRAW = primary(
  "https://www.okx.com/docs-v5/en/#funding-account-rest-api-withdrawal",
  "Funding account — Withdrawal (POST /api/v5/asset/withdrawal)",
  "Only supported withdrawal of assets from funding account. Common sub-account does not support withdrawal.",
);

/** OKX v5. */
export const okxModel: PermissionModel = {
  exchange: "okx",
  status: "confirmed",
  endpoint: "GET /api/v5/account/config",
  values: [
    plain("read_only", "data[0].perm", ["read"], CONFIG),
    {
      value: "trade",
      field: "data[0].perm",
      grants: ["trade", "transfer"],
      fundMovingEndpoints: [
        "POST /api/v5/asset/transfer",
        "POST /api/v5/asset/subaccount/transfer",
        "POST /api/v5/users/subaccount/set-transfer-out",
      ],
      cite: TRANSFER,
      note: "master key: push to sub-accounts; sub-account key: transfer out to master by default — transfer either way",
    },
    {
      value: "withdraw",
      field: "data[0].perm",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v5/asset/withdrawal"],
      cite: WITHDRAW,
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /api/v5/asset/transfer",
      moves: "master → sub-account; sub-account → master (default); sub → sub once allowed",
      requires: ["trade"],
      cite: TRANSFER,
    },
    {
      endpoint: "POST /api/v5/asset/subaccount/transfer",
      moves: "sub-account → sub-account, driven by the master key",
      requires: ["trade"],
      cite: SUB_TRANSFER,
    },
    {
      endpoint: "POST /api/v5/users/subaccount/set-transfer-out",
      moves: "no funds itself: lets sub-accounts transfer to other sub-accounts",
      requires: ["trade"],
      cite: TRANSFER_OUT,
    },
    {
      endpoint: "POST /api/v5/asset/withdrawal",
      moves: "on-chain and internal (to another OKX user) withdrawal",
      requires: ["withdraw"],
      cite: WITHDRAW,
    },
  ],
  accountRules: [
    {
      rule: "Account type is readable: uid == mainUid means a master account key. It does not change the verdict: a Trade key can move funds on both.",
      cite: primary(
        CONFIG_URL,
        "Response parameters: uid, mainUid",
        "mainUid String Main Account ID of current request. The current request account is main account if uid = mainUid. The current request account is sub-account if uid != mainUid.",
      ),
    },
  ],
};
