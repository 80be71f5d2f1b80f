/**
 * Binance's key-permission model, from "Query API Key Permission (USER_DATA)" (spot and USDⓈ-M
 * futures share keys and this endpoint), re-read against the sub-account transfer pages: a
 * sub-account key with spot trading alone may transfer to its master and to sibling sub-accounts,
 * and the answer does not say whether the key is a sub-account's.
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary, thirdParty } from "./model.js";

const DOC = "https://developers.binance.com/docs/wallet/account/api-key-permission";
const DOC_ZH = "https://developers.binance.com/docs/zh-CN/wallet/account/api-key-permission";
const SAMPLE = "Query API Key Permission (USER_DATA) — Response Example (field comments)";
const flag = (quote: string) => primary(DOC, SAMPLE, quote);
const SUB = "https://developers.binance.com/docs/sub_account/asset-management";
const SUB_TO_MASTER = primary(
  `${SUB}/Transfer-to-Master`,
  "Transfer to Master (For Sub-account) (USER_DATA) — POST /sapi/v1/sub-account/transfer/subToMaster",
  "You need to open Enable Spot & Margin Trading permission for the API Key which requests this endpoint.",
);
const SUB_TO_SUB = primary(
  `${SUB}/Transfer-to-Sub-account-of-Same-Master`,
  "Transfer to Sub-account of Same Master (For Sub-account) (USER_DATA) — POST /sapi/v1/sub-account/transfer/subToSub",
  "You need to open Enable Spot & Margin Trading permission for the API Key which requests this endpoint.",
);
const WITHDRAWALS =
  "This option allows you to withdraw via API. You must apply the IP Access Restriction filter in order to enable withdrawals";
const INTERNAL =
  "This option authorizes this key to transfer funds between your master account and your sub account instantly";

/** Binance (spot and USDⓈ-M futures). */
export const binanceModel: PermissionModel = {
  exchange: "binance",
  status: "confirmed",
  endpoint: "GET /sapi/v1/account/apiRestrictions",
  values: [
    {
      value: "enableReading",
      field: "enableReading",
      grants: ["read"],
      fundMovingEndpoints: [],
      cite: flag('"enableReading":true,'),
    },
    {
      value: "enableFixReadOnly",
      field: "enableFixReadOnly",
      grants: ["read"],
      fundMovingEndpoints: [],
      cite: primary(DOC_ZH, "查询用户API Key权限 — 响应示例 (field comments)", "FIX API读取权限"),
      note: "FIX API read permission (the comment is in the zh-CN page's sample only)",
    },
    {
      value: "enableSpotAndMarginTrading",
      field: "enableSpotAndMarginTrading",
      grants: ["trade", "transfer"],
      fundMovingEndpoints: [
        "POST /sapi/v1/sub-account/transfer/subToMaster",
        "POST /sapi/v1/sub-account/transfer/subToSub",
      ],
      cite: flag("// Spot and margin trading"),
      accountType: "sub",
      note: "on a sub-account key it also transfers to the master and to sibling sub-accounts (those pages need only this permission); the answer does not say whether the key is a sub-account's, so transfer reads as unknown",
    },
    {
      value: "enableMargin",
      field: "enableMargin",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag(
        "This option can be adjusted after the Cross Margin account transfer is completed",
      ),
      note: "editable only after a cross-margin transfer",
    },
    {
      value: "enableFutures",
      field: "enableFutures",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag(
        "The Futures API cannot be used if the API key was created before the Futures account was opened, or if you have enabled portfolio margin.",
      ),
    },
    {
      value: "enablePortfolioMarginTrading",
      field: "enablePortfolioMarginTrading",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag(
        "API Key created before your activate portfolio margin does not support portfolio margin API service",
      ),
    },
    {
      value: "enableVanillaOptions",
      field: "enableVanillaOptions",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: flag("Authorizes this key to Vanilla options trading"),
    },
    {
      value: "enableFixApiTrade",
      field: "enableFixApiTrade",
      grants: ["trade"],
      fundMovingEndpoints: [],
      cite: primary(DOC_ZH, "查询用户API Key权限 — 响应示例 (field comments)", "FIX API交易权限"),
      note: "FIX API trading permission (the comment is in the zh-CN page's sample only)",
    },
    {
      value: "enableWithdrawals",
      field: "enableWithdrawals",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: [
        "POST /sapi/v1/capital/withdraw/apply",
        "POST /sapi/v1/giftcard/createCode",
        "POST /sapi/v1/giftcard/buyCode",
      ],
      cite: flag(WITHDRAWALS),
      note: "withdrawals, and gift cards (a redemption code anyone can redeem); needs an IP restriction",
    },
    {
      value: "enableInternalTransfer",
      field: "enableInternalTransfer",
      grants: ["transfer"],
      fundMovingEndpoints: [
        "POST /sapi/v1/sub-account/universalTransfer",
        "POST /sapi/v1/sub-account/transfer/subToMaster",
        "POST /sapi/v1/sub-account/transfer/subToSub",
      ],
      cite: flag(INTERNAL),
      note: "master ↔ sub-account transfers",
    },
    {
      value: "permitsUniversalTransfer",
      field: "permitsUniversalTransfer",
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /sapi/v1/asset/transfer"],
      cite: flag(
        "Authorizes this key to be used for a dedicated universal transfer API to transfer multiple supported currencies. Each business's own transfer API rights are not affected by this authorization",
      ),
      note: "universal transfer between the user's wallets; counted as transfer (conservative)",
    },
    {
      value: "ipRestrict",
      field: "ipRestrict",
      grants: ["none"],
      fundMovingEndpoints: [],
      cite: primary(DOC_ZH, "查询用户API Key权限 — 响应示例 (field comments)", "是否限制ip访问"),
      note: "IP allow-list flag, not a permission (“whether IP access is restricted”)",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /sapi/v1/capital/withdraw/apply",
      moves: "on-chain withdrawal",
      requires: ["enableWithdrawals"],
      cite: primary(
        "https://developers.binance.com/docs/wallet/capital/withdraw",
        "Withdraw(USER_DATA)",
        "Submit a withdraw request.",
      ),
    },
    {
      endpoint: "POST /sapi/v1/giftcard/createCode",
      moves: "a gift card: the redemption code moves the funds to whoever redeems it",
      requires: ["enableWithdrawals"],
      cite: primary(
        "https://developers.binance.com/docs/gift_card/market-data",
        "Create a single-token gift card (USER_DATA)",
        "You need Enable Withdrawals for the API Key which requests this endpoint.",
      ),
    },
    {
      endpoint: "POST /sapi/v1/sub-account/universalTransfer",
      moves: "master ↔ sub-account, sub ↔ sub",
      requires: ["enableInternalTransfer"],
      cite: primary(
        `${SUB}/Universal-Transfer`,
        "Universal Transfer (For Master Account)",
        'You need to enable "internal transfer" option for the api key which requests this endpoint.',
      ),
    },
    {
      endpoint: "POST /sapi/v1/sub-account/transfer/subToMaster",
      moves: "sub-account → master (sub-account key)",
      requires: ["enableSpotAndMarginTrading"],
      cite: SUB_TO_MASTER,
    },
    {
      endpoint: "POST /sapi/v1/sub-account/transfer/subToSub",
      moves: "sub-account → another sub-account of the same master (sub-account key)",
      requires: ["enableSpotAndMarginTrading"],
      cite: SUB_TO_SUB,
    },
    {
      endpoint: "POST /sapi/v1/sub-account/futures/internalTransfer",
      moves: "futures assets between sub-accounts (master key)",
      requires: ["enableInternalTransfer"],
      cite: thirdParty(
        "https://github.com/JKorf/Binance.Net/issues/394",
        "SubAccount transfer not working (a master key's sub → sub transfer refused until Internal Transfer was enabled)",
        'I wasn\'t aware that there is an "internal transfer" permission on the API key.',
      ),
    },
    {
      endpoint: "POST /sapi/v1/broker/transfer/futures",
      moves: "USDⓈ-M / COIN-M futures assets between a broker master and its sub-accounts",
      requires: ["enableInternalTransfer"],
      cite: primary(
        "https://developers.binance.com/docs/binance_link/exchange-link/asset/Sub-Account-Transfer-Futures",
        "Sub Account Transfer(FUTURES) — POST /sapi/v1/broker/transfer/futures — Caution",
        'You need to enable "internal transfer" option for the api key which requests this endpoint.',
      ),
    },
    {
      endpoint: "POST /sapi/v1/asset/transfer",
      moves: "between the user's own wallets",
      requires: ["permitsUniversalTransfer"],
      cite: primary(
        "https://developers.binance.com/docs/wallet/asset/user-universal-transfer",
        "User Universal Transfer (USER_DATA)",
        "You need to enable `Permits Universal Transfer` option for the API Key which requests this endpoint.",
      ),
    },
  ],
  accountRules: [
    {
      rule: "Withdrawals can only be enabled on a key with an IP restriction.",
      cite: flag(WITHDRAWALS),
    },
    {
      rule: "A sub-account key with Enable Spot & Margin Trading can transfer to its master and to sibling sub-accounts; the answer does not say whether the key is a sub-account's, so such a key's transfer is unknown.",
      cite: SUB_TO_MASTER,
    },
  ],
  notes: [
    "A boolean field the model does not list that is true is an UNKNOWN_TOKEN (fail closed).",
    "The official page of POST /sapi/v1/sub-account/futures/internalTransfer (For Master Account) names no permission; the model reads it as needing Internal Transfer on a user's report only (third-party).",
    "USDⓈ-M futures (binanceusdm) reads the same answer: a futures bot's key needs Enable Reading and Enable Futures only. No page found makes Enable Futures enough to move funds; the futures-wallet transfers need Permits Universal Transfer (POST /sapi/v1/asset/transfer, UMFUTURE types) or Internal Transfer (sub-account and broker futures transfers), and Enable Spot & Margin Trading keeps transfer unknown.",
    "Managed sub-account withdraw (POST /sapi/v1/managed-subaccount/withdraw, For Investor Master Account) names no permission either; it returns funds to the investor's own master account.",
  ],
};
