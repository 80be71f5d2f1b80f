/**
 * Gate v4's key-permission model: UNCONFIRMED. `account/main_keys` names permission groups but no
 * withdraw, and cannot identify the calling key; the detector reads only the IP whitelist.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const PERMS = primary(
  "https://github.com/gateio/gateapi-python/blob/master/docs/SubAccountKeyPerms.md",
  "SubAccountKeyPerms: name, read_only (Gate's own SDK; the same list is under gate.io/docs/developers/apiv4/en/#query-all-main-account-key-information)",
  "wallet: wallet - spot: spot/margin - futures: perpetual contract",
);
const API = "https://www.gate.io/docs/developers/apiv4/en/";
const F = "perms[].name (read_only=false)";
const names = [
  "wallet",
  "spot",
  "futures",
  "delivery",
  "earn",
  "custody",
  "options",
  "account",
  "loan",
  "margin",
  "unified",
  "copy",
  "pilot",
  "otc",
  "alpha",
  "crossx",
];

/** Gate (unconfirmed: every key is reported unknown). */
export const gateModel: PermissionModel = {
  exchange: "gate",
  status: "unconfirmed",
  endpoint: "GET /api/v4/account/detail",
  values: names.map((n) =>
    plain(n, F, ["unknown"], PERMS, "group name without documented effect on funds"),
  ),
  transferPaths: [
    {
      endpoint: "POST /withdrawals",
      moves: "on-chain withdrawal",
      requires: [],
      cite: primary(`${API}#withdraw`, "Withdraw", "POST /withdrawals"),
    },
    {
      endpoint: "POST /withdrawals/push",
      moves: "UID transfer to another Gate main account",
      requires: [],
      cite: primary(
        `${API}#uid-transfer`,
        "UID transfer (read through a verbatim copy of the page)",
        "Transfers between main spot accounts. Both parties cannot be sub-accounts",
      ),
    },
    {
      endpoint: "POST /wallet/sub_account_transfers",
      moves: "main ↔ sub-account",
      requires: [],
      cite: primary(
        `${API}#transfer-between-main-and-sub-accounts`,
        "Transfer between main and sub accounts",
        "POST /wallet/sub_account_transfers",
      ),
    },
  ],
  accountRules: [
    {
      rule: "Gate's FAQ says APIv4 keys can withdraw and deposit; which group grants it is not documented.",
      cite: thirdParty(
        "https://www.gateex.org/help/guide/faq/17521/how-to-utilize-api",
        "How to utilize API",
      ),
    },
  ],
};
