import { type DetectFn, runDetection } from "../../../src/permissions/detect.js";
import type { ExchangeId, KeyPermissions } from "../../../src/permissions/types.js";
import { Secret } from "../../../src/secret.js";

/**
 * A detector that runs the REAL spec plan and parser, answering each call with the given bodies
 * (no network, no ccxt). Records the calls it was asked to make.
 */
export function scriptedDetector(answers: readonly unknown[]): DetectFn & { calls: string[] } {
  const calls: string[] = [];
  const detect = (async (request) => {
    let i = 0;
    const apiKey = Secret.isSecret(request.credentials.apiKey)
      ? request.credentials.apiKey.useText((t) => t)
      : request.credentials.apiKey;
    request.credentials.secret.use(() => undefined); // a wiped secret must fail like the binding
    return runDetection(
      request.exchange,
      { apiKey },
      async (method) => {
        calls.push(method);
        const body = answers[i++];
        return body instanceof Error ? { ok: false, kind: "network" } : { ok: true, body };
      },
      { probe: request.probe === true },
    );
  }) as DetectFn & { calls: string[] };
  detect.calls = calls;
  return detect;
}

/** Permissions fixture for policy tests. */
export function perms(
  overrides: Partial<KeyPermissions> = {},
  exchange: ExchangeId = "binance",
): KeyPermissions {
  return {
    exchange,
    read: true,
    trade: true,
    withdraw: false,
    transfer: false,
    ipRestricted: true,
    ipAllowList: ["203.0.113.7"],
    unknownTokens: [],
    evidence: {},
    source: "endpoint",
    ...overrides,
  };
}

/** Records audit appends. */
export function memoryAudit() {
  const entries: { chain: string; action: string; payload: unknown }[] = [];
  return {
    entries,
    async append(chain: string, action: string, payload: unknown) {
      entries.push({ chain, action, payload: structuredClone(payload) });
      return { seq: entries.length };
    },
  };
}

export const canary = () => `CANARY-${Math.random().toString(36).slice(2)}${Date.now()}`;
