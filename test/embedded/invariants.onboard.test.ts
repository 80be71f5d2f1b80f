/**
 * The embedded keywarden's `onboardKey`: only a live session onboards, and only for its own user.
 * A grant, a host or operator identity, a forged or an expired session is refused before any
 * exchange call or write. Real data directory, real simulator (through ccxt).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openKeywarden } from "../../src/embedded/index.js";
import { isKeywardenError } from "../../src/errors.js";
import { hostIdentity, type Identity, operatorIdentity } from "../../src/guard/identity.js";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../src/permissions/testing/index.js";
import { Secret } from "../../src/secret.js";
import { makeIdp } from "../vault/helpers.js";

describe("embedded onboarding", () => {
  let sim: ExchangeSimulator;
  let dir: string;
  beforeAll(async () => {
    sim = await startExchangeSimulator();
    dir = await mkdtemp(join(tmpdir(), "kw-onboard-inv-"));
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a key is onboarded only for the live session's own user", async () => {
    const idp = await makeIdp();
    let exchangeCalls = 0;
    const transport = (ex: string) => {
      const o = sim.ccxtOptions(ex as "binance");
      const f = o.fetchImplementation as (...a: unknown[]) => Promise<unknown>;
      return {
        ...o,
        fetchImplementation: (...a: unknown[]) => {
          exchangeCalls++;
          return f(...a);
        },
      };
    };
    sim.setKey("binance", {
      apiKey: "onb-key",
      secret: "onb-secret",
      permissions: { read: true, trade: true, ipRestricted: true },
    });
    const kw = await openKeywarden({ dataDir: dir, exchangeTransport: transport });
    try {
      const credentials = () => ({ apiKey: "onb-key", secret: Secret.fromString("onb-secret") });
      const alice = await idp.session("alice");
      // Bob onboarded a key earlier, so he can hold a grant; his grant may not onboard more.
      const bob = await idp.session("bob");
      const bobs = await kw.onboardKey(bob, "binance", credentials());
      const { grant } = await kw.vault.createGrant(bob, {
        exchanges: ["binance"],
        actions: ["trade"],
        ttlMs: 600_000,
      });
      exchangeCalls = 0;
      const shortLived = await idp.session("alice", 1);
      await new Promise((r) => setTimeout(r, 2_100)); // its exp (whole seconds) has passed
      const forged = { kind: "session", userId: "alice", id: "forged" } as unknown as Identity;
      for (const who of [
        grant,
        hostIdentity("alice"),
        hostIdentity("bob"),
        operatorIdentity("ops-1"),
        forged,
        shortLived,
        undefined as unknown as Identity,
      ]) {
        let err: unknown;
        try {
          await kw.onboardKey(who, "binance", credentials());
        } catch (e) {
          err = e;
        }
        expect(isKeywardenError(err), String(who?.kind)).toBe(true);
        expect((err as { code: string }).code, String(who?.kind)).toMatch(
          /^ERR_(GUARD_UNAUTHENTICATED|VAULT_UNAUTHORIZED)$/,
        );
      }
      expect(exchangeCalls).toBe(0);
      expect(await kw.vault.list(alice)).toEqual([]);
      expect((await kw.vault.list(bob)).map((c) => c.credentialId)).toEqual([bobs.credentialId]);
      // The live session onboards, for its own user only.
      const { credentialId } = await kw.onboardKey(alice, "binance", credentials());
      expect(exchangeCalls).toBeGreaterThan(0);
      expect((await kw.vault.list(alice)).map((c) => c.credentialId)).toEqual([credentialId]);
      expect((await kw.vault.list(bob)).map((c) => c.credentialId)).toEqual([bobs.credentialId]);
    } finally {
      await kw.close();
    }
  });
});
