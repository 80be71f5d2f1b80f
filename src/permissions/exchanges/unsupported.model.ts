/**
 * Models of the exchanges added in permissions v2 that document key permissions but no read-back a
 * key can make about itself: the values are listed (and cited) so docs/permissions.md shows what the
 * exchange offers, but no value is ever read, so none can be accepted.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const UPBIT_AUTH = primary(
  "https://docs.upbit.com/kr/reference/auth",
  "API Key의 권한 그룹 (permission groups): 자산조회, 주문하기, 주문조회, 출금하기, 출금조회, 입금하기, 입금 조회",
);
const _UPBIT_KEYS = primary(
  "https://docs-e.upbit.com/reference/open-api-key-list",
  "List API Keys — “Get a list of API keys and their expiration dates” (access_key, expire_at; no permissions)",
);
const UPBIT_POCKETS = primary(
  "https://docs.upbit.com/kr/reference/get-pocket-api-keys",
  "포켓별 API Key 목록 조회 — permissions per key, main pocket only, needs the [포켓관리] permission",
);
const UPBIT_FIELD = "console permission group (not returned by any read the key can make)";

/** Upbit (unsupported): the key list has no permissions; the pocket list needs pocket management. */
export const upbitModel: PermissionModel = {
  exchange: "upbit",
  status: "unsupported",
  endpoint: null,
  values: [
    plain("자산조회", UPBIT_FIELD, ["read"], UPBIT_AUTH, "view assets"),
    plain("주문조회", UPBIT_FIELD, ["read"], UPBIT_AUTH, "view orders"),
    plain("주문하기", UPBIT_FIELD, ["trade"], UPBIT_AUTH, "place and cancel orders"),
    plain("출금조회", UPBIT_FIELD, ["read"], UPBIT_AUTH, "view withdrawals"),
    {
      value: "출금하기",
      field: UPBIT_FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v1/withdraws/coin", "POST /v1/withdraws/krw"],
      cite: UPBIT_AUTH,
      note: "make withdrawals (digital assets and KRW)",
    },
    plain("입금조회", UPBIT_FIELD, ["read"], UPBIT_AUTH, "view deposits"),
    plain(
      "입금하기",
      UPBIT_FIELD,
      ["none"],
      UPBIT_AUTH,
      "make deposits (funds come in, none leave)",
    ),
    {
      value: "포켓관리",
      field: UPBIT_FIELD,
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: UPBIT_POCKETS,
      note: "pocket management: what it allows beyond listing pocket keys is not explained → unknown",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v1/withdraws/coin",
      moves: "digital-asset withdrawal",
      requires: ["출금하기"],
      cite: UPBIT_AUTH,
    },
    {
      endpoint: "POST /v1/withdraws/krw",
      moves: "KRW withdrawal to the linked bank account",
      requires: ["출금하기"],
      cite: UPBIT_AUTH,
    },
  ],
  accountRules: [],
  notes: [
    "GET /v1/api_keys lists only access_key and expire_at (no permissions).",
    "GET /v1/pockets/api_keys shows permissions but only to a main-pocket key holding [포켓관리]: asking a bot to hold that extra permission would be worse than not checking.",
  ],
};

const COINEX_HELP = primary(
  "https://support.coinex.com/hc/en-us/articles/900004316323-What-s-API-How-to-Set-it-Up-and-Extend-Its-Validity-Period",
  "How to create API? — “tick [Withdraw] and/or [Trade] as needed”; withdrawal whitelist covers on-chain and internal transfer (站內轉賬, zh-tw page)",
);
const COINEX_SUBS = primary(
  "https://docs.coinex.com/api/v2/account/subs/http/sub-transfer",
  "Asset Transfer between Sub-Accounts — “can only be accessed using the ACCESS ID of the main account”",
);
const COINEX_FIELD = "console checkbox (not returned by any read of the key itself)";

/** CoinEx (unsupported): sub-account key details are readable only by the main account. */
export const coinexModel: PermissionModel = {
  exchange: "coinex",
  status: "unsupported",
  endpoint: null,
  values: [
    plain("Trade", COINEX_FIELD, ["trade"], COINEX_HELP),
    {
      value: "Withdraw",
      field: COINEX_FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v2/assets/withdraw"],
      cite: COINEX_HELP,
      note: "on-chain withdrawal and internal transfer to another CoinEx user",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v2/assets/withdraw",
      moves: "on-chain or internal withdrawal",
      requires: ["Withdraw"],
      cite: COINEX_HELP,
    },
    {
      endpoint: "POST /v2/account/subs/transfer",
      moves: "main ↔ sub-account and sub → sub (main account key)",
      requires: [],
      cite: COINEX_SUBS,
    },
  ],
  accountRules: [
    {
      rule: "Sub-account transfers are made with the main account's key; which key permission they need is not stated.",
      cite: COINEX_SUBS,
    },
  ],
  notes: [
    "GET /v2/account/subs/api-detail describes sub-account keys to the main account; no endpoint describes the calling key.",
  ],
};

const BITVAVO_HELP = primary(
  "https://support.bitvavo.com/l/en/article/on9e1brlqq-what-are-api-keys-and-how-do-i-make-one",
  "How do I create API keys? — “Choose which permissions you want to add … Withdrawals requested with API keys will bypass 2FA”",
);
const BITVAVO_NAMES = thirdParty(
  "https://www.dexstrats.com/blog/bitvavo-17/security-api-usage-163",
  "Permissions: View information / Trade digital currencies / Withdraw currencies",
);
const BITVAVO_INSTITUTIONAL = primary(
  "https://docs.bitvavo.com/docs/institutional-api/introduction",
  "Before you start — an API key with: Include all subaccounts, Internal Transfer, Administrative",
);
const BITVAVO_FIELD = "console permission (not returned by any read)";

/** Bitvavo (unsupported): no endpoint reports the key's permissions. */
export const bitvavoModel: PermissionModel = {
  exchange: "bitvavo",
  status: "unsupported",
  endpoint: null,
  values: [
    plain(
      "View information",
      BITVAVO_FIELD,
      ["read"],
      BITVAVO_NAMES,
      "names only in a third-party guide; the help center lists no names",
    ),
    plain(
      "Trade digital currencies",
      BITVAVO_FIELD,
      ["trade"],
      BITVAVO_NAMES,
      "names only in a third-party guide",
    ),
    {
      value: "Withdraw currencies",
      field: BITVAVO_FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v2/withdrawal"],
      cite: BITVAVO_HELP,
    },
    {
      value: "Internal Transfer",
      field: BITVAVO_FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /v2/institutional/subaccounts/transfer"],
      cite: BITVAVO_INSTITUTIONAL,
    },
    plain(
      "Include all subaccounts",
      BITVAVO_FIELD,
      ["unknown"],
      BITVAVO_INSTITUTIONAL,
      "scope widening; not explained → unknown",
    ),
    plain(
      "Administrative",
      BITVAVO_FIELD,
      ["unknown"],
      BITVAVO_INSTITUTIONAL,
      "not explained → unknown",
    ),
  ],
  transferPaths: [
    {
      endpoint: "POST /v2/withdrawal",
      moves: "withdrawal (bypasses 2FA)",
      requires: ["Withdraw currencies"],
      cite: BITVAVO_HELP,
    },
    {
      endpoint: "Institutional API subaccount transfer",
      moves: "main ↔ subaccount",
      requires: ["Internal Transfer"],
      cite: BITVAVO_INSTITUTIONAL,
    },
  ],
  accountRules: [],
};

const WHITEBIT_AUTH = primary(
  "https://docs.whitebit.com/private/http-auth",
  "How to use — “Enable Endpoint access restrictions. Select only those endpoints, that you are going to use”",
);
const WHITEBIT_GROUPS = thirdParty(
  "https://helpdesk.bitsgap.com/en/articles/6730596-how-to-create-and-set-up-whitebit-api-key",
  "the console's endpoint groups: Deposit, Withdrawal, Balance transfer, Wallet balance and history, Codes, Trade balance and order history, Order management",
);
const WHITEBIT_FIELD = "console endpoint-access group (not returned by any read)";

/** WhiteBIT (unsupported): access is per endpoint group; no endpoint reports it. */
export const whitebitModel: PermissionModel = {
  exchange: "whitebit",
  status: "unsupported",
  endpoint: null,
  values: [
    plain("Wallet balance and history", WHITEBIT_FIELD, ["read"], WHITEBIT_GROUPS),
    plain("Trade balance and order history", WHITEBIT_FIELD, ["read"], WHITEBIT_GROUPS),
    plain("Order management", WHITEBIT_FIELD, ["trade"], WHITEBIT_GROUPS),
    plain("Deposit", WHITEBIT_FIELD, ["none"], WHITEBIT_GROUPS, "deposit addresses: funds come in"),
    {
      value: "Withdrawal",
      field: WHITEBIT_FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v4/main-account/withdraw"],
      cite: WHITEBIT_GROUPS,
    },
    {
      value: "Balance transfer",
      field: WHITEBIT_FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /api/v4/main-account/transfer"],
      cite: WHITEBIT_GROUPS,
    },
    {
      value: "Codes",
      field: WHITEBIT_FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /api/v4/main-account/codes"],
      cite: WHITEBIT_GROUPS,
      note: "WhiteBIT codes carry a balance that anyone holding the code can redeem: funds leave the account",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /api/v4/sub-account/transfer",
      moves: "main ↔ sub-account",
      requires: [],
      cite: primary(
        "https://docs.whitebit.com/api-reference/sub-accounts/sub-account-transfer",
        "Sub-account transfer — main_to_sub, sub_to_main",
      ),
    },
  ],
  accountRules: [],
  notes: [
    "Group names come from a third-party guide; the official docs describe the per-endpoint restriction without naming the groups.",
    WHITEBIT_AUTH.section,
  ],
};

/** Phemex (unsupported): no key-permission read-back found. */
export const phemexModel: PermissionModel = {
  exchange: "phemex",
  status: "unsupported",
  endpoint: null,
  values: [],
  transferPaths: [
    {
      endpoint: "POST /assets/transfer, POST /assets/universal-transfer",
      moves: "between own wallets and, for a main account, to and from sub-accounts",
      requires: [],
      cite: primary(
        "https://github.com/phemex/phemex-api-docs/blob/master/Public-Transfer-API-en.md",
        "Transfer API — HTTP 403 “lack of privilege”; no endpoint returns a key's privileges",
      ),
    },
  ],
  accountRules: [],
  notes: [
    "The API docs list no permission values and no read-back; a key is refused as unsupported.",
  ],
};
