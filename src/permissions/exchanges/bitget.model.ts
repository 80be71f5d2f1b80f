/**
 * Bitget v2's key-permission model: `authorities` holds the legacy `trade`/`readonly` of the docs
 * sample or short codes from Bitget's mirrored docs, where only `wwow` is explained.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const INFO = primary(
  "https://www.bitget.com/api-doc/spot/account/Get-Account-Info",
  'Get Account Information — Response: authorities (sample ["trade","readonly"])',
);
const CODES = thirdParty(
  "https://www.bitgetapp.com/api-doc/spot/account/Get-Account-Info",
  "Get Account Information (mirror) — authorities value list",
);
const F = "data.authorities";
const read = (code: string, what: string) =>
  plain(code, F, ["read"], CODES, `${what} read-only (mirror docs)`);
const unexplained = (code: string, what: string) =>
  plain(code, F, ["unknown"], CODES, `${what} read-write: listed, effect on funds not explained`);

/** Bitget v2. */
export const bitgetModel: PermissionModel = {
  exchange: "bitget",
  status: "confirmed",
  endpoint: "GET /api/v2/spot/account/info",
  values: [
    plain("readonly", F, ["read"], INFO),
    plain("trade", F, ["trade"], INFO),
    read("coor", "futures orders"),
    read("cpor", "futures positions"),
    read("stor", "spot trade"),
    read("smor", "margin trade"),
    read("ttor", "tax"),
    read("wtor", "wallet transfer"),
    read("taxr", "tax"),
    read("chor", "copy trading"),
    read("p2pr", "P2P"),
    plain("coow", F, ["trade"], CODES, "futures orders read-write"),
    plain("cpow", F, ["trade"], CODES, "futures positions read-write"),
    plain("stow", F, ["trade"], CODES, "spot trade read-write"),
    plain("smow", F, ["trade"], CODES, "margin trade read-write"),
    {
      value: "wtow",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: [
        "POST /api/v2/spot/wallet/transfer",
        "POST /api/v2/spot/wallet/subaccount-transfer",
      ],
      cite: CODES,
      note: "wallet transfer read-write: conservatively transfer (sub-account transfers)",
    },
    {
      value: "wwow",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v2/spot/wallet/withdrawal"],
      cite: CODES,
      note: "wallet withdrawal",
    },
    unexplained("ttow", "tax"),
    unexplained("chow", "copy trading"),
    unexplained("p2pw", "P2P (P2P moves funds to other users)"),
  ],
  transferPaths: [
    {
      endpoint: "POST /api/v2/spot/wallet/withdrawal",
      moves: "on-chain and internal withdrawal",
      requires: ["wwow"],
      cite: primary("https://www.bitget.com/api-doc/spot/account/Wallet-Withdrawal", "Withdraw"),
    },
    {
      endpoint: "POST /api/v2/spot/wallet/subaccount-transfer",
      moves: "main ↔ sub-account",
      requires: ["wtow"],
      cite: primary("https://www.bitget.com/api-doc/spot/account/Sub-Transfer", "Sub Transfer"),
    },
  ],
  accountRules: [],
  notes: [
    "Whether the live API returns short codes or the legacy values is unconfirmed; both are read.",
  ],
};
