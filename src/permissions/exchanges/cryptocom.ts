/**
 * Crypto.com Exchange: no key-permission endpoint. Opt-in probe: `private/get-withdrawal-history`
 * (`v1PrivatePostPrivateGetWithdrawalHistory`), a documented read ("Withdrawal setting must be
 * enabled for your API Key"). A success proves withdraw is enabled and rejects the key; a refusal
 * proves nothing (its error code is unconfirmed), so a probe can never accept a key.
 * Source: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html (docs text via 3rd-party).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { cryptocomModel } from "./probe.model.js";
import { errorAnswer, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "v1PrivatePostPrivateGetWithdrawalHistory";

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "10002": "PERMISSION_DENIED",
  "40101": "INVALID_KEY",
  "40103": "IP_NOT_ALLOWED",
  "10003": "IP_NOT_ALLOWED",
};

const Envelope = z.looseObject({ code: z.number() });

/** Crypto.com (probe-only: can only reject). */
export const cryptocom: ExchangeSpec = {
  id: "cryptocom",
  status: "probe-only",
  source: "https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html",
  model: cryptocomModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("cryptocom", "code");
    if (env.code !== 0) return errorAnswer("cryptocom", matchCode(ERRORS, env.code), env.code);
    return permissions("cryptocom", {
      read: true,
      trade: "unknown",
      withdraw: true, // the withdrawal history answered: the key has the withdrawal setting
      transfer: "unknown",
      ipRestricted: "unknown",
      evidence: { probe: "private/get-withdrawal-history", answered: true },
      source: "probe",
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.code) : undefined;
  },
};
