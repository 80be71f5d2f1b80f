/**
 * Bybit v5's key-permission model: `permissions` maps categories to token lists; the parser reads
 * each as `Category:Token`.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const MODIFY = primary(
  "https://bybit-exchange.github.io/docs/v5/user/modify-master-apikey",
  "Modify Master API Key — Request Parameters: permissions (bybit-exchange/docs docs/v5/user/modify-master-apikey.mdx)",
);
const INFO = primary(
  "https://bybit-exchange.github.io/docs/v5/user/apikey-info",
  "Get API Key Information — Response Parameters",
);
const UNI = primary(
  "https://bybit-exchange.github.io/docs/v5/asset/transfer/unitransfer",
  'Create Universal Transfer: “To use sub acct api key, it must have "SubMemberTransferList" permission … can only transfer to master”',
);
const INTERNAL = primary(
  "https://bybit-exchange.github.io/docs/v5/asset/transfer/create-inter-transfer",
  "Create Internal Transfer: between different account types under the same UID",
);
const WITHDRAW = primary(
  "https://bybit-exchange.github.io/docs/v5/asset/withdraw",
  "Withdraw — “Make sure you have whitelisted your wallet address”; master UID key with Withdraw",
);
const F = "result.permissions";

/** Bybit v5. */
export const bybitModel: PermissionModel = {
  exchange: "bybit",
  status: "confirmed",
  endpoint: "GET /v5/user/query-api",
  values: [
    plain("ContractTrade:Order", F, ["trade"], MODIFY),
    plain("ContractTrade:Position", F, ["trade"], MODIFY),
    plain("Spot:SpotTrade", F, ["trade"], MODIFY),
    plain("Options:OptionsTrade", F, ["trade"], MODIFY),
    plain("Derivatives:DerivativesTrade", F, ["trade"], MODIFY),
    plain(
      "CopyTrading:CopyTrading",
      F,
      ["trade"],
      MODIFY,
      "deprecated; not applicable to sub accounts",
    ),
    plain("BlockTrade:BlockTrade", F, ["trade"], MODIFY),
    plain("Exchange:ExchangeHistory", F, ["read"], MODIFY, "Convert history"),
    plain("NFT:NFTQueryProductList", F, ["read"], MODIFY),
    plain("Earn:Earn", F, ["none"], MODIFY, "Earn products: funds stay with the owner"),
    plain("Affiliate:Affiliate", F, ["read"], MODIFY, "affiliate data only"),
    {
      value: "Wallet:AccountTransfer",
      field: F,
      grants: ["none"],
      fundMovingEndpoints: [],
      cite: INTERNAL,
      note: "between the owner's own account types (same UID): funds do not leave the owner",
    },
    {
      value: "Wallet:SubMemberTransfer",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v5/asset/transfer/universal-transfer"],
      cite: UNI,
      note: "master key: master ↔ sub, sub ↔ sub",
    },
    {
      value: "Wallet:SubMemberTransferList",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v5/asset/transfer/universal-transfer"],
      cite: UNI,
      note: "sub-account key: transfer to the master",
    },
    {
      value: "Wallet:Withdraw",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v5/asset/withdraw/create"],
      cite: thirdParty(
        "https://github.com/bybit-exchange/pybit",
        'reference §2: permissions.Wallet contains "Withdraw" (master account only)',
      ),
      note: "not in the modify-key table (UI-only toggle); seen in key-info answers",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v5/asset/transfer/universal-transfer",
      moves: "master ↔ sub, sub → master",
      requires: ["Wallet:SubMemberTransfer", "Wallet:SubMemberTransferList"],
      cite: UNI,
    },
    {
      endpoint: "POST /v5/asset/withdraw/create",
      moves: "on-chain and internal withdrawal",
      requires: ["Wallet:Withdraw"],
      cite: WITHDRAW,
    },
  ],
  accountRules: [
    { rule: "readOnly 1 means the key is read-only whatever the lists say.", cite: INFO },
    {
      rule: "CopyTrading, BlockTrade and NFT are not applicable to sub accounts (always []).",
      cite: INFO,
    },
  ],
  notes: [
    "Fiat, P2P and Pay permissions, if Bybit reports them, are UNKNOWN_TOKEN until documented.",
  ],
};
