import { describe, expect, it } from "vitest";
import type { ExchangeCredentials } from "../../src/permissions/detect.js";
import {
  type RecheckRequest,
  recheckKey,
  scheduleRechecks,
} from "../../src/permissions/recheck.js";
import { Secret } from "../../src/secret.js";
import * as doc from "./fixtures/documented.js";
import { memoryAudit, scriptedDetector } from "./support/fake.js";

const REQ: RecheckRequest = {
  userId: "u1",
  credentialId: "cred_1",
  exchange: "binance",
  policy: { requireIpRestriction: false },
};
const tradeOnly = { ...doc.binanceSample, enableFutures: true };

function deps(answer: unknown) {
  const audit = memoryAudit();
  const disabled: string[] = [];
  const order: string[] = [];
  const secret = Secret.fromString("s");
  return {
    audit,
    disabled,
    order,
    secret,
    deps: {
      detect: scriptedDetector([answer]),
      audit: {
        append: async (c: string, a: string, p: never) => {
          order.push(`audit:${a}`);
          return audit.append(c, a, p);
        },
      },
      disable: async (_u: string, id: string, reason: string) => {
        order.push("disable");
        disabled.push(`${id}:${reason}`);
      },
      withCredentials: async <T>(
        _u: string,
        _id: string,
        use: (c: ExchangeCredentials) => Promise<T>,
      ) => {
        try {
          return await use({ apiKey: "k", secret });
        } finally {
          secret.wipe();
        }
      },
    },
  };
}

describe("recheckKey", () => {
  it("leaves an unchanged trade key alone", async () => {
    const t = deps(tradeOnly);
    expect((await recheckKey(REQ, t.deps)).status).toBe("ok");
    expect(t.disabled).toEqual([]);
    expect(t.audit.entries).toEqual([]);
  });
  it("a key found able to withdraw is disabled before it is audited.", async () => {
    const t = deps({ ...tradeOnly, enableWithdrawals: true });
    const outcome = await recheckKey(REQ, t.deps);
    expect(outcome.status).toBe("disabled");
    expect(t.order).toEqual(["disable", "audit:key.disabled", "audit:key.rejected"]);
    expect(t.disabled).toEqual(["cred_1:recheck:WITHDRAW_ENABLED"]);
    expect(t.audit.entries).toEqual([
      {
        chain: "operator",
        action: "key.disabled",
        payload: { credentialId: "cred_1", userId: "u1", reason: "recheck:WITHDRAW_ENABLED" },
      },
      {
        chain: "user:u1",
        action: "key.rejected",
        payload: {
          exchange: "binance",
          reason: "recheck:WITHDRAW_ENABLED",
          findings: ["WITHDRAW_ENABLED", "TRANSFER_ENABLED"], // a withdrawal moves funds out: transfer too
        },
      },
    ]);
  });
  it("disables a key whose permissions became unknown", async () => {
    const t = deps({ ...tradeOnly, enableTeleport: true });
    expect((await recheckKey(REQ, t.deps)).status).toBe("disabled");
  });
  it("a network or exchange error is inconclusive: nothing disabled", async () => {
    const t = deps(new Error("down"));
    expect((await recheckKey(REQ, t.deps)).status).toBe("inconclusive");
    expect(t.disabled).toEqual([]);
  });
});

describe("scheduleRechecks", () => {
  it("a run never starts while another is in progress.", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = scheduleRechecks({
      intervalMs: 60_000,
      listKeys: async () => [REQ],
      recheck: async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        await gate;
        active--;
        return { status: "inconclusive", findings: [] };
      },
    });
    const a = s.runNow();
    const b = s.runNow();
    expect(a).toBe(b);
    release();
    await Promise.all([a, b]);
    expect(runs).toBe(1);
    expect(maxActive).toBe(1);
    await s.stop();
  });
  it("runs on the interval plus jitter, reports errors, and stop() ends it", async () => {
    const outcomes: string[] = [];
    const errors: unknown[] = [];
    let n = 0;
    const s = scheduleRechecks({
      intervalMs: 1000,
      jitterMs: 1000,
      random: () => 0, // wait exactly intervalMs
      listKeys: async () => [REQ, { ...REQ, credentialId: "cred_2" }],
      recheck: async (r) => {
        n++;
        if (r.credentialId === "cred_2") throw new Error("boom");
        return { status: "inconclusive", findings: [] };
      },
      onOutcome: (r, o) => outcomes.push(`${r.credentialId}:${o.status}`),
      onError: (e) => errors.push(e),
    });
    await new Promise((r) => setTimeout(r, 1300));
    await s.stop();
    const after = n;
    await new Promise((r) => setTimeout(r, 1200));
    expect(outcomes).toEqual(["cred_1:inconclusive"]);
    expect(errors).toHaveLength(1);
    expect(n).toBe(after);
    expect(after).toBe(2);
  });
  it("validates its options", () => {
    expect(() =>
      scheduleRechecks({
        intervalMs: 10,
        listKeys: async () => [],
        recheck: async () => ({ status: "ok" }) as never,
      }),
    ).toThrow();
  });
});
