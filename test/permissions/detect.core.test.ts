import { describe, expect, it } from "vitest";
import { type CallOutcome, runDetection, runSpec } from "../../src/permissions/detect.js";
import { htx } from "../../src/permissions/exchanges/htx.js";
import { EXCHANGE_SPECS } from "../../src/permissions/exchanges/index.js";
import { SUPPORTED_EXCHANGES } from "../../src/permissions/types.js";
import * as doc from "./fixtures/documented.js";

const KEY = { apiKey: "4ba5cdf2-4a92c5da-718ba144-dbuqg6hkte" };

function caller(answers: CallOutcome[]) {
  const calls: [string, unknown][] = [];
  const fn = async (method: string, params: unknown) => {
    calls.push([method, params]);
    return answers.shift() ?? { ok: false as const, kind: "network" as const };
  };
  return { fn, calls };
}

describe("runDetection", () => {
  it("the detector calls only methods its spec lists as read-only.", async () => {
    const rogue = {
      ...EXCHANGE_SPECS.binance,
      plan: () => [{ method: "sapiPostCapitalWithdrawApply", params: () => ({}) }],
    };
    const c = caller([]);
    await expect(runSpec(rogue, KEY, c.fn)).rejects.toMatchObject({ code: "ERR_INTERNAL" });
    expect(c.calls).toEqual([]);
    expect(Object.isFrozen(EXCHANGE_SPECS)).toBe(true);
  });

  it("every planned method is a documented read: no write verbs, never MEXC's apiKeyInfo POST", () => {
    for (const id of SUPPORTED_EXCHANGES) {
      const spec = EXCHANGE_SPECS[id];
      for (const method of spec.readOnlyMethods) {
        expect(method).not.toMatch(
          /Delete|Put|Cancel|Withdraw(?!alHistory|alRequests)|Transfer|Order|ApiKeyInfo(?!$)/,
        );
        expect(method).not.toBe("spotPrivatePostApiKeyInfo");
      }
      // The documented reads that use POST (signed-body exchanges): the only POSTs allowed.
      const posts = spec.readOnlyMethods.filter((m) => /Post/.test(m));
      for (const p of posts) {
        expect([
          "privatePostGetApiKeyInfo",
          "privatePostAuthRPermissions",
          "privatePostV1Roles",
          "v1PrivatePostPrivateGetWithdrawalHistory",
          "publicPostInfo", // hyperliquid: POST /info {type:"userRole"}, an unsigned read
          "spotPrivatePostSupplementApiRestrictions", // lbank: the key's own restrictions
        ]).toContain(p);
      }
      for (const step of spec.plan({ ...KEY, uid: "1" }))
        expect(spec.readOnlyMethods).toContain(step.method);
    }
  });

  it("a probe-only exchange is called only when the policy opts in to its probe.", async () => {
    const c = caller([{ ok: true, body: { code: 0 } }]);
    const off = await runDetection("cryptocom", KEY, c.fn);
    expect(off.ok ? [] : off.findings.map((f) => f.code)).toEqual(["PROBE_NOT_ENABLED"]);
    expect(c.calls).toEqual([]);
    await runDetection("cryptocom", KEY, c.fn, { probe: true });
    expect(c.calls).toHaveLength(1);
  });

  it("unsupported exchanges make no call", async () => {
    for (const id of ["deribit", "bitstamp"] as const) {
      const c = caller([]);
      const r = await runDetection(id, KEY, c.fn, { probe: true });
      expect(r.ok ? [] : r.findings.map((f) => f.code)).toEqual(["UNSUPPORTED"]);
      expect(c.calls).toEqual([]);
    }
  });

  it("the key query runs only after the uid lookup succeeded.", async () => {
    const c = caller([{ ok: true, body: doc.errorBodies.htxV2 }]);
    const r = await runDetection("htx", KEY, c.fn);
    expect(r.ok ? [] : r.findings.map((f) => f.code)).toEqual(["PERMISSION_DENIED"]);
    expect(c.calls.map(([m]) => m)).toEqual(["v2PrivateGetUserUid"]);
  });

  it("htx passes the uid and the access key to the second call; a known uid saves the first", async () => {
    const c = caller([
      { ok: true, body: { code: 200, data: 62924133 } },
      { ok: true, body: doc.htxSample },
    ]);
    expect((await runDetection("htx", KEY, c.fn)).ok).toBe(true);
    expect(c.calls[1]).toEqual([
      "v2PrivateGetUserApiKey",
      { uid: "62924133", accessKey: KEY.apiKey },
    ]);
    const one = caller([{ ok: true, body: doc.htxSample }]);
    expect((await runDetection("htx", { ...KEY, uid: "7" }, one.fn)).ok).toBe(true);
    expect(one.calls).toEqual([["v2PrivateGetUserApiKey", { uid: "7", accessKey: KEY.apiKey }]]);
    expect(htx.plan({ ...KEY, uid: "7" })).toHaveLength(1);
  });

  it("maps a failed call by its raw exchange code first, its transport class second", async () => {
    const byCode = await runDetection(
      "okx",
      KEY,
      caller([{ ok: false, kind: "permission", body: doc.errorBodies.okxIp, httpStatus: 401 }]).fn,
    );
    expect(byCode.ok ? undefined : byCode.findings[0]).toMatchObject({
      code: "IP_NOT_ALLOWED",
      details: { exchangeCode: "50110", httpStatus: 401 },
    });
    const byKind = await runDetection(
      "okx",
      KEY,
      caller([{ ok: false, kind: "auth", body: "<html>" }]).fn,
    );
    expect(byKind.ok ? undefined : byKind.findings[0]?.code).toBe("INVALID_KEY");
    const net = await runDetection("okx", KEY, caller([{ ok: false, kind: "network" }]).fn);
    expect(net.ok ? undefined : net.findings[0]?.code).toBe("NETWORK");
  });
});
