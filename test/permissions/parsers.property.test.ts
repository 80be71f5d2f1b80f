import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { decide } from "../../src/permissions/policy.js";
import type { ExchangeId } from "../../src/permissions/types.js";
import * as doc from "./fixtures/documented.js";

/** The most permissive policy: only withdraw and unknowns can reject. */
const LOOSE = { requireIpRestriction: false, acceptReadOnly: true, rejectTransfer: false } as const;
const KEY = { apiKey: "4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte" };
const UID = { code: 200, data: 62924133 };

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown) => (typeof v === "string" ? v.split(",").map((s) => s.trim()) : []);

/**
 * Independent statements of each documented success shape WITH withdraw explicitly off. An
 * accepting verdict is only allowed for answers that satisfy these.
 */
const SUCCESS_WITHOUT_WITHDRAW: Partial<Record<ExchangeId, (a: unknown) => boolean>> = {
  binance: (a) => isObj(a) && typeof a.code !== "number" && a.enableWithdrawals === false,
  binanceusdm: (a) => isObj(a) && typeof a.code !== "number" && a.enableWithdrawals === false,
  bybit: (a) =>
    isObj(a) &&
    a.retCode === 0 &&
    isObj(a.result) &&
    isObj(a.result.permissions) &&
    Array.isArray(a.result.permissions.Wallet) &&
    !a.result.permissions.Wallet.includes("Withdraw"),
  okx: (a) =>
    isObj(a) &&
    a.code === "0" &&
    Array.isArray(a.data) &&
    a.data.length === 1 &&
    isObj(a.data[0]) &&
    typeof a.data[0].perm === "string" &&
    !list(a.data[0].perm).includes("withdraw"),
  kucoin: (a) =>
    isObj(a) &&
    a.code === "200000" &&
    isObj(a.data) &&
    typeof a.data.permission === "string" &&
    !list(a.data.permission).includes("Transfer"),
  coinbase: (a) => isObj(a) && a.error === undefined && a.can_transfer === false,
  kraken: (a) =>
    isObj(a) &&
    Array.isArray(a.error) &&
    a.error.length === 0 &&
    isObj(a.result) &&
    Array.isArray(a.result.permissions) &&
    !a.result.permissions.includes("withdraw-funds"),
  bitget: (a) =>
    isObj(a) &&
    a.code === "00000" &&
    isObj(a.data) &&
    Array.isArray(a.data.authorities) &&
    !a.data.authorities.includes("wwow"),
  bitfinex: (a) =>
    Array.isArray(a) &&
    a.some((r) => Array.isArray(r) && r[0] === "withdraw" && r[2] === 0) &&
    a.some((r) => Array.isArray(r) && r[0] === "ui_withdraw" && r[2] === 0) &&
    !a.some(
      (r) => Array.isArray(r) && (r[0] === "withdraw" || r[0] === "ui_withdraw") && r[2] !== 0,
    ),
  gemini: (a) => isObj(a) && a.result !== "error" && a.isFundManager === false,
  htx: (a) =>
    isObj(a) &&
    a.code === 200 &&
    Array.isArray(a.data) &&
    a.data.some(
      (k) =>
        isObj(k) &&
        k.accessKey === KEY.apiKey &&
        k.status === "normal" &&
        typeof k.permission === "string" &&
        !list(k.permission).includes("withdraw"),
    ),
};

/** Accepting documented samples (withdraw off) to mutate. */
const ACCEPTING: Partial<Record<ExchangeId, unknown>> = {
  binance: doc.binanceSample,
  binanceusdm: doc.binanceSample,
  bybit: doc.bybitSample,
  okx: { ...doc.okxSample, data: [{ ...doc.okxSample.data[0], perm: "read_only,trade" }] },
  kucoin: { ...doc.kucoinSample, data: { ...doc.kucoinSample.data, permission: "General,Spot" } },
  coinbase: doc.coinbaseSample,
  kraken: {
    ...doc.krakenSample,
    result: { ...doc.krakenSample.result, permissions: ["query-funds", "modify-trades"] },
  },
  bitget: doc.bitgetSample,
  bitfinex: doc.bitfinexSample,
  gemini: doc.geminiSample,
  htx: doc.htxSample,
};

const answersFor = (id: ExchangeId, answer: unknown) => (id === "htx" ? [UID, answer] : [answer]);
const accepted = (id: ExchangeId, answer: unknown) =>
  decide(EXCHANGE_SPECS[id].parse(answersFor(id, answer), KEY), LOOSE).ok;

/** Random JSON, biased towards the vocabulary the parsers look for. */
const vocab = fc.constantFrom(
  "code",
  "retCode",
  "data",
  "result",
  "error",
  "permissions",
  "perm",
  "permission",
  "Wallet",
  "enableWithdrawals",
  "can_transfer",
  "isFundManager",
  "authorities",
  "withdraw",
  "0",
  "200000",
  "00000",
  "readOnly",
  "trade",
  "accessKey",
  "status",
  "normal",
  KEY.apiKey,
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(0, 1, 200, -2015, true, false, null, "0", "", "normal"),
    vocab,
    fc.string(),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(vocab, fc.string()), tie("value"), { maxKeys: 5 }),
  ),
})).value;

/** One mutation of a JSON tree: delete, replace or add at a random path. */
function mutate(value: unknown, path: number[], replacement: unknown, op: number): unknown {
  if (typeof value !== "object" || value === null) return op === 0 ? replacement : value;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  if (entries.length === 0 || path.length === 0) {
    if (Array.isArray(value)) return op === 2 ? [...value, replacement] : replacement;
    return op === 2 ? { ...value, [`extra${op}`]: replacement } : replacement;
  }
  const [head, ...rest] = path;
  const idx = (head ?? 0) % entries.length;
  const [k, child] = entries[idx] as readonly [string, unknown];
  if (rest.length === 0 && op === 1) {
    if (Array.isArray(value)) return value.filter((_, i) => i !== idx);
    const { [k]: _, ...others } = value as Record<string, unknown>;
    return others;
  }
  const next = mutate(child, rest, replacement, op);
  if (Array.isArray(value)) return value.map((v, i) => (i === idx ? next : v));
  return { ...value, [k]: next };
}

describe("random answers never yield an accepting verdict unless they match the documented success shape", () => {
  for (const id of Object.keys(EXCHANGE_SPECS) as ExchangeId[]) {
    const predicate = SUCCESS_WITHOUT_WITHDRAW[id];
    test.prop([jsonValue], { numRuns: 150 })(`${id}: random JSON`, (answer) => {
      if (accepted(id, answer)) {
        expect(predicate, `${id} has no confirmed shape, so must never accept`).toBeDefined();
        expect(predicate?.(answer)).toBe(true);
      }
    });
    const sample = ACCEPTING[id];
    if (sample === undefined) continue;
    test(`${id}: the accepting sample is accepted (the property is not vacuous)`, () => {
      expect(accepted(id, sample)).toBe(true);
    });
    test.prop(
      [
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        jsonValue,
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
      ],
      { numRuns: 300 },
    )(`${id}: mutated documented sample`, (path, replacement, op, times) => {
      let answer: unknown = structuredClone(sample);
      for (let i = 0; i < times; i++)
        answer = mutate(
          answer,
          path.map((p) => p + i),
          replacement,
          op,
        );
      if (accepted(id, answer)) expect(predicate?.(answer)).toBe(true);
    });
  }
});
