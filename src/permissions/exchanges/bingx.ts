/**
 * BingX: `GET /openApi/v1/account/apiPermissions` (`accountV1PrivateGetAccountApiPermissions`),
 * "Query API KEY Permissions". The answer lists the calling key's numeric permission codes, read
 * against the documented code table (bingx.model.ts): 4 universal transfer, 5 withdraw and 7
 * intra-sub-account transfer move funds; 1 spot and 3 contract trading do not. A code the table
 * lacks is an UNKNOWN_TOKEN (withdraw and transfer then `unknown`). The documented sample is the
 * bare object; BingX's usual `{code, msg, data}` envelope is read too, and a non-zero code is an
 * error.
 * Source: https://bingx-api.github.io/docs-v3/ (BingX-API/docs-v3), "Query API KEY Permissions".
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { bingxModel } from "./bingx.model.js";
import { grantTable } from "./model.js";
import {
  errorAnswer,
  ipFacts,
  malformed,
  matchCode,
  permissions,
  readTokens,
  shape,
  tokenEvidence,
} from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "accountV1PrivateGetAccountApiPermissions";

/** The code table of the cited model (bingx.model.ts). */
const TOKENS = grantTable(bingxModel, "permissions[]");

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "100419": "IP_NOT_ALLOWED",
  "100001": "INVALID_KEY",
  "100413": "INVALID_KEY",
};

const Envelope = z.looseObject({ code: z.number() });
const Data = z.looseObject({
  permissions: z.array(z.number().int()),
  ipAddresses: z.array(z.string()).optional(),
});

/** The fields of the documented sample. */
const DOCUMENTED = new Set(["apiKey", "permissions", "ipAddresses", "note"]);

/** The permission object: the bare documented sample, or the `data` of a `{code: 0}` envelope. */
function permissionObject(body: unknown): {
  data?: z.infer<typeof Data> | undefined;
  code?: number;
} {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return {};
  if (Object.hasOwn(body, "code")) {
    const env = shape(Envelope, body);
    if (!env) return {};
    if (env.code !== 0) return { code: env.code };
    return { data: shape(Data, (body as { data?: unknown }).data) };
  }
  return { data: shape(Data, body) };
}

/** BingX. */
export const bingx: ExchangeSpec = {
  id: "bingx",
  status: "confirmed",
  source:
    "https://bingx-api.github.io/docs-v3/#/en/Account%20and%20Wallet/Sub-account%20Management/%20Query%20API%20KEY%20Permissions",
  model: bingxModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    if (answers.length !== 1) return malformed("bingx", "answers");
    const { data, code } = permissionObject(answers[0]);
    /* Precondition: a BingX body carrying a non-zero code is an error, whatever else it holds. */
    if (code !== undefined) return errorAnswer("bingx", matchCode(ERRORS, code), code);
    if (!data) return malformed("bingx", "permissions");
    const codes = data.permissions.map(String);
    /* Precondition: any field the documented sample lacks that is switched on is an unknown token. */
    const extra = Object.entries(data)
      .filter(([k, v]) => !DOCUMENTED.has(k) && v !== false && v !== null && typeof v !== "string")
      .map(([k]) => k);
    const reading = readTokens([...codes, ...extra], TOKENS);
    return permissions("bingx", {
      read: reading.read === true ? true : "unknown",
      trade: reading.trade,
      withdraw: reading.withdraw,
      transfer: reading.transfer,
      ...(data.ipAddresses === undefined ? { ipRestricted: "unknown" } : ipFacts(data.ipAddresses)),
      unknownTokens: reading.unknownTokens,
      evidence: { permissions: tokenEvidence([...codes, ...extra]) },
    });
  },
  classifyError(body) {
    const env = shape(Envelope, body);
    return env && env.code !== 0 ? matchCode(ERRORS, env.code) : undefined;
  },
};
