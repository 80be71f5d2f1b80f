/**
 * Transfer-capability invariants of the permission parsers (from the exchanges' documented
 * answers in ./fixtures/documented.ts) and the Hyperliquid binding's address derivation (through
 * the real ccxt binding, against a local answer server).
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadCcxtExchange } from "../../src/ccxt-loader.js";
import { createCcxtDetector } from "../../src/permissions/ccxt.js";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { permissions } from "../../src/permissions/exchanges/shared.js";
import type { DetectionResult, ExchangeId, KeyPermissions } from "../../src/permissions/types.js";
import { Secret } from "../../src/secret.js";
import * as doc from "./fixtures/documented.js";

const KEY = { apiKey: "4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte" };
const parse = (id: ExchangeId, ...answers: unknown[]): DetectionResult =>
  EXCHANGE_SPECS[id].parse(answers, KEY);
const perms = (r: DetectionResult): KeyPermissions => {
  if (!r.ok) throw new Error(`expected permissions, got ${r.findings.map((f) => f.code)}`);
  return r.permissions;
};

describe("transfer capability", () => {
  it("an HTX Trade key can transfer between parent and sub-accounts", () => {
    const htx = (permission: string) => {
      const s = structuredClone(doc.htxSample);
      (s.data[0] as { permission: string }).permission = permission;
      return perms(parse("htx", { code: 200, data: 62924133 }, s));
    };
    // The documented sample: readOnly,trade — no withdraw, but transfer.
    expect(perms(parse("htx", { code: 200, data: 62924133 }, doc.htxSample))).toMatchObject({
      trade: true,
      withdraw: false,
      transfer: true,
    });
    expect(htx("trade")).toMatchObject({ trade: true, transfer: true });
    // A read-only key cannot.
    expect(htx("readOnly")).toMatchObject({ trade: false, withdraw: false, transfer: false });
  });

  it("an OKX Trade key can transfer (Funds transfer needs only Trade: master → sub, sub → master)", () => {
    const okx = (perm: string) => {
      const s = structuredClone(doc.okxSample);
      (s.data[0] as { perm: string }).perm = perm;
      return perms(parse("okx", s));
    };
    expect(okx("read_only,trade")).toMatchObject({ trade: true, withdraw: false, transfer: true });
    expect(okx("read_only")).toMatchObject({ trade: false, withdraw: false, transfer: false });
  });

  it("a key that can withdraw can move funds out of its account, so it can transfer", () => {
    // Whatever a parser read about transfer, withdraw wins.
    for (const transfer of [false, "unknown"] as const) {
      const r = permissions("binance", {
        read: true,
        trade: true,
        withdraw: true,
        transfer,
        ipRestricted: false,
        evidence: {},
      });
      expect(perms(r).transfer).toBe(true);
    }
    // Without withdraw, the parser's reading stands.
    for (const withdraw of [false, "unknown"] as const)
      expect(
        perms(
          permissions("binance", {
            read: true,
            trade: true,
            withdraw,
            transfer: false,
            ipRestricted: false,
            evidence: {},
          }),
        ).transfer,
      ).toBe(false);
    // Through real parsers: a Binance key with withdrawals but no internal transfer, Kraken's
    // withdraw-funds, OKX's withdraw token.
    expect(
      perms(
        parse("binance", {
          ...doc.binanceSample,
          enableWithdrawals: true,
          enableInternalTransfer: false,
        }),
      ),
    ).toMatchObject({ withdraw: true, transfer: true });
    const kraken = structuredClone(doc.krakenSample);
    kraken.result.permissions = ["query-funds", "withdraw-funds"];
    expect(perms(parse("kraken", kraken))).toMatchObject({ withdraw: true, transfer: true });
    expect(perms(parse("okx", doc.okxSample))).toMatchObject({ withdraw: true, transfer: true });
  });
});

describe("hyperliquid: the signer's address", () => {
  it("the address whose role is read is the one the held secret signs as, derived here, never claimed", async () => {
    const agentKey = `0x${randomBytes(32).toString("hex")}`;
    const Hl = (await loadCcxtExchange("hyperliquid")) as unknown as new (
      c: object,
    ) => { ethGetAddressFromPrivateKey: (k: string) => string };
    const derived = new Hl({}).ethGetAddressFromPrivateKey(agentKey);
    // The caller claims an address (the apiKey) that the exchange would call a full user; only
    // the address derived from the held key is an agent.
    const claimed = `0x${randomBytes(20).toString("hex")}`;
    const asked: string[] = [];
    const fetchImplementation = async (_url: string, init: { body?: unknown }) => {
      const body = JSON.parse(String(init.body)) as { type: string; user: string };
      asked.push(body.user.toLowerCase());
      const answer =
        body.user.toLowerCase() === derived.toLowerCase()
          ? { role: "agent", data: { user: claimed } }
          : { role: "user" };
      return new Response(JSON.stringify(answer), {
        headers: { "content-type": "application/json" },
      });
    };
    const detect = createCcxtDetector({ fetchImplementation });
    const result = await detect({
      exchange: "hyperliquid",
      credentials: { apiKey: claimed, secret: Secret.fromString(agentKey) },
    });
    expect(asked).toEqual([derived.toLowerCase()]);
    expect(asked).not.toContain(claimed.toLowerCase());
    expect(result.ok && { ...result.permissions }).toMatchObject({
      withdraw: false,
      transfer: false,
    });
  });
});
