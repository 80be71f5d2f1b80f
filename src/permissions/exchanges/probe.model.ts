/**
 * Models of the exchanges without a key-permission read-back (probe-only or unsupported): no
 * permission value is read, so no value can be accepted.
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary } from "./model.js";

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
      cite: primary(
        "https://www.mexc.com/api-docs/spot-v3/wallet-endpoints#withdrawnew",
        "Withdraw (new)",
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
  transferPaths: [],
  accountRules: [],
  notes: ["Permissions are per currency and not readable; no call is made."],
};
