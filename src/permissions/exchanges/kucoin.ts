/**
 * KuCoin: `GET /api/v1/user/api-key` (`privateGetUserApiKey`, "Get Apikey Info"): `permission` is a
 * comma list from `General, Spot, Margin, Futures, InnerTransfer, Transfer, Earn`; `Transfer`
 * includes withdrawal (KuCoin support article 900006465403); `ipWhitelist` is masked.
 * Source: https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { kucoinModel } from "./kucoin.model.js";
import { grantTable } from "./model.js";
import {
  errorAnswer,
  ipFacts,
  malformed,
  matchCode,
  permissions,
  readTokens,
  shape,
  splitList,
  tokenEvidence,
} from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "privateGetUserApiKey";

/** Value → grants, from the cited model (kucoinModel). */
const TOKENS = grantTable(kucoinModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "400003": "INVALID_KEY",
  "400004": "INVALID_KEY",
  "400005": "INVALID_KEY",
  "400006": "IP_NOT_ALLOWED",
  "400007": "PERMISSION_DENIED",
  "411100": "INVALID_KEY",
};

const Envelope = z.looseObject({ code: z.string() });
const Data = z.looseObject({
  permission: z.string().optional(),
  ipWhitelist: z.string().optional(),
  isMaster: z.boolean().optional(),
  apiVersion: z.number().optional(),
});

/** KuCoin. */
export const kucoin: ExchangeSpec = {
  id: "kucoin",
  status: "confirmed",
  source: "https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info",
  model: kucoinModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("kucoin", "code");
    /* Precondition: KuCoin answers are read only when code is "200000". */
    if (env.code !== "200000") {
      return errorAnswer("kucoin", matchCode(ERRORS, env.code), env.code);
    }
    const data = shape(Data, (answers[0] as { data?: unknown }).data);
    if (!data) return malformed("kucoin", "data");
    const tokens = data.permission === undefined ? undefined : splitList(data.permission);
    const reading = tokens === undefined ? undefined : readTokens(tokens, TOKENS);
    const ips = data.ipWhitelist === undefined ? undefined : splitList(data.ipWhitelist);
    return permissions("kucoin", {
      read: reading?.read ?? "unknown",
      trade: reading?.trade ?? "unknown",
      withdraw: reading?.withdraw ?? "unknown",
      transfer: reading?.transfer ?? "unknown",
      // KuCoin masks every address ("203.**.154"): restricted or not is known, the list is not.
      ...(ips === undefined ? { ipRestricted: "unknown" } : ipFacts(ips, true)),
      unknownTokens: reading?.unknownTokens ?? [],
      evidence: {
        permission: tokens === undefined ? null : tokenEvidence(tokens),
        ipWhitelistMasked: ips === undefined ? null : ips.length > 0,
        ...(data.isMaster === undefined ? {} : { isMaster: data.isMaster }),
      },
    });
  },
  classifyError: (body) => {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.code) : undefined;
  },
};
