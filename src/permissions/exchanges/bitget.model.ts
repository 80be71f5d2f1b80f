/**
 * Bitget v2's key-permission model: `authorities` holds the legacy `trade`/`readonly` of the docs
 * sample or short codes from Bitget's mirrored docs (bitgetapp.com, bitget.fit, bitget.live), whose
 * value list names each code but explains the effect on funds only for `wwow` (withdrawal) and
 * `wtow` (wallet transfer). Re-read: `ttor`/`ttow` are copy trading, `chor`/`chow` sub-account
 * (query / manage), `taxr` taxation; `pllr`/`pllw` (pledge loan) and `taxw` appear on one mirror;
 * the English mirrors spell the P2P read-write code `p2p`, the zh-CN one `p2pw`.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const INFO_URL = "https://www.bitget.com/api-doc/spot/account/Get-Account-Info";
const INFO_SECTION =
  'Get Account Information — Response Example: authorities (["trade","readonly"])';
const CODES_URL = "https://www.bitgetapp.com/api-doc/spot/account/Get-Account-Info";
const CODES_SECTION = "Get Account Information (mirror) — Response Parameters: authorities";
const LIVE = thirdParty(
  "https://www.bitget.live/api-doc/spot/account/Get-Account-Info",
  "Get Account Information (mirror) — Response Parameters: authorities",
  "pllw: Pledge Loan Write pllr: Pledge Loan Read taxw: Tax Read and Write",
);
const ZH = thirdParty(
  "https://bitget.fit/zh-CN/api-doc/spot/account/Get-Account-Info",
  "获取账户信息 (mirror) — 返回参数: authorities",
  "p2pw P2P",
);
/** A code cited with its own entry of the mirror's value list. */
const code = (entry: string) => thirdParty(CODES_URL, CODES_SECTION, entry);
const F = "data.authorities";
const read = (value: string, entry: string, what: string) =>
  plain(value, F, ["read"], code(entry), `${what} read-only (mirror docs)`);
const unexplained = (value: string, entry: string, what: string) =>
  plain(
    value,
    F,
    ["unknown"],
    code(entry),
    `${what} read-write: listed, effect on funds not explained`,
  );

/** Bitget v2. */
export const bitgetModel: PermissionModel = {
  exchange: "bitget",
  status: "confirmed",
  endpoint: "GET /api/v2/spot/account/info",
  values: [
    plain("readonly", F, ["read"], primary(INFO_URL, INFO_SECTION, '"readonly"')),
    plain("trade", F, ["trade"], primary(INFO_URL, INFO_SECTION, '"trade",')),
    read("coor", "coor: futures orders", "futures orders"),
    read("cpor", "cpor: futures holdings", "futures positions"),
    read("stor", "stor: spot trade", "spot trade"),
    read("smor", "smor: margin trade", "margin trade"),
    read("ttor", "ttor: copy trading", "copy trading"),
    read("wtor", "wtor: wallet transfer", "wallet transfer"),
    read("taxr", "taxr: taxation", "taxation"),
    read("chor", "chor: subaccount", "sub-account"),
    read("p2pr", "p2pr: P2P query", "P2P"),
    plain("pllr", F, ["read"], LIVE, "pledge loan read (one mirror only)"),
    plain("coow", F, ["trade"], code("coow: futures orders"), "futures orders read-write"),
    plain("cpow", F, ["trade"], code("cpow: futures holdings"), "futures positions read-write"),
    plain("stow", F, ["trade"], code("stow: spot trade"), "spot trade read-write"),
    plain("smow", F, ["trade"], code("smow: margin trade"), "margin trade read-write"),
    {
      value: "wtow",
      field: F,
      grants: ["transfer"],
      fundMovingEndpoints: [
        "POST /api/v2/spot/wallet/transfer",
        "POST /api/v2/spot/wallet/subaccount-transfer",
      ],
      cite: code("wtow: wallet transfer"),
      note: "wallet transfer read-write: conservatively transfer (main ↔ sub-account transfers)",
    },
    {
      value: "wwow",
      field: F,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v2/spot/wallet/withdrawal"],
      cite: code("wwow: wallet withdrawl"),
      note: "wallet withdrawal, on-chain or internal (to another user's UID, email or mobile)",
    },
    unexplained("ttow", "ttow: copy trading", "copy trading"),
    unexplained(
      "chow",
      "chow: subaccount manage",
      "sub-account management (may reach sub-account keys and funds)",
    ),
    unexplained("p2p", "p2p: P2P", "P2P (P2P moves funds to other users)"),
    plain(
      "p2pw",
      F,
      ["unknown"],
      ZH,
      "P2P read-write (zh-CN spelling): listed, effect on funds not explained",
    ),
    plain("pllw", F, ["unknown"], LIVE, "pledge loan read-write (one mirror only): not explained"),
    plain("taxw", F, ["unknown"], LIVE, "tax read-write (one mirror only): not explained"),
  ],
  transferPaths: [
    {
      endpoint: "POST /api/v2/spot/wallet/withdrawal",
      moves: "on-chain withdrawal, and internal withdrawal to another user's UID, email or mobile",
      requires: ["wwow"],
      cite: primary(
        "https://www.bitget.com/api-doc/spot/account/Wallet-Withdrawal",
        "Withdraw — Description; innerToType",
        "Coin withdrawals including on-chain withdrawals and internal transfers",
      ),
    },
    {
      endpoint: "POST /api/v2/spot/wallet/subaccount-transfer",
      moves: "main ↔ sub-account and sub ↔ sub (same parent)",
      requires: ["wtow"],
      cite: primary(
        "https://www.bitget.com/api-doc/spot/account/Sub-Transfer",
        "Sub Transfer — Description",
        "Sub-account to parent account (only parent account APIKey has access)",
      ),
    },
  ],
  accountRules: [
    {
      rule: "Sub Transfer takes only a parent-account key bound to an IP.",
      cite: thirdParty(
        "https://bitget.fit/api-doc/spot/account/Sub-Transfer",
        "Sub Transfer (mirror) — Description",
        "Only the parent account API Key can use this endpoint, and the API Key must bind IP",
      ),
    },
  ],
  notes: [
    "Whether the live API returns short codes or the legacy values is unconfirmed; both are read.",
    "The permission each transfer page asks for is not stated on the page; the mapping to wtow/wwow follows the code names.",
  ],
};
