/**
 * BingX's key-permission model: numeric codes, UNCONFIRMED (only a third-party SDK model).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, thirdParty } from "./model.js";

const SDK = thirdParty(
  "https://bingx-api.github.io/docs/#/en-us/common/sub-account",
  "API permission codes as modelled by the bingx_py SDK",
);
const F = "data.permissions[]";

/** BingX (unconfirmed: may only reject or report unknown). */
export const bingxModel: PermissionModel = {
  exchange: "bingx",
  status: "unconfirmed",
  endpoint: "GET /openApi/v1/account/apiPermissions",
  values: [
    plain("1", F, ["trade"], SDK, "spot trading"),
    plain("2", F, ["read"], SDK, "read"),
    plain("3", F, ["trade"], SDK, "perpetual futures trading"),
    {
      value: "4",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /openApi/api/v3/post/asset/transfer"],
      cite: SDK,
      note: "universal transfer",
    },
    {
      value: "5",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /openApi/wallets/v1/capital/withdraw/apply"],
      cite: SDK,
      note: "withdraw",
    },
    {
      value: "7",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /openApi/wallets/v1/capital/subAccountInnerTransfer/apply"],
      cite: SDK,
      note: "sub-account transfer",
    },
  ],
  transferPaths: [],
  accountRules: [],
  notes: [
    "Absence of 4/5/7 leaves withdraw and transfer unknown: a BingX key is never accepted until a documented sample backs the codes.",
  ],
};
