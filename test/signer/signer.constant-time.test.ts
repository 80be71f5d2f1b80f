import * as crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createMemoryCapabilityStore,
  mintCapability,
  verifyBearer,
} from "../../src/signer/capabilities.js";
import { signerWorld } from "./world.js";

// Every module in this file sees node:crypto's own timingSafeEqual, wrapped in a spy.
vi.mock("node:crypto", async (original) => {
  const real = await original<typeof import("node:crypto")>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const spy = vi.mocked(crypto.timingSafeEqual);
const sha = (s: string) => crypto.createHash("sha256").update(s).digest();

describe("constant-time comparisons", () => {
  it("the capability secret is compared in constant time against its stored hash", async () => {
    const store = createMemoryCapabilityStore();
    const { bearer, record } = mintCapability({
      userId: "alice",
      grantId: "g1",
      botId: "bot-a",
      certFingerprint: null,
      createdAt: 0,
      expiresAt: Date.now() + 60_000,
    });
    await store.put(record);
    const secret = bearer.split(".")[1] as string;
    // The store holds the hash, never the secret.
    expect(record.verifier).toBe(sha(secret).toString("hex"));
    expect(JSON.stringify(record)).not.toContain(secret);
    const wrongSecret = `${bearer.slice(0, -1)}${bearer.endsWith("A") ? "B" : "A"}`;
    const unknownId = `kwcap_${"Z".repeat(22)}.${secret}`;
    const cases: Array<[string, boolean]> = [
      [bearer, true],
      [wrongSecret, false],
      [unknownId, false],
      ["kwcap_malformed", false],
      ["", false],
    ];
    for (const [presented, honoured] of cases) {
      spy.mockClear();
      expect((await verifyBearer(store, presented)) !== undefined).toBe(honoured);
      // Exactly one comparison, of two 32-byte hashes, whatever was wrong (or right).
      expect(spy).toHaveBeenCalledTimes(1);
      const [a, b] = spy.mock.calls[0] as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([32, 32]);
    }
    // For the right bearer, the comparison is of its secret's hash with the stored verifier.
    spy.mockClear();
    await verifyBearer(store, bearer);
    const [presentedHash, stored] = spy.mock.calls[0] as [Buffer, Buffer];
    expect(presentedHash.equals(sha(secret))).toBe(true);
    expect(stored.toString("hex")).toBe(record.verifier);
  });
});

describe("operator credential", () => {
  let w: Awaited<ReturnType<typeof signerWorld>>;
  beforeAll(async () => {
    w = await signerWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it("operator routes need the operator credential, compared in constant time", async () => {
    const cap = await w.enrol(w.alice);
    const sameLength = `${w.operatorToken.slice(0, -1)}${w.operatorToken.endsWith("0") ? "1" : "0"}`;
    const attempts: Array<[Record<string, string>, number]> = [
      [{}, 401],
      [{ authorization: `Bearer ${cap.capability}`, "x-keywarden-bot": "bot-a" }, 401],
      [{ authorization: `Bearer ${sameLength}` }, 401],
      [{ authorization: w.operatorToken }, 401], // not a Bearer header
      [{ authorization: `Bearer ${w.operatorToken}` }, 200],
    ];
    for (const route of ["metrics", "killswitch", "revoke", "emergency"]) {
      for (const [headers, status] of attempts) {
        if (status === 200 && route !== "metrics") continue; // only the read-only route succeeds here
        spy.mockClear();
        const r = await w.raw(`/v1/operator/${route}`, "{}", headers);
        expect([route, r.status]).toEqual([route, status]);
        if (status === 401)
          expect((r.json as { error: { code: string } }).error.code).toBe(
            "ERR_GUARD_UNAUTHENTICATED",
          );
        // The presented credential was compared once, as a 32-byte hash with the stored hash.
        const calls = spy.mock.calls.filter(([, b]) => (b as Buffer).equals(sha(w.operatorToken)));
        expect(calls).toHaveLength(1);
        expect((calls[0] as [Buffer, Buffer])[0].length).toBe(32);
      }
    }
  });
});
