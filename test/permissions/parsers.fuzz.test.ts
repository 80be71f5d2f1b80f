import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { decide } from "../../src/permissions/policy.js";
import type { RegisteredKey } from "../../src/permissions/testing/exchange-spec.js";
import { SpotMarket } from "../../src/permissions/testing/exchanges/binance-market.js";
import { buildSpecs } from "../../src/permissions/testing/exchanges/index.js";
import { type DetectionResult, FINDING_CODES } from "../../src/permissions/types.js";
import { bingxSample, deribitAuthSample, errorBodies } from "./fixtures/documented.js";
import { loadFixtures } from "./fixtures/load.js";

/*
 * An exchange-agnostic fuzz over every registered parser: random JSON, type swaps, missing fields,
 * duplicated keys, huge arrays, and unknown permission values set on. Whatever comes in, a parser
 * answers with typed findings or typed permissions — and never accepts a key while a permission
 * value it could not read is on. An exchange whose status cannot accept (unconfirmed, probe-only,
 * unsupported) never yields an accepted key, nor a withdraw or transfer read as `false`, whatever
 * comes in — its documented answers with every flag switched on included.
 */
const RUNS = 10_000;
/** The loosest policy a host can configure. */
const LOOSE = { requireIpRestriction: false, acceptReadOnly: true, rejectTransfer: false } as const;
const CODES = new Set<string>(FINDING_CODES);
const CAPS = new Set<unknown>([true, false, "unknown"]);
const fixtures = loadFixtures();
const specs = Object.values(EXCHANGE_SPECS);
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function typed(r: DetectionResult): void {
  if (!r.ok) {
    expect(r.findings.length).toBeGreaterThan(0);
    for (const f of r.findings) expect(CODES.has(f.code)).toBe(true);
    return;
  }
  const p = r.permissions;
  for (const c of [p.read, p.trade, p.withdraw, p.transfer, p.ipRestricted]) {
    expect(CAPS.has(c)).toBe(true);
  }
  /* Postcondition: a key with an unread permission value is never accepted. */
  if (p.unknownTokens.length > 0) expect(decide(r, LOOSE).ok).toBe(false);
  /* Postcondition: a key that can (or might) withdraw is never accepted, even by the loosest policy. */
  if (p.withdraw !== false) expect(decide(r, LOOSE).ok).toBe(false);
}

/** Every path (array of keys/indexes) in a JSON value. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) paths(x, [...at, i], out);
  } else if (isObj(v)) for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}
function setAt(root: unknown, path: (string | number)[], value: unknown | typeof DELETE): unknown {
  if (path.length === 0) return value === DELETE ? undefined : value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}
const DELETE = Symbol("delete");

/*
 * Documented answers of the exchanges with no accepted fixture: the reference's samples and what
 * the bundled simulator answers for every permission combination (one call each).
 */
const SAMPLES: Readonly<Record<string, readonly unknown[]>> = {
  bingx: [bingxSample, errorBodies.bingx],
  deribit: [deribitAuthSample, errorBodies.deribit],
  gate: [errorBodies.gate],
  mexc: [errorBodies.mexc],
  cryptocom: [errorBodies.cryptocom],
};
const simulators = buildSpecs(new SpotMarket()) as Record<
  string,
  ReturnType<typeof buildSpecs>["okx"]
>;
function simulatedAnswers(id: string): unknown[] {
  const sim = simulators[id];
  if (sim === undefined) return [];
  const out: unknown[] = [];
  for (let bits = 0; bits < 16; bits++) {
    const key: RegisteredKey = {
      apiKey: "fuzz-key",
      secret: "fuzz-secret",
      passphrase: undefined,
      uid: "62924133",
      permissions: {
        read: (bits & 1) !== 0,
        trade: (bits & 2) !== 0,
        withdraw: (bits & 4) !== 0,
        transfer: (bits & 8) !== 0,
        ipRestricted: bits % 3 === 0,
        ipAllowList: bits % 3 === 0 ? ["203.0.113.7"] : [],
      },
      ipAllowList: undefined,
      balances: undefined,
      lastNonce: 0n,
      state: new Map(),
    };
    const request = { method: "GET", host: "", path: "/", query: "", headers: {}, body: "" };
    for (const route of Object.values(sim.routes)) {
      if (route.withdraw) continue;
      const body = route.handle({
        request,
        key,
        now: 1_700_000_000_000,
        registered: () => [key],
      }).body;
      if (typeof body === "object" && body !== null) out.push(body);
    }
  }
  return out;
}

/** Documented answer sets (one body per plan step) for one spec. */
function documentedFor(id: string, plan: number): unknown[][] {
  const base = fixtures
    .filter((f) => f.exchange === id)
    .map((f) => f.fixture.answers.map((a) => a.body));
  if (plan === 1 && specs.find((s) => s.id === id)?.status !== "confirmed") {
    for (const body of [...(SAMPLES[id] ?? []), ...simulatedAnswers(id)]) base.push([body]);
  }
  return base;
}

/** Arbitrary answers for one spec: random JSON, or a documented answer with one part changed. */
function answersFor(id: string, plan: number) {
  const base = documentedFor(id, plan);
  const random = fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 0, maxLength: plan + 1 });
  if (base.length === 0) return random;
  const mutated = fc
    .tuple(
      fc.constantFrom(...base),
      fc.nat(),
      fc.nat(),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(DELETE)),
    )
    .map(([answers, which, where, value]) => {
      const i = which % answers.length;
      const ps = paths(answers[i]);
      const out = [...answers];
      out[i] = setAt(answers[i], ps[where % ps.length] ?? [], value);
      return out;
    });
  const duplicated = fc.constantFrom(...base).map((answers) =>
    // A JSON text with every object key duplicated (first true, then the documented value):
    // JSON.parse keeps the last, as ccxt does.
    answers.map((a) =>
      JSON.parse(
        JSON.stringify(a).replace(/"([^"\\]+)":/g, (_m, k: string) => `"${k}":true,"${k}":`),
      ),
    ),
  );
  const huge = fc.constantFrom(...base).map((answers) =>
    answers.map((a) => {
      const s = JSON.stringify(a).replace(
        /\[("[^"\]]*")\]/,
        (_m, t: string) => `[${Array(5000).fill(t).join(",")}]`,
      );
      return JSON.parse(s);
    }),
  );
  return fc.oneof(
    { arbitrary: random, weight: 2 },
    { arbitrary: mutated, weight: 6 },
    duplicated,
    huge,
  );
}

/** Adds an unknown permission value, switched on, wherever the body carries the model's values. */
function injectUnknown(body: unknown, values: ReadonlySet<string>, token: string): unknown {
  if (Array.isArray(body)) {
    if (body.some((x) => typeof x === "string" && values.has(x))) return [...body, token];
    // A numeric code table (BingX): add a code the model does not list.
    if (body.some((x) => typeof x === "number" && values.has(String(x)))) {
      let code = 8 + token.length;
      while (values.has(String(code))) code++;
      return [...body, code];
    }
    if (body.some((x) => Array.isArray(x) && typeof x[0] === "string" && values.has(x[0]))) {
      return [...body, [token, 1, 1]];
    }
    return body.map((x) => injectUnknown(x, values, token));
  }
  if (typeof body === "string") {
    const parts = body.split(",");
    return parts.some((p) => values.has(p.trim())) ? `${body},${token}` : body;
  }
  if (!isObj(body)) return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[k] = injectUnknown(v, values, token);
  const keys = Object.keys(body);
  if (keys.some((k) => values.has(k)))
    out[`${keys.find((k) => values.has(k))?.replace(/[A-Z_].*$/, "")}${token}`] = true;
  if (keys.some((k) => [...values].some((v) => v.startsWith(`${k}:`)))) out[`X${token}`] = [token];
  return out;
}

/**
 * Every flag switched on: booleans and "false" become true, every object gains `token: true`, every
 * token list (array or comma-separated) and every number list gains an undocumented member.
 */
function switchOn(body: unknown, token: string, code: number): unknown {
  if (body === false || body === "false") return typeof body === "string" ? "true" : true;
  if (typeof body === "string") return body.includes(",") ? `${body},${token}` : body;
  if (Array.isArray(body)) {
    const items = body.map((x) => switchOn(x, token, code));
    if (body.some((x) => typeof x === "string")) items.push(token);
    if (body.length > 0 && body.every((x) => typeof x === "number")) items.push(code);
    return items;
  }
  if (!isObj(body)) return body;
  const out: Record<string, unknown> = { [token]: true };
  for (const [k, v] of Object.entries(body)) out[k] = switchOn(v, token, code);
  return out;
}

const TOKEN = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{2,12}$/);

describe.each(specs.map((s) => [s.id, s] as const))("fuzz: %s", (id, spec) => {
  const key = {
    apiKey: "fuzz-key",
    uid: "62924133",
    signer: "0x0000000000000000000000000000000000000001",
  };
  const plan = spec.plan(key).length;
  it(`${RUNS} random and mutated answers give only typed results`, () => {
    fc.assert(
      fc.property(answersFor(id, plan), (answers) => {
        typed(spec.parse(answers, key));
        for (const a of answers) spec.classifyError(a); // must not throw
      }),
      { numRuns: RUNS },
    );
  });

  const values = new Set(spec.model.values.map((v) => v.value.split(":").pop() ?? v.value));
  for (const v of spec.model.values) values.add(v.value);

  if (spec.status === "confirmed") {
    // The documented answers the loosest policy accepts (OKX, HTX, WOO: none under the default,
    // whose transfer rule refuses their trade keys).
    const accepted = fixtures.filter(
      (f) =>
        f.exchange === id &&
        decide(
          spec.parse(
            f.fixture.answers.map((a) => a.body),
            { ...key, ...f.fixture.key },
          ),
          LOOSE,
        ).ok,
    );
    it("has a documented answer the loosest policy accepts", () => {
      expect(accepted.length).toBeGreaterThan(0);
    });
    it("an unknown permission value switched on is never accepted", () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...accepted),
          TOKEN.filter((t) => !values.has(t)),
          (f, token) => {
            const answers = f.fixture.answers.map((a) => injectUnknown(a.body, values, token));
            const r = spec.parse(answers, { ...key, ...f.fixture.key });
            typed(r);
            expect(decide(r, LOOSE).ok).toBe(false);
          },
        ),
        { numRuns: 1000 },
      );
    });
    return;
  }

  // A status that cannot accept: nothing the exchange answers may make it accept.
  it(`${spec.status}: no answer is accepted, nor reads withdraw or transfer as false (documented answers with every flag switched on included)`, () => {
    const documented = documentedFor(id, plan);
    const switched = fc
      .tuple(
        documented.length > 0 ? fc.constantFrom(...documented) : fc.constant([{}]),
        TOKEN.filter((t) => !values.has(t)),
        fc.integer({ min: 8, max: 1_000_000 }),
      )
      .map(([answers, token, code]) => answers.map((a) => switchOn(a, token, code)));
    fc.assert(
      fc.property(fc.oneof(switched, answersFor(id, plan)), (answers) => {
        const r = spec.parse(answers, key);
        typed(r);
        expect(decide(r, LOOSE).ok).toBe(false);
        if (r.ok) {
          expect(r.permissions.withdraw).not.toBe(false);
          expect(r.permissions.transfer).not.toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
