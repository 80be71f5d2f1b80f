/**
 * Bybit v5's key-permission model: `permissions` maps categories to token lists; the parser reads
 * each as `Category:Token`.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const MODIFY_URL = "https://bybit-exchange.github.io/docs/v5/user/modify-master-apikey";
const MODIFY_SECTION =
  "Modify Master API Key — Request Parameters: permissions (bybit-exchange/docs docs/v5/user/modify-master-apikey.mdx)";
/** A row of the modify-key permissions table, quoted. */
const modify = (quote: string) => primary(MODIFY_URL, MODIFY_SECTION, quote);
const INFO_URL = "https://bybit-exchange.github.io/docs/v5/user/apikey-info";
const INFO_SECTION = "Get API Key Information — Response Parameters: permissions";
/** A row of the key-information response table, quoted. */
const info = (quote: string) => primary(INFO_URL, INFO_SECTION, quote);
const INFO = info("readOnly integer 0: Read and Write. 1: Read only");
const UNI = primary(
  "https://bybit-exchange.github.io/docs/v5/asset/transfer/unitransfer",
  "Create Universal Transfer — POST /v5/asset/transfer/universal-transfer",
  'Transfer between sub-sub or main-sub. … To use sub acct api key, it must have "SubMemberTransferList" permission … When use sub acct api key, it can only transfer to main account',
);
const INTERNAL = primary(
  "https://bybit-exchange.github.io/docs/v5/asset/transfer/create-inter-transfer",
  "Create Internal Transfer — POST /v5/asset/transfer/inter-transfer",
  "Create the internal transfer between different account types under the same UID.",
);
const WITHDRAW = primary(
  "https://bybit-exchange.github.io/docs/v5/asset/withdraw",
  "Withdraw — POST /v5/asset/withdraw/create",
  "Withdraw assets from your Bybit account. You can make an off-chain transfer if the target wallet address is from Bybit.",
);
const P2P_RELEASE = primary(
  "https://bybit-exchange.github.io/docs/p2p/order/release-digital-asset",
  "P2P — Release Assets (bybit-exchange/docs docs/p2p/order/release-digital-asset.mdx)",
  "Release Assets … POST /v5/p2p/order/finish",
);
const F = "result.permissions";

/** Bybit v5. */
export const bybitModel: PermissionModel = {
  exchange: "bybit",
  status: "confirmed",
  endpoint: "GET /v5/user/query-api",
  values: [
    plain(
      "ContractTrade:Order",
      F,
      ["trade"],
      modify('ContractTrade … Contract Trade. ["Order","Position"]'),
    ),
    plain(
      "ContractTrade:Position",
      F,
      ["trade"],
      modify('ContractTrade … Contract Trade. ["Order","Position"]'),
    ),
    plain("Spot:SpotTrade", F, ["trade"], modify('Spot … Spot Trade. ["SpotTrade"]')),
    plain(
      "Options:OptionsTrade",
      F,
      ["trade"],
      modify('Options … USDC Contract. ["OptionsTrade"]'),
    ),
    plain(
      "Derivatives:DerivativesTrade",
      F,
      ["trade"],
      modify('Derivatives … Derivatives v3. ["DerivativesTrade"]'),
    ),
    plain(
      "CopyTrading:CopyTrading",
      F,
      ["trade"],
      info("CopyTrading array Deprecated, always []"),
      "deprecated; not applicable to sub accounts",
    ),
    plain("BlockTrade:BlockTrade", F, ["trade"], modify('BlockTrade … Blocktrade. ["BlockTrade"]')),
    plain(
      "Exchange:ExchangeHistory",
      F,
      ["read"],
      info("Exchange array Permission of convert ExchangeHistory"),
      "Convert history",
    ),
    plain("NFT:NFTQueryProductList", F, ["read"], info("NFT array Deprecated, always []")),
    plain(
      "Earn:Earn",
      F,
      ["none"],
      info("Earn array Permission of earn product Earn"),
      "Earn products: funds stay with the owner",
    ),
    plain(
      "Affiliate:Affiliate",
      F,
      ["read"],
      info(
        "Affiliate array Permission of Affiliate. Only affiliate can have this permission, otherwise always []",
      ),
      "affiliate data only",
    ),
    {
      value: "Wallet:AccountTransfer",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v5/user/update-api", "POST /v5/user/update-sub-api"],
      cite: modify(
        'The API key must have one of the below permissions in order to call this endpoint.. - master API key: "Account Transfer", "Subaccount Transfer", "Withdrawal" … Only the api key that calls this interface can be modified … > Wallet | false | array | Wallet. ["AccountTransfer","SubMemberTransfer"]',
      ),
      note: "its own transfers stay between the owner's account types (same UID), but a key holding it may modify itself (update-api / update-sub-api) and add SubMemberTransfer(List), which moves funds master ↔ sub: so it counts as transfer",
    },
    {
      value: "Wallet:SubMemberTransfer",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v5/asset/transfer/universal-transfer"],
      cite: info(
        "Wallet array Permission of wallet AccountTransfer, SubMemberTransfer (master account)",
      ),
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
      cite: info("Wallet array Permission of wallet … Withdraw (master account)"),
      note: "not in the modify-key table (UI-only toggle); listed in the key-information table",
    },
    {
      value: "FiatP2P:FiatP2POrder",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v5/p2p/order/finish"],
      cite: info(
        "FiatP2P array Permission of P2P FiatP2POrder, Advertising. Not applicable to subaccount, always []",
      ),
      note: "P2P orders: releasing a sold order's assets sends them to the counterparty",
    },
    {
      value: "FiatP2P:Advertising",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v5/p2p/order/finish"],
      cite: info(
        "FiatP2P array Permission of P2P FiatP2POrder, Advertising. Not applicable to subaccount, always []",
      ),
      note: "P2P adverts offer the owner's assets to other users (fail closed: counted as transfer)",
    },
    {
      value: "FiatBybitPay:FaitPayOrder",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: [],
      cite: info(
        "FiatBybitPay array Permission of Bybit Pay FaitPayOrder. Not applicable to subaccount, always []",
      ),
      note: "Bybit Pay orders pay a merchant from the owner's balance; token spelled FaitPayOrder by Bybit",
    },
    {
      value: "FiatBitPay:FaitPayOrder",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: [],
      cite: thirdParty(
        INFO_URL,
        "Get API Key Information, later revision (response sample as mirrored in third-party docs; not yet in bybit-exchange/docs as stored)",
        '"FiatBitPay": [ "FaitPayOrder" ]',
      ),
      note: "successor name of FiatBybitPay (Bybit Pay); same token",
    },
    {
      value: "FiatConvertBroker:FiatConvertBrokerOrder",
      field: F,
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: info(
        "FiatConvertBroker array Permission of fiat convert FiatConvertBrokerOrder. Not applicable to subaccount, always []",
      ),
      note: "fiat-convert broker orders: the docs do not say whether funds can leave the owner, so withdraw and transfer read unknown",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v5/asset/transfer/universal-transfer",
      moves: "master ↔ sub, sub ↔ sub (master key); sub → master (sub key)",
      requires: ["Wallet:SubMemberTransfer", "Wallet:SubMemberTransferList"],
      cite: UNI,
    },
    {
      endpoint: "POST /v5/user/update-api",
      moves:
        "nothing itself: the calling key modifies its own permissions and may add SubMemberTransfer, which opens master ↔ sub transfers",
      requires: ["Wallet:AccountTransfer", "Wallet:SubMemberTransfer", "Wallet:Withdraw"],
      cite: modify(
        'The API key must have one of the below permissions in order to call this endpoint.. - master API key: "Account Transfer", "Subaccount Transfer", "Withdrawal"',
      ),
    },
    {
      endpoint: "POST /v5/asset/transfer/inter-transfer",
      moves: "between the owner's own account types under one UID (funds stay with the owner)",
      requires: ["Wallet:AccountTransfer"],
      cite: INTERNAL,
    },
    {
      endpoint: "POST /v5/asset/withdraw/create",
      moves: "on-chain and internal (Bybit UID) withdrawal",
      requires: ["Wallet:Withdraw"],
      cite: WITHDRAW,
    },
    {
      endpoint: "POST /v5/p2p/order/finish",
      moves: "P2P: the seller's assets to the buyer",
      requires: ["FiatP2P:FiatP2POrder", "FiatP2P:Advertising"],
      cite: P2P_RELEASE,
    },
  ],
  accountRules: [
    { rule: "readOnly 1 means the key is read-only whatever the lists say.", cite: INFO },
    {
      rule: "BlockTrade, Affiliate, FiatP2P, FiatBybitPay and FiatConvertBroker are not applicable to sub accounts (always []); NFT and CopyTrading are deprecated (always []).",
      cite: info(
        "BlockTrade array Permission of blocktrade. Not applicable to subaccount, always []",
      ),
    },
  ],
  notes: [
    "Later key-information samples also list FiatGlobalPay, BitCard and ByXPost; until documented in the primary docs they read as UNKNOWN_TOKEN (fail closed).",
    "Bybit Pay order endpoints are not in the stored docs; a Bybit Pay token counts as transfer without a path.",
  ],
};
