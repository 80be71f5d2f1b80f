/**
 * Gate v4: `GET /api/v4/account/detail` (`privateAccountGetDetail`) reports the key's IP whitelist
 * but no permission list. `GET /api/v4/account/main_keys` lists permissions of every main-account
 * key, but has no withdraw permission name and cannot identify the calling key, so it is not used.
 * UNCONFIRMED: withdraw, transfer and trade stay `unknown`; every Gate key is rejected until a
 * documented answer settles them. The one call still checks that the key works.
 * Source: gateapi-python docs `AccountApi.md`, `Key.md`, `KeyPerms.md`.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { gateModel } from "./gate.model.js";
import { errorAnswer, ipFacts, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "privateAccountGetDetail";

const ERRORS: Readonly<Record<string, FindingCode>> = {
  INVALID_KEY: "INVALID_KEY",
  INVALID_SIGNATURE: "INVALID_KEY",
  MISSING_REQUIRED_HEADER: "INVALID_KEY",
  FORBIDDEN: "PERMISSION_DENIED",
  READ_ONLY: "PERMISSION_DENIED",
  IP_FORBIDDEN: "IP_NOT_ALLOWED",
};

const ErrorBody = z.looseObject({ label: z.string() });
const Detail = z.looseObject({ ip_whitelist: z.array(z.string()).optional() });

/** Gate (unconfirmed: permissions unknown). */
export const gate: ExchangeSpec = {
  id: "gate",
  status: "unconfirmed",
  source: "https://github.com/gateio/gateapi-python (AccountApi.md, Key.md, KeyPerms.md)",
  model: gateModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    /* Precondition: a Gate body carrying a `label` is an error, whatever else it holds. */
    const err = shape(ErrorBody, answers[0]);
    if (err) return errorAnswer("gate", matchCode(ERRORS, err.label), err.label);
    const detail = shape(Detail, answers[0]);
    if (answers.length !== 1 || !detail || Array.isArray(answers[0])) {
      return malformed("gate", "body");
    }
    return permissions("gate", {
      read: true,
      trade: "unknown",
      withdraw: "unknown",
      transfer: "unknown",
      ...(detail.ip_whitelist === undefined
        ? { ipRestricted: "unknown" }
        : ipFacts(detail.ip_whitelist)),
      evidence: { ipWhitelistEntries: detail.ip_whitelist?.length ?? null },
    });
  },
  classifyError: (body) => matchCode(ERRORS, shape(ErrorBody, body)?.label),
};
