/**
 * HTX's key-permission model. `/v2/user/api-key` lists `readOnly`, `trade`, `withdraw`; a Trade key
 * can move funds between parent and sub-accounts (`POST /v1/subuser/transfer`, "API Key
 * Permission: Trade"), and the response does not say whether the key is a parent's.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const QUERY = thirdParty(
  "https://github.com/rosssaunders/coincise/blob/main/docs/htx/endpoints/private/get_api_key_query.md",
  "API key query — Response Example (a verbatim copy of htx.com/en-us/opend/newApiPages/?id=7ec52c92-7773-11ed-9966-0242ac110003; huobiapi.github.io/docs/spot/v1/en/#query-api-key-information has the same section)",
  '"permission": "readOnly,trade,withdraw"',
);
const SUBKEY = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#sub-user-api-key-creation",
  "Sub user API key creation — permission",
  "Valid value: readOnly, trade; … readOnly is required permission for any API key, while trade permission is optional.",
);
const SUBTRANSFER = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#transfer-asset-between-parent-and-sub-account",
  "Transfer Asset between Parent and Sub Account — “API Key Permission：Trade”",
  "API Key Permission：Trade This endpoint allows user to transfer asset between parent and sub account.",
);
const POINT = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#point-transfer",
  "Point Transfer — “API Key Permission：Trade”, “Callable by sub user”",
  "parent user should be able to transfer points between parent user and sub user, sub user should be able to transfer point to parent user",
);
const SWAP_SUB = thirdParty(
  "https://github.com/rosssaunders/coincise/blob/main/docs/htx/endpoints/private/get_general_transfer_between_master_and_sub_account.md",
  "[General] Transfer between master and sub account (/linear-swap-api/v1/swap_master_sub_transfer), a verbatim copy of htx.com/en-us/opend/newApiPages/?id=8cb83b3e-77b5-11ed-9966-0242ac110003",
  "Interface permission: Trade",
);
const WITHDRAW = primary(
  "https://huobiapi.github.io/docs/spot/v1/en/#create-a-withdraw-request",
  "Create a Withdraw Request — API Key Permission: Withdraw",
  "API Key Permission：Withdraw",
);

/** HTX (Huobi). */
export const htxModel: PermissionModel = {
  exchange: "htx",
  status: "confirmed",
  endpoint: "GET /v2/user/api-key",
  values: [
    plain("readOnly", "data[].permission", ["read"], SUBKEY, "required on every key"),
    {
      value: "trade",
      field: "data[].permission",
      grants: ["trade", "transfer"],
      fundMovingEndpoints: [
        "POST /v1/subuser/transfer",
        "POST /v1/account/transfer",
        "POST /v2/point/transfer",
        "POST /linear-swap-api/v1/swap_master_sub_transfer",
      ],
      cite: SUBTRANSFER,
      note: "the parent's Trade key moves funds to and from sub-accounts, and a sub user's Trade key moves point-card balance to its parent; the response does not say parent or sub, so transfer",
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
      endpoint: "POST /v2/point/transfer",
      moves: "point-card balance parent ↔ sub user, and sub user → parent",
      requires: ["trade"],
      cite: POINT,
    },
    {
      endpoint: "POST /linear-swap-api/v1/swap_master_sub_transfer",
      moves: "USDT-margined futures margin master ↔ sub-account",
      requires: ["trade"],
      cite: SWAP_SUB,
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
      rule: "data[].permission is one comma-separated string per key; the parser splits it and reads only the row whose accessKey is the key under test.",
      cite: QUERY,
    },
    {
      rule: "The key query is for parent users (their own keys and their sub users' keys); a sub user's key may be refused, which the parser reports as a finding, never as accepted.",
      cite: thirdParty(
        "https://github.com/rosssaunders/coincise/blob/main/docs/htx/endpoints/private/get_api_key_query.md",
        "API key query — Interface description (a verbatim copy of htx.com/en-us/opend/newApiPages/?id=7ec52c92-7773-11ed-9966-0242ac110003)",
        "This endpoint is used by the parent user to query their own API key information, and the parent user to query their sub user's API key information.",
      ),
    },
    {
      rule: "Introduced with the sub-user key endpoints in June 2020.",
      cite: primary(
        "https://www.huobi.com/support/en-us/detail/900001195006/",
        "HTX Will Introduce The API Key Management Endpoints (announcement on the exchange's support site)",
        'Parent user and sub user API key information query "GET /v2/user/api-key"',
      ),
    },
  ],
  notes: [
    "Re-read 2026-12 against huobiapi.github.io (the official docs repository huobiapi/docs): Trade unlocks parent ↔ sub and point transfers; only Withdraw unlocks on-chain withdrawal.",
  ],
};
