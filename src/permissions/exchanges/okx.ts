/**
 * OKX v5: `GET /api/v5/account/config` (`privateGetAccountConfig`, permission Read): `perm` is a
 * comma list of `read_only`, `trade`, `withdraw`; `ip` the bound addresses (`""` when none).
 * `trade` also grants transfer: "Funds transfer" needs only Trade (see okx.model.ts).
 * Source: https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration
 *
 * @packageDocumentation
 */
import { z } from "zod";
import type { FindingCode } from "../types.js";
import { grantTable } from "./model.js";
import { okxModel } from "./okx.model.js";
import {
  errorAnswer,
  ipFacts,
  malformed,
  matchCode,
  permissions,
  readTokens,
  shape,
  splitList,
  tokenEvidence,
} from "./shared.js";
import type { ExchangeSpec } from "./spec.js";

const METHOD = "privateGetAccountConfig";

/** Value → grants, from the cited model (okxModel). */
const TOKENS = grantTable(okxModel);

const ERRORS: Readonly<Record<string, FindingCode>> = {
  "50110": "IP_NOT_ALLOWED",
  "50111": "INVALID_KEY",
  "50113": "INVALID_KEY",
  "50105": "INVALID_KEY",
  "50119": "INVALID_KEY",
  "50100": "INVALID_KEY",
  "50120": "PERMISSION_DENIED",
};

const Envelope = z.looseObject({ code: z.string() });
const Config = z.looseObject({
  perm: z.string().optional(),
  ip: z.string().optional(),
  uid: z.string().optional(),
  mainUid: z.string().optional(),
});
const Data = z.tuple([Config]);

/** OKX v5. */
export const okx: ExchangeSpec = {
  id: "okx",
  status: "confirmed",
  source: "https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration",
  model: okxModel,
  readOnlyMethods: [METHOD],
  plan: () => [{ method: METHOD, params: () => ({}) }],
  parse(answers) {
    const env = shape(Envelope, answers[0]);
    if (answers.length !== 1 || !env) return malformed("okx", "code");
    /* Precondition: OKX answers are read only when code is "0". */
    if (env.code !== "0") return errorAnswer("okx", matchCode(ERRORS, env.code), env.code);
    const data = shape(Data, (answers[0] as { data?: unknown }).data);
    if (!data) return malformed("okx", "data");
    const [config] = data;
    if (config.perm === undefined) {
      return permissions("okx", {
        read: "unknown",
        trade: "unknown",
        withdraw: "unknown",
        transfer: "unknown",
        ipRestricted:
          config.ip === undefined ? "unknown" : ipFacts(splitList(config.ip)).ipRestricted,
        evidence: { perm: null },
      });
    }
    const tokens = splitList(config.perm);
    const reading = readTokens(tokens, TOKENS);
    return permissions("okx", {
      read: reading.read === false ? true : reading.read, // every OKX key can read
      trade: reading.trade,
      withdraw: reading.withdraw,
      /* Precondition: an OKX Trade key can transfer (Funds transfer needs only Trade: master → sub, sub → master). */
      transfer: reading.transfer,
      ...(config.ip === undefined ? { ipRestricted: "unknown" } : ipFacts(splitList(config.ip))),
      unknownTokens: reading.unknownTokens,
      evidence: {
        perm: tokenEvidence(tokens),
        ...(config.ip === undefined ? {} : { ip: tokenEvidence(splitList(config.ip)) }),
        ...(config.uid && config.mainUid ? { subAccount: config.uid !== config.mainUid } : {}),
      },
    });
  },
  classifyError: (body) => {
    const env = shape(Envelope, body);
    return env ? matchCode(ERRORS, env.code) : undefined;
  },
};
