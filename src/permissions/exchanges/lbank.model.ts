/**
 * LBank's key model. Keys are created with purposes (Read Only, Trade, Withdraw, Futures,
 * Transfer). ccxt maps `POST /v2/supplement/api_Restrictions.do`, which returns the calling key's
 * restrictions, but no official text with its response fields was found: the parser is
 * unconfirmed and can only reject (a withdraw- or transfer-named flag set to true) or report
 * unknown.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const PURPOSES = primary(
  "https://www.lbank.com/support/articles/21535051026457",
  "Create API — “Specify API purpose (Read Only, Trade, Withdraw, Futures, Transfer; multiple selections allowed)”",
);
const TYPES = primary(
  "https://www.lbank.com/support/articles/21534735816217",
  "Types of API permissions — Trading API (trading only), Withdrawal API (withdrawals; IP address mandatory)",
  "Trading API - Purpose: Exclusively for trading operations. … Withdrawal API - Purpose: Exclusively for withdrawal operations. - IP Address: Mandatory.",
);
const ROUTE = thirdParty(
  "https://github.com/ccxt/ccxt/blob/master/ts/src/lbank.ts",
  "describe().api.spot.private.post: supplement/api_Restrictions, supplement/withdraw, withdraw",
  "'supplement/withdraw'",
);
const WITHDRAW_DOC = thirdParty(
  "https://raw.githubusercontent.com/api-evangelist/lbank/refs/heads/main/openapi/lbank-wallet-rest-api.json",
  "POST /v1/withdraw.do — account (an OpenAPI description made from lbank.com/en-US/docs by a third party)",
  "Withdrawal address. For internal transfers, use email or mobile account.",
);
const FIELD = "console purpose (the read-back's field names are unconfirmed)";

/** LBank (unconfirmed). */
export const lbankModel: PermissionModel = {
  exchange: "lbank",
  status: "unconfirmed",
  endpoint: "POST /v2/supplement/api_Restrictions.do",
  values: [
    plain("Read Only", FIELD, ["read"], PURPOSES),
    plain("Trade", FIELD, ["trade"], TYPES),
    plain("Futures", FIELD, ["trade"], PURPOSES, "futures trading"),
    {
      value: "Withdraw",
      field: FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v2/supplement/withdraw.do", "POST /v2/withdraw.do"],
      cite: TYPES,
      note: "withdrawal to an address or, by email/mobile account, to another LBank user",
    },
    {
      value: "Transfer",
      field: FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: [],
      cite: PURPOSES,
      note: "listed, its endpoints are not explained",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v2/supplement/withdraw.do",
      moves: "on-chain or internal withdrawal",
      requires: ["Withdraw"],
      cite: ROUTE,
    },
    {
      endpoint: "POST /v1/withdraw.do",
      moves: "withdrawal to an address, or to another LBank user by email or mobile",
      requires: ["Withdraw"],
      cite: WITHDRAW_DOC,
    },
  ],
  accountRules: [],
  notes: [
    "Re-read 2026-12: LBank's API v2 reference (lbank.com/en-US/docs) still documents no response for supplement/api_Restrictions.do, so the status stays unconfirmed.",
    'Unconfirmed: the parser reads the envelope (result "true") and rejects on any true flag whose name mentions withdraw or transfer; everything else stays unknown, so no LBank key is ever accepted.',
  ],
};
