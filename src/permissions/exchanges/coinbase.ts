/**
 * Coinbase Advanced Trade (CDP keys): `GET /api/v3/brokerage/key_permissions`
 * (`v3PrivateGetBrokerageKeyPermissions`): `can_view`, `can_trade`, `can_transfer`; no IP field.
 * Source: https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/data-api/get-api-key-permissions
 * (documented schema; the fixture is constructed from it, see docs/permissions.md).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { coinbaseModel } from "./coinbase.model.js";
import { type Evidence, errorAnswer, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "v3PrivateGetBrokerageKeyPermissions";

/** The flags of the cited model (coinbase.model.ts). */
const KNOWN = new Set(coinbaseModel.values.map((v) => v.value));

const ERRORS: Readonly<Record<string, FindingCode>> = {
  PERMISSION_DENIED: "PERMISSION_DENIED",
  UNAUTHENTICATED: "INVALID_KEY",
  unauthorized: "INVALID_KEY",
  Unauthorized: "INVALID_KEY",
};

const ErrorBody = z.looseObject({ error: z.string() });
const Body = z.record(z.string(), z.unknown());

function errorLabel(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim().slice(0, 40);
  return shape(ErrorBody, body)?.error;
}

/** Coinbase Advanced Trade. */
export const coinbase: ExchangeSpec = {
  id: "coinbase",
  status: "confirmed",
  source:
    "https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/data-api/get-api-key-permissions",
  model: coinbaseModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const answer = answers[0];
    /* Precondition: a Coinbase body carrying an `error` field is an error, whatever else it holds. */
    const label = shape(ErrorBody, answer)?.error;
    if (label !== undefined) return errorAnswer("coinbase", matchCode(ERRORS, label), label);
    const body = shape(Body, answer);
    if (answers.length !== 1 || !body || Array.isArray(answer))
      return malformed("coinbase", "body");
    const evidence: Evidence = {};
    const unknownTokens: string[] = [];
    for (const [name, value] of Object.entries(body)) {
      if (KNOWN.has(name) && typeof value === "boolean") evidence[name] = value;
      else if (name.startsWith("can_") || value === true) unknownTokens.push(name);
    }
    if (typeof body.portfolio_type === "string") evidence.portfolio_type = body.portfolio_type;
    const flag = (name: string) => {
      const v = body[name];
      return typeof v === "boolean" && (v || unknownTokens.length === 0) ? v : "unknown";
    };
    const canTransfer = flag("can_transfer");
    return permissions("coinbase", {
      read: flag("can_view"),
      trade: flag("can_trade"),
      // `can_transfer` covers sends off Coinbase: it is both withdraw and transfer.
      withdraw: canTransfer,
      transfer: canTransfer,
      ipRestricted: "unknown", // Coinbase reports no IP binding
      unknownTokens,
      evidence,
    });
  },
  classifyError: (body) => matchCode(ERRORS, errorLabel(body)),
};
