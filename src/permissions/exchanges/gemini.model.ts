/**
 * Gemini's key-permission model: `POST /v1/roles` returns one boolean per role.
 *
 * @packageDocumentation
 */
import { type PermissionModel, plain, primary } from "./model.js";

const ROLES_URL = "https://docs.gemini.com/roles";
const AUDITOR = primary(
  ROLES_URL,
  "Roles — Auditor",
  "Assigning the Auditor role to an API key allows this API key to: Check balances; Check the status of orders; See transfers such as deposits and withdrawals",
);
const TRADER = primary(
  ROLES_URL,
  "Roles — Trader",
  "Assigning the Trader role to an API key allows this API key to: Check balances; Place and cancel orders; Check the status of orders",
);
const FUND_MANAGER = primary(
  ROLES_URL,
  "Roles — Fund Manager",
  "Withdraw cryptocurrency funds … Execute internal transfers between two accounts within the same Master group",
);
const ENDPOINT = primary(
  "https://developer.gemini.com/rest-api/common/admin/roles-endpoint",
  "Roles Endpoint — Responses (isAuditor, isFundManager, isTrader)",
  "The `Auditor` role cannot be combined with other roles. `Fund Manager` and `Trader` can be combined.",
);
const ADMINISTRATOR = primary(
  "https://developer.gemini.com/roles",
  "Roles — Administrator",
  "The Administrator role is exclusive to Master API keys.",
);

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
      AUDITOR,
      "read-only; cannot be combined with other roles (Roles Endpoint)",
    ),
    plain(
      "isTrader",
      "isTrader",
      ["trade"],
      TRADER,
      "places and cancels orders; no withdrawal or transfer in its list",
    ),
    {
      value: "isFundManager",
      field: "isFundManager",
      grants: ["withdraw", "transfer"],
      fundMovingEndpoints: ["POST /v1/withdraw/:currency", "POST /v1/account/transfer/:currency"],
      cite: FUND_MANAGER,
      note: "withdraw crypto and internal transfers between accounts",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /v1/withdraw/:currency",
      moves: "crypto withdrawal",
      requires: ["isFundManager"],
      cite: FUND_MANAGER,
    },
    {
      endpoint: "POST /v1/account/transfer/:currency",
      moves: "between accounts of the group",
      requires: ["isFundManager"],
      cite: FUND_MANAGER,
    },
  ],
  accountRules: [
    {
      rule: "ccxt accepts only account-scoped keys; master keys are refused before any call. A master key's Administrator role (isAdministrator or any other unlisted is… flag) is an UNKNOWN_TOKEN, so it fails closed.",
      cite: ADMINISTRATOR,
    },
    {
      rule: "The response is one boolean per role; Fund Manager may be combined with Trader, so isFundManager is read on every key.",
      cite: ENDPOINT,
    },
  ],
  notes: [
    "A boolean `is…` field the model does not list is an UNKNOWN_TOKEN.",
    "Re-read 2026-12: docs.gemini.com/roles and developer.gemini.com/roles list the same four roles; only Fund Manager names a withdrawal or transfer.",
  ],
};
