/**
 * Models of the exchanges without a key-permission read-back (probe-only or unsupported): no
 * permission value is read, so no value can be accepted.
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary, thirdParty } from "./model.js";

/** Crypto.com Exchange (probe-only). */
export const cryptocomModel: PermissionModel = {
  exchange: "cryptocom",
  status: "probe-only",
  endpoint: null,
  values: [],
  transferPaths: [
    {
      endpoint: "private/create-withdrawal",
      moves: "withdrawal",
      requires: [],
      cite: primary(
        "https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#private-create-withdrawal",
        "private/create-withdrawal",
        "Creates a withdrawal request. Withdrawal setting must be enabled for your API Key.",
      ),
    },
  ],
  accountRules: [],
  notes: [
    "Opt-in probe private/get-withdrawal-history: a success proves withdraw and rejects; a refusal proves nothing.",
  ],
};

/** MEXC (probe-only). */
export const mexcModel: PermissionModel = {
  exchange: "mexc",
  status: "probe-only",
  endpoint: null,
  values: [],
  transferPaths: [
    {
      endpoint: "POST /api/v3/capital/withdraw",
      moves: "withdrawal",
      requires: [],
      cite: thirdParty(
        "https://mexcdevelop.github.io/apidocs/spot_v3_en/#withdraw-new",
        "Withdraw (new), as quoted in a third-party SDK docstring (pymexc)",
        "Required permission: SPOT_WITHDRAW_WRITE",
      ),
    },
    {
      endpoint:
        "POST /api/v3/capital/transfer/internal, POST /api/v3/capital/sub-account/universalTransfer",
      moves: "internal transfer to another MEXC user; master ↔ sub-account universal transfer",
      requires: [],
      cite: thirdParty(
        "https://github.com/ccxt/ccxt/blob/master/ts/src/mexc.ts",
        "describe().api.spot.private.post",
        "'capital/transfer/internal'",
      ),
    },
  ],
  accountRules: [],
  notes: [
    "Opt-in probe GET /api/v3/account: canWithdraw true rejects; anything else leaves withdraw unknown.",
  ],
};

/** Bitstamp (unsupported). */
export const bitstampModel: PermissionModel = {
  exchange: "bitstamp",
  status: "unsupported",
  endpoint: null,
  values: [],
  transferPaths: [
    {
      endpoint: "POST /api/v2/{currency}_withdrawal/, POST /api/v2/withdrawal/open/",
      moves: "crypto withdrawal; bank withdrawal",
      requires: [],
      cite: primary(
        "https://www.bitstamp.net/api/",
        "Private Functions — Withdrawal requests, Open bank withdrawal",
        "Open bank withdrawal",
      ),
    },
    {
      endpoint: "POST /api/v2/transfer-to-main/, POST /api/v2/transfer-from-main/",
      moves: "sub-account → main and main → sub-account",
      requires: [],
      cite: primary(
        "https://www.bitstamp.net/api/",
        "Private Functions — Transfer balance from Sub to Main Account / from Main to Sub Account",
        "Transfer balance from Main to Sub Account",
      ),
    },
  ],
  accountRules: [],
  notes: ["Permissions are per currency and not readable; no call is made."],
};
