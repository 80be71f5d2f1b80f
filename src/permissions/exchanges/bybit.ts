/**
 * Bybit v5: `GET /v5/user/query-api` (`privateGetV5UserQueryApi`), "any permission can access".
 * Source: https://bybit-exchange.github.io/docs/v5/user/apikey-info (sample from the docs repo,
 * `docs/v5/user/apikey-info.mdx`).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { bybitModel } from "./bybit.model.js";
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

const METHOD = "privateGetV5UserQueryApi";

/** Value → grants, from the cited model (bybitModel). */
const TOKENS = grantTable(bybitModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "10003": "INVALID_KEY",
  "10004": "INVALID_KEY",
  "33004": "INVALID_KEY",
  "10005": "PERMISSION_DENIED",
  "10010": "IP_NOT_ALLOWED",
};

const Envelope = z.looseObject({ retCode: z.number() });
const Result = z.looseObject({
  readOnly: z.union([z.literal(0), z.literal(1)]),
  permissions: z.record(z.string(), z.array(z.string())),
  ips: z.array(z.string()).optional(),
});

/** Bybit v5. */
export const bybit: ExchangeSpec = {
  id: "bybit",
  status: "confirmed",
  source: "https://bybit-exchange.github.io/docs/v5/user/apikey-info",
  model: bybitModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("bybit", "retCode");
    /* Precondition: Bybit answers are read only when retCode is 0. */
    if (env.retCode !== 0) return errorAnswer("bybit", matchCode(ERRORS, env.retCode), env.retCode);
    const result = shape(Result, (answers[0] as { result?: unknown }).result);
    if (!result) return malformed("bybit", "result");
    const tokens = Object.entries(result.permissions).flatMap(([cat, list]) =>
      list.map((t) => `${cat}:${t}`),
    );
    const reading = readTokens(tokens, TOKENS);
    const walletListed = Object.hasOwn(result.permissions, "Wallet");
    return permissions("bybit", {
      read: true, // any key may call this endpoint and every key can read
      trade: result.readOnly === 1 ? false : reading.trade,
      // Withdraw is reported in the Wallet list: without that list the answer is unknown.
      withdraw: reading.withdraw === true ? true : walletListed ? reading.withdraw : "unknown",
      transfer: reading.transfer === true ? true : walletListed ? reading.transfer : "unknown",
      ...(result.ips === undefined ? { ipRestricted: "unknown" } : ipFacts(result.ips)),
      unknownTokens: reading.unknownTokens,
      evidence: {
        readOnly: result.readOnly,
        permissions: tokenEvidence(tokens),
        ...(result.ips ? { ips: tokenEvidence(result.ips) } : {}),
      },
    });
  },
  classifyError: (body) => {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.retCode) : undefined;
  },
};
