/**
 * HTX's key-permission model. `/v2/user/api-key` lists `readOnly`, `trade`, `withdraw`; a Trade key
 * can move funds between parent and sub-accounts (`POST /v1/subuser/transfer`, "API Key
 * Permission: Trade"), and the response does not say whether the key is a parent's.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const QUERY = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#query-api-key-information",
  "Query API key information — Response: permission",
);
const SUBTRANSFER = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#transfer-asset-between-parent-and-sub-account",
  "Transfer Asset between Parent and Sub Account — “API Key Permission：Trade”",
);
const WITHDRAW = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#create-a-withdraw-request",
  "Create a Withdraw Request — API Key Permission: Withdraw",
);

/** HTX (Huobi). */
export const htxModel: PermissionModel = {
  exchange: "htx",
  status: "confirmed",
  endpoint: "GET /v2/user/api-key",
  values: [
    plain("readOnly", "data[].permission", ["read"], QUERY),
    {
      value: "trade",
      field: "data[].permission",
      grants: ["trade", "transfer"],
      fundMovingEndpoints: ["POST /v1/subuser/transfer", "POST /v1/account/transfer"],
      cite: SUBTRANSFER,
      note: "the parent's Trade key moves funds to and from sub-accounts; the response does not say parent or sub, so transfer",
    },
    {
      value: "withdraw",
      field: "data[].permission",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v1/dw/withdraw/api/create"],
      cite: WITHDRAW,
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v1/subuser/transfer",
      moves: "parent ↔ sub-account",
      requires: ["trade"],
      cite: SUBTRANSFER,
    },
    {
      endpoint: "POST /v1/dw/withdraw/api/create",
      moves: "on-chain withdrawal",
      requires: ["withdraw"],
      cite: WITHDRAW,
    },
  ],
  accountRules: [
    {
      rule: "The key query is limited to parent users (2020 announcement); sub-user keys may be refused.",
      cite: thirdParty(
        "https://www.huobi.com/support/en-us/detail/900001195006/",
        "API key query announcement",
      ),
    },
  ],
};
