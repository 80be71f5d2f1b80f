/**
 * OKX v5's key-permission model. OKX has three privileges; `trade` alone moves funds: "Funds
 * transfer" (`POST /api/v5/asset/transfer`) needs only Trade, lets a master key push to its
 * sub-accounts and a sub-account key transfer out to its master by default.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const CONFIG = primary(
  "https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration",
  "Get account configuration — Response parameters: perm",
);
const TRANSFER = primary(
  "https://www.okx.com/docs-v5/en/#funding-account-rest-api-funds-transfer",
  "Funds transfer: “Only API keys with Trade privilege can call this endpoint … from the master account to sub-accounts. Sub-account can transfer out to master account by default.”",
);
const WITHDRAW = primary(
  "https://www.okx.com/docs-v5/en/#funding-account-rest-api-withdrawal",
  "Withdrawal — Permission: Withdraw",
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
        "https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration",
        "Response parameters: uid, mainUid",
      ),
    },
  ],
};
