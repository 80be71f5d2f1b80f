import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import { onboardKey } from "../../src/permissions/onboard.js";
import { Secret } from "../../src/secret.js";
import * as doc from "./fixtures/documented.js";
import { canary, memoryAudit, scriptedDetector } from "./support/fake.js";

const withdrawOn = {
  ...doc.binanceSample,
  enableWithdrawals: true,
  enableSpotAndMarginTrading: true,
  ipRestrict: true,
};
const tradeOnly = { ...doc.binanceSample, enableFutures: true, ipRestrict: true };

function setup(answers: unknown[]) {
  const secretText = canary();
  const secret = Secret.fromString(secretText);
  const audit = memoryAudit();
  const stored: unknown[] = [];
  const detect = scriptedDetector(answers);
  const deps = {
    detect,
    audit,
    storeCredential: async (userId: string, exchange: string, creds: { secret: Secret }) => {
      stored.push({ userId, exchange, secret: creds.secret.useText((t) => t) });
      return { credentialId: "cred_1" };
    },
  };
  return { secret, secretText, audit, stored, detect, deps };
}

describe("onboardKey", () => {
  it("rejects a withdraw-capable key: not stored, wiped, one key.rejected entry without key material", async () => {
    const t = setup([withdrawOn]);
    const err = await onboardKey(
      { userId: "u1", exchange: "binance", credentials: { apiKey: "pub-key-1", secret: t.secret } },
      t.deps,
    ).catch((e: unknown) => e);
    expect(isKeywardenError(err, "ERR_PERMISSIONS_WITHDRAW_ENABLED")).toBe(true);
    expect(t.stored).toEqual([]);
    expect(t.secret.wiped).toBe(true);
    expect(t.detect.calls).toEqual(["sapiGetAccountApiRestrictions"]); // not retried
    expect(t.audit.entries).toEqual([
      {
        chain: "user:u1",
        action: "key.rejected",
        payload: {
          exchange: "binance",
          reason: "WITHDRAW_ENABLED",
          findings: ["WITHDRAW_ENABLED", "TRANSFER_ENABLED"], // a withdrawal moves funds out: transfer too
        },
      },
    ]);
    const dump = [
      JSON.stringify(err),
      inspect(err, { depth: 9 }),
      String((err as Error).stack),
      JSON.stringify(t.audit.entries),
    ].join("\n");
    expect(dump).not.toContain(t.secretText);
    expect(dump).not.toContain("pub-key-1");
  });

  it("detection runs before anything is stored.", async () => {
    const t = setup([tradeOnly]);
    const order: string[] = [];
    const detect = Object.assign(
      async (r: Parameters<typeof t.detect>[0]) => {
        order.push("detect");
        return t.detect(r);
      },
      { calls: [] },
    );
    await onboardKey(
      {
        userId: "u1",
        exchange: "binance",
        credentials: { apiKey: "k", secret: t.secret },
        policy: { requireIpRestriction: false },
      },
      {
        ...t.deps,
        detect,
        storeCredential: async (...a: Parameters<typeof t.deps.storeCredential>) => {
          order.push("store");
          return t.deps.storeCredential(...a);
        },
      },
    );
    expect(order).toEqual(["detect", "store"]);
  });

  it("accepts a trade-only key: stored, key.onboarded audited, secrets wiped afterwards", async () => {
    const t = setup([tradeOnly]);
    const result = await onboardKey(
      { userId: "u2", exchange: "binance", credentials: { apiKey: "k", secret: t.secret } },
      t.deps,
    );
    expect(result.credentialId).toBe("cred_1");
    expect(t.stored).toEqual([{ userId: "u2", exchange: "binance", secret: t.secretText }]);
    expect(t.audit.entries).toEqual([
      {
        chain: "user:u2",
        action: "key.onboarded",
        payload: {
          credentialId: "cred_1",
          exchange: "binance",
          permissions: ["read", "trade", "ipRestricted"],
        },
      },
    ]);
    expect(t.secret.wiped).toBe(true);
    expect(JSON.stringify(t.audit.entries)).not.toContain(t.secretText);
  });

  it("a rejected key's secrets are wiped before anything else happens.", async () => {
    const t = setup([{ ...tradeOnly, enableSomethingNew: true }]);
    const password = Secret.fromString(canary());
    let wipedWhenAudited: boolean[] = [];
    const audit = {
      append: async () => {
        wipedWhenAudited = [t.secret.wiped, password.wiped];
      },
    };
    await expect(
      onboardKey(
        {
          userId: "u",
          exchange: "binance",
          credentials: { apiKey: "k", secret: t.secret, password },
        },
        { ...t.deps, audit },
      ),
    ).rejects.toMatchObject({ code: "ERR_PERMISSIONS_UNKNOWN" });
    expect(wipedWhenAudited).toEqual([true, true]);
    expect(t.stored).toEqual([]);
  });

  it("rejects unknown and unsupported exchanges' keys without storing", async () => {
    const t = setup([]);
    await expect(
      onboardKey(
        { userId: "u", exchange: "bitstamp", credentials: { apiKey: "k", secret: t.secret } },
        t.deps,
      ),
    ).rejects.toMatchObject({ code: "ERR_PERMISSIONS_UNSUPPORTED_EXCHANGE" });
    expect(t.detect.calls).toEqual([]);
    expect(t.stored).toEqual([]);
    expect(t.audit.entries[0]?.action).toBe("key.rejected");
  });

  it("a probe exchange is rejected unless the policy opts in, and even then cannot be accepted", async () => {
    const t = setup([{ code: 10002 }]);
    await expect(
      onboardKey(
        { userId: "u", exchange: "cryptocom", credentials: { apiKey: "k", secret: t.secret } },
        t.deps,
      ),
    ).rejects.toMatchObject({ code: "ERR_PERMISSIONS_POLICY" });
    expect(t.detect.calls).toEqual([]);
    const t2 = setup([{ id: 1, code: 0, result: { withdrawal_list: [] } }]);
    await expect(
      onboardKey(
        {
          userId: "u",
          exchange: "cryptocom",
          credentials: { apiKey: "k", secret: t2.secret },
          policy: { probeExchanges: ["cryptocom"] },
        },
        t2.deps,
      ),
    ).rejects.toMatchObject({ code: "ERR_PERMISSIONS_WITHDRAW_ENABLED" });
    expect(t2.detect.calls).toEqual(["v1PrivatePostPrivateGetWithdrawalHistory"]);
  });

  it("network failure → ERR_PERMISSIONS_NETWORK, no retry", async () => {
    const t = setup([new Error("down")]);
    await expect(
      onboardKey(
        { userId: "u", exchange: "okx", credentials: { apiKey: "k", secret: t.secret } },
        t.deps,
      ),
    ).rejects.toMatchObject({ code: "ERR_PERMISSIONS_NETWORK" });
    expect(t.detect.calls).toHaveLength(1);
  });

  it("rejects malformed requests and still wipes", async () => {
    const t = setup([tradeOnly]);
    await expect(
      onboardKey(
        { userId: "", exchange: "binance", credentials: { apiKey: "k", secret: t.secret } },
        t.deps,
      ),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    expect(t.secret.wiped).toBe(true);
    await expect(
      onboardKey(
        {
          userId: "u",
          exchange: "binance",
          credentials: { apiKey: "k", secret: "plain" as never },
        },
        t.deps,
      ),
    ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    expect(t.detect.calls).toEqual([]);
  });
});
