/**
 * Gemini: `POST /v1/roles` (`privatePostV1Roles`): `isAuditor`, `isTrader`, `isFundManager`
 * (withdraw crypto and internal transfers); no IP field. ccxt accepts only account-scoped keys.
 * Source: https://docs.gemini.com/roles (documented fields; the fixture is constructed from them).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { geminiModel } from "./gemini.model.js";
import { type Evidence, errorAnswer, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "privatePostV1Roles";

/** The role flags of the cited model (gemini.model.ts). */
const KNOWN = new Set(geminiModel.values.map((v) => v.value));

const ERRORS: Readonly<Record<string, FindingCode>> = {
  MissingRole: "PERMISSION_DENIED",
  InvalidSignature: "INVALID_KEY",
  InvalidApiKey: "INVALID_KEY",
  InvalidIP: "IP_NOT_ALLOWED",
};

const ErrorBody = z.looseObject({ result: z.literal("error"), reason: z.string().optional() });
const Body = z.record(z.string(), z.unknown());

/** Gemini. */
export const gemini: ExchangeSpec = {
  id: "gemini",
  status: "confirmed",
  source: "https://docs.gemini.com/roles",
  model: geminiModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    /* Precondition: a Gemini body with result "error" is an error, whatever else it holds. */
    const err = shape(ErrorBody, answers[0]);
    if (err) return errorAnswer("gemini", matchCode(ERRORS, err.reason), err.reason);
    const body = shape(Body, answers[0]);
    if (answers.length !== 1 || !body || Array.isArray(answers[0])) {
      return malformed("gemini", "body");
    }
    const evidence: Evidence = {};
    const unknownTokens: string[] = [];
    for (const [name, value] of Object.entries(body)) {
      if (KNOWN.has(name) && typeof value === "boolean") evidence[name] = value;
      else if (/^is[A-Z]/.test(name) || value === true) unknownTokens.push(name);
    }
    const flag = (name: string) => {
      const v = body[name];
      return typeof v === "boolean" && (v || unknownTokens.length === 0) ? v : "unknown";
    };
    const fundManager = flag("isFundManager");
    return permissions("gemini", {
      read: Object.keys(evidence).length > 0 ? true : "unknown",
      trade: flag("isTrader"),
      withdraw: fundManager,
      transfer: fundManager,
      ipRestricted: "unknown", // Gemini reports no IP binding
      unknownTokens,
      evidence,
    });
  },
  classifyError: (body) => matchCode(ERRORS, shape(ErrorBody, body)?.reason),
};
