/**
 * WOO X v3: `GET /v3/account/credentials` (`v3PrivateGetAccountCredentials`, called with
 * `size=1000`, the documented maximum) lists the account's keys; the key under test is the row whose
 * `apiKey` equals it. Model and citations: ./woo.model.ts.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
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
import { wooModel } from "./woo.model.js";

const METHOD = "v3PrivateGetAccountCredentials";
const PAGE_SIZE = 1000;
const TOKENS = grantTable(wooModel, "data.rows[].permissions");

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "-1001": "INVALID_KEY",
  "-1002": "INVALID_KEY",
};

const Envelope = z.looseObject({
  success: z.boolean(),
  code: z.union([z.string(), z.number()]).optional(),
});
const Row = z.looseObject({
  apiKey: z.string(),
  permissions: z.array(z.string()),
  allowedIPs: z.array(z.string()).optional(),
  accountName: z.string().optional(),
});
const Data = z.looseObject({ rows: z.array(z.unknown()) });

/** WOO X (API v3). */
export const woo: ExchangeSpec = {
  id: "woo",
  status: "confirmed",
  source: "https://developer.woox.io/api-reference/endpoint/account/credentials",
  model: wooModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({ size: PAGE_SIZE }) }],
  parse(answers, key) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("woo", "success");
    /* Precondition: WOO answers are read only when success is true. */
    if (env.success !== true) return errorAnswer("woo", matchCode(ERRORS, env.code), env.code);
    const data = shape(Data, (answers[0] as { data?: unknown }).data);
    if (!data) return malformed("woo", "data.rows");
    /* Precondition: only the row of the key under test is read; none or several → malformed. */
    const mine = data.rows.filter(
      (r) =>
        typeof r === "object" && r !== null && (r as { apiKey?: unknown }).apiKey === key.apiKey,
    );
    if (mine.length !== 1) return malformed("woo", "data.rows[apiKey]");
    const row = shape(Row, mine[0]);
    if (!row) return malformed("woo", "data.rows[].permissions");
    const reading = readTokens(row.permissions, TOKENS);
    /* Precondition: a TRADE key's transfer capability is unknown (the transfer endpoint names no permission). */
    const transfer =
      reading.transfer === true ? true : reading.trade === false ? reading.transfer : "unknown";
    return permissions("woo", {
      read: reading.read,
      trade: reading.trade,
      withdraw: reading.withdraw,
      transfer,
      ...ipFacts(row.allowedIPs ?? []),
      unknownTokens: reading.unknownTokens,
      evidence: {
        permissions: tokenEvidence(row.permissions),
        ...(row.allowedIPs ? { allowedIPs: tokenEvidence(row.allowedIPs) } : {}),
        ...(row.accountName ? { subAccount: row.accountName !== "Main" } : {}),
      },
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env && env.success !== true ? matchCode(ERRORS, env.code) : undefined;
  },
};
