/**
 * Kraken's key-permission model. `GetApiKeyInfo` returns permission strings; the page's
 * response schema now lists all thirteen (value → API key permission setting), re-read against
 * each endpoint's "API Key Permissions Required" line. Any other string is an UNKNOWN_TOKEN.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const INFO_URL = "https://docs.kraken.com/api-reference/account-data/get-api-key-info";
const TABLE = "Get API Key Info — Response: result.permissions (value → API Key Permission table)";
/** A row of the permissions table, quoted as the page's schema writes it. */
const row = (quote: string) => primary(INFO_URL, TABLE, quote);
const GUIDE = primary(
  "https://docs.kraken.com/exchange/guides/rest/api-keys",
  "API key permissions — Permission descriptions",
  "Query FundsBalance, BalanceEx, TradeBalance",
);
const WITHDRAW = primary(
  "https://docs.kraken.com/api-reference/funding/withdraw-funds",
  "Withdraw Funds — API Key Permissions Required",
  "**API Key Permissions Required:** `Funds permissions - Withdraw`",
);
const ACCT = primary(
  "https://docs.kraken.com/api-reference/subaccounts/account-transfer",
  "Account Transfer — API Key Permissions Required",
  "Transfer funds to and from master and subaccounts. **Note:** `AccountTransfer` must be called using an API key from the master account.",
);
const WALLET = primary(
  "https://docs.kraken.com/api-reference/funding/request-wallet-transfer",
  "Request Wallet Transfer — API Key Permissions Required",
  "**API Key Permissions Required:** `Funds permissions - Query`",
);
const EARN = primary(
  "https://docs.kraken.com/api-reference/earn/allocate-earn-funds",
  "Allocate Earn Funds",
  "Requires the `Earn Funds` API key permission.",
);
const F = "result.permissions";

/** Kraken. */
export const krakenModel: PermissionModel = {
  exchange: "kraken",
  status: "confirmed",
  endpoint: "POST /0/private/GetApiKeyInfo",
  values: [
    plain(
      "query-funds",
      F,
      ["read"],
      row("`query-funds` \\| Funds permissions - Query"),
      "Balance, BalanceEx, TradeBalance; also WalletTransfer to the same account's Futures wallet (funds stay with the owner)",
    ),
    plain(
      "add-funds",
      F,
      ["none"],
      row("`add-funds` \\| Funds permissions - Deposit"),
      "deposit methods and addresses: funds come in, none leave",
    ),
    {
      value: "withdraw-funds",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /0/private/Withdraw", "POST /0/private/AccountTransfer"],
      cite: row("`withdraw-funds` \\| Funds permissions - Withdraw"),
      note: "withdrawals, and (master key) master ↔ sub-account transfers",
    },
    plain(
      "earn-funds",
      F,
      ["none"],
      row("`earn-funds` \\| Funds permissions - Earn"),
      "Earn Allocate/Deallocate: funds move into and out of the owner's own earn strategies",
    ),
    plain(
      "query-open-trades",
      F,
      ["read"],
      row("`query-open-trades` \\| Orders and trades - Query open orders & trades"),
    ),
    plain(
      "query-closed-trades",
      F,
      ["read"],
      row("`query-closed-trades` \\| Orders and trades - Query closed orders & trades"),
    ),
    plain(
      "modify-trades",
      F,
      ["trade"],
      row("`modify-trades` \\| Orders and trades - Create & modify orders"),
    ),
    plain(
      "close-trades",
      F,
      ["trade"],
      row("`close-trades` \\| Orders and trades - Cancel & close orders"),
    ),
    plain("query-ledger", F, ["read"], row("`query-ledger` \\| Data - Query ledger entries")),
    plain("export-data", F, ["read"], row("`export-data` \\| Data - Export data")),
    plain(
      "create-ws-token",
      F,
      ["read"],
      row("`create-ws-token` \\| WebSocket interface - On"),
      "GetWebSocketsToken; what the token may do is bounded by the key's other permissions",
    ),
    {
      value: "add-withdraw-address",
      field: F,
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: row("`add-withdraw-address` \\| Add withdrawal addresses"),
      note: "stages withdrawal destinations; no page says which endpoints it opens alone: withdraw/transfer unknown (fail closed)",
    },
    {
      value: "update-withdraw-address",
      field: F,
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: row("`update-withdraw-address` \\| Update withdrawal addresses"),
      note: "changes withdrawal destinations; not explained further: withdraw/transfer unknown (fail closed)",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /0/private/Withdraw",
      moves: "withdrawal",
      requires: ["withdraw-funds"],
      cite: WITHDRAW,
    },
    {
      endpoint: "POST /0/private/AccountTransfer",
      moves: "master ↔ sub-account (master key)",
      requires: ["withdraw-funds"],
      cite: ACCT,
    },
    {
      endpoint: "POST /0/private/WalletTransfer",
      moves: "spot wallet → the same account's Futures wallet (stays with the owner)",
      requires: ["query-funds"],
      cite: WALLET,
    },
    {
      endpoint: "POST /0/private/Earn/Allocate",
      moves: "spot → the owner's earn strategy (stays with the owner)",
      requires: ["earn-funds"],
      cite: EARN,
    },
  ],
  accountRules: [
    {
      rule: "Kraken's UI names (Query Funds, Withdraw Funds, …) are not the response strings; the response schema's table maps each string to its setting.",
      cite: GUIDE,
    },
    {
      rule: "AccountTransfer (and CreateSubaccount) need a master account's key with Withdraw Funds.",
      cite: ACCT,
    },
  ],
  notes: [
    "The thirteen strings come from the permissions description of the Get API Key Info response schema; the stored copy of the official page was cut before the schema, so the table was read in a verbatim copy of that page (its source line names docs.kraken.com) and agrees with ccxt's kraken fetchPermissions lists.",
    "WalletTransfer (spot → Futures wallet of the same account) needs only Query Funds; the way back is the Futures API's withdrawal to Spot. Neither leaves the owner, so query-funds stays read.",
  ],
};
