/**
 * Deribit: the scope in `public/auth` is UNCONFIRMED (the documented sample returns only
 * `"connection mainaccount"`), and `private/list_api_keys` returns the `client_secret` of every key,
 * so it must never be called. The spec therefore makes no call: Deribit keys are reported
 * unsupported. The parser reads a `public/auth` answer for when a documented sample backs it: a
 * `wallet:read_write` scope (withdraw) rejects, anything else is `unknown`.
 * Source: https://docs.deribit.com/api-reference/authentication/public-auth,
 * https://docs.deribit.com/articles/access-scope
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { deribitModel } from "./deribit.model.js";
import { errorAnswer, malformed, matchCode, permissions, shape, tokenEvidence } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "13004": "INVALID_KEY",
  "13009": "INVALID_KEY",
  "13021": "PERMISSION_DENIED",
};

const ErrorBody = z.looseObject({ error: z.looseObject({ code: z.number() }) });
const Auth = z.looseObject({ result: z.looseObject({ scope: z.string() }) });

/** Deribit (unsupported: no safe, confirmed call). */
export const deribit: ExchangeSpec = {
  id: "deribit",
  status: "unsupported",
  source: "https://docs.deribit.com/api-reference/authentication/public-auth",
  model: deribitModel,
  readOnlyMethods: [],
  plan: () => [],
  parse(answers) {
    const err = shape(ErrorBody, answers[0]);
    if (err) return errorAnswer("deribit", matchCode(ERRORS, err.error.code), err.error.code);
    const auth = shape(Auth, answers[0]);
    if (answers.length !== 1 || !auth) return malformed("deribit", "result");
    const scopes = auth.result.scope.split(" ").filter((s) => s.length > 0);
    return permissions("deribit", {
      read: "unknown",
      trade: "unknown",
      /* Precondition: an unconfirmed parser never reports withdraw as false. */
      withdraw: scopes.includes("wallet:read_write") ? true : "unknown",
      transfer: "unknown",
      ipRestricted: "unknown",
      evidence: { scope: tokenEvidence(scopes) },
    });
  },
  classifyError(body) {
    const err = shape(ErrorBody, body);
    return err ? matchCode(ERRORS, err.error.code) : undefined;
  },
};
