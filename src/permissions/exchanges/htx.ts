/**
 * HTX: `GET /v2/user/api-key?uid=…&accessKey=…` (`v2PrivateGetUserApiKey`) needs the account uid,
 * read first from `GET /v2/user/uid` (`v2PrivateGetUserUid`) unless the caller supplies it: two
 * calls. `permission` is a comma list (`readOnly`, `trade`; `withdraw` per third-party code);
 * `ipAddresses` a comma list. ccxt does not throw on HTX v2 error bodies (`{"code":2002,…}`), so
 * the success code is checked here.
 * Source: https://huobiapi.github.io/docs/spot/v1/en/ (API key query; verbatim sample).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { htxModel } from "./htx.model.js";
import { grantTable } from "./model.js";
import {
  errorAnswer,
  failed,
  ipFacts,
  malformed,
  matchCode,
  permissions,
  readTokens,
  shape,
  splitList,
  tokenEvidence,
} from "./shared.js";
import type { CallStep, ExchangeSpec } from "./spec.js";

const UID = "v2PrivateGetUserUid";
const KEYS = "v2PrivateGetUserApiKey";

/** Value → grants, from the cited model (htxModel). */
const TOKENS = grantTable(htxModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "1002": "INVALID_KEY",
  "1003": "INVALID_KEY",
  "2002": "PERMISSION_DENIED",
  "api-signature-not-valid": "INVALID_KEY",
  "login-required": "INVALID_KEY",
};

const V2 = z.looseObject({ code: z.number() });
const V1Error = z.looseObject({ status: z.literal("error"), "err-code": z.string().optional() });
const Uid = z.looseObject({ code: z.literal(200), data: z.number().int().positive() });
const Key = z.looseObject({
  accessKey: z.string(),
  status: z.string(),
  permission: z.string().optional(),
  ipAddresses: z.string().optional(),
});
const Keys = z.looseObject({ code: z.literal(200), data: z.array(Key) });

function classify(body: unknown) {
  const v1 = shape(V1Error, body);
  if (v1) return matchCode(ERRORS, v1["err-code"]);
  const v2 = shape(V2, body);
  return v2 && v2.code !== 200 ? matchCode(ERRORS, v2.code) : undefined;
}

function failure(body: unknown, where: string) {
  const v1 = shape(V1Error, body);
  const v2 = shape(V2, body);
  if (v1 || (v2 && v2.code !== 200)) {
    return errorAnswer("htx", classify(body), v1 ? v1["err-code"] : v2?.code);
  }
  return malformed("htx", where);
}

/** HTX (two calls unless the uid is supplied). */
export const htx: ExchangeSpec = {
  id: "htx",
  status: "confirmed",
  source: "https://huobiapi.github.io/docs/spot/v1/en/",
  model: htxModel,
  readOnlyMethods: [UID, KEYS],
  plan(key) {
    const query = (uid: string): CallStep => ({
      method: KEYS,
      params: () => ({ uid, accessKey: key.apiKey }),
    });
    if (key.uid !== undefined) return [query(key.uid)];
    return [
      { method: UID, params: () => ({}) },
      {
        method: KEYS,
        params: (earlier) => {
          const uid = shape(Uid, earlier[0]);
          /* Precondition: the key query runs only after the uid lookup succeeded. */
          if (!uid) return failure(earlier[0], "uid");
          return { uid: String(uid.data), accessKey: key.apiKey };
        },
      },
    ];
  },
  parse(answers, key) {
    const last = answers[answers.length - 1];
    if (answers.length < 1 || answers.length > 2) return malformed("htx", "answers");
    const body = shape(Keys, last);
    /* Precondition: HTX answers are read only when code is 200. */
    if (!body) return failure(last, "data");
    const entry = body.data.find((k) => k.accessKey === key.apiKey);
    if (!entry) return malformed("htx", "accessKey");
    if (entry.status !== "normal") return failed("htx", "INVALID_KEY", { status: entry.status });
    const reading =
      entry.permission === undefined ? undefined : readTokens(splitList(entry.permission), TOKENS);
    const ips = entry.ipAddresses === undefined ? undefined : splitList(entry.ipAddresses);
    return permissions("htx", {
      read: reading ? (reading.read === false ? true : reading.read) : "unknown",
      trade: reading?.trade ?? "unknown",
      withdraw: reading?.withdraw ?? "unknown",
      /* Precondition: an HTX Trade key can transfer between parent and sub-accounts. */
      transfer: reading?.transfer ?? "unknown",
      ...(ips === undefined ? { ipRestricted: "unknown" } : ipFacts(ips)),
      unknownTokens: reading?.unknownTokens ?? [],
      evidence: {
        permission:
          entry.permission === undefined ? null : tokenEvidence(splitList(entry.permission)),
        ipAddresses: ips ? tokenEvidence(ips) : null,
        status: entry.status,
      },
    });
  },
  classifyError: classify,
};
