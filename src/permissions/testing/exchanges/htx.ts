import {
  type AuthContext,
  type AuthResult,
  type ExchangeSpec,
  hmac,
  isFresh,
  queryParam,
  reply,
  type SimRequest,
  safeEqual,
} from "../exchange-spec.js";
import type { SimulatedPermissions } from "../types.js";

/*
 * HTX (Huobi) signature v2: the query carries AccessKeyId, SignatureMethod=HmacSHA256,
 * SignatureVersion=2, Timestamp (UTC `YYYY-MM-DDThh:mm:ss`) and the request parameters, sorted;
 * Signature = base64 HMAC-SHA256("METHOD\nhost\npath\n" + that query) keyed with the secret,
 * appended last. The timestamp must lie within 5 minutes of the server clock.
 */

const v1Error = (message: string, status = 200) =>
  reply(status, {
    status: "error",
    "err-code": "api-signature-not-valid",
    "err-msg": message,
    data: null,
  });

const errors = {
  badSignature: v1Error("Signature not valid: Verification failure [校验失败]"),
  invalidKey: v1Error("Signature not valid: Incorrect Access key [Access key错误]"),
  staleTimestamp: v1Error("Signature not valid: Timestamp expired [时间戳过期]"),
  ipNotAllowed: reply(200, {
    status: "error",
    "err-code": "forbidden-trade-for-ip",
    "err-msg": "This IP is not allowed to access this API key",
    data: null,
  }),
  rateLimited: reply(429, {
    status: "error",
    "err-code": "rate-too-many-requests",
    "err-msg": "exceeded rate limit",
    data: null,
  }),
  /* The v2 style body ccxt does NOT throw on (reference §0.4). */
  permissionDenied: reply(200, { code: 2002, message: "API key has no permission", data: null }),
} as const;

function authenticate(request: SimRequest, context: AuthContext): AuthResult {
  const at = request.query.lastIndexOf("&Signature=");
  const signed = at < 0 ? request.query : request.query.slice(0, at);
  const signature =
    at < 0 ? undefined : decodeURIComponent(request.query.slice(at + "&Signature=".length));
  const apiKey = queryParam(signed, "AccessKeyId");
  const key = apiKey === undefined ? undefined : context.findKey(apiKey);
  if (key === undefined) return { ok: false, reason: "invalidKey" };
  const payload = `${request.method}\n${request.host}\n${request.path}\n${signed}`;
  if (!safeEqual(signature, hmac("sha256", key.secret, payload, "base64"))) {
    return { ok: false, reason: "badSignature" };
  }
  const params = new URLSearchParams(signed);
  const timestamp = params.get("Timestamp") ?? "";
  if (
    params.get("SignatureMethod") !== "HmacSHA256" ||
    params.get("SignatureVersion") !== "2" ||
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(timestamp) ||
    !isFresh(Date.parse(`${timestamp}Z`), context.now(), 300_000)
  ) {
    return { ok: false, reason: "staleTimestamp" };
  }
  return { ok: true, key };
}

/**
 * Verbatim documented sample of GET /v2/user/api-key (docs zh pages), `permission` and
 * `ipAddresses` from the configured set: read = readOnly, trade = trade, withdraw = withdraw (the
 * reference only has `withdraw` from third-party code). HTX has no separate transfer permission.
 */
export function htxApiKeyInfo(p: SimulatedPermissions, apiKey: string): Record<string, unknown> {
  const permission = [
    p.read ? "readOnly" : "",
    p.trade ? "trade" : "",
    p.withdraw ? "withdraw" : "",
  ];
  return {
    code: 200,
    message: "success",
    data: [
      {
        accessKey: apiKey,
        status: "normal",
        note: "62924133",
        permission: permission.filter((x) => x !== "").join(","),
        ipAddresses: p.ipRestricted ? p.ipAllowList.join(",") : "",
        validDays: -1,
        createTime: 1591348751000,
        updateTime: 1591348751000,
      },
    ],
  };
}

const refuse = { auth: "signed", withdraw: true, handle: () => errors.permissionDenied } as const;

export const htxSpec: ExchangeSpec = {
  id: "htx",
  claimedApiKey: (request) => queryParam(request.query, "AccessKeyId"),
  authenticate,
  routes: {
    "GET /v2/user/uid": {
      auth: "signed",
      handle: ({ key }) => reply(200, { code: 200, data: Number(key?.uid ?? "0") }),
    },
    "GET /v2/user/api-key": {
      auth: "signed",
      handle: ({ key, request }) => {
        if (key === undefined) return errors.invalidKey;
        /* Precondition: HTX answers api-key info only for the caller's own uid and access key. */
        const uid = queryParam(request.query, "uid");
        const accessKey = queryParam(request.query, "accessKey");
        if (uid !== key.uid || (accessKey !== undefined && accessKey !== key.apiKey)) {
          return reply(200, { code: 1002, message: "unauthorized", data: null });
        }
        return reply(200, htxApiKeyInfo(key.permissions, key.apiKey));
      },
    },
    "POST /v1/dw/withdraw/api/create": refuse,
    "POST /v1/account/transfer": refuse,
  },
  errors,
};
