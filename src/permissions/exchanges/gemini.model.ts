/**
 * Gemini's key-permission model: `POST /v1/roles` returns one boolean per role.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const ROLES = primary("https://docs.gemini.com/roles", "Roles — Auditor, Trader, Fund Manager");

/** Gemini. */
export const geminiModel: PermissionModel = {
  exchange: "gemini",
  status: "confirmed",
  endpoint: "POST /v1/roles",
  values: [
    plain(
      "isAuditor",
      "isAuditor",
      ["read"],
      ROLES,
      "read-only; cannot be combined with other roles",
    ),
    plain("isTrader", "isTrader", ["trade"], ROLES),
    {
      value: "isFundManager",
      field: "isFundManager",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v1/withdraw/:currency", "POST /v1/account/transfer/:currency"],
      cite: ROLES,
      note: "withdraw crypto and internal transfers between accounts",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v1/withdraw/:currency",
      moves: "crypto withdrawal",
      requires: ["isFundManager"],
      cite: ROLES,
    },
    {
      endpoint: "POST /v1/account/transfer/:currency",
      moves: "between accounts of the group",
      requires: ["isFundManager"],
      cite: ROLES,
    },
  ],
  accountRules: [
    {
      rule: "ccxt accepts only account-scoped keys; master keys are refused before any call.",
      cite: ROLES,
    },
  ],
  notes: ["A boolean `is…` field the model does not list is an UNKNOWN_TOKEN."],
};
