/**
 * Bitstamp: no key-permission endpoint; permissions are granular and per currency, and no
 * read-only call proves the withdraw permission (the withdrawal-requests list needs a separate
 * view permission). The spec makes no call: Bitstamp keys are reported unsupported.
 * Source: https://www.bitstamp.net/api/
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { bitstampModel } from "./probe.model.js";
import { failed, matchCode, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const ERRORS: Readonly<Record<string, FindingCode>> = {
  API0005: "INVALID_KEY",
  "No permission found": "PERMISSION_DENIED",
};

const ErrorBody = z.looseObject({
  status: z.literal("error"),
  reason: z.unknown().optional(),
  code: z.string().optional(),
});

/** Bitstamp (unsupported). */
export const bitstamp: ExchangeSpec = {
  id: "bitstamp",
  status: "unsupported",
  source: "https://www.bitstamp.net/api/",
  model: bitstampModel,
  readOnlyMethods: [],
  plan: () => [],
  parse: () => failed("bitstamp", "UNSUPPORTED"),
  classifyError(body) {
    const err = shape(ErrorBody, body);
    if (!err) return undefined;
    return matchCode(ERRORS, err.code) ?? matchCode(ERRORS, err.reason);
  },
};
