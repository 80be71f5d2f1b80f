/**
 * KuCoin's key-permission model: `permission` is a comma list of the API-permission names of the
 * docs' introduction; older keys also report `InnerTransfer` and `Transfer` (the Get Apikey Info
 * sample). Re-read against the introduction's api-permission list: `Unified` is not in it, so its
 * reach is unknown.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const INTRO_URL = "https://www.kucoin.com/docs-new/introduction";
const INTRO_SECTION = "Document Structure — 3. api-permission";
/** A line of the introduction's api-permission list, quoted. */
const intro = (quote: string) => primary(INTRO_URL, INTRO_SECTION, quote);
const SAMPLE = '"permission": "General,Futures,Spot,Earn,InnerTransfer,Transfer,Margin"';
const INFO = primary(
  "https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info",
  "Get Apikey Info — Response example: permission",
  SAMPLE,
);
const SUPPORT = primary(
  "https://www.kucoin.com/support/900006465403",
  "KuCoin API Key Upgrade Guideline — API KEY PERMISSIONS",
  "Transfer - Allows a key to transfer funds (including deposit and withdrawal).",
);
const WITHDRAWAL =
  "**Withdrawal**: This permission allows you to withdraw assets, acquire deposit addresses, cancel withdrawals, and execute other operations.";
const FLEX =
  "**FlexTransfers**: Allow this API key for FlexTransfers. This will enable asset transfers across the multiple supported transfer types.";
const FIELD = "data.permission";

/** KuCoin. */
export const kucoinModel: PermissionModel = {
  exchange: "kucoin",
  status: "confirmed",
  endpoint: "GET /api/v1/user/api-key",
  values: [
    plain(
      "General",
      FIELD,
      ["read"],
      intro(
        "**General**: Limited to read-only operations such as querying account information, account statements, and order information. The API cannot be used to perform operations such as order placement or withdrawals.",
      ),
      "read-only: queries, no orders, no withdrawals",
    ),
    plain(
      "Spot",
      FIELD,
      ["trade"],
      intro(
        "**Spot**: This API can be used for spot trading to perform order placements, order cancellations, etc.",
      ),
    ),
    plain(
      "Margin",
      FIELD,
      ["trade"],
      intro(
        "**Margin**: This API can be used for margin trading to perform order placements, order cancellations, etc.",
      ),
    ),
    plain(
      "Futures",
      FIELD,
      ["trade"],
      intro(
        "**Futures**: This API can be used for futures trading to perform order placements, order cancellations, etc.",
      ),
    ),
    {
      value: "Unified",
      field: FIELD,
      grants: ["trade", "unknown"],
      fundMovingEndpoints: [],
      cite: thirdParty(
        "https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info",
        "Get Apikey Info — permission field example, as a third-party Go client's field comment copies it",
        "General,Futures,Unified,Spot,Earn,InnerTransfer,Margin,LeadtradeFutures",
      ),
      note: "unified-account trading; the introduction's api-permission list does not name it, so whether it also reaches transfers is not said: trade, withdraw/transfer unknown",
    },
    plain(
      "Earn",
      FIELD,
      ["none"],
      intro(
        "**Earn**: You may use this API to subscribe to, redeem, or make early redemptions of KuCoin Earn products.",
      ),
      "subscribe to / redeem Earn products: funds stay with the owner",
    ),
    {
      value: "Withdrawal",
      field: FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v3/withdrawals"],
      cite: intro(WITHDRAWAL),
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
      cite: intro(FLEX),
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
      cite: intro(
        "**LeadtradeFutures**: Allow this apikey to use the Futures CopyTrading function. Please note that only the TRADER (Lead Trader) need use this permission, not the FOLLOWER (Copy Trader).",
      ),
      note: "lead-trader copy trading; whether it moves funds (e.g. profit sharing, lead account transfers) is not said: unknown",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /api/v3/withdrawals",
      moves: "on-chain and internal withdrawal",
      requires: ["Withdrawal", "Transfer"],
      cite: intro(WITHDRAWAL),
    },
    {
      endpoint: "POST /api/v3/accounts/universal-transfer",
      moves: "internal, parent → sub, sub → parent",
      requires: ["FlexTransfers"],
      cite: intro(FLEX),
    },
    {
      endpoint: "POST /api/v2/accounts/sub-transfer",
      moves: "master ↔ sub-account",
      requires: ["InnerTransfer"],
      cite: INFO,
    },
  ],
  accountRules: [
    {
      rule: "Withdrawal and FlexTransfers require an IP restriction.",
      cite: intro("To use this permission, you must enable IP Restriction."),
    },
    {
      rule: "Transfers made with a Withdrawal/Transfer key skip email and Google verification.",
      cite: intro(
        "Please note that when authorizing the Transfer permission, you can use the API to transfer money without email verification or Google verification.",
      ),
    },
    { rule: "isMaster in the response says whether the key is a master account's.", cite: INFO },
    {
      rule: "A sub-account key reaches only its own main ↔ trade Inner Transfer, not master ↔ sub transfers or withdrawals (the older docs' sub-account page; the docs-new per-endpoint pages were not re-read).",
      cite: primary(
        "https://www.kucoin.com/docs/rest/account/sub-account/introduction",
        "Sub-Account — Introduction (private endpoints a sub-account key may call)",
        "Please note that the funds in sub-account is limited for sub-account crypto trading only and the funds cannot be withdrawn directly from the sub-account.",
      ),
    },
  ],
  notes: [
    "The introduction's list (General, Spot, Margin, Futures, Earn, Withdrawal, FlexTransfers, LeadtradeFutures) was read in KuCoin's docs-new page; Unified is only seen in a third-party client's copy of the Get Apikey Info field example.",
    "Not re-read in this pass: the per-endpoint api-permission of POST /api/v2/accounts/sub-transfer and of the copy-trading margin endpoints (the stored docs did not include those pages).",
  ],
};
