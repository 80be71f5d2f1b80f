/**
 * Small pure helpers shared by the per-exchange parsers: token tables, IP lists, results.
 *
 * @packageDocumentation
 */
import type { z } from "zod";
import { finding } from "../findings.js";
import type {
  Capability,
  DetectionResult,
  EvidenceValue,
  ExchangeId,
  FindingCode,
  KeyPermissions,
} from "../types.js";
import type { Grant } from "./model.js";
import type { ErrorMatch } from "./spec.js";

export type { Grant };

/** Result of reading a token list against a table of known tokens. */
export interface TokenReading {
  readonly read: Capability;
  readonly trade: Capability;
  readonly withdraw: Capability;
  readonly transfer: Capability;
  readonly unknownTokens: readonly string[];
}

/**
 * Reads tokens against `table` (value → one grant or several, see `grantTable`). A capability is
 * `true` when a token grants it; otherwise `"unknown"` when any token is not in the table (it might
 * grant it) or, for withdraw and transfer, when a token's documented meaning is `unknown`; else
 * `false`.
 */
export function readTokens(
  tokens: readonly string[],
  table: Readonly<Record<string, Grant | readonly Grant[]>>,
): TokenReading {
  const granted = new Set<Grant>();
  const unknownTokens: string[] = [];
  for (const token of tokens) {
    const grant = Object.hasOwn(table, token) ? table[token] : undefined;
    if (grant === undefined) unknownTokens.push(token);
    else if (typeof grant === "string") granted.add(grant);
    else for (const g of grant) granted.add(g);
  }
  const unexplained = granted.has("unknown");
  const cap = (g: Grant): Capability =>
    granted.has(g)
      ? true
      : unknownTokens.length > 0 || (unexplained && (g === "withdraw" || g === "transfer"))
        ? "unknown"
        : false;
  return {
    read: cap("read"),
    trade: cap("trade"),
    withdraw: cap("withdraw"),
    transfer: cap("transfer"),
    unknownTokens,
  };
}

/** Splits a comma-separated list, trimming blanks and dropping empty items. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Entries that mean "any address". */
const ANY_ADDRESS = new Set(["*", "0.0.0.0/0", "::/0", "0.0.0.0"]);

/** IP facts from a reported allow-list; `masked` when the exchange hides part of each address. */
export function ipFacts(
  list: readonly string[],
  masked = false,
): Pick<KeyPermissions, "ipRestricted"> & { ipAllowList?: readonly string[] } {
  if (list.length === 0 || list.some((ip) => ANY_ADDRESS.has(ip))) return { ipRestricted: false };
  if (masked || list.some((ip) => ip.includes("*"))) return { ipRestricted: true };
  return { ipRestricted: true, ipAllowList: Object.freeze([...list]) };
}

/** Builds frozen permissions. */
export function permissions(
  exchange: ExchangeId,
  fields: Omit<KeyPermissions, "exchange" | "unknownTokens" | "source"> & {
    unknownTokens?: readonly string[];
    source?: KeyPermissions["source"];
  },
): DetectionResult {
  const { unknownTokens = [], source = "endpoint", ...rest } = fields;
  const value: KeyPermissions = {
    exchange,
    ...rest,
    /* Postcondition: a key that can withdraw can move funds out of its account, so it can transfer. */
    transfer: rest.withdraw === true ? true : rest.transfer,
    unknownTokens: Object.freeze([...unknownTokens]),
    evidence: Object.freeze({ ...fields.evidence }),
    source,
  };
  return { ok: true, permissions: Object.freeze(value) };
}

/** A failed detection with one finding. */
export function failed(
  exchange: ExchangeId,
  code: FindingCode,
  details?: Readonly<Record<string, string | number | boolean | null>>,
): DetectionResult {
  return { ok: false, findings: [finding(code, exchange, details)] };
}

/** The answer did not match the documented shape (`where` names the failing part, never values). */
export function malformed(exchange: ExchangeId, where: string): DetectionResult {
  return failed(exchange, "MALFORMED_RESPONSE", { where });
}

/** The exchange's own success flag said "error": classify its code, else a generic error. */
export function errorAnswer(
  exchange: ExchangeId,
  match: ErrorMatch | undefined,
  fallbackCode?: string | number,
): DetectionResult {
  if (match) return failed(exchange, match.code, { exchangeCode: match.exchangeCode });
  return failed(exchange, "EXCHANGE_ERROR", {
    exchangeCode: fallbackCode === undefined ? null : String(fallbackCode).slice(0, 40),
  });
}

/** Looks a raw code up in a table of known error codes. */
export function matchCode(
  table: Readonly<Record<string, FindingCode>>,
  code: unknown,
): ErrorMatch | undefined {
  if (typeof code !== "string" && typeof code !== "number") return undefined;
  const key = String(code);
  const hit = Object.hasOwn(table, key) ? table[key] : undefined;
  return hit === undefined ? undefined : { code: hit, exchangeCode: key };
}

/** Parses with a zod schema; `undefined` on mismatch. */
export function shape<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

/** Copies a token list for evidence, bounded (an exchange could send thousands). */
export function tokenEvidence(tokens: readonly string[]): readonly string[] {
  return Object.freeze(tokens.slice(0, 64).map((t) => t.slice(0, 64)));
}

/** Narrow evidence helper type. */
export type Evidence = Record<string, EvidenceValue>;
