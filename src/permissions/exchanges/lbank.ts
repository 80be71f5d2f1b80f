/**
 * LBank (unconfirmed): `POST /v2/supplement/api_Restrictions.do`
 * (`spotPrivatePostSupplementApiRestrictions`). The response fields are not documented in any
 * official text found, so the parser only rejects: a `true` flag whose name mentions withdraw or
 * transfer makes that capability `true`; everything else is `unknown`. Model: ./lbank.model.ts.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { lbankModel } from "./lbank.model.js";
import { errorAnswer, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "spotPrivatePostSupplementApiRestrictions";

/** LBank's REST error codes (support article 21534616606105). */
const ERRORS: Readonly<Record<string, FindingCode>> = {
  "10005": "INVALID_KEY",
  "10006": "INVALID_KEY",
  "10007": "INVALID_KEY",
  "10022": "PERMISSION_DENIED",
};

const Envelope = z.looseObject({
  result: z.union([z.literal("true"), z.literal("false"), z.boolean()]),
  error_code: z.union([z.number(), z.string()]).optional(),
});
const Data = z.record(z.string(), z.unknown());

const flagged = (data: Record<string, unknown>, pattern: RegExp) =>
  Object.entries(data).some(([name, v]) => pattern.test(name) && (v === true || v === "true"));

/** LBank (unconfirmed: can only reject). */
export const lbank: ExchangeSpec = {
  id: "lbank",
  status: "unconfirmed",
  source: "https://www.lbank.com/support/articles/21535051026457",
  model: lbankModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("lbank", "result");
    /* Precondition: LBank answers are read only when result is "true". */
    if (env.result !== "true" && env.result !== true) {
      return errorAnswer("lbank", matchCode(ERRORS, env.error_code), env.error_code);
    }
    const data = shape(Data, (answers[0] as { data?: unknown }).data);
    if (!data) return malformed("lbank", "data");
    /* Precondition: an unconfirmed parser never reports withdraw or transfer as false. */
    const withdraw = flagged(data, /withdraw/i) ? true : "unknown";
    const transfer = flagged(data, /transfer/i) ? true : "unknown";
    return permissions("lbank", {
      read: "unknown",
      trade: "unknown",
      withdraw,
      transfer,
      ipRestricted: "unknown",
      evidence: { withdrawFlag: withdraw === true, transferFlag: transfer === true },
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.error_code) : undefined;
  },
};
