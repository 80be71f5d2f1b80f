/**
 * Hyperliquid: `POST /info {"type":"userRole","user":<signer>}` (`publicPostInfo`, unsigned) where
 * `signer` is the address derived from the held private key (`key.signer`, supplied by the
 * binding) and `key.apiKey` is the account (ccxt `walletAddress`) the key trades for. Model and
 * citations: ./hyperliquid.model.ts.
 *
 * @packageDocumentation
 */
import { z } from "zod";
import { hyperliquidModel } from "./hyperliquid.model.js";
import { grantTable } from "./model.js";
import { failed, malformed, permissions, readTokens, shape } from "./shared.js";
import type { ExchangeSpec, KeyContext } from "./spec.js";

const METHOD = "publicPostInfo";
const ROLES = grantTable(hyperliquidModel, "role");
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The key context; `signer` is the address the binding derives from the private key. */
type HyperliquidKey = KeyContext;

const Answer = z.looseObject({
  role: z.string(),
  data: z.looseObject({ user: z.string().optional(), master: z.string().optional() }).optional(),
});

const sameAddress = (a: string | undefined, b: string | undefined) =>
  a !== undefined &&
  b !== undefined &&
  ADDRESS.test(a) &&
  ADDRESS.test(b) &&
  a.toLowerCase() === b.toLowerCase();

/** Hyperliquid. */
export const hyperliquid: ExchangeSpec = {
  id: "hyperliquid",
  status: "confirmed",
  source:
    "https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint#query-a-users-role",
  model: hyperliquidModel,
  derive: "evm-address-of-secret",
  readOnlyMethods: [METHOD],
  plan: (key: HyperliquidKey) => [
    {
      method: METHOD,
      params: () =>
        /* Precondition: the role is asked about the address derived from the held private key, never a claimed one. */
        key.signer !== undefined && ADDRESS.test(key.signer)
          ? { type: "userRole", user: key.signer }
          : failed("hyperliquid", "PERMISSION_UNKNOWN", { where: "signer" }),
    },
  ],
  parse(answers, key: HyperliquidKey) {
    const answer = shape(Answer, answers[0]);
    if (answers.length !== 1 || !answer) return malformed("hyperliquid", "role");
    const reading = readTokens([answer.role], ROLES);
    const unknown = {
      read: "unknown",
      trade: "unknown",
      withdraw: "unknown",
      transfer: "unknown",
    } as const;
    const evidence = { role: answer.role.slice(0, 32) };
    if (answer.role === "agent") {
      /* Precondition: an agent is accepted only for the account the key is used for. */
      if (!sameAddress(answer.data?.user, key.apiKey)) {
        return permissions("hyperliquid", {
          ...unknown,
          ipRestricted: false,
          evidence: { ...evidence, masterMatches: false },
        });
      }
      return permissions("hyperliquid", {
        read: reading.read,
        trade: reading.trade,
        withdraw: reading.withdraw,
        transfer: reading.transfer,
        ipRestricted: false,
        evidence: { ...evidence, masterMatches: true },
      });
    }
    if (answer.role === "user") {
      return permissions("hyperliquid", {
        read: reading.read,
        trade: reading.trade,
        withdraw: reading.withdraw,
        transfer: reading.transfer,
        ipRestricted: false,
        evidence: { ...evidence, signerIsAccount: sameAddress(key.signer, key.apiKey) },
      });
    }
    return permissions("hyperliquid", {
      ...unknown,
      ipRestricted: false,
      unknownTokens: reading.unknownTokens,
      evidence,
    });
  },
  classifyError: () => undefined,
};
