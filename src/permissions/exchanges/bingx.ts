/**
 * BingX: `GET /openApi/v1/account/apiPermissions` (`accountV1PrivateGetAccountApiPermissions`).
 * UNCONFIRMED: the shape and the permission numbers (5 = withdraw, 4 = universal transfer, 7 =
 * sub-account transfer) come only from a third-party SDK model. Until a verbatim documented sample
 * backs them, the parser can only reject: a reported withdraw or transfer permission rejects the
 * key, and its absence leaves withdraw and transfer `unknown`.
 * Source: https://bingx-api.github.io/docs/#/en-us/common/sub-account (shape from bingx_py).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { bingxModel } from "./bingx.model.js";
import { errorAnswer, ipFacts, malformed, matchCode, permissions, shape } from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "accountV1PrivateGetAccountApiPermissions";

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "100419": "IP_NOT_ALLOWED",
  "100001": "INVALID_KEY",
  "100413": "INVALID_KEY",
};

const Envelope = z.looseObject({ code: z.number() });
const Data = z.looseObject({
  permissions: z.array(z.number()),
  ipAddresses: z.array(z.string()).optional(),
});

/** BingX (unconfirmed: can only reject). */
export const bingx: ExchangeSpec = {
  id: "bingx",
  status: "unconfirmed",
  source: "https://bingx-api.github.io/docs/#/en-us/common/sub-account (3rd-party model)",
  model: bingxModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("bingx", "code");
    /* Precondition: BingX answers are read only when code is 0. */
    if (env.code !== 0) return errorAnswer("bingx", matchCode(ERRORS, env.code), env.code);
    const data = shape(Data, (answers[0] as { data?: unknown }).data);
    if (!data) return malformed("bingx", "data");
    const has = (n: number) => data.permissions.includes(n);
    return permissions("bingx", {
      read: has(2) ? true : "unknown",
      trade: has(1) || has(3) ? true : "unknown",
      /* Precondition: an unconfirmed parser never reports withdraw as false. */
      withdraw: has(5) ? true : "unknown",
      transfer: has(4) || has(7) ? true : "unknown",
      ...(data.ipAddresses === undefined ? { ipRestricted: "unknown" } : ipFacts(data.ipAddresses)),
      evidence: { permissions: Object.freeze(data.permissions.slice(0, 32).map(String)) },
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.code) : undefined;
  },
};
