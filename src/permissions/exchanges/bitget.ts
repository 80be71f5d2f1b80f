/**
 * Bitget v2: `GET /api/v2/spot/account/info` (`privateSpotGetV2SpotAccountInfo`):
 * `data.authorities` and `data.ips`. The docs sample shows the legacy values `trade`/`readonly`;
 * the short codes come from Bitget's mirrored docs, where only `wwow` (wallet withdrawal) is
 * explained. Write codes whose meaning is undocumented are treated as unknown.
 * Source: https://www.bitget.com/api-doc/spot/account/Get-Account-Info (verbatim sample).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { bitgetModel } from "./bitget.model.js";
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

const METHOD = "privateSpotGetV2SpotAccountInfo";

/** Value → grants, from the cited model (bitgetModel). */
const TOKENS = grantTable(bitgetModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "40014": "PERMISSION_DENIED",
  "40018": "IP_NOT_ALLOWED",
  "40006": "INVALID_KEY",
  "40009": "INVALID_KEY",
  "40012": "INVALID_KEY",
  "40037": "INVALID_KEY",
};

const Envelope = z.looseObject({ code: z.string() });
const Data = z.looseObject({
  authorities: z.array(z.string()).optional(),
  ips: z.string().optional(),
});

/** Bitget v2. */
export const bitget: ExchangeSpec = {
  id: "bitget",
  status: "confirmed",
  source: "https://www.bitget.com/api-doc/spot/account/Get-Account-Info",
  model: bitgetModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("bitget", "code");
    /* Precondition: Bitget answers are read only when code is "00000". */
    if (env.code !== "00000") return errorAnswer("bitget", matchCode(ERRORS, env.code), env.code);
    const data = shape(Data, (answers[0] as { data?: unknown }).data);
    if (!data) return malformed("bitget", "data");
    const reading = data.authorities && readTokens(data.authorities, TOKENS);
    const ips = data.ips === undefined ? undefined : splitList(data.ips);
    return permissions("bitget", {
      read: reading?.read ?? "unknown",
      trade: reading?.trade ?? "unknown",
      withdraw: reading?.withdraw ?? "unknown",
      transfer: reading?.transfer ?? "unknown",
      ...(ips === undefined ? { ipRestricted: "unknown" } : ipFacts(ips)),
      unknownTokens: reading?.unknownTokens ?? [],
      evidence: {
        authorities: data.authorities ? tokenEvidence(data.authorities) : null,
        ips: ips ? tokenEvidence(ips) : null,
      },
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.code) : undefined;
  },
};
