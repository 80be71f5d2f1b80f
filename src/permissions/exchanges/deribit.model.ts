/**
 * Deribit's scope model: UNSUPPORTED (no safe call returns the key's scope).
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const SCOPE = primary("https://docs.deribit.com/articles/access-scope", "Access Scope");
const F = "result.scope";

/** Deribit (unsupported: no call is made). */
export const deribitModel: PermissionModel = {
  exchange: "deribit",
  status: "unsupported",
  endpoint: null,
  values: [
    plain("account:read", F, ["read"], SCOPE),
    plain("account:read_write", F, ["unknown"], SCOPE, "includes sub-account management"),
    plain("trade:read", F, ["read"], SCOPE),
    plain("trade:read_write", F, ["trade"], SCOPE),
    plain("block_trade:read", F, ["read"], SCOPE),
    plain("block_trade:read_write", F, ["trade"], SCOPE),
    plain("wallet:read", F, ["read"], SCOPE),
    {
      value: "wallet:read_write",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "private/withdraw",
        "private/submit_transfer_to_user",
        "private/submit_transfer_to_subaccount",
      ],
      cite: SCOPE,
    },
  ],
  transferPaths: [
    {
      endpoint: "private/submit_transfer_to_user",
      moves: "to another Deribit user",
      requires: ["wallet:read_write"],
      cite: SCOPE,
    },
  ],
  accountRules: [
    {
      rule: "private/list_api_keys returns every key's client_secret: never called.",
      cite: primary(
        "https://docs.deribit.com/api-reference/account-management/private-list_api_keys",
        "private/list_api_keys — Response example",
      ),
    },
  ],
};
