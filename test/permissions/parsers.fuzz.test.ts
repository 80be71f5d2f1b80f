import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { decide } from "../../src/permissions/policy.js";
import { type DetectionResult, FINDING_CODES } from "../../src/permissions/types.js";
import { loadFixtures } from "./fixtures/load.js";

/*
 * An exchange-agnostic fuzz over every registered parser: random JSON, type swaps, missing fields,
 * duplicated keys, huge arrays, and unknown permission values set on. Whatever comes in, a parser
 * answers with typed findings or typed permissions — and never accepts a key while a permission
 * value it could not read is on.
 */
const RUNS = 10_000;
const LOOSE = { requireIpRestriction: false, acceptReadOnly: true, rejectTransfer: false } as const;
const CODES = new Set<string>(FINDING_CODES);
const CAPS = new Set<unknown>([true, false, "unknown"]);
const fixtures = loadFixtures();
const specs = Object.values(EXCHANGE_SPECS);
const folderOf = (id: string) => (id === "binanceusdm" ? "binance" : id);
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

/** Arbitrary answers for one spec: random JSON, or a documented answer with one part changed. */
function answersFor(id: string, plan: number) {
  const base = fixtures
    .filter((f) => f.exchange === folderOf(id))
    .map((f) => f.fixture.answers.map((a) => a.body));
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

describe.each(specs.map((s) => [s.id, s] as const))("fuzz: %s", (id, spec) => {
  const key = {
    apiKey: "fuzz-key",
    uid: "62924133",
    signer: "0x0000000000000000000000000000000000000001",
  };
  it(`${RUNS} random and mutated answers give only typed results`, () => {
    fc.assert(
      fc.property(answersFor(id, spec.plan(key).length), (answers) => {
        typed(spec.parse(answers, key));
        for (const a of answers) spec.classifyError(a); // must not throw
      }),
      { numRuns: RUNS },
    );
  });

  const accepted = fixtures.filter(
    (f) =>
      f.exchange === folderOf(id) && f.fixture.expect.ok && f.fixture.expect.verdict === "accepted",
  );
  const values = new Set(spec.model.values.map((v) => v.value.split(":").pop() ?? v.value));
  for (const v of spec.model.values) values.add(v.value);
  it.runIf(accepted.length > 0)("an unknown permission value switched on is never accepted", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...accepted),
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{2,12}$/).filter((t) => !values.has(t)),
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
});
