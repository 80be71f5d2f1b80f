/**
 * Bitfinex v2: `POST /v2/auth/r/permissions` (`privatePostAuthRPermissions`): rows
 * `[SCOPE, READ, WRITE]`; no IP field. Source: https://docs.bitfinex.com/reference/key-permissions
 * (documented schema; the fixture is constructed from it, see docs/permissions.md).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { bitfinexModel } from "./bitfinex.model.js";
import { grantTable } from "./model.js";
import { errorAnswer, malformed, matchCode, permissions, readTokens, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "privatePostAuthRPermissions";

/** Value → grants, from the cited model (bitfinexModel). */
const WRITE = grantTable(bitfinexModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "10100": "INVALID_KEY",
  "apikey: invalid": "INVALID_KEY",
  "apikey: digest invalid": "INVALID_KEY",
};

const Bit = z.union([z.literal(0), z.literal(1)]);
const Rows = z.array(z.tuple([z.string(), Bit, Bit]));
const ErrorRow = z.tuple([z.literal("error"), z.number(), z.string()]).rest(z.unknown());

/** Bitfinex v2. */
export const bitfinex: ExchangeSpec = {
  id: "bitfinex",
  status: "confirmed",
  source: "https://docs.bitfinex.com/reference/key-permissions",
  model: bitfinexModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    /* Precondition: a Bitfinex ["error", code, message] body is an error. */
    const err = shape(ErrorRow, answers[0]);
    if (err) return errorAnswer("bitfinex", matchCode(ERRORS, err[1]), err[1]);
    const rows = shape(Rows, answers[0]);
    if (answers.length !== 1 || !rows) return malformed("bitfinex", "rows");
    const scopes = new Set(rows.map((r) => r[0]));
    const writes = rows.filter((r) => r[2] === 1).map((r) => r[0]);
    // Scopes not in the table are unknown whether they are on or off: a new scope could matter.
    const unknownScopes = [...scopes].filter((s) => !Object.hasOwn(WRITE, s));
    const reading = readTokens(writes, WRITE);
    const unknownTokens = [...new Set([...unknownScopes, ...reading.unknownTokens])];
    const unknown = unknownTokens.length > 0;
    const settled = (granted: boolean, ...needed: string[]) =>
      granted ? true : needed.every((s) => scopes.has(s)) && !unknown ? false : "unknown";
    return permissions("bitfinex", {
      read: rows.some((r) => r[1] === 1) ? true : unknown ? "unknown" : false,
      trade: settled(reading.trade === true, "orders"),
      /* Precondition: a missing withdraw scope makes withdraw unknown. */
      withdraw: settled(reading.withdraw === true, "withdraw", "ui_withdraw"),
      transfer: settled(reading.transfer === true, "wallets", "bfxpay"),
      ipRestricted: "unknown", // Bitfinex reports no IP binding
      unknownTokens,
      evidence: {
        write: Object.freeze(writes.slice(0, 32)),
        read: Object.freeze(
          rows
            .filter((r) => r[1] === 1)
            .map((r) => r[0])
            .slice(0, 32),
        ),
      },
    });
  },
  classifyError(body) {
    const err = shape(ErrorRow, body);
    return err ? (matchCode(ERRORS, err[1]) ?? matchCode(ERRORS, err[2])) : undefined;
  },
};
