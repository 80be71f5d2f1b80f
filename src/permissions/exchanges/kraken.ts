/**
 * Kraken: `POST /0/private/GetApiKeyInfo` (`privatePostGetApiKeyInfo`, no permission required):
 * `result.permissions` strings and `result.ipAllowlist`. The thirteen strings of the response
 * schema's permissions table are known (the withdrawal-address ones read as unknown withdraw and
 * transfer); any other string makes the verdict unknown.
 * Source: https://docs.kraken.com/api-reference/account-data/get-api-key-info (schema and sample).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { krakenModel } from "./kraken.model.js";
import { grantTable } from "./model.js";
import {
  errorAnswer,
  ipFacts,
  malformed,
  matchCode,
  permissions,
  readTokens,
  shape,
  tokenEvidence,
} from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "privatePostGetApiKeyInfo";

/** Value → grants, from the cited model (krakenModel). */
const TOKENS = grantTable(krakenModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "EGeneral:Permission denied": "PERMISSION_DENIED",
  "EAPI:Invalid key": "INVALID_KEY",
  "EAPI:Invalid signature": "INVALID_KEY",
};

const Envelope = z.looseObject({ error: z.array(z.string()) });
const Result = z.looseObject({
  permissions: z.array(z.string()).optional(),
  ipAllowlist: z.array(z.string()).optional(),
});

/** Kraken spot. */
export const kraken: ExchangeSpec = {
  id: "kraken",
  status: "confirmed",
  source: "https://docs.kraken.com/api-reference/account-data/get-api-key-info",
  model: krakenModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("kraken", "error");
    /* Precondition: Kraken answers are read only when the error array is empty. */
    if (env.error.length > 0) {
      const first = env.error[0];
      return errorAnswer("kraken", matchCode(ERRORS, first), first);
    }
    const result = shape(Result, (answers[0] as { result?: unknown }).result);
    if (!result) return malformed("kraken", "result");
    const reading = result.permissions && readTokens(result.permissions, TOKENS);
    return permissions("kraken", {
      read: reading?.read ?? "unknown",
      trade: reading?.trade ?? "unknown",
      withdraw: reading?.withdraw ?? "unknown",
      transfer: reading?.transfer ?? "unknown",
      ...(result.ipAllowlist === undefined
        ? { ipRestricted: "unknown" }
        : ipFacts(result.ipAllowlist)),
      unknownTokens: reading?.unknownTokens ?? [],
      evidence: {
        permissions: result.permissions ? tokenEvidence(result.permissions) : null,
        ipAllowlist: result.ipAllowlist ? tokenEvidence(result.ipAllowlist) : null,
      },
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.error[0]) : undefined;
  },
};
