/**
 * MEXC: no key-permission endpoint (mexcdevelop/mexc-api-sdk#60). `POST /api/v3/apiKeyInfo` exists
 * but WRITES the IP whitelist: it is never called. Opt-in probe: `GET /api/v3/account`
 * (`spotPrivateGetAccount`), a read whose `canWithdraw` probably describes the account rather than
 * the key (unconfirmed): `true` rejects the key, anything else leaves withdraw `unknown`, so a probe
 * can never accept a key. Source: https://www.mexc.com/api-docs/spot-v3/
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { mexcModel } from "./probe.model.js";
import { errorAnswer, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "spotPrivateGetAccount";

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "700007": "PERMISSION_DENIED",
  "700002": "INVALID_KEY",
  "10072": "INVALID_KEY",
  "700006": "IP_NOT_ALLOWED",
};

const ErrorBody = z.looseObject({ code: z.number(), msg: z.string().optional() });
const Account = z.looseObject({ canTrade: z.boolean(), canWithdraw: z.boolean() });

/** MEXC (probe-only: can only reject). */
export const mexc: ExchangeSpec = {
  id: "mexc",
  status: "probe-only",
  source: "https://www.mexc.com/api-docs/spot-v3/",
  model: mexcModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const err = shape(ErrorBody, answers[0]);
    if (err && err.code !== 200 && err.code !== 0) {
      return errorAnswer("mexc", matchCode(ERRORS, err.code), err.code);
    }
    const account = shape(Account, answers[0]);
    if (answers.length !== 1 || !account) return malformed("mexc", "body");
    return permissions("mexc", {
      read: true,
      trade: "unknown",
      /* Precondition: an unconfirmed parser never reports withdraw as false. */
      withdraw: account.canWithdraw ? true : "unknown",
      transfer: "unknown",
      ipRestricted: "unknown",
      evidence: { canTrade: account.canTrade, canWithdraw: account.canWithdraw },
      source: "probe",
    });
  },
  classifyError(body) {
    const err = shape(ErrorBody, body);
    return err ? matchCode(ERRORS, err.code) : undefined;
  },
};
