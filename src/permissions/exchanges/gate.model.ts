/**
 * Gate v4's key-permission model: UNCONFIRMED. `account/main_keys` names permission groups but no
 * withdraw, and cannot identify the calling key; the detector reads only the IP whitelist.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, thirdParty } from "./model.js";

const PERMS = thirdParty(
  "https://github.com/gateio/gateapi-python/blob/master/docs/KeyPerms.md",
  "KeyPerms: name, read_only",
);
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
  transferPaths: [],
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
