/**
 * Models of the exchanges added in permissions v2 that document key permissions but no read-back a
 * key can make about itself: the values are listed (and cited) so docs/permissions.md shows what the
 * exchange offers, but no value is ever read, so none can be accepted.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary, thirdParty } from "./model.js";

const _UPBIT_KEYS = primary(
  "https://docs-e.upbit.com/reference/open-api-key-list",
  "List API Keys — “Get a list of API keys and their expiration dates” (access_key, expire_at; no permissions)",
);
const UPBIT_POCKETS = primary(
  "https://docs.upbit.com/kr/reference/get-pocket-api-keys",
  "포켓별 API Key 목록 조회 — permissions per key, main pocket only, needs the [포켓관리] permission",
);
const UPBIT_FIELD = "console permission group (not returned by any read the key can make)";
const UPBIT_SETUP_URL = "https://docs.upbit.com/kr/v1.6.4/docs/api-setup";
/** "Upbit API 이용 준비" — the permissions-per-purpose table (사용 목적별 권한 안내). */
const upbitSetup = (quote: string) =>
  primary(UPBIT_SETUP_URL, "Upbit API 이용 준비 — 사용 목적별 권한 안내 (필요 권한)", quote);
const UPBIT_WITHDRAW_PERMISSION =
  "인증이 필요한 API로, [출금하기] 권한이 설정된 API Key를 사용해야 합니다.";

/** Upbit (unsupported): the key list has no permissions; the pocket list needs pocket management. */
export const upbitModel: PermissionModel = {
  exchange: "upbit",
  status: "unsupported",
  endpoint: null,
  values: [
    plain("자산조회", UPBIT_FIELD, ["read"], upbitSetup("잔고 및 보유 자산 조회"), "view assets"),
    plain("주문조회", UPBIT_FIELD, ["read"], upbitSetup("주문조회, 주문하기"), "view orders"),
    plain(
      "주문하기",
      UPBIT_FIELD,
      ["trade"],
      upbitSetup("주문조회, 주문하기"),
      "place and cancel orders",
    ),
    plain("출금조회", UPBIT_FIELD, ["read"], upbitSetup("출금조회, 출금하기"), "view withdrawals"),
    {
      value: "출금하기",
      field: UPBIT_FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v1/withdraws/coin", "POST /v1/withdraws/krw"],
      cite: upbitSetup("출금조회, 출금하기"),
      note: "make withdrawals (digital assets and KRW); a digital-asset withdrawal may also be a 바로 출금 (internal) to another Upbit member",
    },
    plain("입금조회", UPBIT_FIELD, ["read"], upbitSetup("입금조회, 입금하기"), "view deposits"),
    plain(
      "입금하기",
      UPBIT_FIELD,
      ["none"],
      upbitSetup("입금조회, 입금하기"),
      "make deposits (funds come in, none leave)",
    ),
    {
      value: "포켓관리",
      field: UPBIT_FIELD,
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: UPBIT_POCKETS,
      note: "pocket management: what it allows beyond listing pocket keys is not explained → unknown; the setup page names it for transfers between pockets (main pocket key)",
    },
    {
      value: "자산이전",
      field: UPBIT_FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: [],
      cite: upbitSetup("서브포켓: 자산이전"),
      note: "asset transfer between pockets, on a sub-pocket key (the setup page's 포켓 간 자산 이전 row)",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v1/withdraws/coin",
      moves: "digital-asset withdrawal, on-chain or 바로 출금 (internal) to another Upbit member",
      requires: ["출금하기"],
      cite: primary(
        "https://docs.upbit.com/kr/reference/디지털자산-출금하기",
        "디지털 자산 출금하기 — API Key Permission",
        UPBIT_WITHDRAW_PERMISSION,
      ),
    },
    {
      endpoint: "POST /v1/withdraws/krw",
      moves: "KRW withdrawal to the linked bank account",
      requires: ["출금하기"],
      cite: primary(
        "https://docs.upbit.com/kr/reference/withdraw-krw",
        "원화 출금 요청 — API Key Permission",
        UPBIT_WITHDRAW_PERMISSION,
      ),
    },
    {
      endpoint: "포켓 간 자산 이전 (transfer between pockets)",
      moves: "between the main pocket and sub-pockets of the account",
      requires: ["포켓관리", "자산이전"],
      cite: upbitSetup("포켓 간 자산 이전"),
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
  "How to create API? — withdrawal whitelist covers on-chain and internal transfer (站內轉賬, zh-tw page)",
  "tick [Withdraw] and/or [Trade] as needed",
);
const COINEX_SUBS = primary(
  "https://docs.coinex.com/api/v2/account/subs/http/sub-transfer",
  "Asset Transfer between Sub-Accounts — Reminder",
  "This endpoint can only be accessed using the ACCESS ID of the main account",
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
      cite: primary(
        "https://docs.coinex.com/api/v2/zh/assets/deposit-withdrawal/http/withdrawal",
        "申请提现 (POST /assets/withdraw) — withdraw_method",
        "站内转账(inter_user)。适用于提现方和接收方均为CoinEx用户",
      ),
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
  "How do I create API keys? — “Choose which permissions you want to add to the API key.”",
  "Withdrawals requested with API keys will bypass 2FA.",
);
const bitvavoNames = (quote: string) =>
  thirdParty(
    "https://www.dexstrats.com/blog/bitvavo-17/security-api-usage-163",
    "Permissions: View information / Trade digital currencies / Withdraw currencies",
    quote,
  );
const BITVAVO_INSTITUTIONAL = primary(
  "https://docs.bitvavo.com/docs/institutional-api/introduction",
  "Before you start — an API key with: Include all subaccounts, Internal Transfer, Administrative",
  "Created an API key and secret with the following permissions:",
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
      bitvavoNames("Keys with only this permission enabled have no funds at risk."),
      "names only in a third-party guide; the help center lists no names",
    ),
    plain(
      "Trade digital currencies",
      BITVAVO_FIELD,
      ["trade"],
      bitvavoNames("Only enable this if you intent to trade digital currencies with the key."),
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
      fundMovingEndpoints: ["POST /subaccounts/transfers"],
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
      endpoint: "POST /subaccounts/transfers",
      moves: "main ↔ subaccount (Institutional API, main account key)",
      requires: ["Internal Transfer"],
      cite: primary(
        "https://docs.bitvavo.com/docs/institutional-api/create-transfer/",
        "Create transfer — POST /subaccounts/transfers",
        "you must use the API key of your main account with the Internal transfer permission",
      ),
    },
  ],
  accountRules: [],
};

const WHITEBIT_AUTH = primary(
  "https://docs.whitebit.com/private/http-auth",
  "How to use — “Enable Endpoint access restrictions. Select only those endpoints, that you are going to use”",
);
/** A third-party guide's list of the console's endpoint groups (each line quoted). */
const whitebitGroup = (quote: string) =>
  thirdParty(
    "https://helpdesk.bitsgap.com/en/articles/6730596-how-to-create-and-set-up-whitebit-api-key",
    "the console's endpoint groups: Deposit, Withdrawal, Balance transfer, Wallet balance and history, Codes, Trade balance and order history, Order management",
    quote,
  );
const WHITEBIT_CODES = primary(
  "https://docs.whitebit.com/api-reference/account-wallet/create-code",
  "Create code",
  "Create a WhiteBIT code for transferring funds between accounts or to other users via the V4 API.",
);
const WHITEBIT_FIELD = "console endpoint-access group (not returned by any read)";

/** WhiteBIT (unsupported): access is per endpoint group; no endpoint reports it. */
export const whitebitModel: PermissionModel = {
  exchange: "whitebit",
  status: "unsupported",
  endpoint: null,
  values: [
    plain(
      "Wallet balance and history",
      WHITEBIT_FIELD,
      ["read"],
      whitebitGroup("Wallet balance and history on"),
    ),
    plain(
      "Trade balance and order history",
      WHITEBIT_FIELD,
      ["read"],
      whitebitGroup("Trade balance and order history on"),
    ),
    plain("Order management", WHITEBIT_FIELD, ["trade"], whitebitGroup("Order management on")),
    plain(
      "Deposit",
      WHITEBIT_FIELD,
      ["none"],
      whitebitGroup("Deposit off"),
      "deposit addresses: funds come in",
    ),
    {
      value: "Withdrawal",
      field: WHITEBIT_FIELD,
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /api/v4/main-account/withdraw"],
      cite: whitebitGroup("Withdrawal off"),
    },
    {
      value: "Balance transfer",
      field: WHITEBIT_FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /api/v4/main-account/transfer"],
      cite: whitebitGroup("Balance transfer off"),
    },
    {
      value: "Codes",
      field: WHITEBIT_FIELD,
      grants: ["transfer"],
      fundMovingEndpoints: ["POST /api/v4/main-account/codes"],
      cite: whitebitGroup("Codes off"),
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
        "The endpoint creates transfer from main account to sub-account or vice versa.",
      ),
    },
    {
      endpoint: "POST /api/v4/main-account/codes",
      moves: "a WhiteBIT code: whoever applies it receives the funds",
      requires: ["Codes"],
      cite: WHITEBIT_CODES,
    },
  ],
  accountRules: [],
  notes: [
    "Group names come from a third-party guide; the official docs describe the per-endpoint restriction without naming the groups.",
    WHITEBIT_AUTH.section,
  ],
};

const PHEMEX_TRANSFER =
  "https://github.com/phemex/phemex-api-docs/blob/master/Public-Transfer-API-en.md";

/** Phemex (unsupported): no key-permission read-back found. */
export const phemexModel: PermissionModel = {
  exchange: "phemex",
  status: "unsupported",
  endpoint: null,
  values: [],
  transferPaths: [
    {
      endpoint: "POST /assets/universal-transfer",
      moves: "main → sub, sub → main and sub → sub (main account key)",
      requires: [],
      cite: primary(
        PHEMEX_TRANSFER,
        "Universal Transfer (#universalTransfer) — POST /assets/universal-transfer",
        "Universal Transfer(Main account only) - Transfer between sub to main, main to sub or sub to sub",
      ),
    },
    {
      endpoint:
        "POST /assets/spots/sub-accounts/transfer, POST /assets/futures/sub-accounts/transfer",
      moves: "sub-account → main (sub-account key)",
      requires: [],
      cite: primary(
        PHEMEX_TRANSFER,
        "Spot Sub To Main Transfer / Futures Sub To Main Transfer",
        "Spot Sub To Main Transfer (for sub-account only)",
      ),
    },
  ],
  accountRules: [],
  notes: [
    "The API docs list no permission values and no read-back; a key is refused as unsupported.",
    "The transfer API answers HTTP 403 when the key lacks the privilege (“HTTP `403` return code is used when lack of priviledge.”), without naming which.",
  ],
};
